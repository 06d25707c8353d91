//! The accept loop: our own, because `warp::serve` has no header-read timeout, no idle
//! keep-alive control, no peer address under a custom loop, and a graceful shutdown that waits
//! forever on an open SSE stream.
//!
//! Each connection is served by hyper-util's HTTP/1 + HTTP/2 builder and watched by a small
//! timer with two limits hyper cannot tell apart: `HEADER_READ_TIMEOUT` from the connection's
//! start (a connection that never sends a byte) or from the first byte of a later request to its
//! last header, and `HTTP_IDLE_TIMEOUT` between requests; and, whatever the connection is doing,
//! `WRITE_TIMEOUT` from the moment its socket stops taking an answer's bytes (a client that reads
//! nothing). A POST body has its own deadline, `BODY_READ_TIMEOUT`, in `mcp_endpoint`. (hyper's own
//! `header_read_timeout` also runs while a keep-alive connection sits idle, 30 s by default,
//! which would close connections the ALB still considers open and cause 502s; it is off.)

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;
use tower_service::Service;

use crate::app::App;
use crate::http::mcp_endpoint::{self, PeerAddr};
use crate::http::routes::routes;
use crate::meters;

/// Serves `listener` until `shutdown` completes, then ends every SSE stream and gives in-flight
/// requests `SHUTDOWN_TIMEOUT` to finish.
pub async fn run(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let service = warp::service(routes(app.clone()));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let open_connections = app.connections.clone();
    let max_connections = app.config.max_connections;
    let retry_after = app.config.sse_retry.as_secs().max(1);
    let mut refused_since_log = 0u64;
    let mut last_refusal_log: Option<Instant> = None;
    let limits = Limits {
        idle: app.config.http_idle_timeout,
        header_read: app.config.header_read_timeout,
        write: app.config.write_timeout,
    };

    end_streams_when_draining(&app);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut accept_errors = 0u32;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => { accept_errors = 0; pair }
                Err(error) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    accept_errors = (accept_errors + 1).min(6);
                    tracing::error!(%error, "Error accepting a connection");
                    tokio::time::sleep(Duration::from_millis(10 << accept_errors)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // The cap check and its count are one step: the count goes up first.
        if open_connections.fetch_add(1, Ordering::SeqCst) >= max_connections {
            open_connections.fetch_sub(1, Ordering::SeqCst);
            refuse_connection(&stream, retry_after);
            refused_since_log += 1;
            // One line per second at most, with how many were refused since the last one.
            if last_refusal_log.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                tracing::warn!(
                    %peer,
                    limit = max_connections,
                    refused = refused_since_log,
                    "connection limit reached (MAX_CONNECTIONS); answered 503 and closed"
                );
                refused_since_log = 0;
                last_refusal_log = Some(Instant::now());
            }
            continue;
        }
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(WatchedIo {
            inner: stream,
            activity: activity.clone(),
            preface: PrefaceMatch::default(),
        });
        let service = service.clone();
        let request_activity = activity.clone();
        let drain = app.drain.clone();
        let endpoint = app.clone();
        let hyper_service =
            hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
                // Every request counts for the idle drain guess, health checks included.
                let agent = request.headers().get(http::header::USER_AGENT);
                let forwarded = request.headers().contains_key("x-forwarded-for");
                drain.request_seen(agent.and_then(|v| v.to_str().ok()), forwarded);
                request.extensions_mut().insert(PeerAddr(peer));
                fill_host_from_authority(&mut request);
                let guard = request_activity.request_started();
                let mut service = service.clone();
                // `/mcp`, the hot path, goes straight to its handler rather than through the
                // chain of warp filters (which would also clone its headers); the other routes
                // keep warp's.
                let mcp = (request.uri().path() == "/mcp").then(|| endpoint.clone());
                let route = meters::Route::of(request.uri().path());
                let arrived = Instant::now();
                async move {
                    // Made inside the future, so that it lives and dies with it.
                    let mut pending = Unanswered(Some(route));
                    let response = match mcp {
                        Some(app) => {
                            let (parts, body) = request.into_parts();
                            let body = http_body_util::BodyDataStream::new(body);
                            // Boxed: hyper keeps room for one request's future for as long as
                            // its connection lives, so an idle or streaming connection would
                            // hold this large one's size; boxed, it is freed when answered.
                            Box::pin(mcp_endpoint::handle(
                                app,
                                parts.method,
                                parts.headers,
                                Some(PeerAddr(peer)),
                                body,
                            ))
                            .await
                        }
                        None => service.call(request).await?,
                    };
                    if let Some(route) = pending.0.take() {
                        meters::response(route, response.status().as_u16(), arrived.elapsed());
                    }
                    Ok::<_, std::convert::Infallible>(response.map(|body| GuardedBody {
                        inner: body,
                        _guard: guard,
                    }))
                }
            });
        let builder = builder.clone();
        let connection = graceful.watch(builder.serve_connection(io, hyper_service).into_owned());
        // Counted out when the task ends, however it ends (a panic in a handler included).
        let counted = Counted(open_connections.clone());
        tokio::spawn(async move {
            let _counted = counted;
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                }
                expired = activity.watch(limits) => {
                    if expired != "HTTP_IDLE_TIMEOUT" {
                        meters::timeout(expired);
                    }
                    tracing::debug!(%peer, limit = expired, "connection closed by timeout");
                }
            }
        });
    }

    drop(listener);
    let deadline = app.config.shutdown_timeout;
    tracing::info!(
        open_streams = app.streams.open(),
        open_connections = open_connections.load(Ordering::Relaxed),
        deadline_ms = deadline.as_millis() as u64,
        "shutting down: listener closed, ending SSE streams"
    );
    app.streams.end_long_lived();
    match tokio::time::timeout(deadline, graceful.shutdown()).await {
        Ok(()) => tracing::info!("shutdown complete: every connection finished"),
        Err(_) => tracing::warn!(
            open_connections = open_connections.load(Ordering::Relaxed),
            "shutdown deadline reached; closing the remaining connections"
        ),
    }
    app.mcp_shutdown.cancel();
}

/// What a connection over `MAX_CONNECTIONS` is told before it is closed (a JSON-RPC error).
const CONNECTIONS_REFUSED: &str = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Too many connections on this server (MAX_CONNECTIONS); retry later"}}"#;

/// A request not answered yet: counted as cancelled if its future is dropped first (the client
/// went away, the connection was closed at shutdown, the handler panicked).
struct Unanswered(Option<meters::Route>);

impl Drop for Unanswered {
    fn drop(&mut self) {
        if let Some(route) = self.0 {
            meters::cancelled(route);
        }
    }
}

/// One connection in the count of open connections, until dropped.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Answers a connection over the cap without holding it: what it has already sent (16 KiB at
/// most) is read and thrown away (so closing sends a FIN rather than a reset that would hide the
/// answer), the 503 is written if the socket takes it at once, and the socket is closed. Nothing
/// here waits: a request still on its way meets a closed socket.
fn refuse_connection(stream: &TcpStream, retry_after: u64) {
    meters::refused();
    let mut scratch = [0u8; 4096];
    for _ in 0..4 {
        match stream.try_read(&mut scratch) {
            Ok(n) if n == scratch.len() => continue,
            _ => break,
        }
    }
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: {retry_after}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{CONNECTIONS_REFUSED}",
        CONNECTIONS_REFUSED.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// HTTP/2 carries the host in the `:authority` pseudo-header and HTTP/1.1 absolute-form requests
/// in the request line, neither as `Host`: copy it there, so the Host policy sees every request's
/// host the same way.
fn fill_host_from_authority<B>(request: &mut http::Request<B>) {
    if request.headers().contains_key(http::header::HOST) {
        return;
    }
    let authority = request.uri().authority().map(|a| a.as_str().to_owned());
    if let Some(value) = authority.and_then(|a| http::HeaderValue::from_str(&a).ok()) {
        request.headers_mut().insert(http::header::HOST, value);
    }
}

/// Ends the long-lived SSE streams whenever the server starts draining, so their clients
/// reconnect through the load balancer to a task that is staying.
fn end_streams_when_draining(app: &Arc<App>) {
    let mut states = app.drain.subscribe();
    let streams = app.streams.clone();
    tokio::spawn(async move {
        while states.changed().await.is_ok() {
            let state = *states.borrow_and_update();
            if state.is_draining() {
                let ended = streams.end_long_lived();
                tracing::info!(
                    streams = ended,
                    "draining: ending long-lived SSE streams with a retry hint"
                );
            }
        }
    });
}

/// Binds the configured address.
pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

#[derive(Clone, Copy)]
struct Limits {
    idle: Duration,
    header_read: Duration,
    write: Duration,
}

const IDLE: u8 = 0;
const READING_HEADERS: u8 = 1;
const BUSY: u8 = 2;

/// What one connection is doing, as seen from its socket reads and its requests.
struct Activity {
    phase: AtomicU8,
    /// When the phase began, in ms since `epoch`.
    since_ms: AtomicU64,
    /// Requests whose responses are not finished.
    in_flight: AtomicUsize,
    /// When the socket began refusing the bytes of a write still waiting, in ms since `epoch`
    /// plus one; 0 while writes go through.
    write_stalled_ms: AtomicU64,
    /// HTTP/2, seen from the connection preface: its frames between requests (PING,
    /// WINDOW_UPDATE, SETTINGS) are not a new request's headers, so reads never start the
    /// header deadline after the first request.
    multiplexed: AtomicBool,
    epoch: Instant,
    changed: Notify,
}

impl Activity {
    /// A new connection: its first request's headers are due within `HEADER_READ_TIMEOUT`, so
    /// a connection that never sends a byte is not held for `HTTP_IDLE_TIMEOUT`.
    fn new() -> Self {
        Activity {
            phase: AtomicU8::new(READING_HEADERS),
            since_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            write_stalled_ms: AtomicU64::new(0),
            multiplexed: AtomicBool::new(false),
            epoch: Instant::now(),
            changed: Notify::new(),
        }
    }

    /// Enters `phase`. Only a phase whose deadline may come sooner than the one the watcher
    /// sleeps towards wakes it (`wake`): waking it for every change would cost the connection's
    /// task three extra polls per request.
    fn set(&self, phase: u8, wake: bool) {
        self.since_ms
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
        if wake {
            self.changed.notify_one();
        }
    }

    /// Bytes arrived: if nothing was in flight, a new request has begun, and its headers are due
    /// within `HEADER_READ_TIMEOUT`, which may be sooner than the idle deadline being watched.
    fn bytes_read(&self) {
        if self.phase.load(Ordering::Acquire) == IDLE
            && self.in_flight.load(Ordering::Acquire) == 0
            && !self.multiplexed.load(Ordering::Relaxed)
        {
            self.set(READING_HEADERS, true);
        }
    }

    /// A write found the socket full (the client is not reading): its deadline starts now,
    /// unless it already runs, and the watcher is woken to watch it.
    fn write_waiting(&self) {
        if self.write_stalled_ms.load(Ordering::Relaxed) == 0 {
            let now = self.epoch.elapsed().as_millis() as u64 + 1;
            self.write_stalled_ms.store(now, Ordering::Relaxed);
            self.changed.notify_one();
        }
    }

    /// A write went through: the client reads again.
    fn write_done(&self) {
        if self.write_stalled_ms.load(Ordering::Relaxed) != 0 {
            self.write_stalled_ms.store(0, Ordering::Relaxed);
        }
    }

    /// A request is being answered: no deadline of this loop's while it is (the watcher sees it
    /// when it next wakes).
    fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.set(BUSY, false);
        RequestGuard(self.clone())
    }

    /// Resolves when a limit expires, with its name. The watcher wakes at the deadline of the
    /// phase it saw (or, while a request is answered, after the shorter limit) and looks again:
    /// a phase entered meanwhile has a deadline of its own, counted from when it began.
    async fn watch(&self, limits: Limits) -> &'static str {
        loop {
            let now = Instant::now();
            let stalled = self.write_stalled_ms.load(Ordering::Relaxed);
            let write_deadline = (stalled != 0)
                .then(|| self.epoch + Duration::from_millis(stalled - 1) + limits.write);
            if write_deadline.is_some_and(|deadline| deadline <= now) {
                return "WRITE_TIMEOUT";
            }
            // A request in flight wins over a phase written late by another that just ended
            // (HTTP/2 answers several at once).
            let phase = match self.in_flight.load(Ordering::Acquire) {
                0 => self.phase.load(Ordering::Acquire),
                _ => BUSY,
            };
            let since = self.epoch + Duration::from_millis(self.since_ms.load(Ordering::Relaxed));
            let wake = match phase {
                IDLE | READING_HEADERS => {
                    let (limit, name) = if phase == IDLE {
                        (limits.idle, "HTTP_IDLE_TIMEOUT")
                    } else {
                        (limits.header_read, "HEADER_READ_TIMEOUT")
                    };
                    if since + limit <= now {
                        return name;
                    }
                    since + limit
                }
                _ => now + limits.header_read.min(limits.idle),
            };
            let wake = write_deadline.map_or(wake, |deadline| deadline.min(wake));
            tokio::select! {
                () = tokio::time::sleep_until(wake) => {}
                () = self.changed.notified() => {}
            }
        }
    }
}

/// Marks a request finished when its response body is done (or dropped).
struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            // No wake: the watcher, asleep for at most the shorter limit while a request is
            // answered, wakes before this idle deadline.
            self.0.set(IDLE, false);
        }
    }
}

pin_project! {
    /// A response body that keeps its request counted as in flight until it is finished.
    struct GuardedBody<B> {
        #[pin]
        inner: B,
        _guard: RequestGuard,
    }
}

impl<B: Body> Body for GuardedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

pin_project! {
    /// The TCP stream, reporting reads and blocked writes to the connection's `Activity`.
    struct WatchedIo {
        #[pin]
        inner: TcpStream,
        activity: Arc<Activity>,
        preface: PrefaceMatch,
    }
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let result = this.inner.poll_read(cx, buf);
        if buf.filled().len() > before {
            if this.preface.feed(&buf.filled()[before..]) == Some(true) {
                this.activity.multiplexed.store(true, Ordering::Relaxed);
            }
            this.activity.bytes_read();
        }
        result
    }
}

/// How much of HTTP/2's connection preface (prior knowledge) a connection's first bytes match,
/// over as many reads as they come in, as hyper-util's `auto` builder tells the protocols apart.
#[derive(Default)]
struct PrefaceMatch {
    matched: usize,
    decided: bool,
}

impl PrefaceMatch {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    /// Reads the next bytes: `Some(true)` once the whole preface came, `Some(false)` at the
    /// first byte that differs, `None` while undecided or once decided before.
    fn feed(&mut self, bytes: &[u8]) -> Option<bool> {
        if self.decided {
            return None;
        }
        for &byte in bytes {
            if byte != Self::PREFACE[self.matched] {
                self.decided = true;
                return Some(false);
            }
            self.matched += 1;
            if self.matched == Self::PREFACE.len() {
                self.decided = true;
                return Some(true);
            }
        }
        None
    }
}

/// Reports a write's outcome: the socket full, or taking bytes again.
fn note_write<T>(activity: &Activity, result: &Poll<T>) {
    match result {
        Poll::Pending => activity.write_waiting(),
        Poll::Ready(_) => activity.write_done(),
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let result = this.inner.poll_write(cx, buf);
        note_write(this.activity, &result);
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let result = this.inner.poll_write_vectored(cx, bufs);
        note_write(this.activity, &result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests;
