//! Benchmark: tool calls per second and latency in each protocol era, and memory per legacy
//! session, per idle keep-alive connection and per held SSE stream, against the real release
//! server on loopback.
//!
//! ```sh
//! cargo run --release -p tests --bin bench -- [--clients 64] [--seconds 5] [--rounds 3] [--streams 1000] [--server-cpus 0] [--metrics on] [--baseline off]
//! ```
//!
//! The same load also runs against a bare rmcp server built in this crate (`bare_rmcp`: the
//! same tool and answer, the same rmcp version, TCP_NODELAY), era by era and round by round
//! in turn with ours, and the benchmark prints both rows and the ratios: server CPU per call
//! (from /proc), req/s, p50 and p99 (medians over `--rounds`), then the memory a legacy client
//! holding a GET stream costs each server and the RSS after all of them have gone.
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
    rounds: usize,
    baseline: bool,
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
        rounds: 3,
        baseline: true,
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
            "--rounds" => options.rounds = value.parse::<usize>().expect("--rounds N").max(1),
            "--baseline" => options.baseline = value != "off",
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

/// Starts `binary` (pinned to `cpus` when given) with `env`.
fn start(binary: &str, cpus: Option<&str>, env: &[(&str, &str)]) -> Server {
    let path = tests::process::binary(binary);
    let command = match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.args(["-c", cpus]).arg(path);
            command
        }
        None => Command::new(path),
    };
    Server::start_command(command, env)
}

/// One load's figures.
#[derive(Clone, Copy, Default)]
struct Calls {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us: f64,
    errors: usize,
}

impl Calls {
    fn median(rounds: &[Calls]) -> Calls {
        let pick = |f: fn(&Calls) -> f64| {
            let mut values: Vec<f64> = rounds.iter().map(f).collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        Calls {
            per_second: pick(|c| c.per_second),
            p50_ms: pick(|c| c.p50_ms),
            p99_ms: pick(|c| c.p99_ms),
            cpu_us: pick(|c| c.cpu_us),
            errors: rounds.iter().map(|c| c.errors).sum(),
        }
    }

    fn print(&self, name: &str) {
        println!(
            "  {name:<28} {:>9.0} req/s   p50 {:>7.3} ms   p99 {:>7.3} ms   server CPU {:>6.1} µs/call   errors {}",
            self.per_second, self.p50_ms, self.p99_ms, self.cpu_us, self.errors
        );
    }
}

/// `clients` clients calling `test_simple_text` in `era` for `seconds`, with the server's CPU.
async fn calls(server: &Server, era: Era, clients: usize, seconds: u64) -> Calls {
    let cpu = tests::process::cpu_micros(server.pid());
    let report = load(
        server.addr,
        era,
        "test_simple_text",
        clients,
        Duration::from_secs(seconds),
    )
    .await;
    let cpu = tests::process::cpu_micros(server.pid()) - cpu;
    Calls {
        per_second: report.requests as f64 / report.elapsed.as_secs_f64(),
        p50_ms: percentile(&report.latencies_us, 0.50),
        p99_ms: percentile(&report.latencies_us, 0.99),
        cpu_us: cpu / report.requests.max(1) as f64,
        errors: report.errors,
    }
}

/// `count` legacy clients, each with a session and a held GET stream on its own connection:
/// the server's RSS growth per client, and its RSS before them and after they all left
/// (streams dropped, sessions deleted).
async fn held_clients(server: &Server, count: usize) -> (f64, u64, u64) {
    let addr = server.addr;
    settle().await;
    let before = server.rss_bytes();
    let mut sender = connect(addr).await;
    let mut held = Vec::with_capacity(count);
    let mut sessions = Vec::with_capacity(count);
    for _ in 0..count {
        let session = legacy_session(&mut sender, addr).await;
        let mut stream = connect(addr).await;
        let request = http::Request::get("/mcp")
            .header("host", addr.to_string())
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", LEGACY_VERSION)
            .body(Full::new(Bytes::new()))
            .unwrap();
        stream.ready().await.unwrap();
        let response = stream
            .send_request(request)
            .await
            .expect("GET stream opens");
        assert_eq!(response.status(), 200, "GET stream refused");
        held.push((stream, response));
        sessions.push(session);
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let during = server.rss_bytes();
    drop(held);
    for session in &sessions {
        let request = http::Request::delete("/mcp")
            .header("host", addr.to_string())
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", LEGACY_VERSION)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let _ = exchange(&mut sender, request).await;
    }
    drop(sender);
    settle().await;
    let after = server.rss_bytes();
    (
        (during as f64 - before as f64) / count as f64,
        before,
        after,
    )
}

#[tokio::main]
async fn main() {
    let options = options();
    raise_fd_limit();
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
    let cpus = options.server_cpus.as_deref();
    let server = start("examples/conformance-server", cpus, &env);
    let bare = options
        .baseline
        .then(|| start("bare_rmcp", cpus, &[("LOG_LEVEL", "warn")]));
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
        "mcp-server benchmark: {} clients, {} s x {} rounds per era, {} held streams, server CPUs: {}, metrics: {}, baseline: {}",
        options.clients,
        options.seconds,
        options.rounds,
        options.streams,
        options.server_cpus.as_deref().unwrap_or("all"),
        if options.metrics {
            "EMF and Prometheus"
        } else {
            "off"
        },
        if bare.is_some() { "bare rmcp" } else { "off" }
    );
    println!("tools/call (test_simple_text) over HTTP/1.1 keep-alive (medians):");
    // A short warm-up so the first era does not pay for cold caches.
    for warmed in std::iter::once(&server).chain(bare.as_ref()) {
        calls(warmed, Era::Modern, 4, 1).await;
    }
    for (name, era) in [
        ("modern 2026-07-28", Era::Modern),
        ("legacy 2025-11-25", Era::Legacy),
    ] {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..options.rounds {
            ours.push(calls(&server, era, options.clients, options.seconds).await);
            if let Some(bare) = &bare {
                theirs.push(calls(bare, era, options.clients, options.seconds).await);
            }
        }
        let ours = Calls::median(&ours);
        ours.print(&format!("{name} (ours)"));
        if bare.is_some() {
            let theirs = Calls::median(&theirs);
            theirs.print(&format!("{name} (bare rmcp)"));
            println!(
                "  {:<28} CPU/call {:.2}x   req/s {:.2}x   p50 {:.2}x   p99 {:.2}x",
                "ours / bare rmcp",
                ours.cpu_us / theirs.cpu_us,
                ours.per_second / theirs.per_second,
                ours.p50_ms / theirs.p50_ms,
                ours.p99_ms / theirs.p99_ms
            );
        }
    }

    if let Some(bare) = &bare {
        println!("a legacy client holding a GET stream (server RSS):");
        for (name, held) in [("ours", &server), ("bare rmcp", bare)] {
            let (per_client, before, after) = held_clients(held, options.streams).await;
            println!(
                "  {name:<10} {:>6} held   per client {:>6.1} KiB   RSS {:>6.1} MiB before -> {:>6.1} MiB after all left",
                options.streams,
                per_client / 1024.0,
                before as f64 / 1048576.0,
                after as f64 / 1048576.0
            );
        }
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
