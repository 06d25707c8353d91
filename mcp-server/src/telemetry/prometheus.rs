//! `GET /metrics` on the `METRICS_PORT` listener, in the Prometheus text format. The public port
//! never serves it. The listener is for a scraper inside the task's network, but it is held to
//! the same care as the public one: one request per connection, 16 connections at once (one
//! more is answered 503 at once, so a client holding the slots cannot make the scraper wait in
//! the backlog), 5 s to send the headers, 15 s for the whole exchange, and the text rendered at
//! most four times a second (a client asking in a loop costs a copy of it, not a render).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::app::App;

/// Connections served at once.
const MAX_CONNECTIONS: usize = 16;
/// Time a client has to send its headers.
const HEADER_READ: Duration = Duration::from_secs(5);
/// Time a connection may stay open, whatever it does.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(15);
/// How long a rendering is served again.
const FRESH_FOR: Duration = Duration::from_millis(250);

/// The content type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What one over the connection cap is told before the connection closes.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 32\r\n\r\nToo many connections; retry soon";

/// The last rendering and when it was made.
type Rendered = Mutex<Option<(Instant, Bytes)>>;

/// Serves `/metrics` until the task is aborted.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle, app: Arc<App>) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let rendered: Arc<Rendered> = Arc::new(Mutex::new(None));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::debug!(%error, "metrics listener: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refuse(stream);
            continue;
        };
        let handle = handle.clone();
        let app = app.clone();
        let rendered = rendered.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let handle = handle.clone();
                let app = app.clone();
                let rendered = rendered.clone();
                async move { Ok::<_, Infallible>(answer(&request, &handle, &app, &rendered).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
        });
    }
}

/// Answers a connection over the cap without holding it. A plain write on the (still
/// non-blocking) socket: tokio's `try_write` refuses until its reactor has seen a new socket
/// writable, which it may not have yet, and then the 503 was never written.
fn refuse(stream: TcpStream) {
    if let Ok(mut stream) = stream.into_std() {
        let _ = std::io::Write::write(&mut stream, BUSY);
    }
}

async fn answer(
    request: &Request<Incoming>,
    handle: &PrometheusHandle,
    app: &App,
    rendered: &Rendered,
) -> Response<Full<Bytes>> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    };
    if request.uri().path() != "/metrics" {
        return plain(
            StatusCode::NOT_FOUND,
            "Not found: metrics are at /metrics\n",
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "Use GET /metrics\n");
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let fresh = rendered
        .lock()
        .expect("not poisoned")
        .as_ref()
        .filter(|(at, _)| at.elapsed() < FRESH_FOR)
        .map(|(_, text)| text.clone());
    let text = match fresh {
        Some(text) => text,
        None => {
            super::refresh_gauges(app).await;
            let text = Bytes::from(handle.render());
            *rendered.lock().expect("not poisoned") = Some((Instant::now(), text.clone()));
            text
        }
    };
    let mut response = Response::new(Full::new(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(TEXT_FORMAT),
    );
    response
}
