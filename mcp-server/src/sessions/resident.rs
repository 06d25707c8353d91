//! Which legacy sessions this process holds in memory and how recently each was used (and, for
//! the fast path, when rmcp's session worker was last reminded of one): with a shared store, a
//! session idle here for `LEGACY_SESSION_MEMORY_IDLE_TIMEOUT` (no request, no open GET stream)
//! is dropped from memory and restored from the store on its next request, so an idle session
//! costs this process next to nothing; and a session in use gets its store key a new lease now
//! and then, not on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One session held here.
#[derive(Debug, Clone, Copy)]
struct Entry {
    last_used: Instant,
    /// With a store, the key's last lease.
    last_lease: Instant,
    /// When the fast path last reminded rmcp's session worker that the session is in use (see
    /// `App::keep_session_alive`); `None` before the first time.
    last_reminder: Option<Instant>,
    users: u32,
}

impl Entry {
    /// A session counted from `now`, unused by any stream or request.
    fn new(now: Instant) -> Self {
        Entry {
            last_used: now,
            last_lease: now,
            last_reminder: None,
            users: 0,
        }
    }
}

/// How a session id becomes its store key.
type KeyOf = dyn Fn(&str) -> String + Send + Sync;

/// The sessions held here, by id; one per process.
#[derive(Default)]
pub struct Resident {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    /// Each session's store key, and the session of each key (for the ended-session notices,
    /// which name keys): kept with the entries.
    keys: Mutex<HashMap<String, String>>,
    /// How a session id becomes its store key; `None` without a store.
    key_of: Option<Box<KeyOf>>,
}

impl std::fmt::Debug for Resident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resident")
            .field("sessions", &self.len())
            .finish()
    }
}

/// Kept by a session's open GET stream, or by a request of the session until its answer is
/// out: the session is not idle while one lives.
pub struct InUse {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    id: String,
}

impl Drop for InUse {
    fn drop(&mut self) {
        let mut entries = self.entries.lock().expect("resident lock");
        if let Some(entry) = entries.get_mut(&self.id) {
            entry.users = entry.users.saturating_sub(1);
            // The stream's end is the session's last use.
            entry.last_used = Instant::now();
        }
    }
}

impl Resident {
    /// Sessions counted by id, with their store keys made by `key_of`.
    pub fn with_keys(key_of: impl Fn(&str) -> String + Send + Sync + 'static) -> Resident {
        Resident {
            key_of: Some(Box::new(key_of)),
            ..Resident::default()
        }
    }

    /// Notes the store key of a session just counted.
    fn counted(&self, id: &str) {
        if let Some(key_of) = &self.key_of {
            self.keys
                .lock()
                .expect("resident keys lock")
                .insert(key_of(id), id.to_string());
        }
    }

    /// Forgets the store keys of sessions no longer counted.
    fn forget_keys(&self, entries: &HashMap<String, Entry>) {
        if self.key_of.is_some() {
            let mut keys = self.keys.lock().expect("resident keys lock");
            keys.retain(|_, id| entries.contains_key(id));
            super::shrink_if_sparse(&mut keys);
        }
    }

    /// The session counted here whose store key is `key`.
    pub fn id_of_key(&self, key: &str) -> Option<String> {
        self.keys
            .lock()
            .expect("resident keys lock")
            .get(key)
            .cloned()
    }

    /// Whether session `id` is counted here.
    pub fn contains(&self, id: &str) -> bool {
        self.entries.lock().expect("resident lock").contains_key(id)
    }

    /// Session `id` answered a request at `now`; `true` when its lease in the store is older
    /// than `renew_after` and should be renewed (the caller does it, and the clock restarts).
    pub fn used(&self, id: &str, now: Instant, renew_after: Duration) -> bool {
        let mut entries = self.entries.lock().expect("resident lock");
        match entries.get_mut(id) {
            Some(entry) => {
                entry.last_used = now;
                if now.saturating_duration_since(entry.last_lease) >= renew_after {
                    entry.last_lease = now;
                    return true;
                }
                false
            }
            None => {
                // New here (started or restored): its lease was just written.
                entries.insert(id.to_string(), Entry::new(now));
                drop(entries);
                self.counted(id);
                false
            }
        }
    }

    /// Session `id` answered a request without rmcp at `now`: `true` when rmcp's session worker
    /// was last reminded of it `every` ago or more, or never (the caller reminds it, and the
    /// clock restarts). A session not counted here yet is counted from now.
    pub fn reminder_due(&self, id: &str, now: Instant, every: Duration) -> bool {
        let mut entries = self.entries.lock().expect("resident lock");
        let new = !entries.contains_key(id);
        let entry = entries.entry(id.to_string()).or_insert(Entry::new(now));
        entry.last_used = now;
        let due = entry
            .last_reminder
            .is_none_or(|last| now.saturating_duration_since(last) >= every);
        if due {
            entry.last_reminder = Some(now);
        }
        drop(entries);
        if new {
            self.counted(id);
        }
        due
    }

    /// Session `id` is in use (a GET stream opened, a request started) until the returned value
    /// is dropped.
    pub fn in_use(&self, id: &str) -> InUse {
        let mut entries = self.entries.lock().expect("resident lock");
        let now = Instant::now();
        let new = !entries.contains_key(id);
        entries
            .entry(id.to_string())
            .or_insert(Entry::new(now))
            .users += 1;
        drop(entries);
        if new {
            self.counted(id);
        }
        InUse {
            entries: self.entries.clone(),
            id: id.to_string(),
        }
    }

    /// Sessions with no open stream and no use since `idle` before `now`: the ones to drop
    /// from memory. They are forgotten here at once.
    pub fn take_idle(&self, now: Instant, idle: Duration) -> Vec<String> {
        let mut entries = self.entries.lock().expect("resident lock");
        let idle_ids: Vec<String> = entries
            .iter()
            .filter(|(_, e)| e.users == 0 && now.saturating_duration_since(e.last_used) >= idle)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &idle_ids {
            entries.remove(id);
        }
        super::shrink_if_sparse(&mut entries);
        self.forget_keys(&entries);
        idle_ids
    }

    /// Forgets sessions `is_live` says are gone (ended by `DELETE` or the idle timeout), unless
    /// a stream still counts them.
    pub fn retain(&self, is_live: impl Fn(&str) -> bool) {
        let mut entries = self.entries.lock().expect("resident lock");
        entries.retain(|id, e| e.users > 0 || is_live(id));
        super::shrink_if_sparse(&mut entries);
        self.forget_keys(&entries);
    }

    /// Sessions counted here.
    pub fn len(&self) -> usize {
        self.entries.lock().expect("resident lock").len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENEW: Duration = Duration::from_secs(100);
    const IDLE: Duration = Duration::from_secs(60);

    #[test]
    fn a_lease_is_renewed_once_per_period_not_per_request() {
        let resident = Resident::default();
        let start = Instant::now();
        assert!(!resident.used("a", start, RENEW), "just written");
        assert!(!resident.used("a", start + Duration::from_secs(50), RENEW));
        assert!(resident.used("a", start + Duration::from_secs(100), RENEW));
        assert!(!resident.used("a", start + Duration::from_secs(150), RENEW));
        assert!(resident.used("a", start + Duration::from_secs(200), RENEW));
    }

    #[test]
    fn a_reminder_is_due_at_first_then_once_per_period_and_leaves_the_lease_alone() {
        let resident = Resident::default();
        let start = Instant::now();
        assert!(resident.reminder_due("a", start, RENEW), "never reminded");
        assert!(!resident.reminder_due("a", start + Duration::from_secs(50), RENEW));
        assert!(resident.reminder_due("a", start + Duration::from_secs(100), RENEW));
        // The store lease keeps its own clock.
        assert!(resident.used("a", start + Duration::from_secs(100), RENEW));
        assert!(!resident.reminder_due("a", start + Duration::from_secs(150), RENEW));
        let held = resident.in_use("b");
        assert!(
            resident.reminder_due("b", start, RENEW),
            "counted, never reminded"
        );
        drop(held);
    }

    #[test]
    fn only_sessions_idle_and_without_streams_are_taken() {
        let resident = Resident::default();
        let start = Instant::now();
        resident.used("idle", start, RENEW);
        resident.used("busy", start + Duration::from_secs(30), RENEW);
        resident.used("streaming", start, RENEW);
        let stream = resident.in_use("streaming");
        let later = start + Duration::from_secs(61);
        assert_eq!(resident.take_idle(later, IDLE), vec!["idle".to_string()]);
        assert_eq!(resident.len(), 2);
        assert!(resident.take_idle(later, IDLE).is_empty(), "taken once");
        drop(stream);
        // The stream's end counts as a use: the session is idle a full period after it.
        assert!(
            resident
                .take_idle(Instant::now() + Duration::from_secs(59), IDLE)
                .iter()
                .all(|id| id != "streaming")
        );
        let taken = resident.take_idle(Instant::now() + Duration::from_secs(61), IDLE);
        assert!(taken.contains(&"streaming".to_string()), "{taken:?}");
    }

    #[test]
    fn a_session_is_found_by_its_store_key_while_counted() {
        let resident = Resident::with_keys(|id| format!("key-{id}"));
        let now = Instant::now();
        resident.used("a", now, RENEW);
        let held = resident.in_use("b");
        assert_eq!(resident.id_of_key("key-a").as_deref(), Some("a"));
        assert_eq!(resident.id_of_key("key-b").as_deref(), Some("b"));
        assert_eq!(resident.id_of_key("key-c"), None);
        assert_eq!(resident.take_idle(now + IDLE, IDLE), vec!["a".to_string()]);
        assert_eq!(
            resident.id_of_key("key-a"),
            None,
            "forgotten with its entry"
        );
        drop(held);
        resident.retain(|_| false);
        assert_eq!(resident.id_of_key("key-b"), None);
    }

    #[test]
    fn ended_sessions_are_forgotten_unless_a_stream_holds_them() {
        let resident = Resident::default();
        let now = Instant::now();
        resident.used("gone", now, RENEW);
        resident.used("kept", now, RENEW);
        let _stream = resident.in_use("streaming-gone");
        resident.retain(|id| id == "kept");
        assert_eq!(resident.len(), 2);
        assert!(resident.take_idle(now + IDLE * 2, IDLE) == vec!["kept".to_string()]);
    }
}
