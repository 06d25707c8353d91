//! `mcp-server`: reads its configuration from the environment, loads the documentation, and
//! serves until stopped.

use std::process::ExitCode;

use mcp_server::config::{Config, help_text};
use mcp_server::docs::{DocsServer, Library};

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
    let library = match Library::load(config.docs_dir.as_deref()) {
        Ok(library) => library,
        Err(error) => {
            tracing::error!(%error, "Error loading the documentation");
            eprintln!("mcp-server: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    let reload = config.docs_reload_interval;
    let result = runtime.block_on(async {
        if let Some(interval) = reload {
            library.watch(interval);
        }
        mcp_server::run(config, DocsServer::new(library)).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "Error: server stopped");
            eprintln!("mcp-server: {error}");
            ExitCode::FAILURE
        }
    }
}
