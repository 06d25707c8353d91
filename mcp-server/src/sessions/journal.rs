//! The events of legacy sessions' SSE streams, kept so that a client reconnecting with
//! `Last-Event-ID` gets what it missed, on this task or on any other (rmcp's [`EventStore`]
//! seam, given to the session manager only with a shared session store; see
//! [`super::resumable`] for the resumes themselves).
//!
//! rmcp hands every event of a legacy session's streams to the store before it sends it. Two
//! kinds of stream reach it:
//!
//! - A session's own stream (`{session}:common`: list-changed notifications and whatever else the
//!   session is sent outside a request). Its events go to the shared store, a Redis stream under
//!   `SESSION_STORE_PREFIX` + `events:` + the SHA-256 of the session id (trimmed to about the last
//!   [`KEPT_EVENTS`], expiring with the session), and carry the entry's id. While the store is
//!   down, events are sent with an id of this task only (`l…`).
//! - A request's stream (rmcp names it by a random UUID): its events stay in this process (a
//!   request runs on one task) as `{uuid}.{n}`, until its answer has gone out to its client, or,
//!   when the client lost the stream first, for [`REQUEST_STREAM_TTL`] after the answer. Only the
//!   session that made the request may resume it.
//!
//! Session ids never reach the store or the logs: the store sees their hashes.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use rmcp::model::ServerJsonRpcMessage;
use rmcp::transport::common::server_side_http::ServerSseMessage;
use rmcp::transport::streamable_http_server::session::{
    EventId, EventStore, EventStoreError, EventStream,
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::store::SharedStore;

mod ids;
use ids::request_event;
pub use ids::{Entry, Resume, after_replayed, parse_resume};

/// Roughly how many of a session's own events the store keeps (`XADD MAXLEN ~`).
pub const KEPT_EVENTS: usize = 32;

/// The most events one resume replays from the store.
pub const MAX_REPLAY: usize = KEPT_EVENTS * 2;

/// The largest event written to the store (a session's own events are notifications of a few
/// hundred bytes); a larger one is sent with a local id.
pub const MAX_EVENT_BYTES: usize = 4 * 1024;

/// How long a request stream whose client lost it stays after its answer.
pub const REQUEST_STREAM_TTL: Duration = Duration::from_secs(10);

/// How long a request stream without an answer is kept: longer than `REQUEST_TIMEOUT`'s
/// default, after which the request is answered anyway.
const UNANSWERED_TTL: Duration = Duration::from_secs(600);

/// The most request streams kept at once (running, or lost by their client); the oldest go
/// first.
pub const MAX_REQUEST_STREAMS: usize = 1024;

/// The most events kept per request stream (the latest).
const MAX_REQUEST_EVENTS: usize = 64;

/// Live events buffered per resumed request stream before a slow reader is cut off.
const LIVE_CAPACITY: usize = 64;

/// Marks the stored layout of an event, and its version.
const FORMAT: u32 = 1;

/// One event as stored.
#[derive(Serialize, Deserialize)]
struct StoredEvent {
    #[serde(rename = "docs-mcp-event")]
    format: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<ServerJsonRpcMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_ms: Option<u64>,
}

/// A request stream's recent events.
struct RequestStream {
    events: VecDeque<ServerSseMessage>,
    /// The index the next event gets.
    next: u64,
    /// When its answer was sent.
    answered: Option<Instant>,
    started: Instant,
    /// The hash of the session that made the request, once its first event went out.
    owner: Option<Arc<str>>,
    /// Streams resumed from it that wait for more.
    live: Option<broadcast::Sender<ServerSseMessage>>,
}

#[derive(Default)]
struct RequestStreams {
    streams: HashMap<Arc<str>, RequestStream>,
    /// Stream names, oldest first.
    order: VecDeque<Arc<str>>,
}

impl RequestStreams {
    fn evict(&mut self, now: Instant) {
        while let Some(front) = self.order.front() {
            let expired = match self.streams.get(front) {
                None => true,
                Some(stream) => {
                    self.streams.len() > MAX_REQUEST_STREAMS
                        || stream
                            .answered
                            .is_some_and(|at| now.duration_since(at) >= REQUEST_STREAM_TTL)
                        // One never answered (its handler was cancelled) goes in time too.
                        || now.duration_since(stream.started) >= UNANSWERED_TTL
                }
            };
            if !expired {
                return;
            }
            let name = self.order.pop_front().expect("front exists");
            self.streams.remove(&name);
        }
    }
}

/// The event store of one process.
pub struct Journal {
    store: Arc<SharedStore>,
    requests: Mutex<RequestStreams>,
    /// Numbers this task's local ids.
    local: AtomicU64,
}

/// Whether an event is a request's answer (a request stream ends with it).
pub fn is_answer(event: &ServerSseMessage) -> bool {
    matches!(
        event.message.as_deref(),
        Some(ServerJsonRpcMessage::Response(_) | ServerJsonRpcMessage::Error(_))
    )
}

impl Journal {
    /// A journal writing sessions' own events to `store`.
    pub fn new(store: Arc<SharedStore>) -> Journal {
        Journal {
            store,
            requests: Mutex::default(),
            local: AtomicU64::new(0),
        }
    }

    /// The hash a session is known by.
    pub fn session_hash(&self, session: &str) -> String {
        self.store.session_hash(session)
    }

    /// The id rmcp is given for a `Last-Event-ID` that `session` sends: the session's hash in
    /// front, so the resume stays within the session's own streams.
    pub fn resume_id(&self, session: &str, last_event_id: &[u8]) -> Vec<u8> {
        let mut id = self.store.session_hash(session).into_bytes();
        id.push(b':');
        id.extend_from_slice(last_event_id);
        id
    }

    /// Request streams kept now (for tests and figures).
    pub fn request_streams(&self) -> usize {
        self.requests.lock().expect("requests lock").streams.len()
    }

    fn local_id(&self) -> String {
        format!("l{}", self.local.fetch_add(1, Ordering::Relaxed))
    }

    /// Writes a session's event to the store; its entry id, or a local id when the store is
    /// down or the event too large.
    async fn store_session_event(&self, hash: &str, event: &ServerSseMessage) -> String {
        if !self.store.reachable() {
            return self.local_id();
        }
        let stored = StoredEvent {
            format: FORMAT,
            message: event.message.as_deref().cloned(),
            retry_ms: event.retry.map(|r| r.as_millis() as u64),
        };
        let bytes = serde_json::to_vec(&stored).expect("an SSE event serializes");
        if bytes.len() > MAX_EVENT_BYTES {
            tracing::warn!(
                bytes = bytes.len(),
                "a session event too large for the session store is sent without it"
            );
            return self.local_id();
        }
        match self.store.append_event(hash, &bytes, KEPT_EVENTS).await {
            Ok(entry) => entry,
            // The store logged it (and, if it is down, is marked so); the event still goes out.
            Err(_) => self.local_id(),
        }
    }

    fn store_request_event(&self, stream: &str, event: &ServerSseMessage) -> String {
        let now = Instant::now();
        let mut requests = self.requests.lock().expect("requests lock");
        requests.evict(now);
        if !requests.streams.contains_key(stream) {
            let name: Arc<str> = Arc::from(stream);
            requests.order.push_back(name.clone());
            requests.streams.insert(
                name,
                RequestStream {
                    events: VecDeque::with_capacity(2),
                    next: 0,
                    answered: None,
                    started: now,
                    owner: None,
                    live: None,
                },
            );
        }
        let entry = requests.streams.get_mut(stream).expect("inserted above");
        let id = format!("{stream}.{}", entry.next);
        entry.next += 1;
        let mut event = event.clone();
        event.event_id = Some(id.clone());
        if is_answer(&event) {
            entry.answered = Some(now);
        }
        if let Some(live) = &entry.live
            && live.send(event.clone()).is_err()
        {
            entry.live = None;
        }
        if entry.answered.is_some() {
            // Resumed streams end after the answer.
            entry.live = None;
        }
        if entry.events.len() >= MAX_REQUEST_EVENTS {
            entry.events.pop_front();
        }
        entry.events.push_back(event);
        id
    }

    /// A request stream's first event went out to session `hash`: only it may resume the stream.
    pub fn owned_by(&self, event_id: &str, hash: &Arc<str>) {
        let Some((stream, _)) = request_event(event_id) else {
            return;
        };
        if let Some(entry) = self
            .requests
            .lock()
            .expect("requests lock")
            .streams
            .get_mut(stream)
            && entry.owner.is_none()
        {
            entry.owner = Some(hash.clone());
        }
    }

    /// A request stream's answer reached its client: nothing of it is needed any more.
    pub fn delivered(&self, event_id: &str) {
        if let Some((stream, _)) = request_event(event_id) {
            self.requests
                .lock()
                .expect("requests lock")
                .streams
                .remove(stream);
        }
    }

    /// What followed event `index` of a request stream of session `hash`, then the rest until
    /// its answer; empty for a stream this task does not know or another session's.
    pub fn replay_request(&self, hash: &str, stream: &str, index: u64) -> EventStream {
        let mut requests = self.requests.lock().expect("requests lock");
        requests.evict(Instant::now());
        let Some(entry) = requests
            .streams
            .get_mut(stream)
            .filter(|entry| entry.owner.as_deref() == Some(hash))
        else {
            return Box::pin(futures::stream::empty());
        };
        let missed: Vec<ServerSseMessage> = entry
            .events
            .iter()
            .filter(|event| {
                event
                    .event_id
                    .as_deref()
                    .and_then(request_event)
                    .is_some_and(|(_, n)| n > index)
            })
            .cloned()
            .collect();
        let replayed = futures::stream::iter(missed);
        if entry.answered.is_some() {
            return Box::pin(replayed);
        }
        let receiver = match &entry.live {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = broadcast::channel(LIVE_CAPACITY);
                entry.live = Some(sender);
                receiver
            }
        };
        let live = futures::stream::unfold(receiver, |mut receiver| async move {
            // Cut off or ended: the client resumes from the last id it got.
            receiver.recv().await.ok().map(|event| (event, receiver))
        });
        Box::pin(replayed.chain(live))
    }

    /// The session's own events after entry `after`, oldest first (at most [`MAX_REPLAY`]);
    /// none if the store cannot say (it logged why).
    pub async fn session_events_after(&self, hash: &str, after: Entry) -> Vec<ServerSseMessage> {
        let Some(from) = after.next() else {
            return Vec::new();
        };
        let Ok(entries) = self
            .store
            .events_from(hash, &from.to_string(), MAX_REPLAY)
            .await
        else {
            return Vec::new();
        };
        let mut events = Vec::with_capacity(entries.len());
        for (id, bytes) in entries {
            match decode(&id, &bytes) {
                Some(event) => events.push(event),
                None => tracing::warn!("session store event that is not ours skipped in a replay"),
            }
        }
        events
    }
}

/// An event read back from the store.
fn decode(id: &str, bytes: &[u8]) -> Option<ServerSseMessage> {
    let stored: StoredEvent = serde_json::from_slice(bytes).ok()?;
    if stored.format != FORMAT {
        return None;
    }
    let retry = stored.retry_ms.map(Duration::from_millis);
    let mut event = match stored.message {
        Some(message) => ServerSseMessage::from_message(message),
        None => ServerSseMessage::retry(retry.unwrap_or_default()),
    };
    event.retry = retry;
    event.event_id = Some(id.to_string());
    Some(event)
}

#[async_trait::async_trait]
impl EventStore for Journal {
    async fn store_event(
        &self,
        stream_id: &str,
        event: &ServerSseMessage,
    ) -> Result<EventId, EventStoreError> {
        // Never fails: an event that cannot be kept is still sent (rmcp would drop the session).
        let Some(session) = stream_id.strip_suffix(":common") else {
            return Ok(self.store_request_event(stream_id, event));
        };
        let hash = self.store.session_hash(session);
        Ok(self.store_session_event(&hash, event).await)
    }

    /// Only what was missed: resumes go through [`super::resumable::Resumable`], which adds the
    /// session's live events; this is what a caller without the session gets.
    async fn replay_events_after(
        &self,
        last_event_id: &str,
    ) -> Result<EventStream, EventStoreError> {
        match parse_resume(last_event_id) {
            Some(Resume::Request {
                hash,
                stream,
                index,
            }) => Ok(self.replay_request(hash, stream, index)),
            Some(Resume::Session {
                hash,
                after: Some(after),
            }) => {
                let missed = self.session_events_after(hash, after).await;
                Ok(Box::pin(futures::stream::iter(missed)))
            }
            Some(Resume::Session { after: None, .. }) => Ok(Box::pin(futures::stream::empty())),
            None => Err("an event id not given by the endpoint".into()),
        }
    }
}

#[cfg(test)]
mod tests;
