//! `mcp-server`: reads its configuration from the command line and the environment, loads the
//! documentation, and serves until stopped.

use std::process::ExitCode;

/// jemalloc returns memory to the system after a burst of sessions and streams closes: measured
/// by `tests/src/bin/soak.rs`, glibc malloc kept about ten times the idle RSS and mimalloc gave
/// it back only once threads allocated again (docs/performance.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options: a background thread purges freed pages after a second, even while the
/// server is idle (without it, memory comes back only when a thread allocates again).
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

use mcp_server::config::Config;
use mcp_server::docs::{DocsServer, Library};

fn main() -> ExitCode {
    // `--help`, `--version` and invalid settings end here (exit 0, 0 and 2).
    let config = Config::load().unwrap_or_else(|error| error.exit());
    mcp_server::logging::init(&config);
    let library = match Library::load_with(config.docs_dir.as_deref(), config.variant_rules()) {
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
