//! The legacy-session fast path answers exactly as rmcp's session does, or not at all.
//!
//! A session is started through the whole `/mcp` handler; then each request is given to the
//! fast path (`http::direct::answer_in_session`) and to rmcp (`App::handle_mcp`, which never
//! takes it, and answers a legacy request with an SSE stream): where the fast path answers, its
//! JSON-RPC message must equal the one in rmcp's stream; where a request is not plainly one
//! rmcp hands to the session's handler, the fast path must decline it. A session served only by
//! the fast path must still live while it is used and end after its idle timeout once it is not.
//!
//! Without a store a session starts dormant (not in rmcp): its `initialize` answer must be
//! rmcp's, and it must wake in rmcp, handshake replayed, when a request needs rmcp.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, Full};
use mcp_server::app::App;
use mcp_server::http::direct;
use serde_json::{Value, json};

mod common;
use common::{headers, media, start_session, through_the_endpoint};

/// An app over the embedded documentation, its legacy sessions closed after `idle_ms` of quiet
/// if given.
fn app(idle_ms: Option<&str>) -> Arc<App> {
    common::docs_app(|name| match name {
        "LEGACY_SESSION_IDLE_TIMEOUT" => idle_ms.map(str::to_string),
        _ => None,
    })
    .0
}

const VERSION: &str = "2025-11-25";

fn fast(app: &App, session: &str, headers: &HeaderMap, body: &Value) -> Option<(u16, Value)> {
    let bytes = serde_json::to_vec(body).unwrap();
    let response = direct::answer_in_session(app, session, headers, &bytes, true)?;
    assert_eq!(
        media(response.headers()).as_deref(),
        Some("application/json")
    );
    let status = response.status().as_u16();
    let bytes = futures::executor::block_on(response.into_body().collect())
        .unwrap()
        .to_bytes();
    Some((status, serde_json::from_slice(&bytes).expect("JSON")))
}

/// rmcp's answer: the JSON-RPC message with the request's id in its SSE stream.
async fn rmcp(app: &App, headers: &HeaderMap, body: &Value) -> (u16, Value) {
    let mut request = http::Request::builder().method("POST").uri("/mcp");
    *request.headers_mut().unwrap() = headers.clone();
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = app.handle_mcp(request).await;
    let status = response.status().as_u16();
    assert_eq!(
        media(response.headers()).as_deref(),
        Some("text/event-stream")
    );
    let text = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(text.to_vec()).unwrap();
    let message = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|message| message["id"] == body["id"])
        .unwrap_or_else(|| panic!("no answer in {text}"));
    (status, message)
}

fn call(name: &str, arguments: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": { "name": name, "arguments": arguments } })
}

/// The requests the documentation handler answers itself in a session.
fn answered() -> Vec<Value> {
    vec![
        call("search_docs", json!({ "query": "idle timeout" })),
        call("search_docs", json!({ "query": "drain", "limit": 2 })),
        call("search_docs", json!({ "query": "" })),
        call("search_docs", json!({ "query": "((((" })),
        call("read_doc", json!({ "path": "README.md", "maxChars": 300 })),
        call(
            "read_doc",
            json!({ "path": "configuration.md", "section": "nope" }),
        ),
        call("read_doc", json!({ "path": "no/such/page.md" })),
        call("list_docs", json!({})),
        json!({ "jsonrpc": "2.0", "id": "s", "method": "tools/call",
            "params": { "name": "list_docs", "_meta": { "progressToken": 3 } } }),
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }),
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} }),
        json!({ "jsonrpc": "2.0", "id": 2, "method": "resources/list" }),
        json!({ "jsonrpc": "2.0", "id": 3, "method": "resources/templates/list", "params": {} }),
        json!({ "jsonrpc": "2.0", "id": 4, "method": "resources/read",
            "params": { "uri": "docs://README.md" } }),
        json!({ "jsonrpc": "2.0", "id": 6, "method": "resources/read",
            "params": { "uri": "docs://nope.md" } }),
    ]
}

#[tokio::test]
async fn what_the_session_fast_path_answers_it_answers_as_rmcp_does() {
    let app = app(None);
    for version in ["2025-03-26", "2025-06-18", VERSION] {
        let session = start_session(&app, version).await;
        // With the session's version, and without any (as clients of 2025-03-26 send them).
        for named in [Some(version), None] {
            let headers = headers(Some(&session), named);
            for body in answered() {
                let fast = fast(&app, &session, &headers, &body)
                    .unwrap_or_else(|| panic!("the fast path declined {body} at {named:?}"));
                let rmcp = rmcp(&app, &headers, &body).await;
                assert_eq!(fast, rmcp, "for {body} at {version}, header {named:?}");
            }
        }
    }
}

#[tokio::test]
async fn what_is_not_plainly_a_session_request_goes_to_rmcp() {
    let app = app(None);
    let session = start_session(&app, VERSION).await;
    let body = call("search_docs", json!({ "query": "drain" }));
    let plain = headers(Some(&session), Some(VERSION));
    assert!(
        fast(&app, &session, &plain, &body).is_some(),
        "the plain one"
    );

    let with = |name: &str, value: &str| {
        let mut headers = plain.clone();
        headers.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
        headers
    };
    let without = |name: &str| {
        let mut headers = plain.clone();
        headers.remove(name);
        headers
    };
    let mut versioned = plain.clone();
    versioned.insert("mcp-protocol-version", "2026-07-28".parse().unwrap());
    let mut unknown_version = plain.clone();
    unknown_version.insert("mcp-protocol-version", "2099-01-01".parse().unwrap());
    let mut only_json = plain.clone();
    only_json.insert("accept", "application/json".parse().unwrap());
    let header_cases = [
        ("the modern version", versioned),
        ("an unknown version", unknown_version),
        ("two versions", with("mcp-protocol-version", VERSION)),
        ("Mcp-Method", with("mcp-method", "tools/call")),
        ("Mcp-Name", with("mcp-name", "search_docs")),
        ("Mcp-Param", with("mcp-param-query", "drain")),
        ("no SSE in Accept", only_json),
        ("no Host", without("host")),
    ];
    for (case, headers) in header_cases {
        assert!(
            fast(&app, &session, &headers, &body).is_none(),
            "declined: {case}"
        );
    }

    let body_cases = [
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": { "name": "search_docs", "arguments": { "query": "x" },
                "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } } }),
        json!({ "jsonrpc": "1.0", "id": 1, "method": "tools/list" }),
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "extra": 1 }),
        json!({ "jsonrpc": "2.0", "method": "tools/list" }),
        json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }),
        // Parameters rmcp cannot read (it answers -32601), even where they go unused.
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "cursor": 5 } }),
        json!({ "jsonrpc": "2.0", "id": 1, "method": "resources/templates/list",
            "params": { "cursor": [] } }),
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": { "name": "no_such_tool" } }),
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": { "name": "search_docs", "arguments": { "query": 5 } } }),
        json!([{ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }]),
    ];
    for body in body_cases {
        assert!(
            fast(&app, &session, &plain, &body).is_none(),
            "declined: {body}"
        );
    }

    // A session this process does not hold.
    let other = headers(Some("no-such-session"), Some(VERSION));
    assert!(fast(&app, "no-such-session", &other, &body).is_none());
    let (status, ..) = through_the_endpoint(&app, other, &body).await;
    assert_eq!(status, 404, "rmcp's answer to it");
}

#[tokio::test]
async fn a_session_before_its_initialized_notification_is_answered_as_rmcp_does() {
    // rmcp (as the TypeScript SDK) serves a session's requests whether or not its
    // `notifications/initialized` came first: so does the fast path.
    let app = app(None);
    let initialize = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": VERSION, "capabilities": {},
        "clientInfo": { "name": "t", "version": "1" } } });
    let (_, _, _, head) = through_the_endpoint(&app, headers(None, None), &initialize).await;
    let fresh = head["mcp-session-id"].to_str().unwrap().to_string();
    let fresh_headers = headers(Some(&fresh), Some(VERSION));
    let body = call("list_docs", json!({}));
    let fast = fast(&app, &fresh, &fresh_headers, &body).expect("answered");
    assert_eq!(fast, rmcp(&app, &fresh_headers, &body).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_served_by_the_fast_path_lives_while_used_and_ends_when_idle() {
    let app = app(Some("800"));
    let session = start_session(&app, VERSION).await;
    let headers = headers(Some(&session), Some(VERSION));
    let body = call("list_docs", json!({}));
    // Three idle timeouts of requests that rmcp's session worker never sees.
    for _ in 0..24 {
        let (status, media, ..) = through_the_endpoint(&app, headers.clone(), &body).await;
        assert_eq!(status, 200);
        assert_eq!(media.as_deref(), Some("application/json"), "the fast path");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app.holds_session(&session).await, "kept while in use");
    // Then nothing: the idle timeout ends it (bounded wait).
    for _ in 0..50 {
        if !app.holds_session(&session).await {
            let (status, ..) = through_the_endpoint(&app, headers.clone(), &body).await;
            assert_eq!(status, 404, "an ended session is not served");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the session outlived its idle timeout");
}

fn initialize(version: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": { "roots": { "listChanged": true } },
        "clientInfo": { "name": "t", "version": "1" } } })
}

#[tokio::test]
async fn a_session_starts_dormant_with_the_initialize_answer_rmcp_gives() {
    let app = app(None);
    // Every version a client may name, one rmcp does not know, and the modern one (which has
    // no handshake: the answer falls back to a legacy version).
    for version in [
        "2024-11-05",
        "2025-03-26",
        "2025-06-18",
        VERSION,
        "2026-07-28",
        "1999-01-01",
    ] {
        let body = initialize(version);
        let (status, media, ours, head) =
            through_the_endpoint(&app, headers(None, None), &body).await;
        assert_eq!((status, media.as_deref()), (200, Some("application/json")));
        let session = head["mcp-session-id"].to_str().unwrap();
        assert!(
            !app.holds_session_now(session) && app.holds_session(session).await,
            "dormant: not in rmcp"
        );
        let ours: Value = serde_json::from_slice(&ours).unwrap();
        let (status, theirs) = rmcp(&app, &headers(None, None), &body).await;
        assert_eq!(status, 200);
        assert_eq!(ours, theirs, "at {version}");
    }
}

#[tokio::test]
async fn an_initialize_that_is_not_plainly_as_rmcp_takes_it_goes_to_rmcp() {
    let app = app(None);
    let plain = initialize(VERSION);
    let bytes = |body: &Value| serde_json::to_vec(body).unwrap();
    assert!(direct::start_session(&app, &headers(None, None), &bytes(&plain), true).is_some());
    let started = app.legacy_sessions().await;
    let with = |name: &str, value: &str| {
        let mut headers = headers(None, None);
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
        headers
    };
    let header_cases = [
        ("a session id", with("mcp-session-id", "abc")),
        ("Mcp-Method", with("mcp-method", "initialize")),
        (
            "another version",
            with("mcp-protocol-version", "2025-06-18"),
        ),
        (
            "an unknown version",
            with("mcp-protocol-version", "2099-01-01"),
        ),
        ("no SSE in Accept", with("accept", "application/json")),
    ];
    for (case, headers) in header_cases {
        assert!(
            direct::start_session(&app, &headers, &bytes(&plain), true).is_none(),
            "declined: {case}"
        );
    }
    let mut meta = plain.clone();
    meta["params"]["_meta"] = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28" });
    let mut unreadable = plain.clone();
    unreadable["params"]["capabilities"] = json!(5);
    let mut extra = plain.clone();
    extra["extra"] = json!(1);
    let mut large = plain.clone();
    large["params"]["capabilities"]["experimental"] = json!({ "x": "y".repeat(9000) });
    for body in [meta, unreadable, extra, large, call("list_docs", json!({}))] {
        assert!(
            direct::start_session(&app, &headers(None, None), &bytes(&body), true).is_none(),
            "declined: {body}"
        );
    }
    assert!(direct::start_session(&app, &headers(None, None), &bytes(&plain), false).is_none());
    assert_eq!(app.legacy_sessions().await, started, "nothing started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dormant_session_wakes_in_rmcp_when_a_request_needs_it() {
    let (app, docs) = common::docs_app(|_| None);
    let session = start_session(&app, VERSION).await;
    assert!(!app.holds_session_now(&session));
    assert_eq!(app.legacy_sessions().await, 1);
    // Its `initialized` started nothing: the change-feed follower waits for the wake.
    assert_eq!(docs.changes().listeners(), 0);
    let headers = headers(Some(&session), Some(VERSION));
    let ping = json!({ "jsonrpc": "2.0", "id": 9, "method": "ping" });
    let (status, ..) = through_the_endpoint(&app, headers.clone(), &ping).await;
    assert_eq!(status, 200);
    assert!(app.holds_session_now(&session), "woken into rmcp");
    assert_eq!(app.legacy_sessions().await, 1, "counted once");
    // rmcp replayed the handshake to the handler, `initialized` included.
    for _ in 0..200 {
        if docs.changes().listeners() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(docs.changes().listeners(), 1);
    // Served by rmcp's session from now on, the fast path included.
    let body = call("list_docs", json!({}));
    assert!(fast(&app, &session, &headers, &body).is_some());
}

#[tokio::test]
async fn a_deleted_dormant_session_is_gone() {
    let app = app(None);
    let session = start_session(&app, VERSION).await;
    assert_eq!(common::delete(&app, &session, VERSION).await, 202);
    assert!(!app.holds_session(&session).await);
    assert_eq!(app.legacy_sessions().await, 0);
    let body = call("list_docs", json!({}));
    let (status, ..) =
        through_the_endpoint(&app, headers(Some(&session), Some(VERSION)), &body).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_wake_a_session_together_are_all_served() {
    // rmcp puts a restored session in its map before it replays the handshake; a request that
    // reaches the session's worker in between kills it (500). The requests take turns instead.
    let app = app(None);
    for _ in 0..20 {
        let session = start_session(&app, VERSION).await;
        let pings = (0..8).map(|i| {
            let (app, headers) = (app.clone(), headers(Some(&session), Some(VERSION)));
            tokio::spawn(async move {
                let ping = json!({ "jsonrpc": "2.0", "id": i, "method": "ping" });
                through_the_endpoint(&app, headers, &ping).await.0
            })
        });
        let statuses: Vec<u16> = futures::future::join_all(pings)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
}

#[tokio::test]
async fn an_initialize_too_large_to_keep_is_refused_whoever_would_answer_it() {
    let app = app(None);
    let mut large = initialize(VERSION);
    large["params"]["capabilities"]["experimental"] = json!({ "x": { "pad": vec![0; 5000] } });
    let mut weighted = headers(None, None);
    // Plain, and in a form the fast path leaves to rmcp.
    for headers in [headers(None, None), {
        weighted.insert(
            "accept",
            "application/json;q=1, text/event-stream".parse().unwrap(),
        );
        weighted
    }] {
        let (status, media, body, head) = through_the_endpoint(&app, headers, &large).await;
        assert_eq!((status, media.as_deref()), (400, Some("application/json")));
        assert!(!head.contains_key("mcp-session-id"));
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], -32602, "{body}");
        assert_eq!(body["id"], 0);
    }
    assert_eq!(app.legacy_sessions().await, 0);
    // Just under the limit is taken.
    let mut fits = initialize(VERSION);
    fits["params"]["capabilities"]["experimental"] = json!({ "x": { "pad": "y".repeat(8000) } });
    let (status, ..) = through_the_endpoint(&app, headers(None, None), &fits).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_client_that_names_no_version_keeps_its_session_dormant() {
    // Clients of 2025-03-26 and before send no MCP-Protocol-Version after `initialize`.
    let app = app(None);
    let body = initialize("2025-03-26");
    let (_, _, _, head) = through_the_endpoint(&app, headers(None, None), &body).await;
    let session = head["mcp-session-id"].to_str().unwrap().to_string();
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let (status, ..) =
        through_the_endpoint(&app, headers(Some(&session), None), &initialized).await;
    assert_eq!(status, 202);
    let (status, media, ..) = through_the_endpoint(
        &app,
        headers(Some(&session), None),
        &call("list_docs", json!({})),
    )
    .await;
    assert_eq!((status, media.as_deref()), (200, Some("application/json")));
    assert!(!app.holds_session_now(&session), "still dormant");
}
