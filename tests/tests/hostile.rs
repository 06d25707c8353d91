//! A hostile client against the real binary: input that once crashed or hung the process is
//! answered at once with a clear error, in HTTP and in stdio, and the server goes on serving
//! everyone else.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::Server;
use tests::http::{health, modern_request};
use tests::stdio::StdioServer;

/// A modern `tools/call` and its JSON-RPC answer, with how long it took.
async fn call(server: &Server, id: i64, tool: &str, arguments: Value) -> (Value, Duration) {
    let started = Instant::now();
    let answer = modern_request(
        server.addr,
        id,
        "tools/call",
        json!({ "name": tool, "arguments": arguments }),
        Some(tool),
    )
    .await
    .message()
    .await;
    (answer, started.elapsed())
}

fn tool_text(answer: &Value) -> String {
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("a tool result: {answer}"))
        .to_string()
}

#[tokio::test]
async fn hostile_search_queries_get_tool_errors_and_the_server_keeps_serving() {
    let server = Server::start(&[]);
    // About 1,200 unclosed brackets once overflowed the query parser's stack: SIGABRT.
    let (answer, _) = call(
        &server,
        1,
        "search_docs",
        json!({ "query": "(".repeat(1200) }),
    )
    .await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(tool_text(&answer).contains("at most 500"), "{answer}");

    let (answer, _) = call(
        &server,
        2,
        "search_docs",
        json!({ "query": format!("{}drain", "(".repeat(20)) }),
    )
    .await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(tool_text(&answer).contains("nests"), "{answer}");

    let (answer, _) = call(&server, 3, "search_docs", json!({ "query": "&:*}" })).await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");

    // A syntax error whose readable part matches nothing says that it did not parse; one whose
    // readable part is found is answered.
    let (answer, _) = call(
        &server,
        5,
        "search_docs",
        json!({ "query": "zzyzx \"qwxv" }),
    )
    .await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(tool_text(&answer).contains("does not parse"), "{answer}");
    let (answer, _) = call(
        &server,
        6,
        "search_docs",
        json!({ "query": "drain \"unclosed" }),
    )
    .await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");

    let (answer, _) = call(&server, 4, "search_docs", json!({ "query": "drain" })).await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert!(health(server.addr).await["ok"] == true);
}

#[tokio::test]
async fn read_doc_cuts_multi_byte_text_on_characters() {
    let folder = std::env::temp_dir().join(format!("hostile-docs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    // A line break in the window's last fifth, behind three-byte characters: the old cut fell
    // inside a character, the handler panicked and the client waited REQUEST_TIMEOUT.
    let page = format!("# 日本語\n\n{}\n{}\n", "日".repeat(90), "本".repeat(300));
    std::fs::write(folder.join("ja.md"), &page).unwrap();
    let server = Server::start(&[("DOCS_DIR", folder.to_str().unwrap())]);
    let mut offset = 0;
    let mut text = String::new();
    for id in 0..20 {
        let (answer, took) = call(
            &server,
            id,
            "read_doc",
            json!({ "path": "ja.md", "offset": offset, "max_chars": 100 }),
        )
        .await;
        assert!(took < Duration::from_secs(5), "answered at once");
        let result = &answer["result"]["structuredContent"];
        text.push_str(
            result["text"]
                .as_str()
                .unwrap_or_else(|| panic!("{answer}")),
        );
        match result["nextOffset"].as_u64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    assert_eq!(text, page);
    std::fs::remove_dir_all(&folder).unwrap();
}

#[tokio::test]
async fn a_panicking_handler_is_answered_at_once_with_an_internal_error() {
    let server = Server::start_fixtures(&[]);
    let (answer, took) = call(&server, 1, "fixture_panic", json!({})).await;
    assert_eq!(answer["error"]["code"], -32603, "{answer}");
    assert!(
        took < Duration::from_secs(5),
        "not a REQUEST_TIMEOUT: {took:?}"
    );
    server.wait_for_log("a request handler panicked", Duration::from_secs(5));
    let panic_line = server.wait_for_log("fixture_panic was called", Duration::from_secs(5));
    let logged: Value = serde_json::from_str(&panic_line).expect("the panic is a JSON log line");
    assert_eq!(logged["level"], "ERROR");
    let (answer, _) = call(&server, 2, "test_simple_text", json!({})).await;
    assert!(answer["result"].is_object(), "{answer}");
}

#[test]
fn stdio_answers_hostile_input_and_panics_too() {
    let mut docs = StdioServer::start("mcp-server", &[]);
    let answer = docs.request(
        1,
        "tools/call",
        json!({ "name": "search_docs", "arguments": { "query": "(".repeat(1200) } }),
        Duration::from_secs(10),
    );
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let answer = docs.request(
        2,
        "tools/call",
        json!({ "name": "search_docs", "arguments": { "query": "health check" } }),
        Duration::from_secs(10),
    );
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert!(docs.is_running());

    let mut fixtures = StdioServer::start("examples/conformance-server", &[]);
    let answer = fixtures.request(
        1,
        "tools/call",
        json!({ "name": "fixture_panic", "arguments": {} }),
        Duration::from_secs(10),
    );
    assert_eq!(answer["error"]["code"], -32603, "{answer}");
    let answer = fixtures.request(
        2,
        "tools/call",
        json!({ "name": "test_simple_text", "arguments": {} }),
        Duration::from_secs(10),
    );
    assert!(answer["result"].is_object(), "{answer}");
}

/// Reads until the server closes the connection (bounded); returns what it sent and when.
async fn read_until_closed(
    stream: &mut tokio::net::TcpStream,
    limit: Duration,
) -> (String, Duration) {
    use tokio::io::AsyncReadExt;
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = limit
            .checked_sub(started.elapsed())
            .expect("closed in time");
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => seen.extend_from_slice(&buffer[..n]),
            Err(_) => panic!("connection still open after {limit:?}"),
        }
    }
    (
        String::from_utf8_lossy(&seen).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_connection_that_never_sends_a_byte_gets_the_header_timeout() {
    let server = Server::start(&[("HEADER_READ_TIMEOUT", "500")]);
    let mut silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (sent, took) = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(sent.is_empty(), "{sent}");
    assert!(took >= Duration::from_millis(400), "closed after {took:?}");
    assert_eq!(health(server.addr).await["ok"], true);
}

#[tokio::test]
async fn a_stalled_body_gets_408_and_the_connection_is_closed() {
    let server = Server::start(&[("BODY_READ_TIMEOUT", "500")]);
    let mut stalled = tests::http::stalled_request(server.addr).await;
    let (sent, took) = read_until_closed(&mut stalled, Duration::from_secs(5)).await;
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(
        sent.to_ascii_lowercase().contains("connection: close"),
        "{sent}"
    );
    assert!(sent.contains("BODY_READ_TIMEOUT"), "{sent}");
    assert!(
        took >= Duration::from_millis(400),
        "answered after {took:?}"
    );
    assert_eq!(health(server.addr).await["ok"], true);
}

#[tokio::test]
async fn a_client_that_never_reads_its_answers_gets_the_write_timeout() {
    use tokio::io::AsyncWriteExt;
    let server = Server::start(&[("WRITE_TIMEOUT", "1000")]);
    // A small receive window, and far more pipelined requests than the socket buffers hold
    // answers for: the server's writes soon wait on a client that reads nothing.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    const REQUESTS: usize = 20_000;
    let request = format!("GET /health HTTP/1.1\r\nhost: {}\r\n\r\n", server.addr);
    let sending = tokio::spawn(async move {
        let all = request.repeat(REQUESTS);
        let _ =
            tokio::time::timeout(Duration::from_secs(20), writer.write_all(all.as_bytes())).await;
        writer
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Reading now finds what was buffered, then the end: the server gave up on this client.
    let mut stream = reader.reunite(sending.await.unwrap()).unwrap();
    let (seen, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    let answered = seen.matches("HTTP/1.1 200").count();
    assert!(answered < REQUESTS, "answered all {answered}");
    assert_eq!(health(server.addr).await["ok"], true);
}

#[tokio::test]
async fn docs_dir_traps_are_skipped_at_start_up_and_on_reload() {
    let folder = std::env::temp_dir().join(format!("hostile-traps-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("good.md"),
        "# Good\n\nThe page about pelicans.\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", folder.join("env.md")).unwrap();
    let fifo = |name: &str| {
        let path = std::ffi::CString::new(folder.join(name).to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0);
    };
    fifo("x.md");
    let server = Server::start(&[
        ("DOCS_DIR", folder.to_str().unwrap()),
        ("DOCS_RELOAD_INTERVAL", "200"),
        ("SECRET_FOR_THE_TEST", "hunter2"),
    ]);
    let paths = |answer: &Value| -> Vec<String> {
        answer["result"]["structuredContent"]["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["path"].as_str().unwrap().to_string())
            .collect()
    };
    let (answer, _) = call(&server, 1, "list_docs", json!({})).await;
    assert_eq!(paths(&answer), ["good.md"]);
    let (answer, _) = call(&server, 2, "read_doc", json!({ "path": "env.md" })).await;
    assert_eq!(answer["result"]["isError"], true);
    assert!(!answer.to_string().contains("hunter2"));
    server.wait_for_log("a symbolic link out of DOCS_DIR", Duration::from_secs(5));

    // A FIFO added later does not block reloading: a page added after it still arrives.
    fifo("later.md");
    std::fs::write(folder.join("new.md"), "# New\n\nArrived.\n").unwrap();
    let started = Instant::now();
    loop {
        let (answer, _) = call(&server, 3, "list_docs", json!({})).await;
        if paths(&answer) == ["good.md", "new.md"] {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::remove_dir_all(&folder).unwrap();
}

#[tokio::test]
async fn logs_carry_no_session_id_or_tool_argument_even_at_debug() {
    let server = Server::start(&[("LOG_LEVEL", "debug")]);
    let session = tests::http::legacy_session(server.addr).await;
    let secret = "pelican-argument-7f3e9a2b";
    // Once on the fast path, once through rmcp's session (a weight in `Accept` sends it there),
    // whose own debug lines would carry the arguments.
    for accept in [None, Some("application/json;q=1")] {
        let mut headers = vec![
            ("mcp-session-id", session.as_str()),
            ("mcp-protocol-version", tests::http::LEGACY_VERSION),
        ];
        headers.extend(accept.map(|accept| ("accept", accept)));
        let answer = tests::http::post(
            server.addr,
            &headers,
            &json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/call",
                     "params": { "name": "search_docs", "arguments": { "query": secret } } }),
        )
        .await
        .message()
        .await;
        assert!(answer["result"].is_object(), "{answer}");
    }
    tests::http::request(
        server.addr,
        http::Method::DELETE,
        "/mcp",
        &[("mcp-session-id", &session)],
        None,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = server.logs();
    // Debug lines are written (the second call's SSE stream, opened and closed: the session
    // woke in rmcp for it, handshake replayed).
    assert!(
        logs.iter()
            .filter(|line| line.contains("DEBUG") && line.contains("SSE stream"))
            .count()
            >= 2,
        "debug logging is on and rmcp served the session: {logs:?}"
    );
    for line in &logs {
        assert!(!line.contains(&session), "session id logged: {line}");
        assert!(!line.contains(secret), "tool argument logged: {line}");
    }
}

#[tokio::test]
async fn text_logs_quote_what_came_from_outside() {
    let server = Server::start(&[("LOG_FORMAT", "text")]);
    let forged = "x peer=1.2.3.4:5 level=ERROR msg=fake";
    let refused = tests::http::post(
        server.addr,
        &[("origin", forged)],
        &json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover" }),
    )
    .await;
    assert_eq!(refused.status, http::StatusCode::FORBIDDEN);
    let line = server.wait_for_log("Origin refused", Duration::from_secs(5));
    assert!(line.contains(&format!("origin={forged:?}")), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_listen_requests_cannot_pass_the_stream_cap_together() {
    let server = Server::start_fixtures(&[("MAX_SSE_CONNECTIONS", "10")]);
    let burst = (0..200).map(|id| {
        let addr = server.addr;
        tokio::spawn(async move { tests::http::listen_stream(addr, id).await })
    });
    let answers: Vec<_> = futures_join(burst).await;
    let open = answers
        .iter()
        .filter(|a| a.status == http::StatusCode::OK)
        .count();
    let refused = answers
        .iter()
        .filter(|a| a.status == http::StatusCode::SERVICE_UNAVAILABLE)
        .count();
    assert_eq!((open, refused), (10, 190));
    assert_eq!(health(server.addr).await["longLivedStreams"], 10);
    drop(answers);
}

/// Awaits every task, in order.
async fn futures_join<T>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut done = Vec::new();
    for task in tasks {
        done.push(task.await.unwrap());
    }
    done
}

/// Sends raw bytes on a fresh connection and reads whatever comes back until the server closes
/// it or goes quiet for a second.
async fn raw_exchange(server: &Server, bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => seen.extend_from_slice(&buffer[..n]),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn smuggled_requests_are_refused_not_served() {
    let server = Server::start(&[]);
    let host = server.addr.to_string();
    let smuggled = format!("GET /health HTTP/1.1\r\nhost: {host}\r\nuser-agent: smuggled\r\n\r\n");
    // Content-Length and Transfer-Encoding together, the body hiding a second request.
    let both = format!(
        "POST /mcp HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"
    );
    let answer = raw_exchange(&server, both.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 400"),
        "CL with TE is refused: {answer}"
    );
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    // Two different Content-Lengths.
    let twice = format!(
        "POST /mcp HTTP/1.1\r\nhost: {host}\r\ncontent-length: 2\r\ncontent-length: 40\r\n\r\n{{}}{smuggled}"
    );
    let answer = raw_exchange(&server, twice.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    // A header name with a space, and a bare LF line ending games.
    let bad_header = format!("GET /health HTTP/1.1\r\nhost: {host}\r\nbad header: x\r\n\r\n");
    assert!(
        raw_exchange(&server, bad_header.as_bytes())
            .await
            .starts_with("HTTP/1.1 400")
    );
    let obs_fold = format!("GET /health HTTP/1.1\r\nhost: {host}\r\nx-a: 1\r\n folded: y\r\n\r\n");
    assert!(
        raw_exchange(&server, obs_fold.as_bytes())
            .await
            .starts_with("HTTP/1.1 400")
    );

    assert_eq!(health(server.addr).await["ok"], true);
}

/// Polls `/health` (bounded) until `check` holds; returns that health.
async fn health_until(server: &Server, check: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let now = health(server.addr).await;
        if check(&now) {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "health never got there: {now}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `/health` over one keep-alive connection (so the polling itself holds one connection, not a
/// new one per poll that the server may not have counted out yet), until `check` holds.
async fn health_on(
    sender: &mut hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    server: &Server,
    check: impl Fn(&Value) -> bool,
) -> Value {
    use http_body_util::BodyExt;
    let started = Instant::now();
    loop {
        let request = http::Request::get("/health")
            .header("host", server.addr.to_string())
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap();
        sender
            .ready()
            .await
            .expect("the polling connection stays open");
        let response = sender.send_request(request).await.expect("health answered");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let now: Value = serde_json::from_slice(&body).expect("health is JSON");
        if check(&now) {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "health never got there: {now}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn beyond_max_connections_a_new_connection_gets_503_and_the_rest_are_served() {
    let server = Server::start(&[("MAX_CONNECTIONS", "3"), ("HEADER_READ_TIMEOUT", "20000")]);
    let connect = || tokio::net::TcpStream::connect(server.addr);
    let mut poll = tests::load::connect(server.addr).await;
    let first = connect().await.unwrap();
    health_on(&mut poll, &server, |h| h["openConnections"] == 2).await;
    let _second = connect().await.unwrap();
    // The polling connection and two silent ones: the cap.
    health_on(&mut poll, &server, |h| h["openConnections"] == 3).await;

    let host = server.addr.to_string();
    let refused = raw_exchange(
        &server,
        format!("GET /health HTTP/1.1\r\nhost: {host}\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    let lower = refused.to_ascii_lowercase();
    assert!(lower.contains("retry-after: "), "{refused}");
    assert!(lower.contains("connection: close"), "{refused}");
    let body = refused.split("\r\n\r\n").nth(1).unwrap_or_default();
    let error: Value = serde_json::from_str(body).expect("a JSON-RPC error body");
    assert_eq!(error["error"]["code"], -32000, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MAX_CONNECTIONS")
    );
    // The refused connection was never counted.
    let now = health_on(&mut poll, &server, |_| true).await;
    assert_eq!(now["openConnections"], 3, "{now}");
    assert_eq!(now["memory"]["maxConnections"], 3, "{now}");

    // One leaves: a new one is served.
    drop(first);
    health_on(&mut poll, &server, |h| h["openConnections"] == 2).await;
    let served = raw_exchange(
        &server,
        format!("GET /health HTTP/1.1\r\nhost: {host}\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    assert!(
        server
            .logs()
            .iter()
            .any(|l| l.contains("connection limit reached (MAX_CONNECTIONS)")),
        "the refusal is logged"
    );
}

/// A POST that declares `declared` body bytes, sends `sent` of them and then nothing more.
async fn slow_upload(server: &Server, declared: usize, sent: usize) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {declared}\r\n\r\n",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b' '; sent]).await.unwrap();
    stream
}

#[tokio::test]
async fn bodies_beyond_the_bytes_in_flight_get_503_while_small_requests_go_on() {
    let server = Server::start(&[
        ("MAX_BODY_BYTES_IN_FLIGHT", "100000"),
        ("MAX_REQUEST_BODY", "80000"),
        ("BODY_READ_TIMEOUT", "20000"),
    ]);
    let host = server.addr.to_string();
    // A slow upload: 70,000 of its 80,000 bytes sent, then nothing.
    let slow = slow_upload(&server, 80_000, 70_000).await;
    let held = health_until(&server, |h| {
        h["memory"]["bodyBytesInFlight"].as_u64() >= Some(70_000)
    })
    .await;
    assert_eq!(held["memory"]["maxBodyBytesInFlight"], 100_000);

    // A whole 40,000-byte body would pass the budget.
    let padded = |pad: usize| {
        let mut params = json!({ "pad": " ".repeat(pad) });
        params["_meta"] = tests::http::modern_meta();
        json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": params }).to_string()
    };
    let big = padded(40_000);
    let modern_head = |length: usize| {
        format!(
            "POST /mcp HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: {}\r\nmcp-method: tools/list\r\ncontent-length: {length}\r\n\r\n",
            tests::http::MODERN_VERSION
        )
    };
    let refused = raw_exchange(
        &server,
        format!("{}{big}", modern_head(big.len())).as_bytes(),
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    let lower = refused.to_ascii_lowercase();
    assert!(lower.contains("retry-after:"), "{refused}");
    assert!(refused.contains("MAX_BODY_BYTES_IN_FLIGHT"), "{refused}");

    // A small request still fits beside the slow upload.
    let small = modern_request(server.addr, 1, "tools/list", json!({}), None).await;
    assert_eq!(small.status, 200);

    // The slow upload leaves: its bytes come back, and the big body is served.
    drop(slow);
    health_until(&server, |h| h["memory"]["bodyBytesInFlight"] == 0).await;
    let served = raw_exchange(
        &server,
        format!("{}{big}", modern_head(big.len())).as_bytes(),
    )
    .await;
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    assert!(served.contains("\"tools\""), "{served}");
}

#[tokio::test]
async fn one_client_over_its_body_share_gets_429_and_another_client_is_served() {
    let server = Server::start(&[
        ("MAX_BODY_BYTES_IN_FLIGHT", "1000000"),
        ("MAX_BODY_BYTES_PER_CLIENT", "100000"),
        ("MAX_REQUEST_BODY", "80000"),
        ("BODY_READ_TIMEOUT", "20000"),
    ]);
    // 127.0.0.1 starts an 80,000-byte upload and stalls: its declared length is held at once.
    let slow = slow_upload(&server, 80_000, 2).await;
    health_until(&server, |h| {
        h["memory"]["bodyBytesInFlight"].as_u64() >= Some(80_000)
    })
    .await;

    let mut params = json!({ "pad": " ".repeat(30_000) });
    params["_meta"] = tests::http::modern_meta();
    let body =
        json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": params }).to_string();
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", tests::http::MODERN_VERSION),
        ("mcp-method", "tools/list"),
    ];
    // The same client's second body would pass its 100,000 bytes: 429.
    let refused = tests::http::request(
        server.addr,
        http::Method::POST,
        "/mcp",
        &headers,
        Some(&body),
    )
    .await;
    assert_eq!(refused.status, 429);
    assert!(refused.header("retry-after").is_some());
    let text = refused.text().await;
    assert!(text.contains("MAX_BODY_BYTES_PER_CLIENT"), "{text}");
    // Another client, same body: served.
    let other = tests::http::request_from(
        Some("127.0.0.2".parse().unwrap()),
        server.addr,
        http::Method::POST,
        "/mcp",
        &headers,
        Some(&body),
    )
    .await;
    assert_eq!(other.status, 200);
    assert!(other.text().await.contains("\"tools\""));
    drop(slow);
    health_until(&server, |h| h["memory"]["bodyBytesInFlight"] == 0).await;
}

#[tokio::test]
async fn streams_whose_clients_reset_before_the_head_is_out_are_not_kept() {
    use tokio::io::AsyncWriteExt;
    let server = Server::start(&[("MAX_STREAMS_PER_CLIENT", "1000")]);
    let mut params = json!({ "notifications": { "toolsListChanged": true } });
    params["_meta"] = tests::http::modern_meta();
    let body =
        json!({ "jsonrpc": "2.0", "id": 1, "method": "subscriptions/listen", "params": params })
            .to_string();
    // A byte behind the request keeps hyper from reading the socket while the stream is
    // opened, so it learns of the reset only when writing the head: the stream's body was
    // parked for the hand-off by then.
    let request = format!(
        "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: {}\r\nmcp-method: subscriptions/listen\r\ncontent-length: {}\r\n\r\n{body}x",
        server.addr,
        tests::http::MODERN_VERSION,
        body.len()
    );
    for _ in 0..50 {
        let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        socket.write_all(request.as_bytes()).await.unwrap();
        // A zero linger: closing sends a reset at once (it never blocks, which is why tokio
        // deprecates the setting for other values).
        #[allow(deprecated)]
        socket.set_linger(Some(Duration::ZERO)).unwrap();
        drop(socket);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let now = health(server.addr).await;
    assert!(now["streamsOpened"].as_u64().unwrap() > 0, "{now}");
    let now = tests::http::wait_for_streams(server.addr, 0, Duration::from_secs(5)).await;
    assert_eq!(now["longLivedStreams"], 0, "{now}");
}
