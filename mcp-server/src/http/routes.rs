//! The HTTP API, as warp filters: one function per route.

use std::convert::Infallible;
use std::sync::Arc;

use http::{HeaderValue, StatusCode, header};
use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::access::budget::{BUDGET_SHARE, heap, resident_bytes};
use crate::access::oauth::metadata;
use crate::app::App;
use crate::config::AuthMode;
use crate::http::mcp_endpoint::{self, PeerAddr};
use crate::http::replies::{INVALID_REQUEST, json_response, jsonrpc_error};
use crate::lifecycle::drain::DrainState;

/// Every route the server answers.
pub fn routes(app: Arc<App>) -> BoxedFilter<(Response,)> {
    health(app.clone())
        .or(resource_metadata(app.clone()))
        .unify()
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
            let mut body = json!({
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
                "auth": auth_health(&app),
                "streamsOpened": app.streams.opened_total(),
                "tasks": tokio::runtime::Handle::current().metrics().num_alive_tasks(),
                "memory": {
                    "limit": app.config.memory.map(|m| m.bytes),
                    "limitSource": app.config.memory.map(|m| m.source.label()),
                    "budget": app.config.memory.map(|m| (m.bytes as f64 * BUDGET_SHARE) as u64),
                    "docsReserve": app.config.docs_memory(),
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
            for (name, block) in app.handler_health() {
                body[name] = block;
            }
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

/// `auth` in `/health`: the mode, and with `AUTH=oauth` the issuer and the state of its keys.
fn auth_health(app: &App) -> serde_json::Value {
    match (&app.oauth, app.config.auth) {
        (Some(oauth), _) => {
            let keys = oauth.health();
            json!({
                "mode": "oauth",
                "issuer": oauth.settings.issuer,
                "keys": keys.keys,
                "keysFetchedAt": keys.fetched_at,
                "lastError": keys.last_error,
                "lastErrorAt": keys.last_error_at,
            })
        }
        (None, AuthMode::ApiKey) => json!({ "mode": "api-key" }),
        (None, _) => json!({ "mode": "none" }),
    }
}

/// GET|HEAD|OPTIONS `/.well-known/oauth-protected-resource[/mcp]` with `AUTH=oauth`: the RFC 9728
/// metadata that tells MCP clients which authorization server issues tokens for this server.
/// Public (it names no secret), so any page may read it: `Access-Control-Allow-Origin: *`.
fn resource_metadata(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path(".well-known")
        .and(warp::path("oauth-protected-resource"))
        .and(warp::path::full())
        .and(warp::method())
        .and(with_app(app))
        .and_then(
            |path: warp::path::FullPath, method: http::Method, app: Arc<App>| async move {
                let Some(settings) = app.oauth.as_ref().map(|oauth| &oauth.settings) else {
                    return Err(warp::reject::not_found());
                };
                let own = settings
                    .audience
                    .parse::<http::Uri>()
                    .map(|uri| metadata::well_known_path(uri.path()))
                    .unwrap_or_default();
                if path.as_str() != metadata::well_known_path("") && path.as_str() != own {
                    return Err(warp::reject::not_found());
                }
                let mut response = match method {
                    http::Method::GET | http::Method::HEAD => {
                        json_response(StatusCode::OK, &metadata::document(settings))
                    }
                    http::Method::OPTIONS => {
                        let mut response = Response::new(bytes::Bytes::new().into());
                        *response.status_mut() = StatusCode::NO_CONTENT;
                        let headers = response.headers_mut();
                        headers.insert(
                            header::ACCESS_CONTROL_ALLOW_METHODS,
                            HeaderValue::from_static("GET, HEAD, OPTIONS"),
                        );
                        headers.insert(
                            header::ACCESS_CONTROL_ALLOW_HEADERS,
                            HeaderValue::from_static("*"),
                        );
                        response
                    }
                    _ => return Err(warp::reject::not_found()),
                };
                response.headers_mut().insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=300"),
                );
                Ok(response)
            },
        )
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
