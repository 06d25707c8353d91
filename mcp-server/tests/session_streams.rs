//! A dormant session's GET stream is served from the change feed without waking the session,
//! and carries what rmcp's stream of a woken session carries, byte for byte; it ends with the
//! session, keeps the session in use, and a second one only keeps alive.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http_body_util::BodyExt;
use mcp_server::app::App;
use mcp_server::sessions::changes::Change;
use serde_json::json;
use warp::reply::Response;

mod common;
use common::{headers, start_session, through_the_endpoint};

const VERSION: &str = "2025-11-25";

/// A GET stream of `session`, through the whole `/mcp` handler.
async fn get(app: &Arc<App>, session: &str) -> Response {
    get_after(app, session, None).await
}

/// A GET stream of `session` resumed after event `last`, if given.
async fn get_after(app: &Arc<App>, session: &str, last: Option<&str>) -> Response {
    let mut headers = headers(Some(session), Some(VERSION));
    headers.insert("accept", "text/event-stream".parse().unwrap());
    headers.remove("content-type");
    if let Some(last) = last {
        headers.insert("last-event-id", last.parse().unwrap());
    }
    let response = common::bodiless(app, Method::GET, headers).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response
}

/// The stream's next chunk of data, if one comes within `wait`; `Some(None)` when it ended.
async fn chunk(response: &mut Response, wait: Duration) -> Option<Option<Bytes>> {
    loop {
        match tokio::time::timeout(wait, response.body_mut().frame()).await {
            Err(_) => return None,
            Ok(None) => return Some(None),
            Ok(Some(frame)) => {
                if let Ok(data) = frame.unwrap().into_data() {
                    return Some(Some(data));
                }
            }
        }
    }
}

const WAIT: Duration = Duration::from_secs(5);

/// Waits (bounded) until at least `count` receivers listen to the change feed, so a change
/// published next reaches them.
async fn listening(docs: &mcp_server::docs::DocsServer, count: usize) {
    for _ in 0..200 {
        if docs.changes().listeners() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} listeners, expected {count}", docs.changes().listeners());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dormant_session_s_stream_is_rmcp_s_without_waking_it() {
    let (app, docs) = common::docs_app(|_| None);
    let dormant = start_session(&app, VERSION).await;
    let woken = start_session(&app, VERSION).await;
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });
    let (status, ..) =
        through_the_endpoint(&app, headers(Some(&woken), Some(VERSION)), &ping).await;
    assert_eq!(status, 200);
    assert!(app.holds_session_now(&woken));

    let mut ours = get(&app, &dormant).await;
    let mut rmcp = get(&app, &woken).await;
    assert!(!app.holds_session_now(&dormant), "served without waking");
    let priming = chunk(&mut ours, WAIT).await.unwrap().unwrap();
    assert_eq!(Some(Some(priming.clone())), chunk(&mut rmcp, WAIT).await);
    assert!(
        priming.starts_with(b"data: \nid: 0\nretry: "),
        "{priming:?}"
    );
    // Two changes: the same notifications with the same event ids.
    for change in [Change::ResourcesListChanged, Change::ToolsListChanged] {
        // Both streams (and the woken session's follower) listen before the change is sent.
        listening(&docs, 2).await;
        docs.changes().publish(change);
        let theirs = chunk(&mut rmcp, WAIT).await.unwrap().unwrap();
        assert_eq!(Some(Some(theirs.clone())), chunk(&mut ours, WAIT).await);
        assert!(theirs.starts_with(b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/"));
    }
    assert!(!app.holds_session_now(&dormant), "still dormant");
    assert_eq!(app.legacy_sessions().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_ends_with_its_session_and_a_second_one_only_keeps_alive() {
    let (app, docs) = common::docs_app(|_| None);
    let session = start_session(&app, VERSION).await;
    let mut first = get(&app, &session).await;
    let mut second = get(&app, &session).await;
    for stream in [&mut first, &mut second] {
        chunk(stream, WAIT).await.unwrap().unwrap();
    }
    listening(&docs, 2).await;
    docs.changes().publish(Change::ResourcesListChanged);
    assert!(chunk(&mut first, WAIT).await.unwrap().is_some());
    assert!(
        chunk(&mut second, Duration::from_millis(300))
            .await
            .is_none(),
        "no notification"
    );
    // DELETE ends the session and both streams at once.
    assert_eq!(common::delete(&app, &session, VERSION).await, 202);
    for stream in [&mut first, &mut second] {
        assert_eq!(chunk(stream, WAIT).await, Some(None), "ended");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_stream_keeps_its_session_in_use_past_the_idle_timeout() {
    let (app, _) =
        common::docs_app(|name| (name == "LEGACY_SESSION_IDLE_TIMEOUT").then(|| "300".to_string()));
    let session = start_session(&app, VERSION).await;
    let mut stream = get(&app, &session).await;
    chunk(&mut stream, WAIT).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    let (status, ..) =
        through_the_endpoint(&app, headers(Some(&session), Some(VERSION)), &list).await;
    assert_eq!(status, 200, "in use while its stream is open");
    // Closed, the session's idle time starts again, and runs out.
    drop(stream);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (status, ..) =
        through_the_endpoint(&app, headers(Some(&session), Some(VERSION)), &list).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_goes_on_from_its_id_without_waking_the_session() {
    let (app, docs) = common::docs_app(|_| None);
    let session = start_session(&app, VERSION).await;
    let mut resumed = get_after(&app, &session, Some("4")).await;
    listening(&docs, 1).await;
    docs.changes().publish(Change::ResourcesListChanged);
    // No priming event: the next notification, numbered after the client's last.
    let event = chunk(&mut resumed, WAIT).await.unwrap().unwrap();
    assert!(event.starts_with(b"data: {"), "{event:?}");
    assert!(event.ends_with(b"\nid: 5\n\n"), "{event:?}");
    assert!(!app.holds_session_now(&session), "still dormant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_woken_session_s_streams_are_still_served_from_the_feed_with_their_ids() {
    let (app, docs) = common::docs_app(|_| None);
    let session = start_session(&app, VERSION).await;
    let mut stream = get(&app, &session).await;
    chunk(&mut stream, WAIT).await.unwrap().unwrap();
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });
    let (status, ..) =
        through_the_endpoint(&app, headers(Some(&session), Some(VERSION)), &ping).await;
    assert_eq!(status, 200);
    assert!(app.holds_session_now(&session), "woken");
    drop(stream);
    // The client comes back after the id it last saw, as after REQUEST_TIMEOUT.
    let mut resumed = get_after(&app, &session, Some("3")).await;
    // This stream and the woken session's follower.
    listening(&docs, 2).await;
    docs.changes().publish(Change::ToolsListChanged);
    let event = chunk(&mut resumed, WAIT).await.unwrap().unwrap();
    assert!(event.ends_with(b"\nid: 4\n\n"), "{event:?}");
    // DELETE ends it, the session being rmcp's.
    assert_eq!(common::delete(&app, &session, VERSION).await, 202);
    assert_eq!(chunk(&mut resumed, WAIT).await, Some(None), "ended");
}
