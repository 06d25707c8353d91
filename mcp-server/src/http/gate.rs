//! The checks `/mcp` makes of a request before rmcp sees it, beyond Host and Origin: who the
//! client is (its address, or with `AUTH=api-key` its key), whether a new stream may open (globally and for this client), whether a session
//! to be deleted exists, and which scheme the client used.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::access::auth::Denied;
use crate::access::limits::{ClientKey, Refusal};
use crate::app::App;
use crate::http::replies::{INVALID_REQUEST, SERVER_ERROR, jsonrpc_error, too_many, unavailable};
use crate::lifecycle::streams::StreamSlot;

/// The scheme the client used: the load balancer that terminated TLS says so in
/// `X-Forwarded-Proto` (its first entry); otherwise this plain-HTTP server's own.
pub fn request_scheme(headers: &HeaderMap) -> &'static str {
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim);
    match forwarded {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    }
}

/// A slot for a new long-lived stream (GET or `subscriptions/listen`), or a 503 while draining
/// or at `MAX_SSE_CONNECTIONS`.
pub fn reserve_stream(app: &Arc<App>, client: ClientKey) -> Result<StreamSlot, Box<Response>> {
    if app.drain.is_draining() {
        return Err(Box::new(unavailable(
            None,
            "This server is draining: reconnect and the load balancer will route you to another one",
            app.config.sse_retry,
        )));
    }
    let mine = app.limits.claim_stream(client).map_err(|_| {
        tracing::warn!(%client, limit = app.config.max_streams_per_client, "client stream limit reached; new stream refused");
        Box::new(too_many(
            None,
            "Too many open streams from this client (MAX_STREAMS_PER_CLIENT); close some or retry later",
            app.config.sse_retry,
        ))
    })?;
    app.streams
        .reserve_long_lived(app.config.max_sse_connections)
        .map(|slot| slot.hold(mine))
        .ok_or_else(|| {
            tracing::warn!(
                limit = app.config.max_sse_connections,
                "stream limit reached; new stream refused"
            );
            Box::new(unavailable(
                None,
                "Too many open streams on this server (MAX_SSE_CONNECTIONS); retry later",
                app.config.sse_retry,
            ))
        })
}

/// The client a request counts against (see `access::limits`).
pub fn client_of(app: &App, headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientKey {
    let peer = peer.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |p| p.ip());
    // Every X-Forwarded-For line, in order: a proxy may add its own line instead of extending
    // the client's, and the entries it added must be the ones counted from the right.
    let lines: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().unwrap_or("unreadable"))
        .collect();
    let forwarded = (!lines.is_empty()).then(|| lines.join(","));
    ClientKey::from_request(peer, forwarded.as_deref(), app.config.trusted_proxy_hops)
}

/// A 404 for `DELETE` of a session this server does not hold (rmcp answers 202 whatever the id);
/// `None` when the session exists or no id was sent (rmcp then answers 400).
pub async fn unknown_session(app: &App, headers: &HeaderMap) -> Option<Response> {
    let id = headers.get("mcp-session-id")?.to_str().unwrap_or("");
    if app.holds_session(id).await {
        return None;
    }
    Some(session_not_found())
}

/// The 404 for a session that ended or never existed.
pub fn session_not_found() -> Response {
    jsonrpc_error(
        StatusCode::NOT_FOUND,
        None,
        INVALID_REQUEST,
        "Session not found: it ended or never existed; start a new one with initialize",
    )
}

/// With `AUTH=api-key`: the client as its key, or the answer for a request without a known
/// one. `address` is the client by its address (behind an ALB, from `X-Forwarded-For`): a
/// refused request counts against that address's rate, so nobody can guess keys faster than
/// `CLIENT_REQUEST_RATE` (429 once it is spent, before any 401).
pub fn authenticate(
    app: &App,
    headers: &HeaderMap,
    address: ClientKey,
    peer: Option<SocketAddr>,
) -> Result<ClientKey, Box<Response>> {
    let denied = match app.config.api_keys.check(
        headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
        headers.get("x-api-key").map(HeaderValue::as_bytes),
    ) {
        Ok(key) => return Ok(ClientKey::ApiKey(key)),
        Err(denied) => denied,
    };
    if let Err(Refusal::Rate(wait)) = app.limits.check_rate(address) {
        tracing::warn!(client = %address, "client request rate exceeded by refused API keys; 429");
        return Err(Box::new(too_many(
            None,
            "Too many requests from this client (CLIENT_REQUEST_RATE); retry later",
            wait,
        )));
    }
    tracing::warn!(
        client = %address,
        peer = peer.map(|p| p.to_string()),
        reason = match denied {
            Denied::Missing => "no key",
            Denied::Invalid => "unknown key",
        },
        "API key refused; 401"
    );
    Err(Box::new(unauthorized(denied)))
}

/// The 401 for a request without a known API key: `WWW-Authenticate` says how to present one
/// (RFC 6750; `invalid_token` when a key was sent and is not known).
fn unauthorized(denied: Denied) -> Response {
    let (challenge, message) = match denied {
        Denied::Missing => (
            r#"Bearer realm="mcp""#,
            "Unauthorized: send an API key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'",
        ),
        Denied::Invalid => (
            r#"Bearer realm="mcp", error="invalid_token""#,
            "Unauthorized: the API key is not known",
        ),
    };
    let mut response = jsonrpc_error(StatusCode::UNAUTHORIZED, None, SERVER_ERROR, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}
