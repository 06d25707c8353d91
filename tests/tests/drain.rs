//! Draining over real sockets: the idle guess (armed by a load-balancer health check, undone by
//! the next one), ECS task metadata through a loopback stand-in, the stream cap, and in-flight
//! work finishing through SIGTERM.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::Server;
use tests::http::{
    LEGACY_VERSION, SseStream, get_stream, health, legacy_session, listen_stream, modern_request,
    post, request,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ELB: &str = "ELB-HealthChecker/2.0";

async fn health_check(server: &Server, agent: &str) -> (StatusCode, Value) {
    let response = request(
        server.addr,
        Method::GET,
        "/health",
        &[("user-agent", agent)],
        None,
    )
    .await;
    (response.status, response.json().await)
}

/// Reads until the stream ends; returns the last block's `retry:` value.
async fn ends_with_retry(stream: &mut SseStream, within: Duration) -> Option<u64> {
    let events = stream.until_end(within).await;
    events.last().and_then(|e| e.retry())
}

async fn tool_call_ok(server: &Server, id: i64) {
    let answer = modern_request(
        server.addr,
        id,
        "tools/call",
        json!({ "name": "search_docs", "arguments": { "query": "drain" } }),
        Some("search_docs"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let message = answer.message().await;
    assert!(
        message["result"]["structuredContent"]["hits"].is_array(),
        "{message}"
    );
}

/// A task metadata stand-in that reports the task RUNNING: the server is on ECS.
async fn running_task_metadata() -> String {
    metadata_stand_in(
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    )
    .await
}

// Multi-threaded: the metadata stand-in must run while the test blocks on log lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_behind_a_load_balancer_drains_and_the_next_health_check_undoes_it() {
    let uri = running_task_metadata().await;
    let server = Server::start(&[
        ("ECS_CONTAINER_METADATA_URI_V4", &uri),
        ("DRAIN_IDLE_TIMEOUT", "600"),
        ("SSE_RETRY_INTERVAL", "2500"),
        ("SSE_KEEPALIVE_INTERVAL", "100"),
    ]);
    let (status, body) = health_check(&server, ELB).await;
    assert_eq!(
        (status, body["draining"].clone()),
        (StatusCode::OK, json!(false))
    );
    server.wait_for_log("idle drain guess armed", Duration::from_secs(5));

    let session = legacy_session(server.addr).await;
    let get = get_stream(server.addr, &session).await;
    assert_eq!(get.status, StatusCode::OK);
    let listen = listen_stream(server.addr, 1).await;
    assert_eq!(listen.status, StatusCode::OK);
    let (mut get, mut listen) = (get.sse(), listen.sse());

    // No requests now: keep-alive comments do not count.
    let silent = Instant::now();
    assert_eq!(
        ends_with_retry(&mut get, Duration::from_secs(5)).await,
        Some(2500)
    );
    assert_eq!(
        ends_with_retry(&mut listen, Duration::from_secs(5)).await,
        Some(2500)
    );
    assert!(
        silent.elapsed() >= Duration::from_millis(550),
        "drained after {:?}",
        silent.elapsed()
    );
    server.wait_for_log("assuming drain", Duration::from_secs(1));

    // Draining: new streams refused, POSTs served, health says so (200: a guess).
    let refused = get_stream(server.addr, &session).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.header("retry-after"), Some("2"));
    assert_eq!(
        listen_stream(server.addr, 2).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    tool_call_ok(&server, 3).await;
    let legacy_call = post(
        server.addr,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        &json!({ "jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {} }),
    )
    .await;
    assert_eq!(legacy_call.status, StatusCode::OK);
    let body = health(server.addr).await;
    assert_eq!(
        (body["draining"].clone(), body["drainReason"].clone()),
        (json!(true), json!("idle"))
    );

    // The load balancer checks again: it still routes here, so the guess was wrong.
    let (status, body) = health_check(&server, ELB).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["draining"], false);
    assert_eq!(
        get_stream(server.addr, &session).await.status,
        StatusCode::OK
    );
    server.wait_for_log("back in service", Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_load_balancer_silence_never_drains_whatever_a_client_claims() {
    // Off ECS a health-check User-Agent arms nothing; on ECS neither does one that came
    // through the load balancer's listener (X-Forwarded-For): both are a client's claim.
    let uri = running_task_metadata().await;
    let off_ecs = Server::start(&[
        ("DRAIN_IDLE_TIMEOUT", "200"),
        ("SSE_KEEPALIVE_INTERVAL", "100"),
    ]);
    let on_ecs = Server::start(&[
        ("ECS_CONTAINER_METADATA_URI_V4", &uri),
        ("DRAIN_IDLE_TIMEOUT", "200"),
        ("SSE_KEEPALIVE_INTERVAL", "100"),
    ]);
    health_check(&off_ecs, ELB).await;
    let forwarded = request(
        on_ecs.addr,
        Method::GET,
        "/health",
        &[("user-agent", ELB), ("x-forwarded-for", "203.0.113.9")],
        None,
    )
    .await;
    assert_eq!(forwarded.status, StatusCode::OK);
    for server in [&off_ecs, &on_ecs] {
        stays_serving_through_silence(server).await;
        assert!(
            !server
                .logs()
                .iter()
                .any(|l| l.contains("idle drain guess armed")),
            "armed by a client"
        );
    }
}

async fn stays_serving_through_silence(server: &Server) {
    let session = legacy_session(server.addr).await;
    let mut stream = get_stream(server.addr, &session).await.sse();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1200) {
        stream
            .next_event(Duration::from_secs(2))
            .await
            .expect("the stream stays open");
    }
    assert_eq!(health(server.addr).await["draining"], false);
}

/// A loopback stand-in for the ECS task metadata endpoint: `/v4/x/task` answers with the
/// current `DesiredStatus` and a 2 GiB task limit, `/v4/x` with a container limited to 1 GiB,
/// or both 500 while `broken` is set.
async fn metadata_stand_in(
    stopped: Arc<AtomicBool>,
    broken: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (stopped, broken, hits) = (stopped.clone(), broken.clone(), hits.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                hits.fetch_add(1, Ordering::Relaxed);
                let request = String::from_utf8_lossy(&head);
                let (status, body) = if broken.load(Ordering::Relaxed) {
                    ("500 Internal Server Error", "oops".to_string())
                } else if request.starts_with("GET /v4/x/task ") {
                    let desired = if stopped.load(Ordering::Relaxed) {
                        "STOPPED"
                    } else {
                        "RUNNING"
                    };
                    ("200 OK", json!({ "Cluster": "c", "TaskARN": "arn:aws:ecs:t", "KnownStatus": "RUNNING", "DesiredStatus": desired, "Limits": { "CPU": 0.5, "Memory": 2048 } }).to_string())
                } else if request.starts_with("GET /v4/x ") {
                    (
                        "200 OK",
                        json!({ "Name": "docs-mcp", "Limits": { "CPU": 256, "Memory": 1024 } })
                            .to_string(),
                    )
                } else {
                    ("404 Not Found", "{}".to_string())
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/v4/x")
}

// Multi-threaded: the metadata stand-in must run while the test blocks on log lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_desired_status_stopped_drains_and_metadata_failures_are_not_fatal() {
    let (stopped, broken, hits) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(true)),
        Arc::new(AtomicUsize::new(0)),
    );
    let uri = metadata_stand_in(stopped.clone(), broken.clone(), hits.clone()).await;
    let server = Server::start(&[
        ("ECS_CONTAINER_METADATA_URI_V4", &uri),
        ("ECS_METADATA_POLL_INTERVAL", "100"),
        ("DRAIN_IDLE_GUESS", "off"),
    ]);
    server.wait_for_log("ECS task metadata unavailable", Duration::from_secs(5));
    tool_call_ok(&server, 1).await;
    broken.store(false, Ordering::Relaxed);
    server.wait_for_log("ECS task metadata reachable again", Duration::from_secs(5));
    let session = legacy_session(server.addr).await;
    let mut stream = get_stream(server.addr, &session).await.sse();
    assert_eq!(health(server.addr).await["draining"], false);

    stopped.store(true, Ordering::Relaxed);
    assert!(
        ends_with_retry(&mut stream, Duration::from_secs(5))
            .await
            .is_some()
    );
    let response = request(server.addr, Method::GET, "/health", &[], None).await;
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a final drain answers 503"
    );
    let body = response.json().await;
    assert_eq!(body["drainReason"], "ecs-stopping");
    tool_call_ok(&server, 2).await;
    let polled = hits.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        hits.load(Ordering::Relaxed),
        polled,
        "polling stops once the task is stopping"
    );
}

// Multi-threaded: the metadata stand-in must answer while the server starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_ecs_the_memory_limit_and_the_default_caps_come_from_task_metadata() {
    let uri = running_task_metadata().await;
    let server = Server::start(&[("ECS_CONTAINER_METADATA_URI_V4", &uri)]);
    let memory = health(server.addr).await["memory"].clone();
    assert_eq!(
        memory["limit"],
        1u64 << 30,
        "the container's 1 GiB, not the task's 2: {memory}"
    );
    assert_eq!(memory["limitSource"], "ECS task metadata");
    // The documentation's reserve comes off the top (twice twelve bytes per byte of text), then
    // the caps are those of the memory left: with no docs, 3,981 sessions and 9,953 streams.
    let docs_bytes = health(server.addr).await["docs"]["bytes"].as_u64().unwrap();
    let per_byte = mcp_server::config::DOCS_BYTES_PER_TEXT_BYTE;
    assert_eq!(per_byte, 12);
    assert_eq!(memory["docsReserve"], docs_bytes * per_byte * 2, "{memory}");
    let mut expected = mcp_server::config::Config::from_lookup(|name| {
        (name == "MEMORY_LIMIT").then(|| (1u64 << 30).to_string())
    })
    .unwrap();
    assert_eq!(expected.max_legacy_sessions, 3981, "without the docs");
    expected.reserve_docs_memory(docs_bytes);
    assert!(expected.max_legacy_sessions < 3981);
    assert_eq!(memory["maxLegacySessions"], expected.max_legacy_sessions);
    assert_eq!(memory["maxSseConnections"], expected.max_sse_connections);
    assert_eq!(memory["maxConnections"], expected.max_connections);
    assert_eq!(
        memory["maxBodyBytesInFlight"],
        expected.max_body_bytes_in_flight
    );
    // The allocator's own account: the index and the runtime are live data, and the allocator
    // cannot hold less than it hands out.
    let heap = &memory["heap"];
    let figure = |name: &str| {
        heap[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: {memory}"))
    };
    assert!(figure("allocated") > 1 << 20, "{memory}");
    assert!(figure("active") >= figure("allocated"), "{memory}");
    assert!(figure("resident") >= figure("metadata"), "{memory}");

    // MEMORY_LIMIT wins, and caps that were given are kept.
    let server = Server::start(&[
        ("ECS_CONTAINER_METADATA_URI_V4", &uri),
        ("MEMORY_LIMIT", "536870912"),
        ("MAX_SSE_CONNECTIONS", "7"),
    ]);
    let memory = health(server.addr).await["memory"].clone();
    assert_eq!(memory["limit"], 512u64 << 20);
    assert_eq!(memory["limitSource"], "MEMORY_LIMIT");
    assert_eq!(memory["maxSseConnections"], 7);
    assert!(
        memory["maxLegacySessions"].as_u64().unwrap() < 3981,
        "{memory}"
    );
}

#[tokio::test]
async fn beyond_max_sse_connections_a_new_stream_gets_503_and_posts_go_on() {
    let server = Server::start(&[("MAX_SSE_CONNECTIONS", "2")]);
    let session = legacy_session(server.addr).await;
    let _a = get_stream(server.addr, &session).await;
    let _b = listen_stream(server.addr, 1).await;
    tests::http::wait_for_streams(server.addr, 2, Duration::from_secs(5)).await;
    let refused = listen_stream(server.addr, 2).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.header("retry-after").is_some());
    assert!(refused.text().await.contains("MAX_SSE_CONNECTIONS"));
    tool_call_ok(&server, 3).await;
}

#[tokio::test]
async fn an_in_flight_tool_call_finishes_through_sigterm() {
    let mut server = Server::start_fixtures(&[("SHUTDOWN_TIMEOUT", "5000")]);
    let addr = server.addr;
    let call = tokio::spawn(async move {
        modern_request(
            addr,
            1,
            "tools/call",
            json!({ "name": "fixture_sleep", "arguments": { "ms": 800 } }),
            Some("fixture_sleep"),
        )
        .await
        .message()
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal(libc::SIGTERM);
    let answer = call.await.unwrap();
    assert_eq!(
        answer["result"]["content"][0]["text"], "slept 800 ms",
        "{answer}"
    );
    let (code, took) = server.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(3), "{took:?}");
    server.wait_for_log("draining (SIGTERM received)", Duration::from_secs(1));
}
