//! SSE streams over real sockets: keep-alive timing, the REQUEST_TIMEOUT end with a retry hint,
//! resumption after it, open-stream counts in /health, and shutdown with streams open.

use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use serde_json::json;
use tests::Server;
use tests::http::{
    LEGACY_VERSION, health, legacy_session, modern_request, post, request, wait_for_streams,
};

async fn open_get_stream(server: &Server, session: &str) -> tests::http::SseStream {
    let response = tests::http::get_stream(server.addr, session).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert_eq!(response.header("x-accel-buffering"), Some("no"));
    response.sse()
}

#[tokio::test]
async fn every_stream_gets_keepalive_comments_at_the_configured_interval() {
    let server = Server::start(&[("SSE_KEEPALIVE_INTERVAL", "300")]);
    let session = legacy_session(server.addr).await;
    let mut stream = open_get_stream(&server, &session).await;
    let opened = Instant::now();
    let mut comments = Vec::new();
    while comments.len() < 5 {
        let event = stream
            .next_event(Duration::from_secs(5))
            .await
            .expect("stream open");
        if event.is_comment() {
            comments.push(event.at);
        }
    }
    let gaps: Vec<Duration> = comments.windows(2).map(|w| w[1] - w[0]).collect();
    // Bounds loose enough for a loaded CI machine, tight enough to tell 300 ms from the 15 s
    // rmcp default or from no keep-alive at all.
    for gap in &gaps {
        assert!(
            *gap >= Duration::from_millis(150) && *gap <= Duration::from_millis(1200),
            "keep-alive gaps {gaps:?} are not ~300 ms"
        );
    }
    let mean = gaps.iter().sum::<Duration>() / gaps.len() as u32;
    assert!(
        mean >= Duration::from_millis(240) && mean <= Duration::from_millis(600),
        "mean keep-alive gap {mean:?}"
    );
    assert!(opened.elapsed() < Duration::from_secs(6));
}

#[tokio::test]
async fn a_stream_older_than_request_timeout_ends_after_a_retry_field_and_the_client_can_resume() {
    let server = Server::start(&[
        ("REQUEST_TIMEOUT", "800"),
        ("SSE_RETRY_INTERVAL", "1234"),
        ("SSE_KEEPALIVE_INTERVAL", "5000"),
    ]);
    let session = legacy_session(server.addr).await;
    let mut stream = open_get_stream(&server, &session).await;
    let opened = Instant::now();
    let events = stream.until_end(Duration::from_secs(5)).await;
    let lasted = opened.elapsed();
    assert!(
        lasted >= Duration::from_millis(750),
        "ended after {lasted:?}"
    );
    let last = events.last().expect("events before the end");
    assert_eq!(last.retry(), Some(1234), "last block {:?}", last.raw);
    let primed_id = events
        .iter()
        .find_map(|e| e.id())
        .expect("priming event id");

    // The client reconnects with Last-Event-ID; the session is still there.
    let resumed = request(
        server.addr,
        Method::GET,
        "/mcp",
        &[
            ("accept", "text/event-stream"),
            ("mcp-session-id", &session),
            ("mcp-protocol-version", LEGACY_VERSION),
            ("last-event-id", &primed_id),
        ],
        None,
    )
    .await;
    assert_eq!(resumed.status, StatusCode::OK);
    // And a plain new GET stream works again after the old one ended.
    let mut again = open_get_stream(&server, &session).await;
    assert!(again.next_event(Duration::from_secs(5)).await.is_some());
    server.wait_for_log("request timeout", Duration::from_secs(5));
}

#[tokio::test]
async fn health_counts_streams_up_and_back_to_zero() {
    let server = Server::start(&[("SSE_KEEPALIVE_INTERVAL", "100")]);
    assert_eq!(health(server.addr).await["activeConnections"], 0);
    let mut streams = Vec::new();
    for _ in 0..5 {
        let session = legacy_session(server.addr).await;
        streams.push(open_get_stream(&server, &session).await);
    }
    let health_now = wait_for_streams(server.addr, 5, Duration::from_secs(5)).await;
    assert_eq!(health_now["ok"], true);
    assert_eq!(health_now["draining"], false);
    assert!(health_now["uptime"].as_f64().unwrap() > 0.0);
    assert_eq!(health_now["legacySessions"], 5);

    // Clients go away without a word: the count still comes back down.
    streams.truncate(2);
    wait_for_streams(server.addr, 2, Duration::from_secs(5)).await;
    streams.clear();
    wait_for_streams(server.addr, 0, Duration::from_secs(5)).await;
    // The server logs each close before the count drops; the lines reach the test through a
    // pipe, a moment later.
    let closed = |logs: &[String]| {
        logs.iter()
            .filter(|l| l.contains("client disconnected"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while closed(&server.logs()) < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let logs = server.logs();
    assert_eq!(
        logs.iter()
            .filter(|l| l.contains("SSE stream initiated"))
            .count(),
        5
    );
    assert_eq!(closed(&logs), 5);
}

#[tokio::test]
async fn sigterm_ends_streams_with_a_retry_hint_and_exits_0_within_the_deadline() {
    let mut server = Server::start(&[("SHUTDOWN_TIMEOUT", "2000"), ("SSE_RETRY_INTERVAL", "777")]);
    let session = legacy_session(server.addr).await;
    let mut stream = open_get_stream(&server, &session).await;
    stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("priming event");
    server.signal(libc::SIGTERM);
    let events = stream.until_end(Duration::from_secs(5)).await;
    assert_eq!(
        events.last().and_then(|e| e.retry()),
        Some(777),
        "{events:?}"
    );
    let (code, took) = server.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(3), "exit took {took:?}");
    server.wait_for_log("server closing", Duration::from_secs(1));
}

#[tokio::test]
async fn the_shutdown_deadline_holds_against_a_client_that_never_finishes() {
    let mut server = Server::start(&[("SHUTDOWN_TIMEOUT", "1000")]);
    // A request that never finishes keeps the graceful shutdown waiting.
    let _stalled = tests::http::stalled_request(server.addr).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal(libc::SIGTERM);
    let (code, took) = server.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(3000),
        "exit took {took:?}"
    );
    server.wait_for_log("shutdown deadline reached", Duration::from_secs(1));
}

#[tokio::test]
async fn modern_listen_streams_get_keepalives_and_change_notifications() {
    let server = Server::start_fixtures(&[("SSE_KEEPALIVE_INTERVAL", "200")]);
    let listen = modern_request(
        server.addr,
        7,
        "subscriptions/listen",
        json!({ "notifications": { "toolsListChanged": true } }),
        None,
    )
    .await;
    assert_eq!(listen.status, StatusCode::OK);
    let mut listen = listen.sse();
    let first = listen.next_event(Duration::from_secs(5)).await.unwrap();
    assert!(
        first
            .raw
            .contains("notifications/subscriptions/acknowledged"),
        "{first:?}"
    );
    let mut comments = 0;
    while comments < 2 {
        if listen
            .next_event(Duration::from_secs(5))
            .await
            .unwrap()
            .is_comment()
        {
            comments += 1;
        }
    }
    wait_for_streams(server.addr, 1, Duration::from_secs(5)).await;
    let trigger = modern_request(
        server.addr,
        8,
        "tools/call",
        json!({ "name": "test_trigger_tool_change", "arguments": {} }),
        Some("test_trigger_tool_change"),
    )
    .await;
    assert_eq!(trigger.status, StatusCode::OK);
    loop {
        let event = listen
            .next_event(Duration::from_secs(5))
            .await
            .expect("listen stays open");
        if let Some(data) = event.data() {
            let message: serde_json::Value = serde_json::from_str(&data).unwrap();
            assert_eq!(message["method"], "notifications/tools/list_changed");
            break;
        }
    }
    drop(listen);
    wait_for_streams(server.addr, 0, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_request_running_past_request_timeout_gets_a_jsonrpc_error_in_both_eras() {
    let server = Server::start_fixtures(&[("REQUEST_TIMEOUT", "700")]);
    let call = |id: i64| json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "fixture_sleep", "arguments": { "ms": 5000 } } });
    // Legacy: the answer is an SSE stream; the error arrives on it, for this request's id.
    let session = legacy_session(server.addr).await;
    let started = Instant::now();
    let legacy = post(
        server.addr,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        &call(41),
    )
    .await;
    assert_eq!(legacy.status, StatusCode::OK);
    let answer = legacy.message().await;
    assert_eq!(answer["id"], 41, "{answer}");
    assert_eq!(answer["error"]["code"], -32001, "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // Modern: the answer head waits for the handler; the timeout answers instead.
    let started = Instant::now();
    let modern = modern_request(
        server.addr,
        42,
        "tools/call",
        json!({ "name": "fixture_sleep", "arguments": { "ms": 5000 } }),
        Some("fixture_sleep"),
    )
    .await;
    let answer = modern.message().await;
    assert_eq!(answer["id"], 42, "{answer}");
    assert_eq!(answer["error"]["code"], -32001, "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // A quick call still works, and nothing is left open.
    let quick = modern_request(
        server.addr,
        43,
        "tools/call",
        json!({ "name": "fixture_sleep", "arguments": { "ms": 10 } }),
        Some("fixture_sleep"),
    )
    .await;
    assert_eq!(
        quick.message().await["result"]["content"][0]["text"],
        "slept 10 ms"
    );
    wait_for_streams(server.addr, 0, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let mut server = Server::start(&[("SHUTDOWN_TIMEOUT", "20000")]);
    // A request that never finishes keeps the graceful shutdown waiting.
    let _stalled = tests::http::stalled_request(server.addr).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal(libc::SIGTERM);
    server.wait_for_log("shutting down", Duration::from_secs(5));
    server.signal(libc::SIGINT);
    let (code, took) = server.wait_exit(Duration::from_secs(5));
    assert_eq!(code, Some(1), "a forced exit is not a clean one");
    assert!(took < Duration::from_secs(2), "exit took {took:?}");
    server.wait_for_log("second signal", Duration::from_secs(1));
}

/// The chunks of a chunked body, decoded; panics unless they end with the last chunk and
/// nothing after it.
fn dechunk(mut body: &[u8]) -> String {
    let mut decoded = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size line");
        let size = std::str::from_utf8(&body[..line_end]).unwrap();
        let size = usize::from_str_radix(size, 16).expect("a chunk size in hex");
        body = &body[line_end + 2..];
        if size == 0 {
            assert_eq!(body, b"\r\n", "the last chunk ends the body");
            return String::from_utf8(decoded).unwrap();
        }
        decoded.extend_from_slice(&body[..size]);
        assert_eq!(
            &body[size..size + 2],
            b"\r\n",
            "a chunk ends with a line end"
        );
        body = &body[size + 2..];
    }
}

#[tokio::test]
async fn an_http1_stream_is_chunked_and_closed_after_its_last_chunk_whatever_the_client_sends() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut server = Server::start(&[
        ("SSE_KEEPALIVE_INTERVAL", "100"),
        ("SSE_RETRY_INTERVAL", "777"),
        ("SHUTDOWN_TIMEOUT", "2000"),
    ]);
    let session = legacy_session(server.addr).await;
    let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "GET /mcp HTTP/1.1\r\nhost: {}\r\naccept: text/event-stream\r\nmcp-session-id: {session}\r\nmcp-protocol-version: {LEGACY_VERSION}\r\n\r\n",
        server.addr
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    // The head, the priming event and some keep-alives.
    while seen.windows(5).filter(|w| w == b":\n\n\r\n").count() < 3 {
        let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buffer))
            .await
            .expect("keep-alives within 5 s")
            .unwrap();
        assert_ne!(n, 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buffer[..n]);
    }
    // A request pipelined behind a stream that never ends cannot be answered: it is thrown
    // away, and the stream goes on.
    socket
        .write_all(format!("GET /health HTTP/1.1\r\nhost: {}\r\n\r\n", server.addr).as_bytes())
        .await
        .unwrap();
    let stream_count = wait_for_streams(server.addr, 1, Duration::from_secs(5)).await;
    assert_eq!(stream_count["activeConnections"], 1);
    server.signal(libc::SIGTERM);
    // Ended with a retry hint and the last chunk; then the server closes the connection.
    tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut seen))
        .await
        .expect("the server closes the connection")
        .unwrap();
    let head_end = seen.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(head.contains("\r\nconnection: close"), "{head}");
    assert!(head.contains("\r\ntransfer-encoding: chunked"), "{head}");
    let body = dechunk(&seen[head_end + 4..]);
    assert!(body.starts_with("data: \nid: 0\nretry: 777\n\n"), "{body}");
    assert!(body.contains("\n\n:\n\n"), "{body}");
    assert!(body.trim_end().ends_with("retry: 777"), "{body}");
    assert!(!body.contains("HTTP/1.1"), "{body}");
    let (code, _) = server.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0));
}
