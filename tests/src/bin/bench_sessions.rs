//! Benchmark: legacy sessions in a shared store (`SESSION_STORE` on a real `redis-server`)
//! against sessions in memory, on the release server over loopback.
//!
//! ```sh
//! cargo run --release -p tests --bin bench_sessions -- [--clients 32] [--seconds 5] [--rounds 3] [--sessions 10000] [--batch 500]
//! ```
//!
//! Prints, measured in the same run:
//! - legacy `tools/call` throughput and latency with the store and in memory (rounds alternate
//!   between the two; the median round is shown, and the store's as a ratio of memory's);
//! - restore latency: the first request for a session on a server that does not hold it (load
//!   from the store, handshake replay, the call), p50/p99, next to a call on a session held;
//! - memory per idle session: in process (heap and RSS) while held, and after the server has
//!   dropped idle sessions from memory (`LEGACY_SESSION_MEMORY_IDLE_TIMEOUT`), once after holding
//!   them all at once and once for sessions arriving `--batch` at a time; in the store
//!   (`MEMORY USAGE` of a key, and the store's `used_memory` growth per session).
//!
//! The servers run the conformance fixtures (`test_simple_text` is the tool called). Every loop
//! is bounded by `--seconds` or by a count.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::Server;
use tests::http::LEGACY_VERSION;
use tests::load::{Era, connect, exchange, legacy_session, load, percentile, post, raise_fd_limit};
use tests::tools::Redis;

struct Options {
    clients: usize,
    seconds: u64,
    rounds: usize,
    sessions: usize,
    batch: usize,
}

fn options() -> Options {
    let mut options = Options {
        clients: 32,
        seconds: 5,
        rounds: 3,
        sessions: 10_000,
        batch: 500,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--clients" => options.clients = value.parse().expect("--clients N"),
            "--seconds" => options.seconds = value.parse().expect("--seconds N"),
            "--rounds" => options.rounds = value.parse().expect("--rounds N"),
            "--sessions" => options.sessions = value.parse().expect("--sessions N"),
            "--batch" => options.batch = value.parse().expect("--batch N"),
            other => {
                panic!(
                    "unknown argument {other}; see the header of tests/src/bin/bench_sessions.rs"
                )
            }
        }
    }
    options
}

/// A fixtures server with these settings, under load from one address.
fn server(extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("LOG_LEVEL", "warn,mcp_server=info"),
        ("MAX_LEGACY_SESSIONS", "1000000"),
        ("MAX_CONNECTIONS", "1000000"),
    ];
    env.extend_from_slice(tests::load::ONE_ADDRESS_LOAD);
    env.extend_from_slice(extra);
    Server::start_fixtures(&env)
}

/// `/health`.
async fn health(addr: SocketAddr) -> Value {
    tests::http::health(addr).await
}

/// The heap in use (jemalloc's `allocated`), from `/health`.
async fn heap(addr: SocketAddr) -> f64 {
    health(addr).await["memory"]["heap"]["allocated"]
        .as_f64()
        .unwrap_or(f64::NAN)
}

/// Starts `count` legacy sessions on `addr` over a few connections.
async fn start_sessions(addr: SocketAddr, count: usize) -> Vec<String> {
    let lanes = 8.min(count.max(1));
    let mut tasks = Vec::new();
    for lane in 0..lanes {
        let share = count / lanes + usize::from(lane < count % lanes);
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let mut ids = Vec::with_capacity(share);
            for _ in 0..share {
                ids.push(legacy_session(&mut sender, addr).await);
            }
            ids
        }));
    }
    let mut ids = Vec::with_capacity(count);
    for task in tasks {
        ids.extend(task.await.expect("session lane"));
    }
    ids
}

/// One legacy call in `session`, timed in microseconds.
async fn timed_call(
    sender: &mut hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    addr: SocketAddr,
    session: &str,
    id: u64,
) -> u32 {
    let request = post(
        addr,
        &[
            ("mcp-session-id", session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        &json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call",
                 "params": { "name": "test_simple_text", "arguments": {} } }),
    );
    let sent = Instant::now();
    exchange(sender, request)
        .await
        .expect("the call is answered");
    sent.elapsed().as_micros() as u32
}

/// Polls (bounded) until the server holds `expected` sessions.
async fn wait_for_sessions(addr: SocketAddr, expected: u64, timeout: Duration) {
    let started = Instant::now();
    while health(addr).await["legacySessions"].as_u64() != Some(expected) {
        assert!(
            started.elapsed() < timeout,
            "the server never held {expected} sessions"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::main]
async fn main() {
    let options = options();
    raise_fd_limit();
    let redis = Redis::start();
    let url = redis.url();
    println!(
        "session store benchmark: redis-server {} on loopback, {} clients, {} s x {} rounds, {} sessions",
        redis
            .cli(&["INFO", "server"])
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .unwrap_or("?")
            .trim(),
        options.clients,
        options.seconds,
        options.rounds,
        options.sessions
    );

    // Throughput: the same legacy load on a server with the store and one without.
    let memory = server(&[]);
    let stored = server(&[("SESSION_STORE", &url)]);
    let mut rounds: [Vec<(f64, f64, f64)>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..options.rounds {
        for (which, target) in [(0, &memory), (1, &stored)] {
            let report = load(
                target.addr,
                Era::Legacy,
                "test_simple_text",
                options.clients,
                Duration::from_secs(options.seconds),
            )
            .await;
            assert_eq!(report.errors, 0, "the load had errors");
            rounds[which].push((
                report.requests as f64 / report.elapsed.as_secs_f64(),
                percentile(&report.latencies_us, 0.50),
                percentile(&report.latencies_us, 0.99),
            ));
        }
    }
    let median = |samples: &mut Vec<(f64, f64, f64)>| {
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        samples[samples.len() / 2]
    };
    let in_memory = median(&mut rounds[0]);
    let with_store = median(&mut rounds[1]);
    println!("legacy tools/call (median round):");
    println!(
        "  memory: {:>8.0} req/s   p50 {:.3} ms   p99 {:.3} ms",
        in_memory.0, in_memory.1, in_memory.2
    );
    println!(
        "  store:  {:>8.0} req/s   p50 {:.3} ms   p99 {:.3} ms   ({:.2}x memory's throughput)",
        with_store.0,
        with_store.1,
        with_store.2,
        with_store.0 / in_memory.0
    );
    drop(memory);
    drop(stored);
    redis.cli(&["FLUSHALL"]);

    // Restore: sessions started on one server, each first used on another.
    let origin = server(&[("SESSION_STORE", &url)]);
    let other = server(&[("SESSION_STORE", &url)]);
    let restores = options.sessions.min(2000);
    let ids = start_sessions(origin.addr, restores).await;
    let mut sender = connect(other.addr).await;
    let mut restore_us = Vec::with_capacity(ids.len());
    let mut held_us = Vec::with_capacity(ids.len());
    for (n, id) in ids.iter().enumerate() {
        restore_us.push(timed_call(&mut sender, other.addr, id, 2 * n as u64 + 1).await);
        held_us.push(timed_call(&mut sender, other.addr, id, 2 * n as u64 + 2).await);
    }
    restore_us.sort_unstable();
    held_us.sort_unstable();
    println!("restore on another server ({restores} sessions, one at a time):");
    println!(
        "  first request (restore + call): p50 {:.3} ms   p99 {:.3} ms",
        percentile(&restore_us, 0.50),
        percentile(&restore_us, 0.99)
    );
    println!(
        "  next request (held):            p50 {:.3} ms   p99 {:.3} ms",
        percentile(&held_us, 0.50),
        percentile(&held_us, 0.99)
    );
    drop(origin);
    drop(other);
    redis.cli(&["FLUSHALL"]);

    // Memory per idle session, in process and in the store.
    let store_before: f64 = redis
        .cli(&["INFO", "memory"])
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN);
    let idle = server(&[
        ("SESSION_STORE", &url),
        ("LEGACY_SESSION_MEMORY_IDLE_TIMEOUT", "2000"),
    ]);
    // Warm the server up (allocator caches, first connections) before the baseline.
    let warm = start_sessions(idle.addr, 100).await;
    wait_for_sessions(idle.addr, 0, Duration::from_secs(30)).await;
    drop(warm);
    let (heap_base, rss_base) = (heap(idle.addr).await, idle.rss_bytes() as f64);
    // First all at once (the cost of a held session), then the idle ones.
    let ids = start_sessions(idle.addr, options.sessions).await;
    let (heap_held, rss_held) = (heap(idle.addr).await, idle.rss_bytes() as f64);
    wait_for_sessions(idle.addr, 0, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (heap_idle, rss_idle) = (heap(idle.addr).await, idle.rss_bytes() as f64);
    drop(idle);
    redis.cli(&["FLUSHALL"]);
    // As sessions arrive in practice: a few at a time, each idle batch leaving memory before
    // the next arrives, so the process never holds them all at once.
    let trickle = server(&[
        ("SESSION_STORE", &url),
        ("LEGACY_SESSION_MEMORY_IDLE_TIMEOUT", "1000"),
    ]);
    let warm = start_sessions(trickle.addr, options.batch).await;
    wait_for_sessions(trickle.addr, 0, Duration::from_secs(30)).await;
    drop(warm);
    let (heap_start, rss_start) = (heap(trickle.addr).await, trickle.rss_bytes() as f64);
    let mut trickled = 0;
    while trickled < options.sessions {
        let batch = options.batch.min(options.sessions - trickled);
        trickled += start_sessions(trickle.addr, batch).await.len();
        wait_for_sessions(trickle.addr, 0, Duration::from_secs(60)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (heap_trickled, rss_trickled) = (heap(trickle.addr).await, trickle.rss_bytes() as f64);
    let store_after: f64 = redis
        .cli(&["INFO", "memory"])
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN);
    let keys = redis.keys("docs-mcp:session:*");
    let sample: Vec<f64> = keys
        .iter()
        .take(100)
        .filter_map(|k| redis.cli(&["MEMORY", "USAGE", k]).trim().parse().ok())
        .collect();
    let n = ids.len() as f64;
    println!("memory per legacy session ({} sessions):", ids.len());
    println!(
        "  in process, held:                      heap {:>7.2} KiB   RSS {:>7.2} KiB",
        (heap_held - heap_base) / n / 1024.0,
        (rss_held - rss_base) / n / 1024.0
    );
    println!(
        "  in process, idle, after all were held: heap {:>7.3} KiB   RSS {:>7.3} KiB",
        (heap_idle - heap_base) / n / 1024.0,
        (rss_idle - rss_base) / n / 1024.0
    );
    println!(
        "  in process, idle, {:>5} held at a time:  heap {:>7.3} KiB   RSS {:>7.3} KiB",
        options.batch,
        (heap_trickled - heap_start) / trickled as f64 / 1024.0,
        (rss_trickled - rss_start) / trickled as f64 / 1024.0
    );
    println!(
        "  in the store: {} keys, MEMORY USAGE {:.0} bytes per key, used_memory +{:.0} bytes per session",
        keys.len(),
        sample.iter().sum::<f64>() / sample.len().max(1) as f64,
        (store_after - store_before) / keys.len().max(1) as f64
    );
    // The sessions still work after leaving memory (the first ones were flushed; these not).
    let last = start_sessions(trickle.addr, 1).await;
    wait_for_sessions(trickle.addr, 0, Duration::from_secs(30)).await;
    let mut sender = connect(trickle.addr).await;
    timed_call(&mut sender, trickle.addr, &last[0], 1).await;
}
