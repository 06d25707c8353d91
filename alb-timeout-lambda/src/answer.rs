//! The answer to CloudFormation: a JSON document PUT to the presigned `ResponseURL`.
//!
//! Rules that break stacks when ignored: the body is at most 4096 bytes (long reasons are cut);
//! `Reason` is always set (an unset one serialises as `null`); the PUT carries an empty
//! Content-Type, because the URL is signed without one and S3 refuses a request whose headers
//! differ from the signature (403 SignatureDoesNotMatch); network errors and 5xx are retried.

use std::time::Duration;

use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceResponse, CloudFormationCustomResourceResponseStatus,
};
use tokio::time::Instant;

use crate::resource::Outcome;

/// The largest response CloudFormation accepts.
pub const MAX_BODY: usize = 4096;
/// PUT attempts before giving up.
const ATTEMPTS: u32 = 6;

/// Identifies the request being answered.
pub struct Addressee<'a> {
    pub stack_id: &'a str,
    pub request_id: &'a str,
    pub logical_resource_id: &'a str,
}

/// The response JSON, at most [`MAX_BODY`] bytes.
pub fn body(to: &Addressee<'_>, outcome: &Outcome) -> Vec<u8> {
    let mut response = CloudFormationCustomResourceResponse::default();
    response.status = if outcome.success {
        CloudFormationCustomResourceResponseStatus::Success
    } else {
        CloudFormationCustomResourceResponseStatus::Failed
    };
    response.physical_resource_id = outcome.physical_id.clone();
    response.stack_id = to.stack_id.to_string();
    response.request_id = to.request_id.to_string();
    response.logical_resource_id = to.logical_resource_id.to_string();
    response.data = outcome.data.clone();
    let serialize = |response: &mut CloudFormationCustomResourceResponse, reason: String| {
        response.reason = Some(reason);
        serde_json::to_vec(response).expect("the response serialises")
    };
    let whole = serialize(&mut response, outcome.reason.clone());
    if whole.len() <= MAX_BODY {
        return whole;
    }
    // The longest prefix of the reason (cut on a char boundary) that fits with the marker; JSON
    // escaping makes byte counts non-linear, so search rather than compute.
    let reason = &outcome.reason;
    let (mut fits, mut too_long) = (0usize, reason.len());
    while too_long - fits > 1 {
        let mut middle = (fits + too_long) / 2;
        while !reason.is_char_boundary(middle) {
            middle -= 1;
        }
        if middle <= fits {
            break;
        }
        let candidate = format!("{}{TRUNCATED}", &reason[..middle]);
        if serialize(&mut response, candidate).len() <= MAX_BODY {
            fits = middle;
        } else {
            too_long = middle;
        }
    }
    serialize(&mut response, format!("{}{TRUNCATED}", &reason[..fits]))
}

/// Marks a reason that was cut to fit.
const TRUNCATED: &str = "… (truncated)";

/// PUTs `body` to `url`, retrying network errors and 5xx with backoff until `deadline`.
/// Returns the final HTTP status.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    deadline: Instant,
) -> Result<u16, String> {
    let mut delay = Duration::from_millis(200);
    let mut last_error = String::new();
    for attempt in 1..=ATTEMPTS {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let request = client
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "")
            .body(body.clone())
            .timeout(left.min(Duration::from_secs(10)));
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                tracing::info!(
                    step = "answered",
                    attempt,
                    status = response.status().as_u16(),
                    "response delivered to CloudFormation"
                );
                return Ok(response.status().as_u16());
            }
            Ok(response) if response.status().is_server_error() => {
                last_error = format!("status {}", response.status());
            }
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                return Err(format!(
                    "status {status}: {}",
                    text.chars().take(500).collect::<String>()
                ));
            }
            Err(error) => last_error = error.to_string(),
        }
        tracing::warn!(step = "answer retry", attempt, error = %last_error, "response PUT failed; retrying");
        tokio::time::sleep(delay.min(deadline.saturating_duration_since(Instant::now()))).await;
        delay *= 2;
    }
    Err(format!(
        "gave up after {ATTEMPTS} attempts or at the deadline: {last_error}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn addressee() -> Addressee<'static> {
        Addressee {
            stack_id: "arn:aws:cloudformation:eu-west-1:1:stack/s/1",
            request_id: "r-1",
            logical_resource_id: "AlbIdleTimeout",
        }
    }

    #[test]
    fn the_body_has_every_field_and_always_a_reason() {
        let outcome = Outcome {
            success: true,
            reason: String::new(),
            physical_id: "alb-idle-timeout:60:arn".into(),
            data: HashMap::from([("IdleTimeoutSeconds".to_string(), "600".to_string())]),
        };
        let json: serde_json::Value =
            serde_json::from_slice(&body(&addressee(), &outcome)).unwrap();
        assert_eq!(json["Status"], "SUCCESS");
        assert_eq!(json["Reason"], "", "never null");
        assert_eq!(json["PhysicalResourceId"], "alb-idle-timeout:60:arn");
        assert_eq!(
            json["StackId"],
            "arn:aws:cloudformation:eu-west-1:1:stack/s/1"
        );
        assert_eq!(json["RequestId"], "r-1");
        assert_eq!(json["LogicalResourceId"], "AlbIdleTimeout");
        assert_eq!(json["Data"]["IdleTimeoutSeconds"], "600");
    }

    #[test]
    fn long_reasons_are_cut_to_fit_4096_bytes() {
        for reason in [
            "x".repeat(10_000),
            "é\"\\".repeat(3_000),
            "\n".repeat(5_000),
        ] {
            let outcome = Outcome {
                success: false,
                reason,
                physical_id: "id".into(),
                data: HashMap::new(),
            };
            let bytes = body(&addressee(), &outcome);
            assert!(bytes.len() <= MAX_BODY, "{} bytes", bytes.len());
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(json["Status"], "FAILED");
            assert!(json["Reason"].as_str().unwrap().ends_with("(truncated)"));
            assert!(
                bytes.len() > MAX_BODY - 200,
                "not cut more than needed: {}",
                bytes.len()
            );
        }
    }
}

#[cfg(test)]
mod retry_tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server answering each request with the next status in `statuses`.
    async fn server(statuses: Vec<u16>) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/response", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            for status in statuses {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 8192];
                let _ = socket.read(&mut buf).await;
                seen.fetch_add(1, Ordering::SeqCst);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            }
        });
        (url, count)
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(20)
    }

    #[tokio::test]
    async fn server_errors_are_retried_until_the_answer_lands() {
        let (url, count) = server(vec![503, 500, 200]).await;
        let status = send(&reqwest::Client::new(), &url, b"{}".to_vec(), soon()).await;
        assert_eq!(status, Ok(200));
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_refusal_is_not_retried() {
        let (url, count) = server(vec![403, 200]).await;
        let status = send(&reqwest::Client::new(), &url, b"{}".to_vec(), soon()).await;
        assert!(status.unwrap_err().contains("403"));
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "a signature error will not fix itself"
        );
    }

    #[tokio::test]
    async fn network_errors_are_retried_and_bounded_by_the_deadline() {
        // Nothing listens on this port.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = Instant::now();
        let status = send(
            &reqwest::Client::new(),
            &format!("http://127.0.0.1:{port}/response"),
            b"{}".to_vec(),
            Instant::now() + Duration::from_secs(2),
        )
        .await;
        assert!(status.is_err());
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
    }
}
