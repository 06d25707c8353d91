//! `/metrics`: its own port, the official parser, the naming rules, and `/health`'s figures.

use std::net::SocketAddr;
use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::Value;
use tests::http::{health, request};
use tests::process::Server;
use tests::tools::python_report;

use super::traffic::{server, traffic};

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
