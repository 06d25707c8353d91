//! A legacy session's own tasks end with the session, however it ends: every session that sent
//! `notifications/initialized` once left a change-feed follower behind for good.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mcp_server::app::App;
use mcp_server::config::Config;
use mcp_server::docs::{DocsServer, Library};
use mcp_server::lifecycle::drain::{Drain, IdleGuess};
use serde_json::json;

fn app(idle_ms: &str) -> (Arc<App>, DocsServer) {
    let config = Config::from_lookup(|name| {
        (name == "LEGACY_SESSION_IDLE_TIMEOUT").then(|| idle_ms.to_string())
    })
    .unwrap();
    let docs = DocsServer::new(Library::load(None).unwrap());
    let drain = Drain::new(Duration::from_secs(60), IdleGuess::Off, false);
    (
        App::new(Arc::new(config), drain, docs.clone(), None).expect("app"),
        docs,
    )
}

async fn send(
    app: &App,
    method: http::Method,
    session: Option<&str>,
    body: serde_json::Value,
) -> http::Response<Bytes> {
    let mut request = http::Request::builder()
        .method(method)
        .uri("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25");
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = app.handle_mcp(request).await;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    http::Response::from_parts(parts, body)
}

async fn initialize(app: &App) -> String {
    let initialize = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": { "name": "t", "version": "1" } } });
    let answer = send(app, http::Method::POST, None, initialize).await;
    answer.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string()
}

async fn start_session(app: &App) -> String {
    let session = initialize(app).await;
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let answer = send(app, http::Method::POST, Some(&session), initialized).await;
    assert_eq!(answer.status(), http::StatusCode::ACCEPTED);
    session
}

/// Waits (bounded) for the change feed to have `expected` listeners.
async fn listeners_become(docs: &DocsServer, expected: usize) {
    for _ in 0..200 {
        if docs.changes().listeners() == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{} change-feed listeners, expected {expected}",
        docs.changes().listeners()
    );
}

#[tokio::test]
async fn a_deleted_session_leaves_no_follower_behind() {
    let (app, docs) = app("1800000");
    let sessions: Vec<String> =
        futures::future::join_all((0..20).map(|_| start_session(&app))).await;
    listeners_become(&docs, 20).await;
    for session in &sessions {
        send(&app, http::Method::DELETE, Some(session), json!(null)).await;
    }
    listeners_become(&docs, 0).await;
}

#[tokio::test]
async fn a_session_closed_by_the_idle_timeout_leaves_no_follower_behind() {
    let (app, docs) = app("200");
    for _ in 0..5 {
        start_session(&app).await;
    }
    listeners_become(&docs, 5).await;
    // The idle timeout closes them; nothing else happens meanwhile.
    listeners_become(&docs, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_initialize_requests_cannot_pass_the_session_cap_together() {
    let config =
        Config::from_lookup(|name| (name == "MAX_LEGACY_SESSIONS").then(|| "10".into())).unwrap();
    let docs = DocsServer::new(Library::load(None).unwrap());
    let drain = Drain::new(Duration::from_secs(60), IdleGuess::Off, false);
    let app = App::new(Arc::new(config), drain, docs, None).expect("app");
    let burst = (0..100).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            match app.admit_session().await {
                None => false,
                // As the /mcp hand-off does: the admission ends with the initialize answer.
                Some(admission) => {
                    initialize(&app).await;
                    drop(admission);
                    true
                }
            }
        })
    });
    let admitted = futures::future::join_all(burst)
        .await
        .into_iter()
        .filter(|ok| *ok.as_ref().unwrap())
        .count();
    // Never above the cap; a session being stored while another is admitted may be counted
    // twice for a moment, which only errs on the safe side (refusals under the cap, seen as low
    // as 7 of 10 on two busy cores), and leaves nothing counted once the burst is over.
    assert!((1..=10).contains(&admitted), "{admitted} admitted");
    assert_eq!(app.legacy_sessions().await, admitted);
    if admitted < 10 {
        assert!(
            app.admit_session().await.is_some(),
            "with {admitted} of 10 held, the next initialize is admitted"
        );
    }
}

#[tokio::test]
async fn a_session_that_says_initialized_again_and_again_has_one_follower() {
    let (app, docs) = app("1800000");
    let session = start_session(&app).await;
    for _ in 0..20 {
        let again = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
        send(&app, http::Method::POST, Some(&session), again).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(docs.changes().listeners(), 1);
}
