//! `mcp-server`: reads its configuration from the environment and serves until stopped.

use std::process::ExitCode;

use mcp_server::config::{Config, help_text};
use mcp_server::handler::DocsServer;

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("--help" | "-h") => {
            print!("{}", help_text());
            return ExitCode::SUCCESS;
        }
        Some("--version" | "-V") => {
            println!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!(
                "mcp-server: unknown argument {other:?}; configuration comes from the environment (see --help)"
            );
            return ExitCode::from(2);
        }
        None => {}
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("mcp-server: {error}");
            return ExitCode::from(2);
        }
    };
    mcp_server::logging::init(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    match runtime.block_on(mcp_server::run(config, DocsServer)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "Error: server stopped");
            eprintln!("mcp-server: {error}");
            ExitCode::FAILURE
        }
    }
}
