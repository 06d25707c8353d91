//! Legacy sessions rmcp has not been asked to hold yet (without a shared store).
//!
//! An rmcp session costs its process about 60 KiB at once (a worker task, its channels, the
//! handler's peer), and most sessions never need any of it: a client initializes, lists the
//! tools and calls them, and every one of those requests is answered without rmcp (see
//! [`crate::http::direct`]). So the server answers `initialize` itself, from the handler's own
//! `negotiate_initialize`, and keeps only the client's `initialize` params here (as JSON: a few
//! hundred bytes from real clients, at most 8 KiB). The session wakes in rmcp when a request
//! needs rmcp (a request the handler does not answer itself; a GET stream, unless the handler
//! lets its streams be served from the change feed, see [`crate::http::session_stream`]): rmcp
//! finds no such session, asks its session store, which is this, and replays the handshake to
//! the handler (`initialize`, then `notifications/initialized`) before it serves the request, as
//! it does for a session restored from Redis. From then on the session is rmcp's, but its GET
//! streams are still served from the feed (an entry marks it woken while rmcp holds it).
//!
//! A dormant session ends by `DELETE` (rmcp tells its store) or after
//! `LEGACY_SESSION_IDLE_TIMEOUT` without a request, as a held one does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rmcp::model::InitializeRequestParams;
use rmcp::transport::streamable_http_server::session::{
    SessionState, SessionStore, SessionStoreError,
};
use tokio_util::sync::CancellationToken;

/// How long a woken session stays counted here while rmcp sets it up (a replay of the
/// handshake takes well under a millisecond; this only bounds an entry whose wake failed).
const WAKE_GRACE: Duration = Duration::from_secs(10);

/// One session.
enum Entry {
    /// Not in rmcp: answered from here.
    Asleep {
        /// The params as JSON: what they take in memory is what the client sent, give or
        /// take, not the many times more of a parsed tree.
        initialize: Box<[u8]>,
        /// In use while one of its GET streams is open, too (see [`Dormant::streaming`]).
        last_used: Instant,
    },
    /// Handed to rmcp at `at`. Counted here (`counted`) until the request that woke it has
    /// its answer, by when rmcp holds it and counts it: a session is never counted nowhere, so
    /// an `initialize` admitted meanwhile cannot pass `MAX_LEGACY_SESSIONS`.
    Woken { at: Instant, counted: bool },
}

/// The dormant sessions of one process.
pub struct Dormant {
    entries: Mutex<HashMap<String, Entry>>,
    /// How many entries are counted here, asleep or woken and unsettled (changed under the
    /// lock, read without it).
    counted: AtomicUsize,
    /// `LEGACY_SESSION_IDLE_TIMEOUT`.
    idle_timeout: Duration,
    /// Sessions with a GET stream served here: ended with the session, whether it is still
    /// dormant or rmcp's by then, and whether the stream carrying notifications is taken.
    streams: Mutex<HashMap<String, Streams>>,
}

/// The GET streams of one session served here.
struct Streams {
    ended: CancellationToken,
    open: u32,
    /// One stream carries the session's notifications, as in rmcp; the others only keep alive.
    primary: bool,
}

/// One GET stream of a dormant session, served from the change feed; the session is in use
/// while it lives.
pub struct SessionStream {
    dormant: std::sync::Arc<Dormant>,
    /// The session.
    pub id: String,
    /// Cancelled when the session ends.
    pub ended: CancellationToken,
    /// Whether this stream carries the session's notifications.
    pub primary: bool,
}

impl Drop for SessionStream {
    fn drop(&mut self) {
        let mut entries = self.dormant.lock();
        if let Some(Entry::Asleep { last_used, .. }) = entries.get_mut(&self.id) {
            // The stream's end is the session's last use.
            *last_used = Instant::now();
        }
        // Still under the entries' lock (taken first, as everywhere): a stream opened meanwhile
        // sees this one gone, primary included.
        let mut streams = self.dormant.streams.lock().expect("dormant streams lock");
        if let Some(held) = streams.get_mut(&self.id) {
            held.open = held.open.saturating_sub(1);
            if self.primary {
                held.primary = false;
            }
            if held.open == 0 {
                streams.remove(&self.id);
                super::shrink_if_sparse(&mut streams);
            }
        }
        drop(streams);
        drop(entries);
    }
}

impl std::fmt::Debug for Dormant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dormant")
            .field("counted", &self.len())
            .finish()
    }
}

impl Dormant {
    /// No sessions yet; each ends after `idle_timeout` without use.
    pub fn new(idle_timeout: Duration) -> Dormant {
        Dormant {
            entries: Mutex::default(),
            counted: AtomicUsize::new(0),
            idle_timeout,
            streams: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().expect("dormant sessions lock")
    }

    /// The client's `initialize` params as a dormant session keeps them (JSON), if no larger
    /// than `most` bytes.
    pub fn kept(initialize: &InitializeRequestParams, most: usize) -> Option<Box<[u8]>> {
        let kept = serde_json::to_vec(initialize).ok()?;
        (kept.len() <= most).then(|| kept.into_boxed_slice())
    }

    /// Session `id` starts, dormant, with the client's `initialize` params ([`Dormant::kept`]).
    pub fn start(&self, id: String, initialize: Box<[u8]>) {
        let mut entries = self.lock();
        let entry = Entry::Asleep {
            initialize,
            last_used: Instant::now(),
        };
        if let Some(before) = entries.insert(id, entry) {
            // Ids are random: never, but the count stays right.
            self.forget(&before);
        }
        self.counted.fetch_add(1, Ordering::Relaxed);
    }

    /// A GET stream for session `id`, if it is asleep and live: the session is in use until the
    /// stream is dropped, and the stream ends with the session.
    pub fn open_stream(self: &std::sync::Arc<Self>, id: &str) -> Option<SessionStream> {
        let now = Instant::now();
        let entries = self.lock();
        let entry = entries.get(id)?;
        // A woken session is rmcp's, but its streams are still served here: the feed is all they
        // carry, and a client that resumes must find the ids it was given.
        if matches!(entry, Entry::Asleep { .. }) && !self.live(id, entry, now) {
            return None;
        }
        // Under the entries' lock: an `end` cannot come between the two.
        let mut held = self.streams.lock().expect("dormant streams lock");
        let held = held.entry(id.to_string()).or_insert_with(|| Streams {
            ended: CancellationToken::new(),
            open: 0,
            primary: false,
        });
        held.open += 1;
        let primary = !held.primary;
        held.primary = true;
        Some(SessionStream {
            dormant: self.clone(),
            id: id.to_string(),
            ended: held.ended.clone(),
            primary,
        })
    }

    /// Ends the GET streams of session `id` (it ended). Called under the entries' lock.
    fn end_streams(&self, id: &str) {
        let streams = self.streams.lock().expect("dormant streams lock");
        if let Some(held) = streams.get(id) {
            held.ended.cancel();
        }
    }

    /// `entry` left the map: the count follows.
    fn forget(&self, entry: &Entry) {
        if matches!(
            entry,
            Entry::Asleep { .. } | Entry::Woken { counted: true, .. }
        ) {
            self.counted.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Removes session `id`, keeping the count, and ends its streams.
    fn remove(&self, entries: &mut HashMap<String, Entry>, id: &str) {
        if let Some(entry) = entries.remove(id) {
            self.forget(&entry);
        }
        self.end_streams(id);
    }

    /// Session `id` is asleep here and still live: it is used now (its idle time starts again).
    /// `false` when it is not here, is rmcp's, or its idle time ran out (it is then ended).
    pub fn used(&self, id: &str) -> bool {
        self.used_at(id, Instant::now())
    }

    fn used_at(&self, id: &str, now: Instant) -> bool {
        let mut entries = self.lock();
        let live = match entries.get(id) {
            Some(entry @ Entry::Asleep { .. }) => self.live(id, entry, now),
            _ => return false,
        };
        if !live {
            self.remove(&mut entries, id);
            return false;
        }
        if let Some(Entry::Asleep { last_used, .. }) = entries.get_mut(id) {
            *last_used = now;
        }
        true
    }

    /// Whether session `id` exists here: asleep and live, or woken and not yet held by rmcp.
    pub fn holds(&self, id: &str) -> bool {
        let now = Instant::now();
        self.lock()
            .get(id)
            .is_some_and(|entry| matches!(entry, Entry::Woken { .. }) || self.live(id, entry, now))
    }

    /// The sessions counted here: asleep, or woken and not yet settled (then rmcp counts it);
    /// one whose idle time ran out counts until it is used or swept, as rmcp counts a session
    /// until its worker closes it.
    pub fn len(&self) -> usize {
        self.counted.load(Ordering::Relaxed)
    }

    /// Whether session `id`'s `entry` is asleep and in use: used within the idle timeout at
    /// `now`, or streaming.
    fn live(&self, id: &str, entry: &Entry, now: Instant) -> bool {
        match entry {
            Entry::Asleep { last_used, .. } => {
                now.saturating_duration_since(*last_used) <= self.idle_timeout || self.streaming(id)
            }
            Entry::Woken { .. } => false,
        }
    }

    /// Whether session `id` has a GET stream open here. Called under the entries' lock.
    fn streaming(&self, id: &str) -> bool {
        let streams = self.streams.lock().expect("dormant streams lock");
        streams.get(id).is_some_and(|held| held.open > 0)
    }

    /// Whether no session is asleep here.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// rmcp takes session `id`: its `initialize` params, once, if it is asleep and live.
    fn wake_at(&self, id: &str, now: Instant) -> Option<InitializeRequestParams> {
        let mut entries = self.lock();
        let expired = match entries.get(id)? {
            entry @ Entry::Asleep { .. } => !self.live(id, entry, now),
            Entry::Woken { .. } => return None,
        };
        if expired {
            self.remove(&mut entries, id);
            return None;
        }
        let woken = Entry::Woken {
            at: now,
            counted: true,
        };
        match entries.insert(id.to_string(), woken) {
            Some(Entry::Asleep { initialize, .. }) => serde_json::from_slice(&initialize).ok(),
            _ => None,
        }
    }

    /// The request that woke session `id` has its answer: rmcp holds the session now (or the
    /// wake failed and it is gone), and counts it.
    pub fn settle(&self, id: &str) {
        let mut entries = self.lock();
        if let Some(Entry::Woken { counted, .. }) = entries.get_mut(id)
            && *counted
        {
            *counted = false;
            self.counted.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Session `id` ended (`DELETE`).
    pub fn end(&self, id: &str) {
        let mut entries = self.lock();
        self.remove(&mut entries, id);
        super::shrink_if_sparse(&mut entries);
    }

    /// Ends the sessions idle for longer than the timeout, and forgets woken ones rmcp no longer
    /// holds (`held_by_rmcp`: it closed them) or never took up; their streams end with them.
    pub fn sweep(&self, now: Instant, held_by_rmcp: impl Fn(&str) -> bool) {
        let mut entries = self.lock();
        entries.retain(|id, entry| {
            let keep = match entry {
                Entry::Asleep { .. } => self.live(id, entry, now),
                // Kept while rmcp holds the session (its GET streams are still served here),
                // and for a grace while rmcp takes it up.
                Entry::Woken { at, counted } => {
                    let held = held_by_rmcp(id);
                    let late = now.saturating_duration_since(*at) > WAKE_GRACE;
                    // Settled here if its waker never said (it cannot be cancelled, but still).
                    if *counted && (held || late) {
                        *counted = false;
                        self.counted.fetch_sub(1, Ordering::Relaxed);
                    }
                    held || !late
                }
            };
            if !keep {
                self.forget(entry);
                self.end_streams(id);
            }
            keep
        });
        super::shrink_if_sparse(&mut entries);
    }
}

/// rmcp's view: the store it restores unknown sessions from. It never stores: a session rmcp
/// starts itself (an `initialize` the server did not answer) lives in rmcp alone.
#[async_trait::async_trait]
impl SessionStore for Dormant {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        Ok(self
            .wake_at(session_id, Instant::now())
            .map(SessionState::new))
    }

    async fn store(
        &self,
        _session_id: &str,
        _state: &SessionState,
    ) -> Result<(), SessionStoreError> {
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        self.end(session_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
