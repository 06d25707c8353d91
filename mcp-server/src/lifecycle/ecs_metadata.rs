//! The ECS task metadata endpoint (v4): the task's memory limit at start, and its own stop.
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
    document(url)
        .await?
        .get("DesiredStatus")
        .and_then(|s| s.as_str())
        .map(str::to_string)
        .ok_or_else(|| "no DesiredStatus in the task document".to_string())
}

/// The task's id (the last part of its `TaskARN`), from `GET {base}/task`.
pub async fn task_id(base: &str) -> Result<String, String> {
    let task = document(&format!("{}/task", base.trim_end_matches('/'))).await?;
    task_id_from_document(&task).ok_or_else(|| "no TaskARN in the task document".to_string())
}

/// The id in a task document's `TaskARN` (`arn:aws:ecs:region:account:task/cluster/id`).
pub fn task_id_from_document(task: &serde_json::Value) -> Option<String> {
    let arn = task.get("TaskARN")?.as_str()?;
    let id = arn.rsplit('/').next()?;
    let fits = !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_graphic());
    fits.then(|| id.to_string())
}

/// The memory limit in bytes that ECS reports under `base`: the smaller of the container's
/// (`GET {base}`, set when the task definition gives the container `memory`) and the task's
/// (`GET {base}/task`, set on Fargate and when the task has a task-level `memory`), both in MiB.
/// `Ok(None)` when neither has one.
pub async fn memory_limit(base: &str) -> Result<Option<u64>, String> {
    let base = base.trim_end_matches('/');
    let container = document(base).await?;
    let task = document(&format!("{base}/task")).await?;
    Ok(limit_from_documents(&container, &task))
}

/// The smaller `Limits.Memory` (MiB) of the container and task documents, in bytes.
pub fn limit_from_documents(
    container: &serde_json::Value,
    task: &serde_json::Value,
) -> Option<u64> {
    let mib = |document: &serde_json::Value| {
        document
            .pointer("/Limits/Memory")
            .and_then(serde_json::Value::as_f64)
            .filter(|mib| mib.is_finite() && *mib >= 1.0 && *mib < (1u64 << 40) as f64)
            .map(|mib| mib as u64 * (1 << 20))
    };
    [mib(container), mib(task)].into_iter().flatten().min()
}

async fn document(url: &str) -> Result<serde_json::Value, String> {
    let body = tokio::time::timeout(REQUEST_TIMEOUT, get(url))
        .await
        .map_err(|_| format!("no answer within {} ms", REQUEST_TIMEOUT.as_millis()))??;
    serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))
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

#[cfg(test)]
mod tests {
    use super::{limit_from_documents, task_id_from_document};
    use serde_json::json;

    #[test]
    fn the_task_id_is_the_last_part_of_the_arn() {
        let task = json!({ "TaskARN": "arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c" });
        assert_eq!(
            task_id_from_document(&task).as_deref(),
            Some("158d1c8083dd49d6b527399fd6414f5c")
        );
        assert_eq!(task_id_from_document(&json!({ "TaskARN": "x/" })), None);
        assert_eq!(task_id_from_document(&json!({ "TaskARN": 3 })), None);
        assert_eq!(task_id_from_document(&json!({})), None);
    }

    #[test]
    fn the_smaller_of_the_container_and_task_limits_wins() {
        let container = json!({ "Limits": { "CPU": 256, "Memory": 512 } });
        let task = json!({ "Limits": { "CPU": 0.5, "Memory": 1024 } });
        assert_eq!(limit_from_documents(&container, &task), Some(512 << 20));
        assert_eq!(
            limit_from_documents(&json!({ "Limits": { "CPU": 256 } }), &task),
            Some(1 << 30),
            "Fargate: only the task has a limit"
        );
        assert_eq!(limit_from_documents(&json!({}), &json!({})), None);
        assert_eq!(
            limit_from_documents(
                &json!({ "Limits": { "Memory": 0 } }),
                &json!({ "Limits": { "Memory": "x" } })
            ),
            None,
            "zero and non-numbers are no limit"
        );
    }
}
