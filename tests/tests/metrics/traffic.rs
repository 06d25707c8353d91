//! The server both tests start, and the traffic they count: one request of each kind the
//! metrics tell apart.

use std::net::SocketAddr;
use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::http::{
    get_stream, initialize_message, legacy_session, listen_stream, modern_request, post, request,
    stalled_request,
};
use tests::process::Server;

/// Settings that make every error kind reachable with one request each.
const LIMITS: &[(&str, &str)] = &[
    ("MAX_REQUEST_BODY", "2000"),
    ("MAX_STREAMS_PER_CLIENT", "2"),
    ("MAX_LEGACY_SESSIONS", "1"),
    ("BODY_READ_TIMEOUT", "300"),
    ("ALLOWED_ORIGINS", "https://allowed.example"),
];

pub fn server(extra: &[(&str, &str)]) -> Server {
    let mut env = LIMITS.to_vec();
    env.extend_from_slice(extra);
    Server::start(&env)
}

async fn call_tool(addr: SocketAddr, id: i64, name: &str, arguments: Value) -> Value {
    let response = modern_request(
        addr,
        id,
        "tools/call",
        json!({ "name": name, "arguments": arguments }),
        Some(name),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    response.message().await
}

/// One request of each kind the metrics tell apart: tool calls that succeed, fail in their
/// result and fail outright, and a 403, 404, 408 (a timeout), 413, 429 and 503. Leaves a legacy
/// session with a GET stream and a listen stream open (returned, to keep them).
pub async fn traffic(addr: SocketAddr) -> Vec<tests::http::Response> {
    for id in 0..3 {
        let answer = call_tool(addr, id, "search_docs", json!({ "query": "drain" })).await;
        assert_ne!(answer["result"]["isError"], json!(true), "{answer}");
    }
    let answer = call_tool(addr, 10, "read_doc", json!({ "path": "no-such-page.md" })).await;
    assert_eq!(answer["result"]["isError"], json!(true), "{answer}");
    let answer = call_tool(addr, 11, "no_such_tool", json!({})).await;
    assert!(
        answer["error"].is_object(),
        "an unknown tool fails: {answer}"
    );

    let refused = post(
        addr,
        &[("origin", "https://evil.example")],
        &initialize_message(20),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let nowhere = request(addr, Method::GET, "/nowhere", &[], None).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    let big =
        json!({ "jsonrpc": "2.0", "id": 21, "method": "tools/list", "pad": "x".repeat(4000) });
    assert_eq!(
        post(addr, &[], &big).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let mut stalled = stalled_request(addr).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::io::AsyncReadExt::read_to_end(&mut stalled, &mut answer),
    )
    .await;
    assert!(
        read.is_ok(),
        "a stalled body is answered within BODY_READ_TIMEOUT"
    );
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // The one legacy session the cap allows, its GET stream and a listen stream: the client's
    // two streams; a third gets 429, a second session 503.
    let session = legacy_session(addr).await;
    let get = get_stream(addr, &session).await;
    assert_eq!(get.status, StatusCode::OK);
    let listen = listen_stream(addr, 30).await;
    assert_eq!(listen.status, StatusCode::OK);
    assert_eq!(
        listen_stream(addr, 31).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let second = post(addr, &[], &initialize_message(32)).await;
    assert_eq!(second.status, StatusCode::SERVICE_UNAVAILABLE);
    vec![get, listen]
}
