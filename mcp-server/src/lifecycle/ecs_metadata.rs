//! Watching the ECS task metadata endpoint (v4) for the task's own stop.
//!
//! ECS sets `ECS_CONTAINER_METADATA_URI_V4` in every container; `GET $URI/task` reports the task's
//! `DesiredStatus`, which turns to `STOPPED` as soon as ECS decides to stop the task, before the
//! load balancer's deregistration delay runs out and long before SIGTERM. Seeing it, the server
//! drains. The endpoint is plain HTTP on a link-local address; failures are logged and polling
//! goes on, since the server must keep serving without it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

use crate::lifecycle::drain::{Drain, DrainReason};

/// How long one metadata request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest metadata document read (a task document is a few KiB).
const MAX_BODY: usize = 1 << 20;

/// Polls `{base}/task` every `interval` until the task is stopping, then drains.
pub async fn watch(base: String, interval: Duration, drain: Arc<Drain>) {
    let url = format!("{}/task", base.trim_end_matches('/'));
    tracing::info!(
        url,
        interval_ms = interval.as_millis() as u64,
        "watching ECS task metadata"
    );
    let mut failing = false;
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match desired_status(&url).await {
            Ok(status) => {
                if failing {
                    tracing::info!(url, "ECS task metadata reachable again");
                    failing = false;
                }
                if status == "STOPPED" {
                    drain.begin(DrainReason::EcsStopping);
                    return;
                }
            }
            Err(error) => {
                // Reported when it starts failing, not on every tick.
                if !failing {
                    tracing::warn!(url, %error, "ECS task metadata unavailable; still serving, will retry");
                    failing = true;
                } else {
                    tracing::debug!(url, %error, "ECS task metadata still unavailable");
                }
            }
        }
    }
}

/// `DesiredStatus` from the task metadata document at `url`.
pub async fn desired_status(url: &str) -> Result<String, String> {
    let body = tokio::time::timeout(REQUEST_TIMEOUT, get(url))
        .await
        .map_err(|_| format!("no answer within {} ms", REQUEST_TIMEOUT.as_millis()))??;
    let document: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
    document
        .get("DesiredStatus")
        .and_then(|s| s.as_str())
        .map(str::to_string)
        .ok_or_else(|| "no DesiredStatus in the task document".to_string())
}

async fn get(url: &str) -> Result<Bytes, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err("only http:// metadata URLs are supported".into());
    }
    let host = uri.host().ok_or("URL has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    let request = http::Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(
            http::header::HOST,
            uri.authority().map_or(host, |a| a.as_str()),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let body = http_body_util::Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?;
    Ok(body.to_bytes())
}
