//! Soak benchmark: churn that would show a leak, and what the process holds before and after.
//!
//! ```sh
//! cargo run --release -p tests --bin soak -- [--calls 1000000] [--sessions 100000] [--streams 100000] [--clients 32]
//! ```
//!
//! Starts the release fixture server, records its RSS (and its anonymous part), the allocator's
//! heap and metadata (`/health` `memory.heap`), open file descriptors and live tasks (`/health`
//! `tasks`), then runs three phases, each followed by a wait until every session and
//! stream is gone and a fresh reading:
//!
//! 1. `--calls` modern `tools/call`s over `--clients` keep-alive connections;
//! 2. `--sessions` legacy session cycles (`initialize`, `notifications/initialized`, `tools/list`),
//!    half ended by `DELETE`, half left to the idle timeout (2 s here);
//! 3. `--streams` `subscriptions/listen` streams opened and dropped, `--clients` at a time.
//!
//! Every loop is bounded by its count. The aim: RSS after churn within 20% of RSS before the load,
//! file descriptors and tasks back to their idle values. Not a test: run it by hand.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::Server;
use tests::http::{LEGACY_VERSION, MODERN_VERSION, health, initialize_message, modern_meta};
use tests::load::{connect, exchange, post, raise_fd_limit};

struct Options {
    calls: usize,
    sessions: usize,
    streams: usize,
    clients: usize,
}

fn options() -> Options {
    let mut options = Options {
        calls: 1_000_000,
        sessions: 100_000,
        streams: 100_000,
        clients: 32,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value: usize = pair
            .get(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{} needs a number", pair[0]));
        match pair[0].as_str() {
            "--calls" => options.calls = value,
            "--sessions" => options.sessions = value,
            "--streams" => options.streams = value,
            "--clients" => options.clients = value.max(1),
            other => panic!("unknown argument {other}; see the header of tests/src/bin/soak.rs"),
        }
    }
    options
}

/// What the server holds at one moment.
struct Reading {
    rss_mib: f64,
    /// The anonymous part of the RSS (heap and stacks; the rest is the mapped binary).
    anon_mib: f64,
    /// What the allocator says the program holds, and what its bookkeeping costs (`/health`).
    heap_allocated_mib: f64,
    heap_metadata_mib: f64,
    fds: usize,
    tasks: u64,
}

async fn reading(server: &Server) -> Reading {
    let fds = std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .map(|d| d.count())
        .unwrap_or(0);
    let h = health(server.addr).await;
    let mib = |v: &Value| v.as_u64().unwrap_or(0) as f64 / 1024.0 / 1024.0;
    Reading {
        rss_mib: server.rss_bytes() as f64 / 1024.0 / 1024.0,
        anon_mib: anonymous_kib(server.pid()) as f64 / 1024.0,
        heap_allocated_mib: mib(&h["memory"]["heap"]["allocated"]),
        heap_metadata_mib: mib(&h["memory"]["heap"]["metadata"]),
        fds,
        tasks: h["tasks"].as_u64().unwrap_or(0),
    }
}

/// `Anonymous:` from /proc/PID/smaps_rollup, in KiB (0 where the kernel has no rollup).
fn anonymous_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("Anonymous:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn print(label: &str, reading: &Reading, baseline: &Reading) {
    println!(
        "{label:<28} RSS {:7.1} MiB ({:+6.1}%)   anonymous {:6.1}   heap {:6.1}   allocator metadata {:6.1}   fds {:5}   tasks {:5}",
        reading.rss_mib,
        (reading.rss_mib / baseline.rss_mib - 1.0) * 100.0,
        reading.anon_mib,
        reading.heap_allocated_mib,
        reading.heap_metadata_mib,
        reading.fds,
        reading.tasks
    );
}

/// Waits (bounded) until the server holds no session and no stream, then 5 s more for the
/// tasks of ended streams to finish and the allocator to give memory back.
async fn quiet(addr: SocketAddr) {
    let started = Instant::now();
    loop {
        let h = health(addr).await;
        if h["legacySessions"] == 0 && h["activeConnections"] == 0 {
            tokio::time::sleep(Duration::from_secs(5)).await;
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "never quiet: {h}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn call(id: usize) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": { "name": "test_simple_text", "arguments": {}, "_meta": modern_meta() } })
}

async fn tool_calls(addr: SocketAddr, total: usize, clients: usize) {
    let headers = [
        ("mcp-protocol-version", MODERN_VERSION),
        ("mcp-method", "tools/call"),
        ("mcp-name", "test_simple_text"),
    ];
    let workers = (0..clients).map(|worker| {
        tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let mut id = worker;
            while id < total {
                exchange(&mut sender, post(addr, &headers, &call(id)))
                    .await
                    .expect("tool call answered");
                id += clients;
            }
        })
    });
    for worker in workers.collect::<Vec<_>>() {
        worker.await.unwrap();
    }
}

async fn session_cycles(addr: SocketAddr, total: usize, clients: usize) {
    let workers = (0..clients).map(|worker| {
        tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let mut n = worker;
            while n < total {
                let (headers, _) = exchange(&mut sender, post(addr, &[], &initialize_message(1)))
                    .await
                    .expect("initialize answered");
                let session = headers["mcp-session-id"].to_str().unwrap().to_string();
                let with = [
                    ("mcp-session-id", session.as_str()),
                    ("mcp-protocol-version", LEGACY_VERSION),
                ];
                let initialized =
                    json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
                sender.ready().await.unwrap();
                let _ = sender.send_request(post(addr, &with, &initialized)).await;
                let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
                exchange(&mut sender, post(addr, &with, &list))
                    .await
                    .expect("tools/list answered");
                if n % 2 == 0 {
                    let delete = http::Request::delete("/mcp")
                        .header("host", addr.to_string())
                        .header("mcp-session-id", &session)
                        .header("mcp-protocol-version", LEGACY_VERSION)
                        .body(http_body_util::Full::new(bytes::Bytes::new()))
                        .unwrap();
                    sender.ready().await.unwrap();
                    let _ = sender.send_request(delete).await;
                }
                n += clients;
            }
        })
    });
    for worker in workers.collect::<Vec<_>>() {
        worker.await.unwrap();
    }
}

async fn stream_cycles(addr: SocketAddr, total: usize, clients: usize) {
    let listen = json!({ "jsonrpc": "2.0", "id": 1, "method": "subscriptions/listen",
        "params": { "notifications": { "toolsListChanged": true }, "_meta": modern_meta() } });
    let headers = [
        ("mcp-protocol-version", MODERN_VERSION),
        ("mcp-method", "subscriptions/listen"),
    ];
    let workers = (0..clients).map(|worker| {
        let listen = listen.clone();
        tokio::spawn(async move {
            let mut n = worker;
            while n < total {
                // One connection per stream, dropped with it, as a client that goes away does.
                let mut sender = connect(addr).await;
                sender.ready().await.unwrap();
                let response = sender
                    .send_request(post(addr, &headers, &listen))
                    .await
                    .expect("listen answered");
                assert!(response.status().is_success(), "{}", response.status());
                drop(response);
                drop(sender);
                n += clients;
            }
        })
    });
    for worker in workers.collect::<Vec<_>>() {
        worker.await.unwrap();
    }
}

#[tokio::main]
async fn main() {
    let options = options();
    raise_fd_limit();
    let mut env = vec![
        (
            "LOG_LEVEL",
            "warn,mcp_server=info,mcp_server::lifecycle::streams=warn",
        ),
        ("LEGACY_SESSION_IDLE_TIMEOUT", "2000"),
        ("REQUEST_TIMEOUT", "1000"),
        ("MAX_LEGACY_SESSIONS", "1000000"),
    ];
    env.extend_from_slice(tests::load::ONE_ADDRESS_LOAD);
    let server = Server::start_fixtures(&env);
    let addr = server.addr;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = reading(&server).await;
    print("before load", &baseline, &baseline);

    let started = Instant::now();
    tool_calls(addr, options.calls, options.clients).await;
    quiet(addr).await;
    let seconds = started.elapsed().as_secs_f64();
    print(
        &format!("{} tool calls", options.calls),
        &reading(&server).await,
        &baseline,
    );
    println!("{:>28} {:.0} calls/s", "", options.calls as f64 / seconds);

    session_cycles(addr, options.sessions, options.clients).await;
    quiet(addr).await;
    print(
        &format!("{} session cycles", options.sessions),
        &reading(&server).await,
        &baseline,
    );

    stream_cycles(addr, options.streams, options.clients).await;
    quiet(addr).await;
    let after = reading(&server).await;
    print(
        &format!("{} stream cycles", options.streams),
        &after,
        &baseline,
    );
    println!(
        "RSS after churn is {:.0}% of RSS before the load (aim: within 20%)",
        after.rss_mib / baseline.rss_mib * 100.0
    );
}
