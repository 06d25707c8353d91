use std::time::{Duration, Instant};

use rmcp::model::{ClientCapabilities, Implementation, InitializeRequestParams, ProtocolVersion};
use rmcp::transport::streamable_http_server::session::SessionStore;

use super::Dormant;

fn parsed(name: &str) -> InitializeRequestParams {
    InitializeRequestParams::new(
        ClientCapabilities::default(),
        Implementation::new(name, "1"),
    )
    .with_protocol_version(ProtocolVersion::V_2025_06_18)
}

fn params(name: &str) -> Box<[u8]> {
    Dormant::kept(&parsed(name), 8192).expect("small")
}

#[test]
fn params_are_kept_as_json_up_to_a_size() {
    let mut large = parsed("a");
    large.client_info.name = "x".repeat(10_000);
    assert!(Dormant::kept(&large, 8192).is_none());
    let kept = Dormant::kept(&parsed("a"), 8192).unwrap();
    let back: InitializeRequestParams = serde_json::from_slice(&kept).unwrap();
    assert_eq!(back, parsed("a"));
}

const IDLE: Duration = Duration::from_secs(30);

#[test]
fn a_session_is_answered_here_until_rmcp_takes_it_once() {
    let dormant = Dormant::new(IDLE);
    dormant.start("a".into(), params("client a"));
    assert!(dormant.used("a"));
    assert_eq!(dormant.len(), 1);
    let now = Instant::now();
    let taken = dormant.wake_at("a", now).expect("asleep");
    assert_eq!(taken.client_info.name, "client a");
    assert_eq!(taken.protocol_version, ProtocolVersion::V_2025_06_18);
    // rmcp's now: not answered here, not handed over twice, and counted here only until the
    // request that woke it has its answer (by then rmcp counts it)...
    assert!(!dormant.used("a"));
    assert!(dormant.wake_at("a", now).is_none());
    assert_eq!(dormant.len(), 1);
    dormant.settle("a");
    dormant.settle("a");
    assert_eq!(dormant.len(), 0);
    // ...but it still exists while rmcp takes it up, and while rmcp holds it (its streams are
    // still served here)...
    assert!(dormant.holds("a"));
    dormant.sweep(now, |_| false);
    assert!(dormant.holds("a"));
    let later = now + super::WAKE_GRACE + Duration::from_millis(1);
    dormant.sweep(later, |id| id == "a");
    assert!(dormant.holds("a"));
    // ...until rmcp closes it.
    dormant.sweep(later, |_| false);
    assert!(!dormant.holds("a"));
}

#[test]
fn a_wake_that_rmcp_never_took_up_is_forgotten() {
    let dormant = Dormant::new(IDLE);
    dormant.start("a".into(), params("a"));
    let now = Instant::now();
    dormant.wake_at("a", now).expect("asleep");
    assert_eq!(dormant.len(), 1, "counted until settled");
    dormant.sweep(now + super::WAKE_GRACE + Duration::from_millis(1), |_| {
        false
    });
    assert!(!dormant.holds("a"));
    assert_eq!(dormant.len(), 0);
}

#[test]
fn a_woken_session_rmcp_holds_is_settled_by_the_sweep_if_no_one_did() {
    let dormant = Dormant::new(IDLE);
    dormant.start("a".into(), params("a"));
    dormant.start("b".into(), params("b"));
    let now = Instant::now();
    dormant.wake_at("a", now).expect("asleep");
    dormant.sweep(now, |id| id == "a");
    assert_eq!(dormant.len(), 1, "b alone");
    // Ending a settled woken session, or an asleep one, counts once.
    dormant.end("a");
    dormant.end("b");
    assert_eq!(dormant.len(), 0);
    // An unsettled one ended counts once too.
    dormant.start("c".into(), params("c"));
    dormant.wake_at("c", now).expect("asleep");
    dormant.end("c");
    assert_eq!(dormant.len(), 0);
}

#[test]
fn an_idle_session_ends_when_used_woken_or_swept_after_the_timeout() {
    let dormant = Dormant::new(IDLE);
    for id in ["used", "woken", "swept", "fresh"] {
        dormant.start(id.into(), params(id));
    }
    let late = Instant::now() + IDLE + Duration::from_millis(1);
    assert!(dormant.used_at("fresh", late - Duration::from_secs(1)));
    assert!(!dormant.used_at("used", late));
    assert!(!dormant.holds("used"));
    assert!(dormant.wake_at("woken", late).is_none());
    assert!(!dormant.holds("woken"));
    dormant.sweep(late, |_| false);
    assert!(!dormant.holds("swept"));
    // Used a second before: its idle time started again.
    assert!(dormant.holds("fresh"));
    assert_eq!(dormant.len(), 1);
}

#[tokio::test]
async fn rmcp_restores_from_it_deletes_through_it_and_never_stores_in_it() {
    let dormant = Dormant::new(IDLE);
    dormant.start("a".into(), params("a"));
    dormant.start("b".into(), params("b"));
    let state = dormant.load("a").await.unwrap().expect("asleep");
    assert_eq!(state.initialize_params.client_info.name, "a");
    assert!(dormant.load("a").await.unwrap().is_none());
    assert!(dormant.load("never").await.unwrap().is_none());
    dormant.delete("b").await.unwrap();
    assert!(!dormant.holds("b"));
    dormant
        .store(
            "c",
            &rmcp::transport::streamable_http_server::session::SessionState::new(parsed("c")),
        )
        .await
        .unwrap();
    assert!(!dormant.holds("c"));
}
