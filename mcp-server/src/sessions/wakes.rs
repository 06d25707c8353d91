//! One wake at a time per session, and nothing else for that session in rmcp until it is done.
//!
//! rmcp restores a session it does not hold (a dormant one, or one in the shared store) in two
//! steps: it puts the session in its map, then replays the handshake to the session's worker.
//! A second request that comes between the two finds the session in the map and sends its own
//! message to the worker, which is still waiting for `initialize`: the worker quits ("unexpected
//! message ... when get initialize request"), and the session and both requests fail with 500.
//! rmcp only makes requests wait that find the session absent. So the request that wakes a
//! session holds its turn here until rmcp has answered it (by then the handshake is over), and
//! every other request for that session that goes to rmcp meanwhile waits for the turn. The
//! fast path does not wait (it needs nothing of rmcp), but sends rmcp's worker no keep-alive
//! reminder while a wake is in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

/// One session's turn, and how many requests hold or wait for it.
#[derive(Default)]
struct Queue {
    turn: Arc<tokio::sync::Mutex<()>>,
    requests: usize,
}

/// The wakes in flight, by session id.
#[derive(Default)]
pub struct Wakes {
    turns: Arc<Mutex<HashMap<String, Queue>>>,
}

impl std::fmt::Debug for Wakes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wakes")
            .field("in_flight", &self.lock().len())
            .finish()
    }
}

/// A turn at session `id`: while it lives, no other request for the session goes to rmcp.
pub struct Turn {
    turns: Arc<Mutex<HashMap<String, Queue>>>,
    id: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut turns = self.turns.lock().expect("wakes lock");
        // The last request of the queue takes the entry with it.
        if let Some(queue) = turns.get_mut(&self.id) {
            queue.requests -= 1;
            if queue.requests == 0 {
                turns.remove(&self.id);
                crate::sessions::shrink_if_sparse(&mut turns);
            }
        }
        drop(self.guard.take());
    }
}

impl Wakes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Queue>> {
        self.turns.lock().expect("wakes lock")
    }

    /// Whether a request for session `id` is in rmcp's hands while rmcp may be waking it.
    pub fn in_flight(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    /// Waits for the turn at session `id`; keep it until rmcp has answered the request.
    pub async fn turn(&self, id: &str) -> Turn {
        let turn = {
            let mut turns = self.lock();
            let queue = turns.entry(id.to_string()).or_default();
            queue.requests += 1;
            queue.turn.clone()
        };
        // Counted before it waits, so a request that gives up waiting (its client left) must
        // still leave the queue: the turn is made first, and its drop does it.
        let mut counted = Turn {
            turns: self.turns.clone(),
            id: id.to_string(),
            guard: None,
        };
        counted.guard = Some(turn.lock_owned().await);
        counted
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::Wakes;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn turns_at_one_session_never_overlap_and_leave_nothing_behind() {
        let wakes = Arc::new(Wakes::default());
        // Per session: requests inside their turn now, and the most ever at once.
        let inside = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let most = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let tasks = (0..16).map(|i| {
            let (wakes, inside, most) = (wakes.clone(), inside.clone(), most.clone());
            tokio::spawn(async move {
                let session = i % 2;
                let _turn = wakes.turn(["a", "b"][session]).await;
                let now = inside[session].fetch_add(1, Ordering::SeqCst) + 1;
                most[session].fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                inside[session].fetch_sub(1, Ordering::SeqCst);
            })
        });
        for task in futures::future::join_all(tasks).await {
            task.unwrap();
        }
        assert_eq!(most[0].load(Ordering::SeqCst), 1);
        assert_eq!(most[1].load(Ordering::SeqCst), 1);
        assert!(!wakes.in_flight("a") && !wakes.in_flight("b"));
        assert_eq!(wakes.lock().len(), 0);
    }

    #[tokio::test]
    async fn a_turn_is_seen_in_flight_until_it_ends() {
        let wakes = Wakes::default();
        let turn = wakes.turn("a").await;
        assert!(wakes.in_flight("a"));
        assert!(!wakes.in_flight("b"));
        drop(turn);
        assert!(!wakes.in_flight("a"));
    }
}
