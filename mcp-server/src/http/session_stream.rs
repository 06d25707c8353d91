//! A dormant legacy session's GET stream, served from the handler's change feed without waking
//! the session (see [`crate::sessions::dormant`] and
//! [`crate::direct::Direct::session_streams_from_feed`]).
//!
//! Legacy clients (the SDKs, the Inspector) open the GET stream right after the handshake and
//! hold it for the session's life. Through rmcp it wakes the session (about 66 KiB) only to carry
//! the list changes the handler's follower forwards; served here it costs the stream alone, as a
//! modern listen stream does. It is what rmcp sends on the same stream: a priming event (id `0`,
//! the `retry` hint), then each list change as its notification with the event ids rmcp's
//! session numbers them with (`0`, `1`, ...), and an empty SSE comment after `SSE_KEEPALIVE`
//! without an event. A second stream while the first is open only keeps alive, as rmcp's
//! shadow streams do. The stream ends with the session (`DELETE`, the idle timeout; an open
//! stream keeps its session in use), and is counted and ended like every other SSE stream
//! (draining, shutdown, `REQUEST_TIMEOUT`). A resume (`Last-Event-ID` one of these ids) is
//! served here too: it goes on from the id, with nothing to replay (rmcp's session, woken for
//! it, would have nothing either).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, header};
use rmcp::model::{ServerJsonRpcMessage, ServerNotification};
use tokio::sync::broadcast;
use tokio::time::{Instant, Sleep};
use warp::reply::Response;

use crate::app::App;
use crate::http::direct::{LEGACY_PROTOCOLS, single};
use crate::http::listen::sse_response;
use crate::lifecycle::streams::{StreamKind, StreamSlot};
use crate::sessions::changes::Change;
use crate::sessions::dormant::SessionStream;

/// The GET stream for this request, or `None` for rmcp (no dormant session by that id here, a
/// resume, a header rmcp reads differently, or a handler whose sessions' streams carry more than
/// the feed). `slot` is taken only for a stream served here.
pub fn session_stream(
    app: &Arc<App>,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    slot: &mut Option<StreamSlot>,
) -> Option<Response> {
    slot.as_ref()?;
    let dormant = app.dormant.as_ref()?;
    let id = single(headers, "mcp-session-id")?;
    if !accepts_sse(headers) {
        return None;
    }
    // A resume after one of this stream's own ids (streams end after `REQUEST_TIMEOUT`, and
    // clients come back): nothing was kept to replay, as in a session just woken, so it goes
    // on from the id without a priming event, as rmcp's resume does. Any other id is rmcp's.
    let resumed = match headers.get("last-event-id") {
        None => None,
        // The next id must exist: the largest one is rmcp's to refuse.
        Some(last) => Some(last.to_str().ok()?.parse::<u64>().ok()?.checked_add(1)?),
    };
    // rmcp takes an absent version header, or a known legacy one (the modern one is not a
    // session request).
    if headers.contains_key("mcp-protocol-version")
        && !LEGACY_PROTOCOLS.contains(&single(headers, "mcp-protocol-version")?)
    {
        return None;
    }
    let changes = app.session_feed()?;
    let session = dormant.open_stream(id)?;
    let first = resumed.is_none().then(|| {
        Bytes::from(format!(
            "data: \nid: 0\nretry: {}\n\n",
            app.config.sse_retry.as_millis()
        ))
    });
    let state = Streaming {
        first,
        changes,
        next_id: resumed.unwrap_or(0),
        keep_alive: app.config.sse_keepalive,
        quiet: Box::pin(tokio::time::sleep(app.config.sse_keepalive)),
        listening: session.primary,
        session,
        app: app.clone(),
    };
    let events = futures::stream::unfold(state, next);
    Some(sse_response(app, events, StreamKind::Get, peer, slot))
}

/// `Accept` names `text/event-stream`, plainly (rmcp reads weights; those go to it).
fn accepts_sse(headers: &HeaderMap) -> bool {
    let mut sse = false;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        if value.contains(['"', ';']) {
            return false;
        }
        sse |= value
            .split(',')
            .any(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"));
    }
    sse
}

/// One GET stream between two events.
struct Streaming {
    /// The priming event, until sent.
    first: Option<Bytes>,
    changes: broadcast::Receiver<Change>,
    /// The event id of the next notification.
    next_id: u64,
    keep_alive: Duration,
    /// Fires after `keep_alive` without an event.
    quiet: Pin<Box<Sleep>>,
    /// Keeps the session in use; its token ends the stream with the session.
    session: SessionStream,
    /// Whether changes are sent (the session's first stream, while the feed lasts).
    listening: bool,
    app: Arc<App>,
}

/// The next event of the stream; `None` once the session has ended.
async fn next(mut state: Streaming) -> Option<(Bytes, Streaming)> {
    if let Some(first) = state.first.take() {
        return Some((first, state));
    }
    loop {
        let event = tokio::select! {
            () = state.session.ended.cancelled() => return None,
            change = state.changes.recv(), if state.listening => match change {
                Ok(change) => match notification(&change) {
                    Some(notification) => {
                        // A session that woke belongs to rmcp, which may have closed it since.
                        if !state.app.holds_session(&state.session.id).await {
                            return None;
                        }
                        let id = state.next_id;
                        state.next_id = state.next_id.saturating_add(1);
                        event(&ServerJsonRpcMessage::notification(notification), id)
                    }
                    None => continue,
                },
                // Missed some: a list-changed is idempotent, so carry on with the next.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                // The feed ended with the handler: keep the stream alive, as rmcp's does.
                Err(broadcast::error::RecvError::Closed) => {
                    state.listening = false;
                    continue;
                }
            },
            () = &mut state.quiet => {
                // A session that woke belongs to rmcp, which may have closed it since.
                if !state.app.holds_session(&state.session.id).await {
                    return None;
                }
                Bytes::from_static(b":\n\n")
            }
        };
        let next = Instant::now() + state.keep_alive;
        state.quiet.as_mut().reset(next);
        return Some((event, state));
    }
}

/// What the handler's follower sends a legacy session for `change` (resource updates are the
/// handler's own business, per subscription).
fn notification(change: &Change) -> Option<ServerNotification> {
    use rmcp::model::{
        PromptListChangedNotification, ResourceListChangedNotification, ToolListChangedNotification,
    };
    Some(match change {
        Change::ToolsListChanged => {
            ServerNotification::ToolListChangedNotification(ToolListChangedNotification::default())
        }
        Change::PromptsListChanged => ServerNotification::PromptListChangedNotification(
            PromptListChangedNotification::default(),
        ),
        Change::ResourcesListChanged => ServerNotification::ResourceListChangedNotification(
            ResourceListChangedNotification::default(),
        ),
        Change::ResourceUpdated(_) => return None,
    })
}

/// A message as one SSE event with its id (compact JSON has no line breaks).
fn event(message: &ServerJsonRpcMessage, id: u64) -> Bytes {
    let mut bytes = b"data: ".to_vec();
    // Serialising rmcp's own message types does not fail.
    let _ = serde_json::to_writer(&mut bytes, message);
    bytes.extend_from_slice(format!("\nid: {id}\n\n").as_bytes());
    Bytes::from(bytes)
}
