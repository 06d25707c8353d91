//! The EMF lines: the specification's structure, and sums that are what happened.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::http::health;
use tests::process::Server;
use tests::tools::python_report;

use super::traffic::{server, traffic};

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
    for (name, expected, why) in [
        ("ToolCalls.search_docs", 3.0, ""),
        ("ToolErrors.search_docs", 0.0, ""),
        ("ToolCalls.read_doc", 1.0, ""),
        ("ToolErrors.read_doc", 1.0, "isError counts as an error"),
        (
            "ToolCalls.unknown",
            1.0,
            "a client's tool name is not a metric",
        ),
        ("ToolErrors.unknown", 1.0, ""),
        ("ToolCalls", 5.0, ""),
        ("ToolErrors", 2.0, ""),
        ("Http403", 1.0, ""),
        ("Http404", 1.0, ""),
        ("Http413", 1.0, ""),
        ("Http429", 1.0, ""),
        ("Http503", 1.0, "the refused initialize"),
        ("Http5xx", 1.0, "not the draining /health's 503"),
        ("ConnectionsRefused", 1.0, ""),
        ("Timeouts", 0.0, "no request outran REQUEST_TIMEOUT"),
        (
            "ClientTimeouts",
            7.0,
            "the stalled body (BODY_READ_TIMEOUT) and six silent connections (HEADER_READ_TIMEOUT)",
        ),
        ("Panics", 0.0, ""),
        ("Cancelled", 0.0, "every request was answered"),
    ] {
        assert_eq!(sum(&lines, name), expected, "{name}: {why}");
    }
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
