//! The events of legacy sessions' SSE streams, kept so that a client reconnecting with
//! `Last-Event-ID` gets what it missed, on this task or on any other (rmcp's [`EventStore`]
//! seam; installed only with a shared session store).
//!
//! rmcp hands every event of every stream to the store before it sends it, and asks the store
//! alone for a resumed stream. Two kinds of stream reach it:
//!
//! - A session's own stream (`{session}:common`: list-changed notifications and whatever else the
//!   session is sent outside a request). Its events go to the shared store, a Redis stream under
//!   `SESSION_STORE_PREFIX` + `events:` + the SHA-256 of the session id (trimmed to the last
//!   [`KEPT_EVENTS`] or so, expiring with the session), and carry the entry's id. A client that
//!   resumes, on any task, gets the entries after its id, then the session's events on that task
//!   as they come. While the store is down, events are sent with an id of this task only
//!   (`l…`); resuming from one of those replays nothing and carries on live.
//! - A request's stream (rmcp names it by a random UUID): its events stay in this process (a
//!   request runs on one task) for [`REQUEST_STREAM_TTL`] after the request's answer, like rmcp's
//!   own cache, as `{uuid}.{n}`. Resuming one replays what followed `n`, then the rest until the
//!   answer. On another task the stream is unknown and the resumed stream is empty.
//!
//! rmcp passes only the event id to a resume, so the endpoint first puts the hash of the
//! session that asks in front of it ([`Journal::resume_id`]): a client resumes its own session's
//! stream, whatever id it sends. Session ids never reach the store or the logs.

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

/// Roughly how many of a session's own events the store keeps (`XADD MAXLEN ~`).
pub const KEPT_EVENTS: usize = 128;

/// The most events one resume replays from the store.
const MAX_REPLAY: usize = KEPT_EVENTS * 2;

/// The largest event written to the store; a larger one is sent with a local id.
const MAX_EVENT_BYTES: usize = 64 * 1024;

/// How long a request stream's events stay after its answer (rmcp keeps its own as long).
pub const REQUEST_STREAM_TTL: Duration = Duration::from_secs(60);

/// The most request streams kept at once; the oldest go first.
pub const MAX_REQUEST_STREAMS: usize = 16 * 1024;

/// The most events kept per request stream (the latest).
const MAX_REQUEST_EVENTS: usize = 64;

/// Live events buffered per resumed stream before a slow reader is cut off (it resumes again).
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
    /// When its answer went out.
    answered: Option<Instant>,
    started: Instant,
    /// Streams resumed from it that wait for more.
    live: Option<broadcast::Sender<ServerSseMessage>>,
}

#[derive(Default)]
struct RequestStreams {
    streams: HashMap<String, RequestStream>,
    /// Stream names, oldest first.
    order: VecDeque<String>,
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
                        || now.duration_since(stream.started) >= REQUEST_STREAM_TTL * 10
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
    /// Resumed session streams on this task, by session hash.
    live: Mutex<HashMap<String, broadcast::Sender<ServerSseMessage>>>,
    requests: Mutex<RequestStreams>,
    /// Numbers this task's local ids.
    local: AtomicU64,
}

/// What a resume names, once the endpoint has said whose it is.
#[derive(Debug, PartialEq, Eq)]
enum Resume<'a> {
    /// A session's own stream, after a store entry (or from now on).
    Session { hash: &'a str, after: Option<Entry> },
    /// A request stream, after event `index`.
    Request { stream: &'a str, index: u64 },
}

/// A Redis stream entry id, `{ms}-{seq}`, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry(u64, u64);

impl Entry {
    fn parse(text: &str) -> Option<Entry> {
        let (ms, seq) = text.split_once('-')?;
        Some(Entry(ms.parse().ok()?, seq.parse().ok()?))
    }
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

fn is_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn parse_resume(id: &str) -> Option<Resume<'_>> {
    let (hash, rest) = id.split_once(':')?;
    if !is_hash(hash) {
        return None;
    }
    if let Some((stream, index)) = rest.rsplit_once('.')
        && uuid_like(stream)
        && let Ok(index) = index.parse()
    {
        return Some(Resume::Request { stream, index });
    }
    Some(Resume::Session {
        hash,
        after: Entry::parse(rest),
    })
}

/// rmcp names request streams by a hyphenated UUID.
fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

fn is_answer(event: &ServerSseMessage) -> bool {
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
            live: Mutex::default(),
            requests: Mutex::default(),
            local: AtomicU64::new(0),
        }
    }

    /// The id rmcp is given for a `Last-Event-ID` that `session` sends: the session's hash in
    /// front, so the resume stays within the session's own streams.
    pub fn resume_id(&self, session: &str, last_event_id: &[u8]) -> Vec<u8> {
        let mut id = self.store.session_hash(session).into_bytes();
        id.push(b':');
        id.extend_from_slice(last_event_id);
        id
    }

    /// Ends the resumed streams of a session that ended on this task.
    pub fn end(&self, session: &str) {
        let hash = self.store.session_hash(session);
        self.live.lock().expect("live lock").remove(&hash);
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
            // The store logged it (and, unless the key was not ours, is marked unreachable);
            // the event still goes out.
            Err(_) => self.local_id(),
        }
    }

    fn publish_live(&self, hash: &str, event: &ServerSseMessage) {
        let mut live = self.live.lock().expect("live lock");
        if let Some(sender) = live.get(hash)
            && sender.send(event.clone()).is_err()
        {
            live.remove(hash);
        }
    }

    fn subscribe_live(&self, hash: &str) -> broadcast::Receiver<ServerSseMessage> {
        let mut live = self.live.lock().expect("live lock");
        match live.get(hash) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = broadcast::channel(LIVE_CAPACITY);
                live.insert(hash.to_string(), sender);
                receiver
            }
        }
    }

    fn store_request_event(&self, stream: &str, event: &ServerSseMessage) -> String {
        let now = Instant::now();
        let mut requests = self.requests.lock().expect("requests lock");
        requests.evict(now);
        let known = requests.streams.contains_key(stream);
        if !known {
            requests.order.push_back(stream.to_string());
        }
        let entry = requests
            .streams
            .entry(stream.to_string())
            .or_insert_with(|| RequestStream {
                events: VecDeque::new(),
                next: 0,
                answered: None,
                started: now,
                live: None,
            });
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

    fn replay_request(&self, stream: &str, index: u64) -> EventStream {
        let mut requests = self.requests.lock().expect("requests lock");
        requests.evict(Instant::now());
        let Some(entry) = requests.streams.get_mut(stream) else {
            return Box::pin(futures::stream::empty());
        };
        let missed: Vec<ServerSseMessage> = entry
            .events
            .iter()
            .filter(|event| {
                event
                    .event_id
                    .as_deref()
                    .and_then(|id| id.rsplit_once('.'))
                    .and_then(|(_, n)| n.parse::<u64>().ok())
                    .is_some_and(|n| n > index)
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
        Box::pin(replayed.chain(live_events(receiver, None)))
    }

    async fn replay_session(&self, hash: &str, after: Option<Entry>) -> EventStream {
        // Subscribed before reading, so nothing sent meanwhile falls between the two.
        let receiver = self.subscribe_live(hash);
        let mut missed = Vec::new();
        // A failed read was logged by the store; the stream goes on live, as without a replay.
        if let Some(after) = after
            && let Ok(entries) = self
                .store
                .events_after(hash, &after.to_string(), MAX_REPLAY)
                .await
        {
            for (id, bytes) in entries {
                match decode(&id, &bytes) {
                    Some(event) => missed.push(event),
                    None => {
                        tracing::warn!("session store event that is not ours skipped in a replay")
                    }
                }
            }
        }
        let last = missed
            .iter()
            .filter_map(|e| e.event_id.as_deref().and_then(Entry::parse))
            .max()
            .or(after);
        Box::pin(futures::stream::iter(missed).chain(live_events(receiver, last)))
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

/// The events sent from now on, skipping those up to `seen` (already replayed); ends when the
/// sender goes (the session or request ended) or the reader falls behind.
fn live_events(
    receiver: broadcast::Receiver<ServerSseMessage>,
    seen: Option<Entry>,
) -> impl futures::Stream<Item = ServerSseMessage> + Send + Sync + 'static {
    futures::stream::unfold(receiver, |mut receiver| async move {
        match receiver.recv().await {
            Ok(event) => Some((event, receiver)),
            // Cut off: the client resumes from the last id it got, and misses nothing.
            Err(_) => None,
        }
    })
    .filter(move |event| {
        let new = match (seen, event.event_id.as_deref().and_then(Entry::parse)) {
            (Some(seen), Some(entry)) => entry > seen,
            _ => true,
        };
        futures::future::ready(new)
    })
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
        let id = self.store_session_event(&hash, event).await;
        let mut event = event.clone();
        event.event_id = Some(id.clone());
        self.publish_live(&hash, &event);
        Ok(id)
    }

    async fn replay_events_after(
        &self,
        last_event_id: &str,
    ) -> Result<EventStream, EventStoreError> {
        match parse_resume(last_event_id) {
            Some(Resume::Request { stream, index }) => Ok(self.replay_request(stream, index)),
            Some(Resume::Session { hash, after }) => Ok(self.replay_session(hash, after).await),
            None => Err("an event id not given by the endpoint".into()),
        }
    }
}

#[cfg(test)]
mod tests;
