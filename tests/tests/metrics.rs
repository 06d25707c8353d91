//! Metrics, end to end on the real binary: the EMF lines on stdout are valid EMF (the
//! specification's schema and rules, checked by jsonschema) and count what happened; `/metrics`
//! on its own listener parses with the official Prometheus client's parser, follows the naming
//! rules and agrees with `/health`; the public port never serves it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::http::{
    LEGACY_VERSION, get_stream, health, initialize_message, legacy_session, listen_stream,
    modern_request, post, request, stalled_request,
};
use tests::process::Server;
use tests::tools::python_report;

/// Settings that make every error kind reachable with one request each.
const LIMITS: &[(&str, &str)] = &[
    ("MAX_REQUEST_BODY", "2000"),
    ("MAX_STREAMS_PER_CLIENT", "2"),
    ("MAX_LEGACY_SESSIONS", "1"),
    ("BODY_READ_TIMEOUT", "300"),
    ("ALLOWED_ORIGINS", "https://allowed.example"),
];

fn server(extra: &[(&str, &str)]) -> Server {
    let mut env = LIMITS.to_vec();
    env.extend_from_slice(extra);
    Server::start(&env)
}

/// The Prometheus listener's address, from the server's log.
fn metrics_addr(server: &Server) -> SocketAddr {
    let line = server.wait_for_log("metrics listening", Duration::from_secs(10));
    let log: Value = serde_json::from_str(&line).expect("JSON log line");
    log["address"]
        .as_str()
        .or_else(|| log["fields"]["address"].as_str())
        .unwrap_or_else(|| panic!("no address in {line}"))
        .parse()
        .expect("a socket address")
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
async fn traffic(addr: SocketAddr) -> Vec<tests::http::Response> {
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
    let _ = LEGACY_VERSION;
    vec![get, listen]
}

/// Polls (bounded) until `check` accepts the EMF lines written so far.
fn wait_for_lines(server: &Server, what: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let lines: Vec<Value> = server
            .stdout_lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        if check(&lines) {
            return lines;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no EMF line shows {what}; lines:\n{}",
            server.stdout_lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sum(lines: &[Value], name: &str) -> f64 {
    lines.iter().filter_map(|l| l[name].as_f64()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emf_lines_follow_the_specification_and_count_what_happened() {
    let mut server = server(&[
        ("MAX_CONNECTIONS", "8"),
        ("HEADER_READ_TIMEOUT", "400"),
        ("METRICS_EMF_INTERVAL", "200"),
        ("METRICS_NAMESPACE", "DocsMcpTest"),
        ("METRICS_SERVICE", "docs-test"),
        ("METRICS_TASK", "task-1"),
    ]);
    let addr = server.addr;
    let held = traffic(addr).await;

    // Gauges are the live state when a line is written: the session and both streams held.
    let live = health(addr).await;
    assert_eq!(live["longLivedStreams"], 2, "{live}");
    assert_eq!(live["legacySessions"], 1, "{live}");
    wait_for_lines(&server, "the held session and streams", |lines| {
        lines.last().is_some_and(|l| {
            l["LongLivedStreams"] == 2.0
                && l["LegacySessions"] == 1.0
                && l["SseConnections"] == live["activeConnections"].as_f64().unwrap()
                && l["Draining"] == 0.0
        })
    });

    // Connections that send nothing fill the cap (8: the two streams' and six idle ones); one
    // more is refused with a 503, and the idle ones are closed by HEADER_READ_TIMEOUT.
    let mut idle = Vec::new();
    for _ in 0..6 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut over = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut refusal = Vec::new();
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read_to_end(&mut over, &mut refusal),
    )
    .await;
    assert!(
        String::from_utf8_lossy(&refusal).starts_with("HTTP/1.1 503"),
        "{}",
        String::from_utf8_lossy(&refusal)
    );
    wait_for_lines(&server, "the idle connections' header timeouts", |lines| {
        sum(lines, "ClientTimeouts") >= 7.0
    });
    drop(idle);
    drop(held);

    // SIGTERM: the server drains and writes a last line for the interval cut short.
    server.signal(libc::SIGTERM);
    let (code, _) = server.wait_exit(Duration::from_secs(30));
    assert_eq!(code, Some(0));
    let text = server.stdout_lines().join("\n");
    let file = std::env::temp_dir().join(format!("emf-{}.jsonl", std::process::id()));
    std::fs::write(&file, &text).unwrap();
    let report = python_report("metrics_check.py", &["emf", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    let lines = report["documents"].as_array().expect("documents").clone();
    assert!(lines.len() >= 2, "several intervals: {text}");
    assert_eq!(
        lines.last().unwrap()["Draining"],
        1.0,
        "the last line is written while draining"
    );

    for line in &lines {
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "DocsMcpTest");
        assert_eq!(
            directive["Dimensions"],
            json!([["Service"], ["Service", "Task"]])
        );
        assert_eq!(line["Service"], "docs-test");
        assert_eq!(line["Task"], "task-1");
    }
    // Counters are per interval: their sums over the lines are what happened.
    assert_eq!(sum(&lines, "ToolCalls.search_docs"), 3.0);
    assert_eq!(sum(&lines, "ToolErrors.search_docs"), 0.0);
    assert_eq!(sum(&lines, "ToolCalls.read_doc"), 1.0);
    assert_eq!(
        sum(&lines, "ToolErrors.read_doc"),
        1.0,
        "isError counts as an error"
    );
    assert_eq!(
        sum(&lines, "ToolCalls.unknown"),
        1.0,
        "a client's tool name is not a metric"
    );
    assert_eq!(sum(&lines, "ToolErrors.unknown"), 1.0);
    assert_eq!(sum(&lines, "ToolCalls"), 5.0);
    assert_eq!(sum(&lines, "ToolErrors"), 2.0);
    assert_eq!(sum(&lines, "Http403"), 1.0);
    assert_eq!(sum(&lines, "Http404"), 1.0);
    assert_eq!(sum(&lines, "Http413"), 1.0);
    assert_eq!(sum(&lines, "Http429"), 1.0);
    assert_eq!(sum(&lines, "Http503"), 1.0, "the refused initialize");
    assert_eq!(
        sum(&lines, "Http5xx"),
        1.0,
        "not the draining /health's 503"
    );
    assert_eq!(sum(&lines, "ConnectionsRefused"), 1.0);
    assert_eq!(
        sum(&lines, "Timeouts"),
        0.0,
        "no request outran REQUEST_TIMEOUT"
    );
    assert_eq!(
        sum(&lines, "ClientTimeouts"),
        7.0,
        "the stalled body (BODY_READ_TIMEOUT) and six silent connections (HEADER_READ_TIMEOUT)"
    );
    assert_eq!(sum(&lines, "Panics"), 0.0);
    assert_eq!(sum(&lines, "Cancelled"), 0.0, "every request was answered");
    // /mcp requests: 5 tool calls, the 403, the 413, the 408, initialize and initialized, the
    // GET stream, two listens and the refused initialize (not /nowhere, not /health).
    assert_eq!(sum(&lines, "Requests"), 14.0);
    let with_latency: Vec<&Value> = lines
        .iter()
        .filter(|l| l["LatencyP50"].is_number())
        .collect();
    assert!(!with_latency.is_empty(), "latency is reported");
    for line in with_latency {
        let (p50, p99, max) = (
            line["LatencyP50"].as_f64().unwrap(),
            line["LatencyP99"].as_f64().unwrap(),
            line["LatencyMax"].as_f64().unwrap(),
        );
        assert!(0.0 <= p50 && p50 <= p99 && p99 <= max, "{line}");
        assert!(max < 30_000.0, "milliseconds, not microseconds: {line}");
    }
}

/// Writes `text` on a fresh connection and reads until the server closes it (bounded).
async fn raw_exchange(addr: SocketAddr, text: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server closed the connection within 10 s");
    String::from_utf8_lossy(&answer).into_owned()
}

/// The Prometheus text of `/metrics`, parsed by the official client's parser.
async fn scrape(metrics: SocketAddr) -> Value {
    let response = request(metrics, Method::GET, "/metrics", &[], None).await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        response.header("content-type")
    );
    let text = response.text().await;
    let file = std::env::temp_dir().join(format!(
        "metrics-{}-{}.txt",
        std::process::id(),
        metrics.port()
    ));
    std::fs::write(&file, &text).unwrap();
    let report = python_report("metrics_check.py", &["prom", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    report["families"].clone()
}

fn value(families: &Value, family: &str, labels: &[(&str, &str)]) -> f64 {
    let samples = families[family]["samples"]
        .as_array()
        .unwrap_or_else(|| panic!("no family {family}"));
    samples
        .iter()
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s["labels"][*k].as_str() == Some(*v))
        })
        .filter(|s| !s["name"].as_str().is_some_and(|n| n.ends_with("_created")))
        .map(|s| s["value"].as_f64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_metrics_are_on_their_own_port_and_agree_with_health() {
    let server = server(&[("METRICS_PORT", "0")]);
    let addr = server.addr;
    let metrics = metrics_addr(&server);
    assert_ne!(metrics.port(), addr.port());
    assert!(
        server.stdout_lines().is_empty(),
        "no EMF lines off ECS unless asked"
    );

    // The public port never serves the metrics.
    let public = request(addr, Method::GET, "/metrics", &[], None).await;
    assert_eq!(public.status, StatusCode::NOT_FOUND);
    // The metrics port serves nothing else.
    let other = request(metrics, Method::GET, "/mcp", &[], None).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let post = request(metrics, Method::POST, "/metrics", &[], Some("x")).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    // One request per connection: a second one pipelined behind the first gets no answer.
    let pipelined = raw_exchange(
        metrics,
        format!("GET /metrics HTTP/1.1\r\nhost: {metrics}\r\n\r\nGET /metrics HTTP/1.1\r\nhost: {metrics}\r\n\r\n"),
    )
    .await;
    assert_eq!(pipelined.matches("HTTP/1.1 200").count(), 1, "{pipelined}");
    // Sixteen silent connections take every slot; the next is answered 503 at once, not held.
    let mut silent = Vec::new();
    for _ in 0..16 {
        silent.push(tokio::net::TcpStream::connect(metrics).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let busy = raw_exchange(metrics, String::new()).await;
    assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
    drop(silent);

    let held = traffic(addr).await;
    // A rendering is served again for 250 ms: let the one made before the traffic go stale.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let live = health(addr).await;
    let families = scrape(metrics).await;
    let after = health(addr).await;
    assert_eq!(
        live["longLivedStreams"], after["longLivedStreams"],
        "steady"
    );

    // Naming rules: snake case with a namespace, counters end in _total (the parser strips it
    // from the family name), units in base units, a histogram's buckets, sum and count.
    let snake = regex::Regex::new("^[a-z_][a-z0-9_]*$").unwrap();
    for (name, family) in families.as_object().unwrap() {
        assert!(snake.is_match(name), "{name}");
        assert!(
            name.starts_with("mcp_") || name.starts_with("process_"),
            "{name}"
        );
        assert!(
            family["help"].as_str().is_some_and(|h| !h.is_empty()),
            "{name} has help"
        );
        if family["type"] == "counter" {
            for sample in family["samples"].as_array().unwrap() {
                let sample_name = sample["name"].as_str().unwrap();
                assert!(sample_name.ends_with("_total"), "{sample_name}");
            }
        }
    }
    assert_eq!(families["mcp_http_requests"]["type"], "counter");
    assert_eq!(families["mcp_tool_calls"]["type"], "counter");
    assert_eq!(families["mcp_timeouts"]["type"], "counter");
    assert_eq!(
        families["mcp_http_request_duration_seconds"]["type"],
        "histogram"
    );
    for gauge in [
        "mcp_sse_connections",
        "mcp_long_lived_streams",
        "mcp_open_connections",
        "mcp_legacy_sessions",
        "mcp_draining",
        "process_resident_memory_bytes",
    ] {
        assert_eq!(families[gauge]["type"], "gauge", "{gauge}");
    }

    // The gauges are /health's figures.
    assert_eq!(
        value(&families, "mcp_sse_connections", &[]),
        live["activeConnections"].as_f64().unwrap()
    );
    assert_eq!(value(&families, "mcp_long_lived_streams", &[]), 2.0);
    assert_eq!(value(&families, "mcp_legacy_sessions", &[]), 1.0);
    assert_eq!(value(&families, "mcp_draining", &[]), 0.0);
    let open = value(&families, "mcp_open_connections", &[]);
    assert!(
        open >= 2.0,
        "the two held streams' connections at least: {open}"
    );
    let rss = value(&families, "process_resident_memory_bytes", &[]);
    assert!(rss > 1e6, "{rss}");

    // The counters are what happened.
    let calls = |tool, outcome| {
        value(
            &families,
            "mcp_tool_calls",
            &[("tool", tool), ("outcome", outcome)],
        )
    };
    assert_eq!(calls("search_docs", "ok"), 3.0);
    assert_eq!(calls("read_doc", "error"), 1.0);
    assert_eq!(calls("unknown", "failed"), 1.0);
    let responses = |status| value(&families, "mcp_http_requests", &[("status", status)]);
    assert_eq!(responses("403"), 1.0);
    assert_eq!(
        responses("404"),
        2.0,
        "/nowhere, and /metrics asked of the public port"
    );
    assert_eq!(responses("408"), 1.0);
    assert_eq!(responses("413"), 1.0);
    assert_eq!(responses("429"), 1.0);
    assert_eq!(responses("503"), 1.0);
    assert_eq!(value(&families, "mcp_connections_refused", &[]), 0.0);
    assert_eq!(value(&families, "mcp_http_requests_cancelled", &[]), 0.0);
    assert_eq!(
        value(&families, "mcp_timeouts", &[("limit", "BODY_READ_TIMEOUT")]),
        1.0
    );
    // Every /mcp response is in the latency histogram (+Inf bucket = count).
    let mcp_requests = value(&families, "mcp_http_requests", &[("route", "mcp")]);
    assert_eq!(mcp_requests, 14.0);
    let histogram_count = families["mcp_http_request_duration_seconds"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["name"] == "mcp_http_request_duration_seconds_count" && s["labels"]["route"] == "mcp"
        })
        .map(|s| s["value"].as_f64().unwrap());
    assert_eq!(histogram_count, Some(mcp_requests));
    drop(held);
}
