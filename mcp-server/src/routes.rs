//! The HTTP API, as warp filters: one function per route.

use std::convert::Infallible;
use std::sync::Arc;

use http::StatusCode;
use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::app::App;
use crate::mcp_endpoint::{self, PeerAddr};
use crate::replies::{INVALID_REQUEST, json_response, jsonrpc_error};

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

/// GET /health: liveness and load for the load balancer and operators.
fn health(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path("health")
        .and(warp::path::end())
        .and(warp::get())
        .and(with_app(app))
        .then(|app: Arc<App>| async move {
            let body = json!({
                "ok": true,
                "draining": false,
                "activeConnections": app.streams.open(),
                "uptime": (app.started.elapsed().as_millis() as f64) / 1000.0,
                "legacySessions": app.legacy_sessions().await,
                "streamsOpened": app.streams.opened_total(),
                "version": env!("CARGO_PKG_VERSION"),
            });
            json_response(StatusCode::OK, &body)
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
