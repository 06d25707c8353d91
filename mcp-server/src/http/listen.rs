//! Modern `subscriptions/listen` streams served from the handler's change feed
//! ([`crate::direct::Direct::change_feed`]), without rmcp's service task and channels per stream:
//! about 40 KiB less for every held stream (see docs/performance.md).
//!
//! The stream is what rmcp sends for the same request: the acknowledgment with the accepted
//! filter (narrowed by rmcp's own rules), then each accepted change as its notification tagged
//! with the subscription id, an empty SSE comment after `SSE_KEEPALIVE` without an event, and,
//! should the feed ever end, the listen result. It is counted and ended like every other SSE
//! stream (draining, shutdown, `REQUEST_TIMEOUT`).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, header};
use http_body::Frame;
use http_body_util::StreamBody;
use http_body_util::combinators::BoxBody;
use rmcp::model::{
    Implementation, NotificationMetaObject, RequestId, ServerJsonRpcMessage, ServerNotification,
    ServerResult, SubscriptionFilter, SubscriptionsAcknowledgedNotification,
    SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
};
use tokio::sync::broadcast;
use tokio::time::{Instant, Sleep};
use warp::reply::Response;

use crate::app::App;
use crate::direct::DirectRequest;
use crate::http::direct::checked;
use crate::lifecycle::streams::{StreamKind, StreamSlot};
use crate::sessions::changes::{Change, ChangeFeed};

/// The listen stream for this request, or `None` for rmcp (the request is not plainly one rmcp
/// serves statelessly, or the handler has no feed). `slot` is taken only for a stream served here.
pub fn listen(
    app: &Arc<App>,
    headers: &HeaderMap,
    body: &[u8],
    json_content: bool,
    peer: Option<SocketAddr>,
    slot: &mut Option<StreamSlot>,
) -> Option<Response> {
    // A listen stream is counted before it is served (`MAX_SSE_CONNECTIONS`, per client).
    slot.as_ref()?;
    let envelope = checked(headers, body, json_content)?;
    if envelope.method != "subscriptions/listen" {
        return None;
    }
    let request = DirectRequest {
        method: envelope.method,
        protocol: crate::http::MODERN_PROTOCOL,
        body,
    };
    let params: SubscriptionsListenRequestParams = request.params()?;
    let (accepted, changes) = app.listen_directly(&params.notifications)?;
    let id = envelope.id;
    let mut acknowledgment = SubscriptionsAcknowledgedNotification::new(
        SubscriptionsAcknowledgedNotificationParams::new(accepted.clone()),
    );
    let mut meta = NotificationMetaObject::new();
    meta.set_subscription_id(id.clone());
    acknowledgment.extensions.insert(meta);
    let first = event(&ServerJsonRpcMessage::notification(
        ServerNotification::SubscriptionsAcknowledgedNotification(acknowledgment),
    ));
    let state = Listening {
        first: Some(first),
        changes,
        accepted,
        id,
        keep_alive: app.config.sse_keepalive,
        quiet: Box::pin(tokio::time::sleep(app.config.sse_keepalive)),
        server: app.server_info.clone(),
        ended: false,
    };
    let events = futures::stream::unfold(state, next);
    Some(sse_response(app, events, StreamKind::Listen, peer, slot))
}

/// An SSE answer of `events`, counted and ended like every other stream (it takes `slot`), with
/// the headers rmcp's SSE answers carry.
pub(crate) fn sse_response(
    app: &Arc<App>,
    events: impl futures::Stream<Item = Bytes> + Send + Sync + 'static,
    kind: StreamKind,
    peer: Option<SocketAddr>,
    slot: &mut Option<StreamSlot>,
) -> Response {
    let events = events.map(|bytes| Ok(Frame::data(bytes)));
    let body = BoxBody::new(StreamBody::new(events));
    let tracked = app.streams.track(body, kind, peer, slot.take());
    let mut response = warp::reply::Reply::into_response(warp::reply::stream(tracked));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
        .extensions_mut()
        .insert(crate::http::server::LongLived);
    response
}

/// One listen stream between two events.
struct Listening {
    /// The acknowledgment, until sent.
    first: Option<Bytes>,
    changes: broadcast::Receiver<Change>,
    accepted: SubscriptionFilter,
    /// The listen request's id: the subscription id.
    id: RequestId,
    keep_alive: Duration,
    /// Fires after `keep_alive` without an event.
    quiet: Pin<Box<Sleep>>,
    server: Implementation,
    ended: bool,
}

/// The next event of a listen stream.
async fn next(mut state: Listening) -> Option<(Bytes, Listening)> {
    if let Some(first) = state.first.take() {
        return Some((first, state));
    }
    if state.ended {
        return None;
    }
    loop {
        let event = tokio::select! {
            change = state.changes.recv() => match change {
                Ok(change) => match ChangeFeed::notification(&change, &state.accepted, &state.id) {
                    Some(notification) => event(&ServerJsonRpcMessage::notification(notification)),
                    None => continue,
                },
                // Missed some: a list-changed is idempotent, so carry on with the next.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                // The feed ended: the listen request is answered, as rmcp answers it.
                Err(broadcast::error::RecvError::Closed) => {
                    state.ended = true;
                    let mut result = SubscriptionsListenResult::complete(state.id.clone());
                    result.meta.set_server_info(state.server.clone());
                    event(&ServerJsonRpcMessage::response(
                        ServerResult::SubscriptionsListenResult(result),
                        state.id.clone(),
                    ))
                }
            },
            () = &mut state.quiet => Bytes::from_static(b":\n\n"),
        };
        let next = Instant::now() + state.keep_alive;
        state.quiet.as_mut().reset(next);
        return Some((event, state));
    }
}

/// A message as one SSE event (compact JSON has no line breaks).
fn event(message: &ServerJsonRpcMessage) -> Bytes {
    let mut bytes = b"data: ".to_vec();
    // Serialising rmcp's own message types does not fail.
    let _ = serde_json::to_writer(&mut bytes, message);
    bytes.extend_from_slice(b"\n\n");
    Bytes::from(bytes)
}
