//! One client against its own limits: it gets 429 with `Retry-After` long before the global
//! caps, while a second client (another loopback address, or another address behind the trusted
//! proxy) is still served.

use std::net::IpAddr;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::Server;
use tests::http::{
    ACCEPT_BOTH, LEGACY_VERSION, MODERN_VERSION, Response, initialize_message, modern_meta,
    request_from,
};

const OTHER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2)));

async fn post_from(
    source: Option<IpAddr>,
    server: &Server,
    extra: &[(&str, &str)],
    message: &Value,
) -> Response {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", ACCEPT_BOTH),
    ];
    headers.extend_from_slice(extra);
    request_from(
        source,
        server.addr,
        Method::POST,
        "/mcp",
        &headers,
        Some(&message.to_string()),
    )
    .await
}

async fn initialize_from(
    source: Option<IpAddr>,
    server: &Server,
    extra: &[(&str, &str)],
) -> Response {
    post_from(source, server, extra, &initialize_message(1)).await
}

async fn listen_from(source: Option<IpAddr>, server: &Server, id: i64) -> Response {
    let message = json!({ "jsonrpc": "2.0", "id": id, "method": "subscriptions/listen",
        "params": { "notifications": { "toolsListChanged": true }, "_meta": modern_meta() } });
    post_from(
        source,
        server,
        &[
            ("mcp-protocol-version", MODERN_VERSION),
            ("mcp-method", "subscriptions/listen"),
        ],
        &message,
    )
    .await
}

fn assert_429(response: &Response) {
    assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(wait >= 1, "{wait}");
}

#[tokio::test]
async fn a_client_at_its_session_limit_gets_429_and_others_are_served() {
    let server = Server::start(&[("MAX_SESSIONS_PER_CLIENT", "3")]);
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let answer = initialize_from(None, &server, &[]).await;
        assert_eq!(answer.status, StatusCode::OK);
        sessions.push(answer.header("mcp-session-id").unwrap().to_string());
    }
    let refused = initialize_from(None, &server, &[]).await;
    assert_429(&refused);
    let body = refused.json().await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MAX_SESSIONS_PER_CLIENT"),
        "{body}"
    );
    assert_eq!(
        initialize_from(OTHER, &server, &[]).await.status,
        StatusCode::OK
    );
    // Ending one gives its place back.
    let deleted = request_from(
        None,
        server.addr,
        Method::DELETE,
        "/mcp",
        &[
            ("mcp-session-id", &sessions[0]),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        None,
    )
    .await;
    assert!(deleted.status.is_success());
    assert_eq!(
        initialize_from(None, &server, &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_client_at_its_stream_limit_gets_429_and_others_are_served() {
    let server = Server::start_fixtures(&[("MAX_STREAMS_PER_CLIENT", "2")]);
    let first = listen_from(None, &server, 1).await;
    let second = listen_from(None, &server, 2).await;
    assert_eq!(
        (first.status, second.status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_429(&listen_from(None, &server, 3).await);
    let other = listen_from(OTHER, &server, 4).await;
    assert_eq!(other.status, StatusCode::OK);
    // A stream that ends gives its place back.
    drop(first);
    let started = std::time::Instant::now();
    loop {
        let again = listen_from(None, &server, 5).await;
        if again.status == StatusCode::OK {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{}",
            again.status
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop((second, other));
}

#[tokio::test]
async fn a_client_over_its_request_rate_gets_429_and_others_are_served() {
    let server = Server::start(&[("CLIENT_REQUEST_RATE", "2"), ("CLIENT_REQUEST_BURST", "5")]);
    let discover = json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover",
        "params": { "_meta": modern_meta() } });
    let headers = [
        ("mcp-protocol-version", MODERN_VERSION),
        ("mcp-method", "server/discover"),
    ];
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let answer = post_from(None, &server, &headers, &discover).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert_429(&answer);
        }
        statuses.push(answer.status);
    }
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!((4..=5).contains(&limited), "{statuses:?}");
    assert_eq!(
        post_from(OTHER, &server, &headers, &discover).await.status,
        StatusCode::OK
    );
    assert_eq!(
        tests::http::health(server.addr).await["ok"],
        true,
        "health is never limited"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let server = Server::start(&[
        ("MAX_SESSIONS_PER_CLIENT", "1"),
        ("TRUSTED_PROXY_HOPS", "1"),
    ]);
    let one = [("x-forwarded-for", "203.0.113.1")];
    // What a client writes before the proxy's own entry is not believed.
    let spoofing = [("x-forwarded-for", "198.51.100.9, 203.0.113.1")];
    let two = [("x-forwarded-for", "203.0.113.2")];
    assert_eq!(
        initialize_from(None, &server, &one).await.status,
        StatusCode::OK
    );
    assert_429(&initialize_from(None, &server, &spoofing).await);
    assert_eq!(
        initialize_from(None, &server, &two).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_second_forwarded_for_line_is_read_the_proxys_own_line_counts() {
    let server = Server::start(&[
        ("MAX_SESSIONS_PER_CLIENT", "1"),
        ("TRUSTED_PROXY_HOPS", "1"),
    ]);
    let own = [("x-forwarded-for", "198.51.100.7")];
    assert_eq!(
        initialize_from(None, &server, &own).await.status,
        StatusCode::OK
    );
    // The client wrote a victim's address on a line of its own; the proxy added its line after.
    let two_lines = [
        ("x-forwarded-for", "203.0.113.1"),
        ("x-forwarded-for", "198.51.100.7"),
    ];
    assert_429(&initialize_from(None, &server, &two_lines).await);
    let victim = [("x-forwarded-for", "203.0.113.1")];
    assert_eq!(
        initialize_from(None, &server, &victim).await.status,
        StatusCode::OK
    );
}
