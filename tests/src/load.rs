//! Load-generation helpers shared by the benchmarks: keep-alive HTTP/1.1 connections, MCP
//! POSTs, percentiles.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// Settings for a server under load from one address (the benchmarks, or many clients behind one
/// test load balancer): every request comes from loopback, so the per-client limits, meant for
/// one real client, would throttle the whole load. The global caps stay.
pub const ONE_ADDRESS_LOAD: &[(&str, &str)] = &[
    ("CLIENT_REQUEST_RATE", "0"),
    ("MAX_SESSIONS_PER_CLIENT", "1000000"),
    ("MAX_STREAMS_PER_CLIENT", "1000000"),
];

/// Lets the benchmark and the server it spawns hold thousands of sockets.
pub fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit on our own process with a valid struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
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
