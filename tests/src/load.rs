//! Load-generation helpers shared by the benchmarks: keep-alive HTTP/1.1 connections, MCP
//! POSTs, percentiles.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::http::{LEGACY_VERSION, MODERN_VERSION, modern_meta};

/// Settings for a server under load from one address (the benchmarks, or many clients behind one
/// test load balancer): every request comes from loopback, so the per-client limits, meant for
/// one real client, would throttle the whole load. The global caps stay.
pub const ONE_ADDRESS_LOAD: &[(&str, &str)] = &[
    ("CLIENT_REQUEST_RATE", "0"),
    ("MAX_SESSIONS_PER_CLIENT", "1000000"),
    ("MAX_STREAMS_PER_CLIENT", "1000000"),
];

/// Lets the benchmark and the server it spawns hold thousands of sockets: the soft open-file
/// limit goes up to the hard one, and the hard one (where the process may, as root) up to the
/// system's ceiling, `/proc/sys/fs/nr_open`.
pub fn raise_fd_limit() {
    let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|v| v.trim().parse::<libc::rlim_t>().ok());
    // SAFETY: getrlimit/setrlimit on our own process with a valid struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            if let Some(ceiling) = ceiling.filter(|&c| c > limit.rlim_max) {
                let raised = libc::rlimit {
                    rlim_cur: ceiling,
                    rlim_max: ceiling,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    return;
                }
            }
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// One keep-alive connection.
pub async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).ok();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

pub fn post(
    addr: SocketAddr,
    headers: &[(&str, &str)],
    body: &Value,
) -> http::Request<Full<Bytes>> {
    let mut builder = http::Request::post("/mcp")
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request")
}

/// Sends one request and reads the whole answer; `Ok` when it carries a JSON-RPC result.
pub async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
) -> Result<(http::HeaderMap, String), String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let text = String::from_utf8_lossy(&body).into_owned();
    if status.is_success() && text.contains("\"result\"") {
        Ok((headers, text))
    } else {
        Err(format!("{status}: {text}"))
    }
}

/// The `p` quantile (0-1) of sorted microsecond samples, in milliseconds.
pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

/// Which protocol era a load speaks.
#[derive(Clone, Copy, PartialEq)]
pub enum Era {
    /// 2026-07-28: stateless requests.
    Modern,
    /// 2025-11-25: one session per client.
    Legacy,
}

/// What a load measured.
pub struct Report {
    /// Requests answered with a result.
    pub requests: usize,
    /// Requests that failed.
    pub errors: usize,
    /// Latency of each answered request, sorted, in microseconds.
    pub latencies_us: Vec<u32>,
    /// How long the load ran.
    pub elapsed: Duration,
}

/// Starts a legacy session (initialize + initialized) on `sender` and returns its id.
pub async fn legacy_session(sender: &mut SendRequest<Full<Bytes>>, addr: SocketAddr) -> String {
    let initialize = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": { "name": "bench", "version": "1" } } });
    let (headers, _) = exchange(sender, post(addr, &[], &initialize))
        .await
        .expect("initialize");
    let session = headers["mcp-session-id"].to_str().unwrap().to_string();
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    sender.ready().await.unwrap();
    let response = sender
        .send_request(post(
            addr,
            &[
                ("mcp-session-id", &session),
                ("mcp-protocol-version", LEGACY_VERSION),
            ],
            &initialized,
        ))
        .await
        .unwrap();
    let _ = response.into_body().collect().await;
    session
}

/// `clients` keep-alive clients calling `tool` (no arguments) in `era` for `duration`.
pub async fn load(
    addr: SocketAddr,
    era: Era,
    tool: &'static str,
    clients: usize,
    duration: Duration,
) -> Report {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for client in 0..clients {
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let session = match era {
                Era::Legacy => Some(legacy_session(&mut sender, addr).await),
                Era::Modern => None,
            };
            let mut latencies = Vec::with_capacity(100_000);
            let mut errors = 0usize;
            let mut id = 0u64;
            while Instant::now() < deadline {
                id += 1;
                let mut params = json!({ "name": tool, "arguments": {} });
                let request = match (&session, era) {
                    (Some(session), _) => post(
                        addr,
                        &[
                            ("mcp-session-id", session),
                            ("mcp-protocol-version", LEGACY_VERSION),
                        ],
                        &json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params }),
                    ),
                    (None, _) => {
                        params["_meta"] = modern_meta();
                        post(
                            addr,
                            &[
                                ("mcp-protocol-version", MODERN_VERSION),
                                ("mcp-method", "tools/call"),
                                ("mcp-name", tool),
                            ],
                            &json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params }),
                        )
                    }
                };
                let sent = Instant::now();
                match exchange(&mut sender, request).await {
                    Ok(_) => latencies.push(sent.elapsed().as_micros() as u32),
                    Err(error) => {
                        errors += 1;
                        if errors == 1 {
                            eprintln!("client {client}: first error: {error}");
                        }
                        sender = connect(addr).await;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut report = Report {
        requests: 0,
        errors: 0,
        latencies_us: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let (latencies, errors) = task.await.expect("client task");
        report.requests += latencies.len();
        report.errors += errors;
        report.latencies_us.extend(latencies);
    }
    report.elapsed = started.elapsed();
    report.latencies_us.sort_unstable();
    report
}
