//! Benchmark: tool calls per second and latency in each protocol era, and memory per legacy
//! session, per idle keep-alive connection and per held SSE stream, against the real release
//! server on loopback.
//!
//! ```sh
//! cargo run --release -p tests --bin bench -- [--clients 64] [--seconds 5] [--streams 1000] [--server-cpus 0] [--metrics on]
//! ```
//!
//! `--metrics on` runs the server with both metrics exporters (EMF lines every minute, as on
//! ECS by default, and the Prometheus listener), to measure what recording costs per call.
//!
//! The server runs the conformance fixtures (`test_simple_text` is the tool called). With
//! `--server-cpus` (default `0` when `taskset` exists and the machine has more than one core) the
//! server is pinned to those CPUs and the load generator runs on the others, so "one core" means
//! one core. Every loop is bounded by `--seconds` or by a count.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use serde_json::json;
use tests::Server;
use tests::http::{LEGACY_VERSION, MODERN_VERSION, modern_meta};
use tests::load::{Era, connect, exchange, legacy_session, load, percentile, post, raise_fd_limit};

struct Options {
    clients: usize,
    seconds: u64,
    streams: usize,
    server_cpus: Option<String>,
    metrics: bool,
}

fn options() -> Options {
    let mut options = Options {
        clients: 64,
        seconds: 5,
        streams: 1000,
        server_cpus: (std::thread::available_parallelism().map_or(1, |n| n.get()) > 1
            && Command::new("taskset").arg("-V").output().is_ok())
        .then(|| "0".to_string()),
        metrics: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--clients" => options.clients = value.parse().expect("--clients N"),
            "--seconds" => options.seconds = value.parse().expect("--seconds N"),
            "--streams" => options.streams = value.parse().expect("--streams N"),
            "--metrics" => options.metrics = value == "on",
            "--server-cpus" => {
                options.server_cpus = (value != "none").then_some(value);
            }
            other => panic!("unknown argument {other}; see the header of tests/src/bin/bench.rs"),
        }
        i += 2;
    }
    options
}

/// Opens `count` streams of one kind (legacy GET streams use `sessions`) and keeps them while
/// the server's RSS is read; returns the growth per stream.
async fn held_streams(server: &Server, what: &str, count: usize, sessions: &[String]) -> f64 {
    let addr = server.addr;
    settle().await;
    let before = server.rss_bytes();
    let mut held = Vec::with_capacity(count);
    for (i, session) in sessions.iter().enumerate().take(count) {
        let mut sender = connect(addr).await;
        let request = match what {
            "legacy GET" => http::Request::get("/mcp")
                .header("host", addr.to_string())
                .header("accept", "text/event-stream")
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", LEGACY_VERSION)
                .body(Full::new(Bytes::new()))
                .unwrap(),
            _ => {
                let mut params = json!({ "notifications": { "toolsListChanged": true } });
                params["_meta"] = modern_meta();
                post(
                    addr,
                    &[
                        ("mcp-protocol-version", MODERN_VERSION),
                        ("mcp-method", "subscriptions/listen"),
                    ],
                    &json!({ "jsonrpc": "2.0", "id": i, "method": "subscriptions/listen", "params": params }),
                )
            }
        };
        sender.ready().await.unwrap();
        let response = sender.send_request(request).await.expect("stream opens");
        assert_eq!(response.status(), 200, "{what} stream refused");
        held.push((sender, response));
    }
    let open = wait_for_open(addr, count).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = server.rss_bytes();
    drop(held);
    wait_for_open(addr, 0).await;
    println!(
        "  {what:<13} streams held: {open:>6}   RSS +{:>8.1} KiB   per stream {:>6.2} KiB",
        (after as f64 - before as f64) / 1024.0,
        (after as f64 - before as f64) / 1024.0 / count as f64
    );
    (after as f64 - before as f64) / count as f64
}

/// Opens `count` keep-alive connections that have each been answered once (a modern
/// `tools/list`) and holds them while the server's RSS is read; returns the growth per connection.
async fn held_connections(server: &Server, count: usize) -> f64 {
    let addr = server.addr;
    settle().await;
    let before = server.rss_bytes();
    let mut held = Vec::with_capacity(count);
    for i in 0..count {
        let mut sender = connect(addr).await;
        let mut params = json!({});
        params["_meta"] = modern_meta();
        let request = post(
            addr,
            &[
                ("mcp-protocol-version", MODERN_VERSION),
                ("mcp-method", "tools/list"),
            ],
            &json!({ "jsonrpc": "2.0", "id": i, "method": "tools/list", "params": params }),
        );
        exchange(&mut sender, request)
            .await
            .expect("tools/list answered");
        held.push(sender);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = server.rss_bytes();
    drop(held);
    let grown = after as f64 - before as f64;
    println!(
        "  keep-alive connections held: {count:>6}   RSS +{:>8.1} KiB   per connection {:>6.2} KiB",
        grown / 1024.0,
        grown / 1024.0 / count as f64
    );
    grown / count as f64
}

/// Waits until memory freed by the previous phase has gone back to the system (the allocator
/// purges freed pages after a second), so each phase's growth is its own.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(2500)).await;
}

async fn wait_for_open(addr: SocketAddr, expected: usize) -> usize {
    let started = Instant::now();
    loop {
        let health = tests::http::health(addr).await;
        let open = health["activeConnections"].as_u64().unwrap_or(0) as usize;
        if open == expected || started.elapsed() > Duration::from_secs(30) {
            return open;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main]
async fn main() {
    let options = options();
    raise_fd_limit();
    let command = match &options.server_cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command
                .args(["-c", cpus])
                .arg(tests::process::binary("examples/conformance-server"));
            command
        }
        None => Command::new(tests::process::binary("examples/conformance-server")),
    };
    // Through `env`: `Server::start_command` clears the command's environment first.
    let mut env = vec![
        ("LOG_LEVEL", "warn,mcp_server=info"),
        ("MAX_LEGACY_SESSIONS", "100000"),
        ("MAX_CONNECTIONS", "1000000"),
    ];
    if options.metrics {
        env.push(("METRICS_EMF_INTERVAL", "60000"));
        env.push(("METRICS_PORT", "0"));
    }
    env.extend_from_slice(tests::load::ONE_ADDRESS_LOAD);
    let server = Server::start_command(command, &env);
    if let Some(cpus) = &options.server_cpus {
        // Keep the load generator off the server's CPUs.
        let pid = std::process::id().to_string();
        let others: Vec<String> = (0..std::thread::available_parallelism().map_or(1, |n| n.get()))
            .map(|c| c.to_string())
            .filter(|c| !cpus.split(',').any(|s| s == c))
            .collect();
        if !others.is_empty() {
            let _ = Command::new("taskset")
                .args(["-a", "-p", "-c", &others.join(","), &pid])
                .output();
        }
    }
    println!(
        "mcp-server benchmark: {} clients, {} s per era, {} held streams, server CPUs: {}, metrics: {}",
        options.clients,
        options.seconds,
        options.streams,
        options.server_cpus.as_deref().unwrap_or("all"),
        if options.metrics {
            "EMF and Prometheus"
        } else {
            "off"
        }
    );
    println!("tools/call (test_simple_text) over HTTP/1.1 keep-alive:");
    // A short warm-up so the first era does not pay for cold caches.
    load(
        server.addr,
        Era::Modern,
        "test_simple_text",
        4,
        Duration::from_millis(500),
    )
    .await;
    for (name, era) in [
        ("modern 2026-07-28", Era::Modern),
        ("legacy 2025-11-25", Era::Legacy),
    ] {
        let report = load(
            server.addr,
            era,
            "test_simple_text",
            options.clients,
            Duration::from_secs(options.seconds),
        )
        .await;
        println!(
            "  {name}: {:>9.0} req/s   p50 {:>7.3} ms   p99 {:>7.3} ms   requests {:>8}   errors {}",
            report.requests as f64 / report.elapsed.as_secs_f64(),
            percentile(&report.latencies_us, 0.50),
            percentile(&report.latencies_us, 0.99),
            report.requests,
            report.errors
        );
    }

    println!("memory (server RSS):");
    let base = server.rss_bytes();
    let mut sender = connect(server.addr).await;
    let mut sessions = Vec::with_capacity(options.streams);
    for _ in 0..options.streams {
        sessions.push(legacy_session(&mut sender, server.addr).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let with_sessions = server.rss_bytes();
    println!(
        "  legacy sessions: {:>6}   RSS +{:>8.1} KiB   per session {:>6.2} KiB",
        sessions.len(),
        (with_sessions as f64 - base as f64) / 1024.0,
        (with_sessions as f64 - base as f64) / 1024.0 / sessions.len() as f64
    );
    held_connections(&server, options.streams).await;
    held_streams(&server, "legacy GET", options.streams, &sessions).await;
    held_streams(&server, "modern listen", options.streams, &sessions).await;
    println!(
        "  server RSS at the end: {:.1} MiB",
        server.rss_bytes() as f64 / 1024.0 / 1024.0
    );
}
