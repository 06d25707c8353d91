//! Benchmark: how many long-lived SSE streams one server process holds, and what each costs,
//! past the 64k client ports of one source address.
//!
//! ```sh
//! cargo run --release -p tests --bin bench_held -- [--streams 100000] [--kind listen|get] [--per-address 20000] [--openers 64] [--per-connection 1] [--server fixtures|docs]
//! ```
//!
//! Opens `--streams` streams against the release server on loopback, each on its own
//! connection, from source addresses 127.0.0.1, 127.0.0.2, ... (`--per-address` connections
//! each: one address has about 28,000 ephemeral ports), and holds them all while it reads the
//! server's RSS and open file descriptors; then lets them go and reads the RSS again. `listen`
//! streams are modern-era `subscriptions/listen` POSTs; `get` streams are legacy GET streams,
//! each of its own session (opened first, and counted apart). It stops early, saying why, at
//! the first stream that cannot be opened (the open-file limit, the machine's memory): the
//! largest number held is a result too. It raises its own open-file limit (and so the server's)
//! as far as the system allows (`/proc/sys/fs/nr_open` for root). With `--per-connection M`
//! above 1 the streams are multiplexed instead, `M` to an HTTP/2 connection (prior knowledge;
//! the server takes up to 200 at once on one), as a load balancer that speaks HTTP/2 to its
//! targets may carry them.
//!
//! `--server` picks the server: the conformance fixtures (the default, whose legacy GET streams
//! wake their sessions in rmcp) or the documentation server itself (`docs`, whose dormant
//! sessions' GET streams are served from its change feed).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tests::Server;
use tests::http::{LEGACY_VERSION, MODERN_VERSION, modern_meta};
use tests::load::{connect, legacy_session, post, raise_fd_limit};

struct Options {
    streams: usize,
    get: bool,
    per_address: usize,
    openers: usize,
    per_connection: usize,
    docs: bool,
}

fn options() -> Options {
    let mut options = Options {
        streams: 100_000,
        get: false,
        per_address: 20_000,
        openers: 64,
        per_connection: 1,
        docs: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).expect("every option takes a value");
        match pair[0].as_str() {
            "--streams" => options.streams = value.parse().expect("--streams N"),
            "--kind" => options.get = value == "get",
            "--per-address" => options.per_address = value.parse().expect("--per-address N"),
            "--openers" => options.openers = value.parse().expect("--openers N"),
            "--per-connection" => {
                options.per_connection = value.parse().expect("--per-connection N");
            }
            "--server" => options.docs = value == "docs",
            other => panic!("unknown option {other}"),
        }
    }
    options.per_address = options.per_address.clamp(1, 28_000);
    options.per_connection = options.per_connection.clamp(1, 200);
    options
}

/// The `i`th source address: 127.0.0.1 for the first `per_address` connections, and so on.
fn source(i: usize, per_address: usize) -> SocketAddr {
    let n = (i / per_address) as u32 + 1;
    let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 0)) + n);
    SocketAddr::new(IpAddr::V4(ip), 0)
}

/// A connection that carries streams: one at a time (HTTP/1.1), or many (HTTP/2).
enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    async fn send(
        &mut self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<http::Response<hyper::body::Incoming>, String> {
        match self {
            Sender::H1(sender) => {
                sender.ready().await.map_err(|e| e.to_string())?;
                sender
                    .send_request(request)
                    .await
                    .map_err(|e| e.to_string())
            }
            Sender::H2(sender) => {
                sender.ready().await.map_err(|e| e.to_string())?;
                sender
                    .send_request(request)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// One keep-alive connection from `from` (a loopback address), HTTP/2 if `h2`.
async fn connect_from(addr: SocketAddr, from: SocketAddr, h2: bool) -> std::io::Result<Sender> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(from)?;
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    let io = TokioIo::new(stream);
    if h2 {
        let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(connection);
        return Ok(Sender::H2(sender));
    }
    let (sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    Ok(Sender::H1(sender))
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

#[tokio::main]
async fn main() {
    let options = options();
    raise_fd_limit();
    let limit = fd_limit();
    let env = [
        ("LOG_LEVEL", "warn,mcp_server=info"),
        ("MAX_CONNECTIONS", "4000000"),
        ("MAX_SSE_CONNECTIONS", "4000000"),
        ("MAX_LEGACY_SESSIONS", "4000000"),
        ("MAX_SESSIONS_PER_CLIENT", "4000000"),
        ("MAX_STREAMS_PER_CLIENT", "4000000"),
        ("CLIENT_REQUEST_RATE", "0"),
        // The streams are held while the figures are read, not ended at the usual 5 minutes.
        ("REQUEST_TIMEOUT", "3600000"),
    ];
    // Each connection takes a descriptor here and one in the server (which inherits this
    // limit); both need a few more for themselves.
    let room = (limit as usize).saturating_sub(200) * options.per_connection;
    if options.streams > room {
        println!(
            "the open-file limit ({limit}, the most this process may set) allows {room} streams, not {}",
            options.streams
        );
    }
    let options = Options {
        streams: options.streams.min(room),
        ..options
    };
    let server = if options.docs {
        Server::start(&env)
    } else {
        Server::start_fixtures(&env)
    };
    let addr = server.addr;
    let h2 = options.per_connection > 1;
    let carried = if h2 {
        format!("{} to an HTTP/2 connection", options.per_connection)
    } else {
        "each on its own connection".to_string()
    };
    println!(
        "held {} streams: {} {carried}, {} connections per source address, open-file limit {limit}",
        options.streams,
        if options.get {
            "legacy GET"
        } else {
            "modern listen"
        },
        options.per_address,
    );
    let mut sessions = Vec::new();
    if options.get {
        let mut sender = connect(addr).await;
        for _ in 0..options.streams {
            sessions.push(legacy_session(&mut sender, addr).await);
        }
        println!(
            "  {} legacy sessions opened first: server RSS {:.1} MiB",
            sessions.len(),
            mib(server.rss_bytes())
        );
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let before = server.rss_bytes();
    let fds_before = open_fds(server.pid());
    // HTTP/2: the connections first (after the figures before: their cost is the streams'),
    // each shared by its streams.
    let mut shared = Vec::new();
    if h2 {
        for c in 0..options.streams.div_ceil(options.per_connection) {
            match connect_from(addr, source(c, options.per_address), true).await {
                Ok(Sender::H2(sender)) => shared.push(sender),
                Ok(Sender::H1(_)) => unreachable!("asked for HTTP/2"),
                Err(error) => panic!("HTTP/2 connection {c}: {error}"),
            }
        }
    }
    let sessions = Arc::new(sessions);
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(options.openers));
    let mut held = Vec::with_capacity(options.streams);
    let mut opening = tokio::task::JoinSet::new();
    for i in 0..options.streams {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let (sessions, from, get) = (
            sessions.clone(),
            source(i, options.per_address),
            options.get,
        );
        let multiplexed = shared
            .get(i / options.per_connection)
            .map(|sender| Sender::H2(sender.clone()));
        opening.spawn(async move {
            let _permit = permit;
            let mut sender = match multiplexed {
                Some(sender) => sender,
                None => connect_from(addr, from, false)
                    .await
                    .map_err(|e| e.to_string())?,
            };
            let request = if get {
                http::Request::get("/mcp")
                    .header("host", addr.to_string())
                    .header("accept", "text/event-stream")
                    .header("mcp-session-id", &sessions[i])
                    .header("mcp-protocol-version", LEGACY_VERSION)
                    .body(Full::new(Bytes::new()))
                    .unwrap()
            } else {
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
            };
            let response = sender.send(request).await?;
            if response.status() != 200 {
                return Err(format!("answered {}", response.status()));
            }
            Ok((sender, response))
        });
        // Stop at the first failure: what is held then is the largest number.
        match opening.try_join_next() {
            Some(Ok(Ok(stream))) => held.push(stream),
            Some(Ok(Err(error))) => {
                println!("  stream {i} could not be opened: {error}");
                break;
            }
            Some(Err(error)) => panic!("an opener failed: {error}"),
            None => {}
        }
    }
    let mut failures = 0;
    while let Some(done) = opening.join_next().await {
        match done {
            Ok(Ok(stream)) => held.push(stream),
            Ok(Err(error)) => {
                failures += 1;
                if failures == 1 {
                    println!("  a stream could not be opened: {error}");
                }
            }
            Err(error) => panic!("an opener failed: {error}"),
        }
    }
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let at_peak = server.rss_bytes();
    let health = tests::http::health(addr).await;
    let fds_at_peak = open_fds(server.pid());
    let count = held.len().max(1) as f64;
    println!(
        "  held {} streams (server: {} open, {} long-lived) from {} source addresses, opened in {:.1} s",
        held.len(),
        health["activeConnections"],
        health["longLivedStreams"],
        held.len()
            .div_ceil(options.per_address * options.per_connection),
        opened_in.as_secs_f64()
    );
    println!(
        "  server RSS {:.1} MiB -> {:.1} MiB: {:.2} KiB per held stream (its share of its connection included); fds {fds_before} -> {fds_at_peak}",
        mib(before),
        mib(at_peak),
        (at_peak as f64 - before as f64) / 1024.0 / count
    );
    drop(held);
    drop(shared);
    let started = Instant::now();
    loop {
        let open = tests::http::health(addr).await["activeConnections"]
            .as_u64()
            .unwrap_or(0);
        if open == 0 || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    println!(
        "  after all left: server RSS {:.1} MiB, fds {}",
        mib(server.rss_bytes()),
        open_fds(server.pid())
    );
}

fn fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit on our own process with a valid struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    limit.rlim_cur
}
