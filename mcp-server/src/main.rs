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

use std::sync::Arc;

use mcp_server::config::Config;
use mcp_server::docs::DocsServer;
use mcp_server::docs::library::Library;
use mcp_server::docs::s3::S3Settings;
use mcp_server::docs::source::DocsSource;

fn main() -> ExitCode {
    // `--help`, `--version` and invalid settings end here (exit 0, 0 and 2).
    let mut config = Config::load().unwrap_or_else(|error| error.exit());
    mcp_server::logging::init(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    runtime.block_on(async {
        let library = match load_docs(&config).await {
            Ok(library) => library,
            Err(error) => {
                tracing::error!(%error, "Error loading the documentation");
                eprintln!("mcp-server: {error}");
                return ExitCode::from(2);
            }
        };
        config.reserve_docs_memory(library.snapshot().bytes);
        if let Some(interval) = config.docs_reload_interval() {
            library.watch(interval);
        }
        match mcp_server::run(config, DocsServer::new(library)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "Error: server stopped");
                eprintln!("mcp-server: {error}");
                ExitCode::FAILURE
            }
        }
    })
}

/// The documentation `DOCS_DIR` names: embedded, a folder, or an S3 prefix (tried a few times
/// before giving up).
async fn load_docs(config: &Config) -> Result<Arc<Library>, String> {
    let rules = config.variant_rules();
    let limits = config.docs_limits();
    match &config.docs_dir {
        None => Library::load_with(None, rules, limits).map_err(|e| e.to_string()),
        Some(DocsSource::Folder(folder)) => {
            Library::load_with(Some(folder), rules, limits).map_err(|e| e.to_string())
        }
        Some(DocsSource::S3(location)) => {
            let settings = S3Settings {
                location: location.clone(),
                timeout: config.docs_s3_timeout,
                path_style: config.docs_s3_path_style,
                limits,
            };
            Library::load_s3(settings, rules).await
        }
    }
}
