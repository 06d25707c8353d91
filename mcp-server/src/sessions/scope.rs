//! An owner for the tasks one legacy session starts: they end when the session's handler goes.
//!
//! rmcp builds one handler instance per legacy session (the service factory clones ours) and
//! drops it when the session ends, by `DELETE`, by the idle timeout or at shutdown. A
//! [`SessionScope`] inside the handler is cancelled on that drop, so a task spawned for the
//! session (such as following the change feed) waits on it and ends with the session instead of
//! living on until the next change, as it once did (about 10 KiB per ended session, forever).

use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::{CancellationToken, DropGuard, WaitForCancellationFutureOwned};

/// Cancelled when the handler that holds it is dropped. Cloning gives a new, independent scope:
/// a clone is a new handler instance, that is, a new session.
#[derive(Debug)]
pub struct SessionScope {
    /// What the session's tasks wait on.
    token: CancellationToken,
    /// Set once the session's change-feed follower runs: a client may send
    /// `notifications/initialized` any number of times, and each would start another.
    following: AtomicBool,
    /// Cancels `token` when this scope is dropped.
    _guard: DropGuard,
}

impl SessionScope {
    /// A fresh scope.
    pub fn new() -> Self {
        let token = CancellationToken::new();
        SessionScope {
            _guard: token.clone().drop_guard(),
            token,
            following: AtomicBool::new(false),
        }
    }

    /// `true` the first time only: whether the caller is the one to start the session's follower.
    pub fn first_follow(&self) -> bool {
        !self.following.swap(true, Ordering::AcqRel)
    }

    /// Resolves when the scope's owner is gone.
    pub fn ended(&self) -> WaitForCancellationFutureOwned {
        self.token.clone().cancelled_owned()
    }
}

impl Default for SessionScope {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for SessionScope {
    fn clone(&self) -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dropping_the_owner_ends_the_scope_and_clones_are_independent() {
        let scope = SessionScope::new();
        let ended = scope.ended();
        let clone = scope.clone();
        let clone_ended = clone.ended();
        drop(scope);
        tokio::time::timeout(std::time::Duration::from_secs(1), ended)
            .await
            .expect("ended with its owner");
        assert!(
            futures::FutureExt::now_or_never(clone_ended).is_none(),
            "a clone is another session"
        );
    }
}
