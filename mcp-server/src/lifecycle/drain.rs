//! Draining: noticing that this task is leaving the load balancer, before ECS says so.
//!
//! ECS stops a task behind an ALB in this order: the target is deregistered and starts draining
//! (the ALB keeps its open connections until the deregistration delay runs out, then cuts them
//! with 502s), and only then ECS sends SIGTERM. SIGTERM is too late to move SSE clients, so the
//! server drains itself on the first of three signals:
//!
//! 1. **The idle guess** (from the Node.js seed): no request at all for `DRAIN_IDLE_TIMEOUT`.
//!    A registered target gets an ALB health check every interval, so silence means the ALB has
//!    let go. With `DRAIN_IDLE_GUESS=auto` the guess is armed only on ECS (task metadata present)
//!    and once an ALB health check (`User-Agent: ELB-HealthChecker/…`) has been seen that did not
//!    come through the load balancer's front door (no `X-Forwarded-For`: anyone can send that
//!    User-Agent to the public listener); with `on` it is armed from the start. So a server that
//!    is not behind an ALB (a laptop, a quiet test, a host where a client spoofs the header) never
//!    throws its clients out. A health check arriving after the guess ends it: the ALB still
//!    considers the task in service.
//! 2. **SIGTERM or SIGINT**: drain at once, then shut down.
//! 3. **ECS task metadata**: `DesiredStatus` of `STOPPED` (see `ecs_metadata`).
//!
//! Draining ends every long-lived SSE stream after a `retry:` field, refuses new ones with 503,
//! and keeps serving POSTs. Only the idle guess can be undone.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// The User-Agent prefix of ALB (and ELB) health checks.
pub const LB_HEALTH_CHECK_AGENT: &str = "ELB-HealthChecker/";

/// When the idle guess may fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleGuess {
    /// Never.
    Off,
    /// On ECS, once a load-balancer health check has been seen (the default).
    Auto,
    /// From the start.
    On,
}

/// Why the server is draining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainReason {
    /// No request for `DRAIN_IDLE_TIMEOUT` behind a load balancer.
    IdleGuess,
    /// SIGTERM or SIGINT.
    Signal(&'static str),
    /// ECS task metadata says the task is stopping.
    EcsStopping,
}

impl DrainReason {
    /// Whether the drain can end (only a guess can be wrong).
    pub fn is_final(self) -> bool {
        !matches!(self, DrainReason::IdleGuess)
    }

    /// A short name for `/health` and logs.
    pub fn label(self) -> &'static str {
        match self {
            DrainReason::IdleGuess => "idle",
            DrainReason::Signal(_) => "signal",
            DrainReason::EcsStopping => "ecs-stopping",
        }
    }
}

impl fmt::Display for DrainReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DrainReason::IdleGuess => f.write_str("no request within DRAIN_IDLE_TIMEOUT"),
            DrainReason::Signal(name) => write!(f, "{name} received"),
            DrainReason::EcsStopping => f.write_str("ECS task metadata says DesiredStatus STOPPED"),
        }
    }
}

/// Serving, or draining for a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainState {
    Serving,
    Draining(DrainReason),
}

impl DrainState {
    /// Whether new long-lived streams are refused and open ones ended.
    pub fn is_draining(self) -> bool {
        matches!(self, DrainState::Draining(_))
    }
}

/// The drain state machine; one per process, shared.
pub struct Drain {
    state: watch::Sender<DrainState>,
    epoch: Instant,
    /// When the last request arrived, in ms since `epoch`.
    last_request_ms: AtomicU64,
    /// Whether the idle guess may fire.
    armed: AtomicBool,
    idle_timeout: Duration,
    /// `Auto` only arms where a health check can be believed: on ECS.
    guess: IdleGuess,
}

impl Drain {
    /// A state machine in `Serving` whose idle guess uses `idle_timeout`; `on_ecs` says whether
    /// the task metadata endpoint is known (`Auto` never arms elsewhere).
    pub fn new(idle_timeout: Duration, guess: IdleGuess, on_ecs: bool) -> Arc<Drain> {
        let guess = match guess {
            IdleGuess::Auto if !on_ecs => IdleGuess::Off,
            other => other,
        };
        Arc::new(Drain {
            state: watch::Sender::new(DrainState::Serving),
            epoch: Instant::now(),
            last_request_ms: AtomicU64::new(0),
            armed: AtomicBool::new(guess == IdleGuess::On),
            idle_timeout,
            guess,
        })
    }

    /// The current state.
    pub fn state(&self) -> DrainState {
        *self.state.borrow()
    }

    /// Whether the server is draining.
    pub fn is_draining(&self) -> bool {
        self.state().is_draining()
    }

    /// A receiver that sees every transition.
    pub fn subscribe(&self) -> watch::Receiver<DrainState> {
        self.state.subscribe()
    }

    /// Records a request (every request counts, health checks included). A load-balancer health
    /// check (its User-Agent, and not `forwarded` through the load balancer's listener) arms the
    /// idle guess and ends a drain the guess started.
    pub fn request_seen(&self, user_agent: Option<&str>, forwarded: bool) {
        self.last_request_ms
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        if forwarded || !user_agent.is_some_and(|ua| ua.starts_with(LB_HEALTH_CHECK_AGENT)) {
            return;
        }
        if self.guess == IdleGuess::Auto && !self.armed.swap(true, Ordering::Relaxed) {
            tracing::info!(
                idle_timeout_ms = self.idle_timeout.as_millis() as u64,
                "load balancer health check seen: idle drain guess armed"
            );
        }
        self.state.send_if_modified(|state| {
            if *state == DrainState::Draining(DrainReason::IdleGuess) {
                tracing::info!(
                    from = "draining",
                    to = "serving",
                    "drain state: a load balancer health check arrived after the idle guess; back in service"
                );
                *state = DrainState::Serving;
                true
            } else {
                false
            }
        });
    }

    /// Starts draining for `reason`; a final reason replaces a guess. Returns whether the state
    /// changed.
    pub fn begin(&self, reason: DrainReason) -> bool {
        self.state.send_if_modified(|state| {
            let replace = match *state {
                DrainState::Serving => true,
                DrainState::Draining(current) => !current.is_final() && reason.is_final(),
            };
            if replace {
                let from = match *state {
                    DrainState::Serving => "serving",
                    DrainState::Draining(_) => "draining (guess)",
                };
                if reason == DrainReason::IdleGuess {
                    tracing::info!(
                        from,
                        to = "draining",
                        reason = reason.label(),
                        idle_timeout_ms = self.idle_timeout.as_millis() as u64,
                        "drain state: no request for {} ms, assuming drain: the load balancer has let this task go",
                        self.idle_timeout.as_millis()
                    );
                } else {
                    tracing::info!(
                        from,
                        to = "draining",
                        reason = reason.label(),
                        "drain state: draining ({reason})"
                    );
                }
                *state = DrainState::Draining(reason);
            }
            replace
        })
    }

    /// Runs the idle guess until the process ends: after `DRAIN_IDLE_TIMEOUT` without a request,
    /// if armed, drain.
    pub async fn run_idle_guess(self: Arc<Self>) {
        if self.guess == IdleGuess::Off {
            return;
        }
        loop {
            let last = self.last_request_ms.load(Ordering::Relaxed);
            let deadline = self.epoch + Duration::from_millis(last) + self.idle_timeout;
            tokio::time::sleep_until(deadline).await;
            if self.last_request_ms.load(Ordering::Relaxed) != last {
                continue;
            }
            if self.armed.load(Ordering::Relaxed) && self.state() == DrainState::Serving {
                self.begin(DrainReason::IdleGuess);
            }
            // Silent (or not armed, or already draining): look again after another stretch.
            tokio::time::sleep(self.idle_timeout.min(Duration::from_secs(1))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(60);
    const ELB: Option<&str> = Some("ELB-HealthChecker/2.0");

    async fn settle() {
        // Let the guess task observe the clock.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_guess_is_not_armed_without_a_load_balancer() {
        let drain = Drain::new(IDLE, IdleGuess::Auto, true);
        tokio::spawn(drain.clone().run_idle_guess());
        drain.request_seen(Some("curl/8"), false);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        settle().await;
        assert_eq!(drain.state(), DrainState::Serving);
    }

    #[tokio::test(start_paused = true)]
    async fn silence_after_a_health_check_is_taken_for_a_drain() {
        let drain = Drain::new(IDLE, IdleGuess::Auto, true);
        tokio::spawn(drain.clone().run_idle_guess());
        drain.request_seen(ELB, false);
        // Health checks every 15 s keep it serving.
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_secs(15)).await;
            drain.request_seen(ELB, false);
        }
        settle().await;
        assert_eq!(drain.state(), DrainState::Serving);
        // Then they stop.
        tokio::time::sleep(Duration::from_secs(59)).await;
        settle().await;
        assert_eq!(drain.state(), DrainState::Serving);
        tokio::time::sleep(Duration::from_secs(2)).await;
        settle().await;
        assert_eq!(drain.state(), DrainState::Draining(DrainReason::IdleGuess));
    }

    #[tokio::test(start_paused = true)]
    async fn client_requests_do_not_end_a_guessed_drain_but_a_health_check_does() {
        let drain = Drain::new(IDLE, IdleGuess::On, false);
        let mut changes = drain.subscribe();
        tokio::spawn(drain.clone().run_idle_guess());
        tokio::time::sleep(Duration::from_secs(61)).await;
        settle().await;
        assert!(drain.is_draining());
        assert!(changes.has_changed().unwrap());
        changes.mark_unchanged();
        drain.request_seen(Some("python-httpx/0.28"), false);
        assert!(
            drain.is_draining(),
            "the ALB still sends requests to a draining target for a while"
        );
        drain.request_seen(ELB, false);
        assert_eq!(drain.state(), DrainState::Serving);
        assert!(changes.has_changed().unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn a_signal_drains_at_once_and_for_good() {
        let drain = Drain::new(IDLE, IdleGuess::Auto, true);
        assert!(drain.begin(DrainReason::Signal("SIGTERM")));
        assert_eq!(
            drain.state(),
            DrainState::Draining(DrainReason::Signal("SIGTERM"))
        );
        drain.request_seen(ELB, false);
        assert!(drain.is_draining(), "a health check cannot undo a signal");
        assert!(
            !drain.begin(DrainReason::IdleGuess),
            "a guess does not replace a signal"
        );
        assert!(!drain.begin(DrainReason::EcsStopping));
    }

    #[tokio::test(start_paused = true)]
    async fn ecs_stopping_replaces_a_guess() {
        let drain = Drain::new(IDLE, IdleGuess::On, false);
        assert!(drain.begin(DrainReason::IdleGuess));
        assert!(drain.begin(DrainReason::EcsStopping));
        drain.request_seen(ELB, false);
        assert_eq!(
            drain.state(),
            DrainState::Draining(DrainReason::EcsStopping)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn off_never_guesses() {
        let drain = Drain::new(IDLE, IdleGuess::Off, true);
        tokio::spawn(drain.clone().run_idle_guess());
        drain.request_seen(ELB, false);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        settle().await;
        assert_eq!(drain.state(), DrainState::Serving);
    }

    #[tokio::test(start_paused = true)]
    async fn a_health_check_off_ecs_or_through_the_front_door_never_arms_the_guess() {
        for (on_ecs, forwarded) in [(false, false), (true, true)] {
            let drain = Drain::new(IDLE, IdleGuess::Auto, on_ecs);
            tokio::spawn(drain.clone().run_idle_guess());
            drain.request_seen(ELB, forwarded);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            settle().await;
            assert_eq!(drain.state(), DrainState::Serving, "{on_ecs} {forwarded}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_forwarded_health_check_does_not_end_a_guessed_drain() {
        let drain = Drain::new(IDLE, IdleGuess::On, false);
        assert!(drain.begin(DrainReason::IdleGuess));
        drain.request_seen(ELB, true);
        assert!(drain.is_draining());
        drain.request_seen(ELB, false);
        assert!(!drain.is_draining());
    }
}
