//! The event ids the endpoint hands out for legacy sessions' streams, and reads back from
//! `Last-Event-ID`: `{hash}:{entry}` for a session's own stream (a Redis stream entry), and
//! `{hash}:{uuid}.{n}` for a request's stream.

use futures::StreamExt;
use rmcp::transport::common::server_side_http::ServerSseMessage;

/// What a resume names, once the endpoint has said whose it is.
#[derive(Debug, PartialEq, Eq)]
pub enum Resume<'a> {
    /// The session's own stream, after a store entry (`None`: an id that is not one, from now on).
    Session { hash: &'a str, after: Option<Entry> },
    /// A request stream, after event `index`.
    Request {
        hash: &'a str,
        stream: &'a str,
        index: u64,
    },
}

/// A Redis stream entry id, `{ms}-{seq}`, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry(pub(super) u64, pub(super) u64);

impl Entry {
    /// An entry id, or `None`.
    pub fn parse(text: &str) -> Option<Entry> {
        let (ms, seq) = text.split_once('-')?;
        Some(Entry(ms.parse().ok()?, seq.parse().ok()?))
    }

    /// The smallest entry after this one, if there is one.
    pub(super) fn next(self) -> Option<Entry> {
        match (self.0, self.1.checked_add(1)) {
            (ms, Some(seq)) => Some(Entry(ms, seq)),
            (ms, None) => Some(Entry(ms.checked_add(1)?, 0)),
        }
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

/// Reads an id the endpoint rewrote ([`super::Journal::resume_id`]); `None` for any other.
pub fn parse_resume(id: &str) -> Option<Resume<'_>> {
    let (hash, rest) = id.split_once(':')?;
    if !is_hash(hash) {
        return None;
    }
    if let Some((stream, index)) = request_event(rest) {
        return Some(Resume::Request {
            hash,
            stream,
            index,
        });
    }
    Some(Resume::Session {
        hash,
        after: Entry::parse(rest),
    })
}

/// A request stream's event id: the stream (a hyphenated UUID, as rmcp names them) and index.
pub(super) fn request_event(id: &str) -> Option<(&str, u64)> {
    let (stream, index) = id.rsplit_once('.')?;
    let uuid = stream.len() == 36 && stream.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit());
    Some((stream, index.parse().ok()?)).filter(|_| uuid)
}

/// Skips, in a session's live events, those a replay already gave (entries up to `seen`).
pub fn after_replayed(
    live: impl futures::Stream<Item = ServerSseMessage> + Send + Sync + 'static,
    seen: Option<Entry>,
) -> impl futures::Stream<Item = ServerSseMessage> + Send + Sync + 'static {
    live.filter(move |event| {
        let new = match (seen, event.event_id.as_deref().and_then(Entry::parse)) {
            (Some(seen), Some(entry)) => entry > seen,
            _ => true,
        };
        futures::future::ready(new)
    })
}
