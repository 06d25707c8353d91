//! The HTTP API, as warp filters: one function per route.

use std::convert::Infallible;
use std::sync::Arc;

use http::StatusCode;
use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::access::budget::{BUDGET_SHARE, heap, resident_bytes};
use crate::app::App;
use crate::http::mcp_endpoint::{self, PeerAddr};
use crate::http::replies::{INVALID_REQUEST, json_response, jsonrpc_error};
use crate::lifecycle::drain::DrainState;

/// Every route the server answers.
pub fn routes(app: Arc<App>) -> BoxedFilter<(Response,)> {
    health(app.clone())
        .or(mcp(app))
        .unify()
        .or(not_found())
        .unify()
        .boxed()
}

fn with_app(app: Arc<App>) -> impl Filter<Extract = (Arc<App>,), Error = Infallible> + Clone {
    warp::any().map(move || app.clone())
}

/// GET|HEAD /health: liveness and load for the load balancer and operators (hyper sends no
/// body for HEAD).
fn health(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path("health")
        .and(warp::path::end())
        .and(warp::get().or(warp::head()).unify())
        .and(with_app(app))
        .then(|app: Arc<App>| async move {
            let state = app.drain.state();
            let reason = match state {
                DrainState::Serving => None,
                DrainState::Draining(reason) => Some(reason),
            };
            let body = json!({
                "ok": true,
                "draining": state.is_draining(),
                "drainReason": reason.map(|r| r.label()),
                "activeConnections": app.streams.open(),
                "openConnections": app.connections.load(std::sync::atomic::Ordering::Relaxed),
                "longLivedStreams": app.streams.open_long_lived(),
                "uptime": (app.started.elapsed().as_millis() as f64) / 1000.0,
                "legacySessions": app.legacy_sessions().await,
                "sessionStore": match &app.store {
                    None => json!({ "kind": "memory" }),
                    Some(store) => {
                        let health = store.health();
                        json!({
                            "kind": "redis",
                            "reachable": health.reachable,
                            "lastError": health.last_error,
                            "lastErrorAt": health.last_error_at,
                            "prefix": app.config.session_store_prefix,
                        })
                    }
                },
                "streamsOpened": app.streams.opened_total(),
                "tasks": tokio::runtime::Handle::current().metrics().num_alive_tasks(),
                "memory": {
                    "limit": app.config.memory.map(|m| m.bytes),
                    "limitSource": app.config.memory.map(|m| m.source.label()),
                    "budget": app.config.memory.map(|m| (m.bytes as f64 * BUDGET_SHARE) as u64),
                    "resident": resident_bytes(),
                    "heap": heap(),
                    "maxLegacySessions": app.config.max_legacy_sessions,
                    "maxSseConnections": app.config.max_sse_connections,
                    "maxConnections": app.config.max_connections,
                    "maxBodyBytesInFlight": app.config.max_body_bytes_in_flight,
                    "bodyBytesInFlight": app.config.max_body_bytes_in_flight
                        .min(tokio::sync::Semaphore::MAX_PERMITS)
                        .saturating_sub(app.body_bytes.available_permits()),
                },
                "version": env!("CARGO_PKG_VERSION"),
            });
            // A drain that cannot be undone answers 503, so a load balancer still checking the
            // task takes it out of service. A guessed drain answers 200: the check itself shows
            // the load balancer still routes here, and it ends the guess.
            let status = match reason {
                Some(reason) if reason.is_final() => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::OK,
            };
            json_response(status, &body)
        })
        .boxed()
}

/// POST|GET|DELETE|OPTIONS /mcp: the MCP endpoint, both protocol eras.
fn mcp(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path("mcp")
        .and(warp::path::end())
        .and(with_app(app))
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(warp::ext::optional::<PeerAddr>())
        .and(warp::body::stream())
        .then(mcp_endpoint::handle)
        .boxed()
}

/// Anything else: a JSON 404 that says where MCP lives.
fn not_found() -> BoxedFilter<(Response,)> {
    warp::any()
        .map(|| {
            jsonrpc_error(
                StatusCode::NOT_FOUND,
                None,
                INVALID_REQUEST,
                "Not found: the MCP endpoint is /mcp and the health check /health",
            )
        })
        .boxed()
}
