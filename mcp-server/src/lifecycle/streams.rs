//! SSE stream tracking: every open stream is counted, limited in time, and ended cleanly.
//!
//! rmcp produces the SSE bodies (events, priming, keep-alive comments); this module wraps each
//! one on its way out. The wrapper keeps the open-stream count exact (it is decremented by a
//! guard, so normal end, error, client disconnect and shutdown all bring it back down), ends
//! streams that outlive `REQUEST_TIMEOUT`, and ends every stream at once when the server closes
//! them (shutdown, later draining), always between two events and with a `retry:` field so
//! clients reconnect, through the load balancer, to a healthy task.

use std::any::Any;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use http_body::Body;
use http_body_util::combinators::BoxBody;
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// JSON-RPC error code for a request that ran past `REQUEST_TIMEOUT` (implementation-defined
/// server error range).
pub const REQUEST_TIMEOUT_CODE: i64 = -32001;

/// What a stream is for; it decides how the stream ends when its time is up.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamKind {
    /// Legacy standalone GET stream (server-initiated messages, or a resumption).
    Get,
    /// Modern `subscriptions/listen` stream: change notifications, open for a long time.
    Listen,
    /// The SSE response to one POSTed request, whose JSON-RPC id is kept so a timeout can
    /// answer it.
    Request(serde_json::Value),
}

impl StreamKind {
    fn label(&self) -> &'static str {
        match self {
            StreamKind::Get => "get",
            StreamKind::Listen => "listen",
            StreamKind::Request(_) => "request",
        }
    }
}

/// Why a stream ended, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseReason {
    /// The body ended on its own (response sent, session closed).
    Completed,
    /// The stream reached `REQUEST_TIMEOUT`.
    TimedOut,
    /// The server ended it (drain or shutdown).
    ServerClosing,
    /// The body was dropped before it ended: the client went away, or the connection was cut.
    Disconnected,
}

impl CloseReason {
    fn label(self) -> &'static str {
        match self {
            CloseReason::Completed => "completed",
            CloseReason::TimedOut => "request timeout",
            CloseReason::ServerClosing => "server closing",
            CloseReason::Disconnected => "client disconnected",
        }
    }
}

/// The count of open SSE streams and the switch that ends them all.
#[derive(Debug)]
pub struct StreamTracker {
    /// Streams open now: what `/health` reports as `activeConnections`.
    open: AtomicUsize,
    /// Long-lived streams (GET, listen) open now: what `MAX_SSE_CONNECTIONS` limits.
    open_long_lived: AtomicUsize,
    /// Streams opened since start, also a stream id source for the logs.
    opened_total: AtomicU64,
    /// Cancelled to end the long-lived streams open now (drain, shutdown); replaced by a fresh
    /// token each time, so streams opened after a guessed drain was undone are not ended.
    end_long_lived: Mutex<CancellationToken>,
    /// The `retry:` hint clients get before a stream is ended.
    retry: Duration,
    /// How long a stream may stay open.
    max_age: Duration,
}

impl StreamTracker {
    /// A tracker whose streams end after `max_age` with a `retry` hint.
    pub fn new(retry: Duration, max_age: Duration) -> Self {
        StreamTracker {
            open: AtomicUsize::new(0),
            open_long_lived: AtomicUsize::new(0),
            opened_total: AtomicU64::new(0),
            end_long_lived: Mutex::new(CancellationToken::new()),
            retry,
            max_age,
        }
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Streams opened since the process started.
    pub fn opened_total(&self) -> u64 {
        self.opened_total.load(Ordering::Relaxed)
    }

    /// Long-lived streams open now.
    pub fn open_long_lived(&self) -> usize {
        self.open_long_lived.load(Ordering::Relaxed)
    }

    /// Ends every long-lived stream open now (after its current event, with a `retry:` field),
    /// and returns how many there were. Request streams are left to finish their response.
    pub fn end_long_lived(&self) -> usize {
        let mut token = self.end_long_lived.lock().expect("token lock");
        token.cancel();
        *token = CancellationToken::new();
        self.open_long_lived()
    }

    /// Takes a slot for one more long-lived stream if fewer than `max` are open or reserved:
    /// the check and the count are one atomic step, so a burst of requests released together
    /// cannot all pass a check made before any of them is counted. The slot is released when
    /// dropped, unless [`track`](Self::track) takes it over.
    pub fn reserve_long_lived(self: &Arc<Self>, max: usize) -> Option<StreamSlot> {
        self.open_long_lived
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .ok()?;
        Some(StreamSlot {
            tracker: Some(self.clone()),
            held: Vec::new(),
            max_age: None,
        })
    }

    /// Wraps an SSE body produced by rmcp, counting it until it is done or dropped. A
    /// long-lived stream uses its `slot` (or, without one, is counted now).
    pub fn track(
        self: &Arc<Self>,
        body: BoxBody<Bytes, Infallible>,
        kind: StreamKind,
        peer: Option<std::net::SocketAddr>,
        slot: Option<StreamSlot>,
    ) -> TrackedStream {
        self.open.fetch_add(1, Ordering::Relaxed);
        let max_age = slot
            .as_ref()
            .and_then(|slot| slot.max_age)
            .map_or(self.max_age, |age| age.min(self.max_age));
        let long_lived = !matches!(kind, StreamKind::Request(_));
        let mut held = Vec::new();
        match slot {
            // The slot's count becomes the stream's; StreamGuard gives it back.
            Some(mut slot) if long_lived => {
                slot.tracker = None;
                held = std::mem::take(&mut slot.held);
            }
            _ if long_lived => {
                self.open_long_lived.fetch_add(1, Ordering::Relaxed);
            }
            // A request's stream keeps what its slot holds too; a long-lived count it may hold
            // goes back as the slot drops.
            Some(mut slot) => held = std::mem::take(&mut slot.held),
            None => {}
        }
        let id = self.opened_total.fetch_add(1, Ordering::Relaxed) + 1;
        // One request stream per POST would flood the logs under load: only long-lived streams,
        // the ones the seed's Logs Insights queries count, are logged at info.
        if matches!(kind, StreamKind::Request(_)) {
            tracing::debug!(stream_id = id, kind = kind.label(), "SSE stream initiated");
        } else {
            tracing::info!(
                stream_id = id,
                kind = kind.label(),
                peer = peer.map(|p| p.to_string()),
                "SSE stream initiated"
            );
        }
        // A request stream ends with its response: draining must not cut an answer short.
        let closing = if long_lived {
            self.end_long_lived.lock().expect("token lock").clone()
        } else {
            CancellationToken::new()
        };
        TrackedStream {
            inner: body,
            deadline: tokio::time::sleep(max_age),
            closing: closing.cancelled_owned(),
            guard: StreamGuard {
                tracker: self.clone(),
                id,
                kind,
                opened: Instant::now(),
                reason: None,
                _held: held,
            },
        }
    }

    fn retry_field(&self) -> Bytes {
        Bytes::from(format!("retry: {}\n\n", self.retry.as_millis()))
    }
}

/// One reserved long-lived stream, counted in `MAX_SSE_CONNECTIONS` until dropped or tracked.
#[derive(Debug)]
pub struct StreamSlot {
    /// Set while the slot still holds its own count.
    tracker: Option<Arc<StreamTracker>>,
    /// Kept for as long as the stream lives (a per-client slot, say).
    held: Vec<Box<dyn Any + Send + Sync>>,
    /// A shorter life than `REQUEST_TIMEOUT` (the client's access token expires sooner).
    max_age: Option<Duration>,
}

impl StreamSlot {
    /// A slot that counts nothing and keeps `value` for as long as the stream it is given to
    /// (a request's answer stream, say) lives.
    pub fn holding(value: impl Any + Send + Sync) -> StreamSlot {
        StreamSlot {
            tracker: None,
            held: Vec::new(),
            max_age: None,
        }
        .hold(value)
    }

    /// Keeps `value` (with anything held before) until the stream this slot becomes ends, or
    /// the slot is dropped unused.
    pub fn hold(mut self, value: impl Any + Send + Sync) -> Self {
        self.held.push(Box::new(value));
        self
    }

    /// Ends the stream this slot becomes after `age` at most (it ends as at `REQUEST_TIMEOUT`,
    /// with a `retry:` field), when that is sooner.
    pub fn ending_within(mut self, age: Option<Duration>) -> Self {
        self.max_age = match (self.max_age, age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Some(tracker) = self.tracker.take() {
            tracker.open_long_lived.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Decrements the open count and logs the close, however the stream ends.
struct StreamGuard {
    tracker: Arc<StreamTracker>,
    id: u64,
    kind: StreamKind,
    opened: Instant,
    reason: Option<CloseReason>,
    /// What the stream's slot held, released with the stream.
    _held: Vec<Box<dyn Any + Send + Sync>>,
}

impl Drop for StreamGuard {
    /// The close is logged before the stream leaves the counts, so a count that reads 0 comes
    /// after every stream's close line.
    fn drop(&mut self) {
        let reason = self.reason.unwrap_or(CloseReason::Disconnected);
        let duration_ms = self.opened.elapsed().as_millis() as u64;
        let (id, kind, reason) = (self.id, self.kind.label(), reason.label());
        if matches!(self.kind, StreamKind::Request(_)) && reason == "completed" {
            tracing::debug!(
                stream_id = id,
                kind,
                reason,
                duration_ms,
                "SSE stream closed"
            );
        } else {
            tracing::info!(
                stream_id = id,
                kind,
                reason,
                duration_ms,
                "SSE stream closed"
            );
        }
        self.tracker.open.fetch_sub(1, Ordering::Relaxed);
        if !matches!(self.kind, StreamKind::Request(_)) {
            self.tracker.open_long_lived.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

pin_project! {
    /// An SSE body that counts itself and knows when to stop; a `Stream` of byte chunks, which
    /// is what warp's streaming reply takes.
    pub struct TrackedStream {
        #[pin]
        inner: BoxBody<Bytes, Infallible>,
        #[pin]
        deadline: Sleep,
        #[pin]
        closing: WaitForCancellationFutureOwned,
        guard: StreamGuard,
    }
}

impl TrackedStream {
    /// The last event of a stream the server ends: requests get their JSON-RPC error, long-lived
    /// streams a `retry:` field.
    fn final_event(guard: &StreamGuard, reason: CloseReason) -> Bytes {
        match (&guard.kind, reason) {
            (StreamKind::Request(id), CloseReason::TimedOut) => {
                crate::meters::timeout("REQUEST_TIMEOUT");
                let error = serde_json::json!({
                    "jsonrpc": "2.0",
                    "id": id,
                    "error": {
                        "code": REQUEST_TIMEOUT_CODE,
                        "message": format!(
                            "Request timed out after {} ms (REQUEST_TIMEOUT)",
                            guard.tracker.max_age.as_millis()
                        ),
                    },
                });
                Bytes::from(format!("event: message\ndata: {error}\n\n"))
            }
            _ => guard.tracker.retry_field(),
        }
    }
}

impl Stream for TrackedStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if this.guard.reason.is_some() {
            return Poll::Ready(None);
        }
        // Whatever rmcp has ready goes out first: a stream is only ever cut between events.
        loop {
            match this.inner.as_mut().poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
                Poll::Ready(Some(Err(never))) => match never {},
                Poll::Ready(None) => {
                    this.guard.reason = Some(CloseReason::Completed);
                    return Poll::Ready(None);
                }
                Poll::Pending => break,
            }
        }
        let reason = if this.closing.poll(cx).is_ready() {
            CloseReason::ServerClosing
        } else if this.deadline.poll(cx).is_ready() {
            CloseReason::TimedOut
        } else {
            return Poll::Pending;
        };
        this.guard.reason = Some(reason);
        Poll::Ready(Some(Ok(Self::final_event(this.guard, reason))))
    }
}

#[cfg(test)]
mod tests;
