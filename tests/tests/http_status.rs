//! Each status the MCP specification names, against the real binary over a real socket.

use http::{Method, StatusCode};
use serde_json::json;
use tests::Server;
use tests::http::{
    LEGACY_VERSION, MODERN_VERSION, initialize_message, legacy_session, modern_request, post,
    request,
};

fn tools_list(id: i64) -> serde_json::Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/list", "params": {} })
}

#[tokio::test]
async fn a_client_notification_gets_202_with_no_body() {
    let server = Server::start(&[]);
    let session = legacy_session(server.addr).await;
    let response = post(
        server.addr,
        &[("mcp-session-id", &session), ("mcp-protocol-version", LEGACY_VERSION)],
        &json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 99 } }),
    )
    .await;
    assert_eq!(response.status, StatusCode::ACCEPTED);
    assert_eq!(response.text().await, "");
}

#[tokio::test]
async fn a_legacy_request_without_a_session_gets_400() {
    let server = Server::start(&[]);
    let response = post(
        server.addr,
        &[("mcp-protocol-version", LEGACY_VERSION)],
        &tools_list(2),
    )
    .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unknown_or_deleted_session_gets_404() {
    let server = Server::start(&[]);
    let unknown = post(
        server.addr,
        &[
            ("mcp-session-id", "no-such-session"),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        &tools_list(2),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let session = legacy_session(server.addr).await;
    let headers = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", LEGACY_VERSION),
    ];
    let listed = post(server.addr, &headers, &tools_list(3)).await;
    assert_eq!(listed.status, StatusCode::OK);
    let listed = listed.message().await;
    assert!(listed["result"]["tools"].is_array(), "{listed}");

    let deleted = request(server.addr, Method::DELETE, "/mcp", &headers, None).await;
    assert!(
        deleted.status.is_success(),
        "DELETE gave {}",
        deleted.status
    );
    let after = post(server.addr, &headers, &tools_list(4)).await;
    assert_eq!(after.status, StatusCode::NOT_FOUND);
    assert_eq!(server_health_sessions(&server).await, 0);
}

async fn server_health_sessions(server: &Server) -> u64 {
    tests::http::health(server.addr).await["legacySessions"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn an_unsupported_protocol_version_gets_400() {
    let server = Server::start(&[]);
    let session = legacy_session(server.addr).await;
    let response = post(
        server.addr,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "1999-01-01"),
        ],
        &tools_list(5),
    )
    .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.text().await.contains("1999-01-01"));
}

#[tokio::test]
async fn modern_requests_are_served_statelessly_and_header_mismatches_get_400() {
    let server = Server::start(&[]);
    let discover = modern_request(server.addr, 1, "server/discover", json!({}), None).await;
    assert_eq!(discover.status, StatusCode::OK);
    assert!(
        discover.header("mcp-session-id").is_none(),
        "modern requests get no session"
    );
    let discover = discover.message().await;
    let info = &discover["result"]["_meta"]["io.modelcontextprotocol/serverInfo"];
    assert_eq!(info["name"], "mcp-server", "{discover}");
    assert!(info["version"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(
        discover["result"]["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!(MODERN_VERSION))
    );

    let listed = modern_request(server.addr, 2, "tools/list", json!({}), None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.message().await["result"]["tools"].is_array());

    // Mcp-Method says one thing, the body another.
    let mut body = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": { "_meta": tests::http::modern_meta() } });
    let mismatch = post(
        server.addr,
        &[
            ("mcp-protocol-version", MODERN_VERSION),
            ("mcp-method", "prompts/list"),
        ],
        &body,
    )
    .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    let error = mismatch.json().await;
    assert_eq!(error["error"]["code"], -32020, "{error}");

    // MCP-Protocol-Version header disagrees with _meta.
    body["id"] = json!(4);
    let version_mismatch = post(
        server.addr,
        &[
            ("mcp-protocol-version", LEGACY_VERSION),
            ("mcp-method", "tools/list"),
        ],
        &body,
    )
    .await;
    assert_eq!(version_mismatch.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_present_origin_that_is_not_allowed_gets_403_with_a_jsonrpc_error_without_id() {
    let server = Server::start(&[(
        "ALLOWED_ORIGINS",
        "https://*.journium.app,http://localhost:6274",
    )]);
    for origin in [
        "https://evil.example",
        "https://journium.app",
        "https://evil-journium.app",
        "null",
        "",
    ] {
        let response = post(server.addr, &[("origin", origin)], &initialize_message(1)).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "origin {origin:?}");
        let body = response.json().await;
        assert_eq!(body["jsonrpc"], "2.0");
        assert!(body.get("id").is_none(), "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Origin")
        );
    }
    // A GET stream and a DELETE are refused the same way, before any session lookup.
    let get = request(
        server.addr,
        Method::GET,
        "/mcp",
        &[
            ("origin", "https://evil.example"),
            ("accept", "text/event-stream"),
        ],
        None,
    )
    .await;
    assert_eq!(get.status, StatusCode::FORBIDDEN);

    let allowed = post(
        server.addr,
        &[("origin", "https://docs.journium.app")],
        &initialize_message(1),
    )
    .await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://docs.journium.app")
    );
    assert!(
        allowed
            .header("access-control-expose-headers")
            .unwrap()
            .contains("Mcp-Session-Id")
    );

    // No Origin: a non-browser client, always allowed.
    let plain = post(server.addr, &[], &initialize_message(1)).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(server.logs().iter().any(|l| l.contains("Origin refused")));
}

#[tokio::test]
async fn cors_preflight_allows_the_mcp_headers_for_allowed_origins_only() {
    let server = Server::start(&[("ALLOWED_ORIGINS", "http://localhost:6274")]);
    let preflight = request(
        server.addr,
        Method::OPTIONS,
        "/mcp",
        &[
            ("origin", "http://localhost:6274"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "content-type, mcp-session-id, mcp-param-query",
            ),
        ],
        None,
    )
    .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://localhost:6274")
    );
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in [
        "mcp-session-id",
        "mcp-protocol-version",
        "last-event-id",
        "authorization",
        "content-type",
        "mcp-param-query",
    ] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("DELETE")
    );

    let refused = request(
        server.addr,
        Method::OPTIONS,
        "/mcp",
        &[
            ("origin", "http://localhost:9999"),
            ("access-control-request-method", "POST"),
        ],
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_loopback_server_refuses_foreign_host_headers_but_health_answers_any_host() {
    let server = Server::start(&[]);
    let rebinding = post(
        server.addr,
        &[("host", "evil.example:3100")],
        &initialize_message(1),
    )
    .await;
    assert_eq!(rebinding.status, StatusCode::FORBIDDEN);
    assert!(rebinding.text().await.contains("Host"));
    let local = post(
        server.addr,
        &[("host", "localhost")],
        &initialize_message(1),
    )
    .await;
    assert_eq!(local.status, StatusCode::OK);
    // Load-balancer health checks address the task by IP: /health is not an MCP route.
    let health = request(
        server.addr,
        Method::GET,
        "/health",
        &[("host", "10.0.3.7:3100")],
        None,
    )
    .await;
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test]
async fn allowed_hosts_admits_the_public_name_behind_a_load_balancer() {
    let server = Server::start(&[("ALLOWED_HOSTS", "docs.example.com,*.internal.example")]);
    for (host, status) in [
        ("docs.example.com", StatusCode::OK),
        ("api.internal.example:8080", StatusCode::OK),
        ("localhost", StatusCode::FORBIDDEN),
        ("evil.example", StatusCode::FORBIDDEN),
    ] {
        let response = post(server.addr, &[("host", host)], &initialize_message(1)).await;
        assert_eq!(response.status, status, "host {host}");
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_the_server_keeps_serving() {
    let server = Server::start(&[("MAX_REQUEST_BODY", "1024")]);
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(2000)
    );
    let too_large = request(
        server.addr,
        Method::POST,
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", tests::http::ACCEPT_BOTH),
        ],
        Some(&big),
    )
    .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_large.text().await.contains("MAX_REQUEST_BODY"));

    let garbage = request(
        server.addr,
        Method::POST,
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", tests::http::ACCEPT_BOTH),
        ],
        Some("{not json"),
    )
    .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(garbage.json().await["error"]["code"], -32700);

    let batch = request(
        server.addr,
        Method::POST,
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", tests::http::ACCEPT_BOTH),
        ],
        Some(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#),
    )
    .await;
    assert_eq!(batch.status, StatusCode::BAD_REQUEST);
    assert_eq!(batch.json().await["error"]["code"], -32600);

    let wrong_method = request(server.addr, Method::PUT, "/mcp", &[], None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.header("allow").unwrap().contains("POST"));

    let elsewhere = request(server.addr, Method::GET, "/nowhere", &[], None).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert!(elsewhere.text().await.contains("/mcp"));

    // Still serving everyone else.
    legacy_session(server.addr).await;
}

#[tokio::test]
async fn the_session_cap_answers_initialize_with_503_and_retry_after() {
    let server = Server::start(&[("MAX_LEGACY_SESSIONS", "2")]);
    legacy_session(server.addr).await;
    legacy_session(server.addr).await;
    let refused = post(server.addr, &[], &initialize_message(9)).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.header("retry-after").is_some());
    let body = refused.json().await;
    assert_eq!(body["id"], 9);
    // Modern clients hold no session: they are still served.
    let modern = modern_request(server.addr, 1, "tools/list", json!({}), None).await;
    assert_eq!(modern.status, StatusCode::OK);
}

/// Sends a raw HTTP/1.1 request and returns the status code of the answer.
async fn raw_status(addr: std::net::SocketAddr, request: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 64];
    let n = stream.read(&mut head).await.unwrap();
    let line = String::from_utf8_lossy(&head[..n]).to_string();
    line.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {line:?}"))
}

#[tokio::test]
async fn a_request_without_host_is_checked_by_its_uri_authority() {
    // HTTP/2's :authority and HTTP/1.1's absolute form carry the host outside the Host header.
    let server = Server::start(&[]);
    let body = initialize_message(1).to_string();
    let request = |authority: &str| {
        format!(
            "POST http://{authority}/mcp HTTP/1.1\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let port = server.addr.port();
    assert_eq!(
        raw_status(server.addr, &request(&format!("localhost:{port}"))).await,
        200
    );
    assert_eq!(raw_status(server.addr, &request("evil.example")).await, 403);
}

/// An error answer's JSON-RPC body.
async fn jsonrpc_error_of(response: tests::http::Response) -> serde_json::Value {
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "status {}",
        response.status
    );
    let body = response.json().await;
    assert_eq!(body["jsonrpc"], "2.0", "{body}");
    assert!(body["error"]["code"].is_i64(), "{body}");
    body
}

#[tokio::test]
async fn every_refusal_is_a_jsonrpc_error_with_the_right_status() {
    let server = Server::start(&[]);
    // DELETE of a session this server does not hold (rmcp alone answers 202).
    let unknown = request(
        server.addr,
        Method::DELETE,
        "/mcp",
        &[("mcp-session-id", "no-such-session")],
        None,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    jsonrpc_error_of(unknown).await;
    let session = legacy_session(server.addr).await;
    let headers = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", LEGACY_VERSION),
    ];
    let first = request(server.addr, Method::DELETE, "/mcp", &headers, None).await;
    assert!(first.status.is_success(), "{}", first.status);
    let again = request(server.addr, Method::DELETE, "/mcp", &headers, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // rmcp's plain-text refusals, as JSON-RPC errors.
    let no_session = post(
        server.addr,
        &[("mcp-protocol-version", LEGACY_VERSION)],
        &tools_list(2),
    )
    .await;
    assert_eq!(no_session.status, StatusCode::BAD_REQUEST);
    jsonrpc_error_of(no_session).await;
    let session = legacy_session(server.addr).await;
    let version = post(
        server.addr,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "1999-01-01"),
        ],
        &tools_list(3),
    )
    .await;
    assert_eq!(version.status, StatusCode::BAD_REQUEST);
    let body = jsonrpc_error_of(version).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1999-01-01"),
        "{body}"
    );
    let wrong_accept = request(
        server.addr,
        Method::POST,
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", "text/html"),
        ],
        Some(&tools_list(4).to_string()),
    )
    .await;
    assert_eq!(wrong_accept.status, StatusCode::NOT_ACCEPTABLE);
    jsonrpc_error_of(wrong_accept).await;
    let wrong_type = request(
        server.addr,
        Method::POST,
        "/mcp",
        &[
            ("content-type", "text/plain"),
            ("accept", tests::http::ACCEPT_BOTH),
        ],
        Some(&tools_list(5).to_string()),
    )
    .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    jsonrpc_error_of(wrong_type).await;
}

#[tokio::test]
async fn arguments_that_are_not_an_object_get_invalid_params() {
    let server = Server::start(&[]);
    let modern = tests::http::modern_request(
        server.addr,
        9,
        "tools/call",
        serde_json::json!({ "name": "search_docs", "arguments": ["drain"] }),
        Some("search_docs"),
    )
    .await
    .message()
    .await;
    assert_eq!(modern["id"], 9);
    assert_eq!(modern["error"]["code"], -32602, "{modern}");
    let session = legacy_session(server.addr).await;
    let legacy = post(
        server.addr,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        &serde_json::json!({ "jsonrpc": "2.0", "id": 10, "method": "tools/call",
            "params": { "name": "search_docs", "arguments": "drain" } }),
    )
    .await
    .message()
    .await;
    assert_eq!(legacy["error"]["code"], -32602, "{legacy}");
}

#[tokio::test]
async fn head_works_wherever_a_plain_get_does() {
    let server = Server::start(&[]);
    let head = request(server.addr, Method::HEAD, "/health", &[], None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-type"), Some("application/json"));
    assert_eq!(head.text().await, "", "HEAD has no body");
}
