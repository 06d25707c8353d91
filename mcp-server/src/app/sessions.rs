//! The legacy sessions a process holds, in rmcp or dormant: admission under
//! `MAX_LEGACY_SESSIONS`, the counts and looks the HTTP layer makes, keeping rmcp's workers and
//! the store's leases in step with the fast paths, and the background tasks that tidy them (the
//! sweep, and with a store its probe and the ended-session notices).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use rmcp::model::{InitializeRequestParams, InitializeResult};
use rmcp::transport::streamable_http_server::session::SessionManager;

use super::{App, SessionAdmission};

impl App {
    /// Admits one `initialize` if the sessions held plus those being set up stay under
    /// `MAX_LEGACY_SESSIONS`, so a burst released together cannot all pass a check made before
    /// any of them is counted. Admitters take turns; a finishing admission leaves without the
    /// lock, but only after rmcp has stored its session, and the pending count is read before
    /// the session map: whichever way the two race, a finishing session is counted at least once.
    pub async fn admit_session(&self) -> Option<SessionAdmission> {
        let _turn = self.admitting.lock().await;
        let pending = self.initializing.load(Ordering::SeqCst);
        let held = self.legacy_sessions().await;
        if held + pending >= self.config.max_legacy_sessions {
            return None;
        }
        self.initializing.fetch_add(1, Ordering::SeqCst);
        Some(SessionAdmission {
            initializing: self.initializing.clone(),
        })
    }

    /// Legacy sessions held now, in rmcp or dormant.
    pub async fn legacy_sessions(&self) -> usize {
        let dormant = self.dormant.as_ref().map_or(0, |dormant| dormant.len());
        self.sessions.sessions.read().await.len() + dormant
    }

    /// Whether this process holds legacy session `id` in memory now, in rmcp or dormant.
    pub async fn holds_session(&self, id: &str) -> bool {
        self.dormant
            .as_ref()
            .is_some_and(|dormant| dormant.holds(id))
            || self.sessions.sessions.read().await.contains_key(id)
    }

    /// The handler's answer to a legacy `initialize` with `params`, when sessions may start
    /// dormant (see [`crate::sessions::dormant`]) and the handler has one; `None` for rmcp.
    pub fn initialize_dormant(&self, params: &InitializeRequestParams) -> Option<InitializeResult> {
        self.dormant.as_ref()?;
        (self.initializer)(params)
    }

    /// The request that may have woken session `id` has rmcp's answer (see
    /// [`Dormant::settle`](crate::sessions::dormant::Dormant::settle)).
    pub fn settle_wake(&self, id: &str) {
        if let Some(dormant) = &self.dormant {
            dormant.settle(id);
        }
    }

    /// Whether session `id` is dormant and live; if so, it is used now.
    pub fn dormant_used(&self, id: &str) -> bool {
        self.dormant
            .as_ref()
            .is_some_and(|dormant| dormant.used(id))
    }

    /// Whether rmcp holds legacy session `id` here (not a dormant one).
    pub async fn rmcp_holds(&self, id: &str) -> bool {
        self.sessions.sessions.read().await.contains_key(id)
    }

    /// Whether rmcp holds legacy session `id` here, if that can be told without waiting (`false`
    /// while a session is being added or removed).
    pub fn holds_session_now(&self, id: &str) -> bool {
        self.sessions
            .sessions
            .try_read()
            .is_ok_and(|sessions| sessions.contains_key(id))
    }

    /// Session `id` answered a request without rmcp (the fast path): rmcp's session worker,
    /// which closes a session after `LEGACY_SESSION_IDLE_TIMEOUT` without an event of its own,
    /// is reminded that the session is in use, once per sixteenth of that timeout at most. The
    /// reminder is an event that changes nothing (closing a request channel that never
    /// existed), sent in the background.
    pub fn keep_session_alive(&self, id: &str) {
        let Some(keep_alive) = self.sessions.session_config.keep_alive else {
            return;
        };
        if !self
            .resident
            .reminder_due(id, Instant::now(), keep_alive / 16)
        {
            return;
        }
        // The clock restarted: the reminder must go out, so it waits for the session map
        // rather than giving up while a session is being added or removed.
        let (sessions, id) = (self.sessions.clone(), Arc::<str>::from(id));
        tokio::spawn(async move {
            let handle = sessions.sessions.read().await.get(&id).cloned();
            if let Some(handle) = handle {
                // No request channel has this id (rmcp counts them up from 0).
                let _ = handle.close_request_wise_channel(u64::MAX).await;
            }
        });
    }

    /// Drops session `id` from this process's memory (it stays in the store, if any).
    pub async fn release_session(&self, id: &str) {
        if let Err(error) = self.sessions.close_session(&Arc::from(id)).await {
            tracing::warn!(%error, "a legacy session could not be released from memory");
        }
        self.limits.session_ended(id);
    }

    /// Session `id` answered a request: with a store, note the use and, now and then, give its
    /// key a new lease (in the background: the answer does not wait for the store). A key found
    /// gone means the session ended elsewhere: it is released here too.
    pub fn session_used(self: &Arc<Self>, id: &str) {
        let Some(store) = &self.store else {
            return;
        };
        if self.resident.used(id, Instant::now(), store.renew_after()) {
            let (app, store, id) = (self.clone(), store.clone(), id.to_string());
            tokio::spawn(async move {
                // A failure is logged and counted by the store; the next use tries again.
                if let Ok(false) = store.touch(&id).await {
                    app.release_session(&id).await;
                }
            });
        }
    }

    /// Releases the session whose store key is `key`, if this process holds it: it was ended
    /// on another task.
    async fn release_by_key(&self, key: &str) {
        if let Some(id) = self.resident.id_of_key(key) {
            self.release_session(&id).await;
        }
    }
}

/// Follows the sessions ended on any task and releases them here, until shutdown.
pub(super) async fn follow_session_ends(app: std::sync::Weak<App>) {
    let Some((store, shutdown)) = app
        .upgrade()
        .and_then(|app| Some((app.store.clone()?, app.mcp_shutdown.clone())))
    else {
        return;
    };
    store
        .follow_ends(shutdown, |key| {
            if let Some(app) = app.upgrade() {
                tokio::spawn(async move { app.release_by_key(&key).await });
            }
        })
        .await;
}

/// How often an unreachable store is asked whether it is back.
const PROBE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Asks an unreachable store whether it is back, so requests that need it are served again
/// without waiting for one of them to try; ends with the server.
pub(super) async fn probe_store(app: std::sync::Weak<App>) {
    let mut ticks = tokio::time::interval(PROBE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(store) = app.upgrade().and_then(|app| app.store.clone()) else {
            return;
        };
        if !store.reachable() {
            let _ = store.ping().await;
        }
    }
}

/// How often per-client state is tidied (sessions the idle timeout closed are given back to
/// their clients, the rate state of quiet clients is dropped) and, with a store, sessions idle
/// in memory are released.
const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Tidies the per-client limits and releases idle sessions until the server goes away.
pub(super) async fn sweep(app: std::sync::Weak<App>) {
    let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(app) = app.upgrade() else {
            return;
        };
        // Under rmcp's read lock, so a session stored meanwhile is not taken for ended.
        let live = app.sessions.sessions.read().await;
        match &app.dormant {
            Some(dormant) => {
                dormant.sweep(Instant::now(), |id| live.contains_key(id));
                app.limits
                    .retain_sessions(|id| live.contains_key(id) || dormant.holds(id));
            }
            None => app.limits.retain_sessions(|id| live.contains_key(id)),
        }
        app.resident.retain(|id| live.contains_key(id));
        drop(live);
        app.limits.sweep();
        if app.store.is_some() {
            let idle = app.resident.take_idle(
                Instant::now(),
                app.config.legacy_session_memory_idle_timeout,
            );
            for id in &idle {
                // A request that came meanwhile marked the session in use again: it stays.
                if !app.resident.contains(id) {
                    app.release_session(id).await;
                }
            }
            if !idle.is_empty() {
                tracing::debug!(
                    released = idle.len(),
                    "idle legacy sessions released from memory"
                );
            }
        }
    }
}
