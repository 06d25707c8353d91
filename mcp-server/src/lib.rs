//! An MCP documentation server built to run on AWS ECS behind an Application Load Balancer.
//!
//! The modules, in the order a request meets them:
//! - [`config`]: every environment variable, read once.
//! - [`server`]: the accept loop, connection timeouts, graceful shutdown.
//! - [`routes`]: `/health`, `/mcp`, and the 404 for everything else.
//! - [`origin`] and [`cors`]: who may call `/mcp`.
//! - [`mcp_endpoint`]: body limits, request classification, the hand-off to rmcp.
//! - [`streams`]: counting SSE streams and ending them on time.
//! - [`drain`]: noticing the load balancer has let go (idle guess, signals, [`ecs_metadata`]).
//! - [`docs`]: the documentation corpus, its search index and the MCP tools over them;
//!   [`stdio`] serves them without HTTP; [`changes`] tells clients of both eras what changed.
//! - [`app`], [`replies`], [`logging`]: shared state, error bodies, log setup.

pub mod app;
pub mod changes;
pub mod config;
pub mod cors;
pub mod docs;
pub mod drain;
pub mod ecs_metadata;
pub mod logging;
pub mod mcp_endpoint;
pub mod origin;
pub mod replies;
pub mod routes;
pub mod server;
pub mod stdio;
pub mod streams;

use std::sync::Arc;

use rmcp::ServerHandler;
use rmcp::model::Implementation;

use crate::config::{Config, Mode};

/// Our `serverInfo`: name and version from Cargo, not rmcp's.
pub fn implementation() -> Implementation {
    Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
}

/// Runs the server in the configured mode until it is told to stop; shared by the binary and
/// by the conformance fixture example, which differ only in their handler.
pub async fn run<H>(config: Config, handler: H) -> Result<(), Box<dyn std::error::Error>>
where
    H: ServerHandler + Clone + Send + Sync + 'static,
{
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    match config.mode {
        Mode::Stdio => stdio::serve(handler).await,
        Mode::Http => {
            let listener = server::bind(config.bind).await.map_err(|error| {
                format!("cannot listen on {} (HOST, PORT): {error}", config.bind)
            })?;
            let local = listener.local_addr()?;
            tracing::info!(
                address = %local,
                mcp = %format!("http://{local}/mcp"),
                "listening"
            );
            let drain = drain::Drain::new(config.drain_idle_timeout, config.drain_idle_guess);
            tokio::spawn(drain.clone().run_idle_guess());
            if let Some(uri) = config.ecs_metadata_uri.clone() {
                tokio::spawn(ecs_metadata::watch(
                    uri,
                    config.ecs_metadata_poll_interval,
                    drain.clone(),
                ));
            }
            let app = app::App::new(Arc::new(config), drain.clone(), handler);
            server::run(listener, app, shutdown_signal(drain)).await;
            Ok(())
        }
    }
}

/// Resolves on SIGTERM (ECS stopping the task) or SIGINT (Ctrl-C), after starting the drain.
async fn shutdown_signal(drain: Arc<drain::Drain>) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler installs");
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal = name, "shutdown requested");
    drain.begin(drain::DrainReason::Signal(name));
    // A second signal means "now": do not wait for the graceful path.
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::warn!("second signal: exiting at once");
        std::process::exit(1);
    });
}
