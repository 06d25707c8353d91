//! An MCP documentation server built to run on AWS ECS behind an Application Load Balancer.
//!
//! The layers, from the edge inwards; each imports only from the layers below it:
//! - [`config`]: every setting, declared once (flag, environment variable, default, help).
//! - [`http`]: the accept loop and its timeouts, the routes, the `/mcp` hand-off to rmcp, the
//!   error bodies.
//! - [`access`]: who may call (`Origin`, `Host`, CORS).
//! - [`lifecycle`]: draining (idle guess, signals, ECS task metadata) and the SSE streams it ends.
//! - [`sessions`]: what outlives one request (the change feed for listen streams and sessions).
//! - [`docs`]: the application: the documentation corpus, its search index, the MCP tools and
//!   resources over them.
//! - [`app`], [`logging`], [`recover`], [`stdio`]: the shared state of the HTTP server, log
//!   set-up, panics turned into errors, and MCP on stdin/stdout.
//! - [`report`] and [`direct`]: what a handler may add beside the MCP protocol (its own
//!   `/health` blocks; the modern-era requests it answers without rmcp's per-request machinery),
//!   traits the HTTP layer calls without knowing the handler.
//! - [`json`]: JSON strings written fast, as `serde_json` writes them, and [`bytes8`], the
//!   eight-bytes-at-once tests it and the snippets' whitespace collapse share (leaves).
//! - [`meters`]: the names every layer records its figures under (a leaf, like [`recover`]),
//!   and [`telemetry`]: the exporters (EMF lines, Prometheus), over the whole server's state.

pub mod access;
pub mod app;
pub mod bytes8;
pub mod config;
pub mod direct;
pub mod docs;
pub mod http;
pub mod json;
pub mod lifecycle;
pub mod logging;
pub mod meters;
pub mod recover;
pub mod report;
pub mod sessions;
pub mod stdio;
pub mod telemetry;

use std::sync::Arc;

use rmcp::ServerHandler;
use rmcp::model::Implementation;

use crate::config::{Config, Mode};
use crate::http::server;
use crate::lifecycle::{drain, ecs_metadata};

/// Our `serverInfo`: name and version from Cargo, not rmcp's.
pub fn implementation() -> Implementation {
    Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
}

/// Runs the server in the configured mode until it is told to stop; shared by the binary and
/// by the conformance fixture example, which differ only in their handler.
pub async fn run<H>(mut config: Config, handler: H) -> Result<(), Box<dyn std::error::Error>>
where
    H: ServerHandler + report::Report + direct::Direct + Clone + Send + Sync + 'static,
{
    if config.wants_ecs_memory_limit() {
        read_ecs_memory_limit(&mut config).await;
    }
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    match config.mode {
        Mode::Stdio => stdio::serve(handler).await,
        Mode::Http => {
            // AUTH=oauth: the issuer's keys before listening (the server does not
            // start without them).
            let oauth = match &config.oauth {
                Some(settings) => Some(access::oauth::OAuth::start(settings.clone()).await?),
                None => None,
            };
            let listener = server::bind(config.bind()).await.map_err(|error| {
                format!("cannot listen on {} (HOST, PORT): {error}", config.bind())
            })?;
            let local = listener.local_addr()?;
            tracing::info!(
                address = %local,
                mcp = %format!("http://{local}/mcp"),
                "listening"
            );
            let drain = drain::Drain::new(
                config.drain_idle_timeout,
                config.drain_idle_guess,
                config.ecs_metadata_uri.is_some(),
            );
            tokio::spawn(drain.clone().run_idle_guess());
            if let Some(uri) = config.ecs_metadata_uri.clone() {
                tokio::spawn(ecs_metadata::watch(
                    uri,
                    config.ecs_metadata_poll_interval,
                    drain.clone(),
                ));
            }
            // The Task dimension needs ECS task metadata: asked only when EMF lines are on.
            let task = match config.emf_interval() {
                Some(_) => telemetry::task_name(&config).await,
                None => String::new(),
            };
            let telemetry = telemetry::Telemetry::install(&config, task).await?;
            if let Some(interval) = config.emf_interval() {
                tracing::info!(
                    interval_ms = interval.as_millis() as u64,
                    namespace = config.metrics_namespace,
                    service = config.metrics_service(),
                    "EMF metrics lines on stdout"
                );
            }
            if let Some(address) = telemetry.metrics_addr() {
                tracing::info!(
                    %address,
                    metrics = %format!("http://{address}/metrics"),
                    "metrics listening"
                );
            }
            let app = app::App::new(Arc::new(config), drain.clone(), handler, oauth)?;
            if let Some(store) = &app.store {
                tracing::info!(
                    store = ?app.config.session_store,
                    prefix = app.config.session_store_prefix,
                    "legacy sessions in a shared store"
                );
                // A store that is down now is no reason not to start: modern clients do not
                // need it, and the probe notices when it is back. A failure is logged by the store.
                let _ = store.ping().await;
            }
            let running = telemetry.start(&app);
            server::run(listener, app.clone(), shutdown_signal(drain)).await;
            running.finish(&app).await;
            Ok(())
        }
    }
}

/// Takes the memory limit ECS task metadata reports when it is below the one known so far (the
/// caps left at their defaults follow); without an answer the server starts on what it has.
async fn read_ecs_memory_limit(config: &mut Config) {
    let Some(uri) = config.ecs_metadata_uri.clone() else {
        return;
    };
    match ecs_metadata::memory_limit(&uri).await {
        Ok(Some(reported)) => {
            let limit = access::budget::with_ecs_limit(config.memory, reported);
            if Some(limit) != config.memory {
                config.set_memory_limit(limit);
            }
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(
            url = uri,
            %error,
            "ECS task metadata gave no memory limit; the caps follow MEMORY_LIMIT or the cgroup"
        ),
    }
    if let Some(limit) = config.memory {
        tracing::info!(
            limit_bytes = limit.bytes,
            source = limit.source.label(),
            max_legacy_sessions = config.max_legacy_sessions,
            max_sse_connections = config.max_sse_connections,
            "memory budget"
        );
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
