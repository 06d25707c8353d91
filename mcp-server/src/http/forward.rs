//! The hand-off of a fully read `/mcp` request to rmcp: the request rebuilt for rmcp's
//! `handle` (with the peer address), its answer bounded by `REQUEST_TIMEOUT`, an SSE answer
//! wrapped so it is counted and ends on time, and rmcp's plain-text errors made JSON-RPC.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;
use http::{HeaderMap, Method, StatusCode, header};
use http_body_util::Full;
use warp::reply::Response;

use crate::app::App;
use crate::http::mcp_endpoint::PeerAddr;
use crate::http::replies::{as_jsonrpc_error, jsonrpc_error};
use crate::lifecycle::streams::{REQUEST_TIMEOUT_CODE, StreamKind, StreamSlot};

/// Sends the request to rmcp and wraps an SSE answer.
pub async fn forward(
    app: &Arc<App>,
    method: Method,
    headers: HeaderMap,
    peer: Option<SocketAddr>,
    body: Bytes,
    kind: Option<StreamKind>,
    slot: Option<StreamSlot>,
) -> Response {
    let timeout = app.config.request_timeout;
    // A request for a session rmcp may be waking (see `sessions::wakes`) waits its turn, and
    // keeps it until rmcp has answered. rmcp first, then the turns: a wake that stores the
    // session between the two looks is still in flight at the second.
    let session = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let waking = match &session {
        Some(id) => !app.rmcp_holds(id).await || app.wakes.in_flight(id),
        None => false,
    };
    let mut request = http::Request::new(Full::new(body));
    *request.method_mut() = method.clone();
    *request.uri_mut() = http::Uri::from_static("/mcp");
    *request.headers_mut() = headers;
    if let Some(peer) = peer {
        request.extensions_mut().insert(PeerAddr(peer));
    }
    let call = async {
        match session.filter(|_| waking) {
            None => Some(app.handle_mcp(request).await),
            Some(id) => {
                let turn = app.wakes.turn(&id).await;
                // A wake runs to its end on a task of its own: cut off by the client's leaving
                // or the deadline, it would leave rmcp a session waiting for its handshake.
                let answer = app.handle_mcp(request);
                let app = app.clone();
                tokio::spawn(async move {
                    let answer = answer.await;
                    // rmcp holds the session now, or it is gone: either way, it counts it.
                    app.settle_wake(&id);
                    drop(turn);
                    answer
                })
                .await
                .ok()
            }
        }
    };
    // A stateless request's answer head waits for the handler's first message, and a request
    // for a session being woken for its turn: bound both.
    let answer = match tokio::time::timeout(timeout, call).await {
        Ok(Some(answer)) => answer,
        Ok(None) => {
            tracing::error!(%method, "Error in rmcp's task waking a session");
            let id = match &kind {
                Some(StreamKind::Request(id)) => Some(id),
                _ => None,
            };
            return jsonrpc_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                id,
                crate::http::replies::INTERNAL_ERROR,
                "Internal error while waking the session",
            );
        }
        Err(_) => {
            crate::meters::timeout("REQUEST_TIMEOUT");
            let id = match &kind {
                Some(StreamKind::Request(id)) => Some(id),
                _ => None,
            };
            tracing::warn!(
                timeout_ms = timeout.as_millis() as u64,
                "request timed out before answering"
            );
            return jsonrpc_error(
                StatusCode::OK,
                id,
                REQUEST_TIMEOUT_CODE,
                &format!(
                    "Request timed out after {} ms (REQUEST_TIMEOUT)",
                    timeout.as_millis()
                ),
            );
        }
    };
    let (parts, body) = answer.into_parts();
    if parts.status.is_server_error() {
        tracing::error!(status = parts.status.as_u16(), %method, "Error answering MCP request");
    }
    let is_sse = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    // A legacy GET stream, held as long as its session: `server/handoff.rs`.
    let long_lived = is_sse && matches!(kind, None | Some(StreamKind::Get));
    let body: Response = if is_sse {
        let kind = kind.unwrap_or(StreamKind::Get);
        warp_body(app.streams.track(body, kind, peer, slot))
    } else {
        let bytes = http_body_util::BodyExt::collect(body)
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_else(|never| match never {});
        let id = match &kind {
            Some(StreamKind::Request(id)) => Some(id),
            _ => None,
        };
        if let Some(wrapped) = as_jsonrpc_error(&parts, &bytes, id) {
            return wrapped;
        }
        Response::new(bytes.into())
    };
    let (_, body) = body.into_parts();
    let mut response = http::Response::from_parts(parts, body);
    if long_lived {
        response
            .extensions_mut()
            .insert(crate::http::server::LongLived);
    }
    response
}

fn warp_body<S>(stream: S) -> Response
where
    S: Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + Sync + 'static,
{
    warp::reply::Reply::into_response(warp::reply::stream(stream))
}
