//! `mcp-server`: reads its configuration from the command line and the environment, loads the
//! documentation, and serves until stopped.

use std::process::ExitCode;

use mcp_server::config::Config;
use mcp_server::docs::{DocsServer, Library};

fn main() -> ExitCode {
    // `--help`, `--version` and invalid settings end here (exit 0, 0 and 2).
    let config = Config::load().unwrap_or_else(|error| error.exit());
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
