//! A small HTTP/1.1 client over hyper: one connection per request, raw headers in and out, and
//! SSE bodies read event by event with the time each arrived.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// `Accept` for MCP POSTs: both forms an answer may take.
pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";
/// The legacy revision the tests negotiate.
pub const LEGACY_VERSION: &str = "2025-11-25";
/// The modern (stateless) revision.
pub const MODERN_VERSION: &str = "2026-07-28";

/// An answer whose body has not been read yet.
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    body: Incoming,
}

/// Sends one request on a fresh connection. `Host` defaults to the address.
pub async fn request(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Response {
    request_from(None, addr, method, path, headers, body).await
}

/// Like [`request`], from the loopback address `source` (127.0.0.2, say): another client.
pub async fn request_from(
    source: Option<std::net::IpAddr>,
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Response {
    let stream = match source {
        None => tokio::net::TcpStream::connect(addr).await.expect("connect"),
        Some(source) => {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket
                .bind(SocketAddr::new(source, 0))
                .expect("bind the source address");
            socket.connect(addr).await.expect("connect")
        }
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let mut builder = http::Request::builder().method(method).uri(path);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        builder = builder.header("host", addr.to_string());
    }
    for (key, value) in headers {
        builder = builder.header(*key, *value);
    }
    let request = builder
        .body(Full::new(Bytes::from(body.unwrap_or("").to_string())))
        .expect("request builds");
    let response = tokio::time::timeout(Duration::from_secs(30), sender.send_request(request))
        .await
        .expect("answer within 30 s")
        .expect("answer");
    let (parts, body) = response.into_parts();
    Response {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// POSTs a JSON-RPC message to `/mcp` with the usual MCP headers plus `extra`.
pub async fn post(addr: SocketAddr, extra: &[(&str, &str)], message: &Value) -> Response {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", ACCEPT_BOTH),
    ];
    headers.extend_from_slice(extra);
    request(
        addr,
        Method::POST,
        "/mcp",
        &headers,
        Some(&message.to_string()),
    )
    .await
}

impl Response {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The whole body as text (bounded wait).
    pub async fn text(self) -> String {
        let bytes = tokio::time::timeout(Duration::from_secs(30), self.body.collect())
            .await
            .expect("body within 30 s")
            .expect("body")
            .to_bytes();
        String::from_utf8(bytes.to_vec()).expect("UTF-8 body")
    }

    /// The body as JSON.
    pub async fn json(self) -> Value {
        let text = self.text().await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// The JSON-RPC message of a JSON or SSE answer (the first event carrying data).
    pub async fn message(self) -> Value {
        if self
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream"))
        {
            let mut sse = self.sse();
            loop {
                let event = sse
                    .next_event(Duration::from_secs(30))
                    .await
                    .expect("an SSE event with a message");
                if let Some(data) = event.data()
                    && !data.is_empty()
                {
                    return serde_json::from_str(&data).expect("SSE data is JSON");
                }
            }
        } else {
            self.json().await
        }
    }

    /// Reads the body as an SSE stream.
    pub fn sse(self) -> SseStream {
        SseStream {
            body: self.body,
            buffer: String::new(),
            ended: false,
        }
    }
}

/// One SSE event (or comment block) as sent, with its arrival time.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub raw: String,
    pub at: Instant,
}

impl SseEvent {
    /// The `data:` lines joined, if any.
    pub fn data(&self) -> Option<String> {
        let lines: Vec<&str> = self
            .raw
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    /// The `retry:` field, if any.
    pub fn retry(&self) -> Option<u64> {
        self.raw
            .lines()
            .find_map(|l| l.strip_prefix("retry:"))
            .and_then(|v| v.trim().parse().ok())
    }

    /// The `id:` field, if any.
    pub fn id(&self) -> Option<String> {
        self.raw
            .lines()
            .find_map(|l| l.strip_prefix("id:"))
            .map(|v| v.trim().to_string())
    }

    /// Whether this block is only comments (a keep-alive).
    pub fn is_comment(&self) -> bool {
        self.raw.lines().all(|l| l.starts_with(':'))
    }
}

/// An SSE body read block by block.
pub struct SseStream {
    body: Incoming,
    buffer: String,
    ended: bool,
}

impl SseStream {
    /// The next event or comment block; `None` when the stream ended. Panics on timeout.
    pub async fn next_event(&mut self, timeout: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                return Some(SseEvent {
                    raw: raw.trim_end().to_string(),
                    at: Instant::now(),
                });
            }
            if self.ended {
                return None;
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "no SSE event within {timeout:?}; buffered: {:?}",
                        self.buffer
                    )
                });
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer
                            .push_str(std::str::from_utf8(&data).expect("UTF-8"));
                    }
                }
                Some(Err(_)) | None => self.ended = true,
            }
        }
    }

    /// Reads until the stream ends (bounded), returning every block.
    pub async fn until_end(&mut self, timeout: Duration) -> Vec<SseEvent> {
        let deadline = Instant::now() + timeout;
        let mut events = Vec::new();
        while let Some(event) = self
            .next_event(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            events.push(event);
        }
        events
    }
}

/// `initialize` params for a legacy client.
pub fn initialize_message(id: i64) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": LEGACY_VERSION,
            "capabilities": {},
            "clientInfo": { "name": "e2e-tests", "version": "1.0.0" }
        }
    })
}

/// Starts a legacy session (initialize + initialized) and returns its id.
pub async fn legacy_session(addr: SocketAddr) -> String {
    legacy_session_with(addr, &[]).await
}

/// [`legacy_session`] with more headers on both requests (credentials).
pub async fn legacy_session_with(addr: SocketAddr, extra: &[(&str, &str)]) -> String {
    let response = post(addr, extra, &initialize_message(1)).await;
    assert_eq!(response.status, StatusCode::OK);
    let session = response
        .header("mcp-session-id")
        .expect("initialize answer carries Mcp-Session-Id")
        .to_string();
    let answer = response.message().await;
    assert!(answer["result"]["serverInfo"].is_object(), "{answer}");
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let mut headers = vec![
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", LEGACY_VERSION),
    ];
    headers.extend_from_slice(extra);
    let response = post(addr, &headers, &initialized).await;
    assert_eq!(response.status, StatusCode::ACCEPTED);
    session
}

/// The `_meta` a modern (2026-07-28) request carries.
pub fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "e2e-tests", "version": "1.0.0" }
    })
}

/// A modern request: body with `_meta`, and the headers that must agree with it.
pub async fn modern_request(
    addr: SocketAddr,
    id: i64,
    method: &str,
    mut params: Value,
    name: Option<&str>,
) -> Response {
    params["_meta"] = modern_meta();
    let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    let mut headers = vec![
        ("mcp-protocol-version", MODERN_VERSION),
        ("mcp-method", method),
    ];
    if let Some(name) = name {
        headers.push(("mcp-name", name));
    }
    post(addr, &headers, &message).await
}

/// GET /health as JSON.
pub async fn health(addr: SocketAddr) -> Value {
    let response = request(addr, Method::GET, "/health", &[], None).await;
    assert_eq!(response.status, StatusCode::OK);
    response.json().await
}

/// Polls `/health` (bounded) until `activeConnections` equals `expected`.
pub async fn wait_for_streams(addr: SocketAddr, expected: u64, timeout: Duration) -> Value {
    let started = Instant::now();
    loop {
        let health = health(addr).await;
        if health["activeConnections"] == expected {
            return health;
        }
        assert!(
            started.elapsed() < timeout,
            "activeConnections stayed {} (wanted {expected})",
            health["activeConnections"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Opens a legacy session's standalone GET stream (the answer is not checked).
pub async fn get_stream(addr: SocketAddr, session: &str) -> Response {
    request(
        addr,
        Method::GET,
        "/mcp",
        &[
            ("accept", "text/event-stream"),
            ("mcp-session-id", session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        None,
    )
    .await
}

/// Opens a modern `subscriptions/listen` stream for resource list changes.
pub async fn listen_stream(addr: SocketAddr, id: i64) -> Response {
    modern_request(
        addr,
        id,
        "subscriptions/listen",
        json!({ "notifications": { "resourcesListChanged": true } }),
        None,
    )
    .await
}

/// A connection whose POST never finishes sending its body: it keeps a request in flight for
/// as long as it is held.
pub async fn stalled_request(addr: SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\naccept: {ACCEPT_BOTH}\r\ncontent-length: 1000\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream
}
