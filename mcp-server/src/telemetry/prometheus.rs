//! `GET /metrics` on the `METRICS_PORT` listener, in the Prometheus text format. The public port
//! never serves it. The listener is for a scraper inside the task's network, but it is held to
//! the same care as the public one: few connections at once, headers and whole exchanges on a
//! deadline, nothing but `GET`/`HEAD /metrics` answered with figures.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::app::App;

/// Connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 16;
/// Time a client has to send its headers.
const HEADER_READ: Duration = Duration::from_secs(10);
/// Time a connection may stay open, whatever it does.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// The content type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves `/metrics` until the task is aborted.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle, app: Arc<App>) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::debug!(%error, "metrics listener: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let handle = handle.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let handle = handle.clone();
                let app = app.clone();
                async move { Ok::<_, Infallible>(answer(&request, &handle, &app).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
        });
    }
}

async fn answer(
    request: &Request<Incoming>,
    handle: &PrometheusHandle,
    app: &App,
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
    super::refresh_gauges(app).await;
    let mut response = Response::new(Full::new(Bytes::from(handle.render())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(TEXT_FORMAT),
    );
    response
}
