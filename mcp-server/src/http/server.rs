//! The accept loop: our own, because `warp::serve` has no header-read timeout, no idle
//! keep-alive control, no peer address under a custom loop, and a graceful shutdown that waits
//! forever on an open SSE stream.
//!
//! Each connection is served by hyper-util's HTTP/1 + HTTP/2 builder and watched by a small
//! timer (`server/watch.rs`) with two limits hyper cannot tell apart: `HEADER_READ_TIMEOUT` from the connection's
//! start (a connection that never sends a byte) or from the first byte of a later request to its
//! last header, and `HTTP_IDLE_TIMEOUT` between requests; and, whatever the connection is doing,
//! `WRITE_TIMEOUT` from the moment its socket stops taking an answer's bytes (a client that reads
//! nothing). A POST body has its own deadline, `BODY_READ_TIMEOUT`, in `mcp_endpoint`. (hyper's own
//! `header_read_timeout` also runs while a keep-alive connection sits idle, 30 s by default,
//! which would close connections the ALB still considers open and cause 502s; it is off.)
//!
//! A long-lived stream answering an HTTP/1.1 request is served past its head without hyper, so
//! that a held stream does not keep hyper's buffers (`server/handoff.rs`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
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
            refuse_connection(stream, retry_after);
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
        let io = TokioIo::new(WatchedIo::new(stream, activity.clone()));
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
                let version = request.version();
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
                    Ok::<_, std::convert::Infallible>(handoff::offer(response, version, guard))
                }
            });
        let builder = builder.clone();
        let connection = graceful.watch(builder.serve_connection(io, hyper_service).into_owned());
        // A handed-off stream is not hyper's connection any more: shutdown waits for it too.
        let watcher = graceful.watcher();
        // Counted out when the task ends, however it ends (a panic in a handler included).
        let counted = Counted(open_connections.clone());
        tokio::spawn(async move {
            let _counted = counted;
            let _watcher = watcher;
            let _unpark = handoff::Unpark(activity.clone());
            let served = async {
                // hyper's connection, until it ends or hands a long-lived stream off: both are
                // parked while it is polled, so they are looked for right after each poll.
                let (stream, body) = {
                    let mut connection = Box::pin(connection);
                    tokio::select! {
                        biased;
                        result = &mut connection => {
                            if let Err(error) = result {
                                tracing::debug!(%error, %peer, "connection ended with an error");
                            }
                            return;
                        }
                        parked = std::future::poll_fn(|_| match activity.handed_off() {
                            Some(parked) => Poll::Ready(parked),
                            None => Poll::Pending,
                        }) => parked,
                    }
                };
                handoff::serve(stream, body, &activity).await;
            };
            tokio::select! {
                () = served => {}
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
fn refuse_connection(stream: TcpStream, retry_after: u64) {
    use std::io::{Read, Write};
    meters::refused();
    // Plain calls on the (still non-blocking) socket: tokio's `try_read` and `try_write` refuse
    // until its reactor has seen a new socket ready, which it may not have yet, and then the
    // 503 was never written.
    let Ok(mut stream) = stream.into_std() else {
        return;
    };
    let mut scratch = [0u8; 4096];
    for _ in 0..4 {
        match stream.read(&mut scratch) {
            Ok(n) if n == scratch.len() => continue,
            _ => break,
        }
    }
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: {retry_after}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{CONNECTIONS_REFUSED}",
        CONNECTIONS_REFUSED.len()
    );
    let _ = stream.write(answer.as_bytes());
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

mod handoff;
mod watch;

pub(crate) use handoff::LongLived;
use watch::{Activity, Limits, WatchedIo};
