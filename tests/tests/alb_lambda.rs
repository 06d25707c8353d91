//! The custom resource end to end against moto: a Copilot-like account (public and internal
//! ALBs of one environment, an NLB with the same tags, another environment's ALB, more than 50
//! untagged ALBs so discovery pages), the real SDK client, and CloudFormation-style answers PUT to
//! presigned S3 URLs and read back from moto. A loopback receiver checks the PUT itself (method,
//! no Content-Type, length), which moto, accepting any signature, cannot.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use alb_timeout_lambda::elb::{LoadBalancers, SdkLoadBalancers};
use alb_timeout_lambda::handler::Handler;
use serde_json::{Value, json};
use tests::process::workspace_root;
use tests::tools::{Moto, python_report};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn client(moto: &Moto) -> SdkLoadBalancers {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_elasticloadbalancingv2::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    SdkLoadBalancers(aws_sdk_elasticloadbalancingv2::Client::new(&config))
}

async fn handler(moto: &Moto) -> Handler {
    Handler {
        api: Arc::new(client(moto).await),
        http: reqwest::Client::new(),
    }
}

/// A sample event from `alb-timeout-lambda/events/`, pointed at `response_url`.
fn event(name: &str, response_url: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let path = workspace_root().join(format!("alb-timeout-lambda/events/{name}.json"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["ResponseURL"] = json!(response_url);
    edit(&mut event);
    event
}

fn deadline() -> SystemTime {
    SystemTime::now() + Duration::from_secs(30)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_delete_against_moto() {
    let moto = Moto::start();
    let account = python_report("moto_setup.py", &[&moto.url]);
    let urls = &account["responseUrls"];
    let api = client(&moto).await;
    let handler = handler(&moto).await;
    let public = account["public"].as_str().unwrap();

    // Create by Copilot tags: the public ALB of docs/prod, and nothing else.
    handler
        .invoke(
            event("create", urls["create"].as_str().unwrap(), |_| {}),
            deadline(),
        )
        .await
        .unwrap();
    let answer = moto.stored_answer(&account, "create").await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["Data"]["LoadBalancerArn"], public);
    assert_eq!(answer["Data"]["IdleTimeoutSeconds"], "600");
    assert_eq!(answer["Data"]["PreviousIdleTimeoutSeconds"], "60");
    assert_eq!(answer["RequestId"], "6f2c8c4e-4c1e-4a57-9d1b-2f1a0c9e7d11");
    assert_eq!(answer["LogicalResourceId"], "AlbIdleTimeout");
    let id = answer["PhysicalResourceId"].as_str().unwrap().to_string();
    assert_eq!(api.idle_timeout(public).await.unwrap(), Some(600));
    for other in ["internal", "otherEnv"] {
        let arn = account[other].as_str().unwrap();
        assert_ne!(
            api.idle_timeout(arn).await.unwrap(),
            Some(600),
            "{other} was changed"
        );
    }

    // Update on the same ALB: same id, new value.
    handler
        .invoke(
            event("update", urls["update"].as_str().unwrap(), |e| {
                e["PhysicalResourceId"] = json!(id)
            }),
            deadline(),
        )
        .await
        .unwrap();
    let answer = moto.stored_answer(&account, "update").await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["PhysicalResourceId"], id.as_str());
    assert_eq!(api.idle_timeout(public).await.unwrap(), Some(900));

    // Delete with RestoreOnDelete: back to the value before the first change.
    handler
        .invoke(
            event("delete", urls["delete-restore"].as_str().unwrap(), |e| {
                e["PhysicalResourceId"] = json!(id)
            }),
            deadline(),
        )
        .await
        .unwrap();
    let answer = moto.stored_answer(&account, "delete-restore").await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(api.idle_timeout(public).await.unwrap(), Some(60));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_arn_works_and_no_match_is_a_failed_answer() {
    let moto = Moto::start();
    let account = python_report("moto_setup.py", &[&moto.url]);
    let urls = &account["responseUrls"];
    let api = client(&moto).await;
    let handler = handler(&moto).await;
    let other = account["otherEnv"].as_str().unwrap();

    handler
        .invoke(
            event("create", urls["create-arn"].as_str().unwrap(), |e| {
                e["ResourceProperties"] = json!({ "ServiceToken": "x", "LoadBalancerArn": other, "IdleTimeoutSeconds": "1200" });
            }),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(
        moto.stored_answer(&account, "create-arn").await["Status"],
        "SUCCESS"
    );
    assert_eq!(api.idle_timeout(other).await.unwrap(), Some(1200));

    handler
        .invoke(
            event("create", urls["create"].as_str().unwrap(), |e| {
                e["ResourceProperties"]["Env"] = json!("staging")
            }),
            deadline(),
        )
        .await
        .unwrap();
    let answer = moto.stored_answer(&account, "create").await;
    assert_eq!(answer["Status"], "FAILED");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(
        reason.contains("staging") && reason.contains("application load balancers"),
        "{reason}"
    );
    // The Delete CloudFormation sends after that failed Create succeeds with nothing to undo.
    let failed_id = answer["PhysicalResourceId"].as_str().unwrap().to_string();
    handler
        .invoke(
            event("delete", urls["delete"].as_str().unwrap(), |e| {
                e["PhysicalResourceId"] = json!(failed_id)
            }),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(
        moto.stored_answer(&account, "delete").await["Status"],
        "SUCCESS"
    );
}

/// Accepts one HTTP request on loopback and returns its method, headers and body.
async fn receive_one(
    listener: tokio::net::TcpListener,
) -> (String, Vec<(String, String)>, Vec<u8>) {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed before the headers");
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let method = lines.next().unwrap().split(' ').next().unwrap().to_string();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = data[head_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0);
        body.extend_from_slice(&buf[..n]);
    }
    socket
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        .await
        .unwrap();
    (method, headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_is_a_put_without_content_type_with_a_length_and_json() {
    let moto = Moto::start();
    python_report("moto_setup.py", &[&moto.url]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/answer?X-Amz-Signature=abc",
        listener.local_addr().unwrap()
    );
    let received = tokio::spawn(receive_one(listener));
    let handler = handler(&moto).await;
    handler
        .invoke(event("create", &url, |_| {}), deadline())
        .await
        .unwrap();
    let (method, headers, body) = received.await.unwrap();
    assert_eq!(method, "PUT");
    let content_type = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str());
    assert!(
        content_type.is_none_or(str::is_empty),
        "a Content-Type breaks the presigned signature on real S3: {content_type:?}"
    );
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.clone());
    assert_eq!(
        length,
        Some(body.len().to_string()),
        "Content-Length matches the body"
    );
    assert!(body.len() <= 4096);
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert!(answer["Reason"].is_string());
    assert!(!answer["PhysicalResourceId"].as_str().unwrap().is_empty());
}
