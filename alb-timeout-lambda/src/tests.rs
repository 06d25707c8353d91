//! Unit tests over a fake ELBv2: paging, 20-ARN tag chunks, discovery rules, each request type,
//! deadlines and panics. (moto cannot check the 20-ARN limit or the 1-4000 range: this fake
//! enforces both, as AWS does.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest as Request;
use serde_json::{Value, json};

use crate::elb::{ElbError, LoadBalancer, LoadBalancers, Page, TAGS_PER_CALL};
use crate::handler::outcome;
use crate::resource::{handle, parse_physical_id, physical_id};

#[derive(Default)]
struct Fake {
    lbs: Vec<(LoadBalancer, HashMap<String, String>)>,
    page_size: usize,
    attributes: Mutex<HashMap<String, u32>>,
    tag_call_sizes: Mutex<Vec<usize>>,
    pages_served: Mutex<usize>,
    hang: bool,
    panic: bool,
}

fn arn(name: &str) -> String {
    format!(
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/{name}/0123456789abcdef"
    )
}

fn lb(name: &str, kind: &str, scheme: &str) -> LoadBalancer {
    let arn = if kind == "application" {
        arn(name)
    } else {
        arn(name).replace("/app/", "/net/")
    };
    LoadBalancer {
        arn,
        name: name.into(),
        kind: kind.into(),
        scheme: scheme.into(),
    }
}

fn tags(app: &str, env: &str, logical: Option<&str>) -> HashMap<String, String> {
    let mut tags = HashMap::from([
        ("copilot-application".to_string(), app.to_string()),
        ("copilot-environment".to_string(), env.to_string()),
    ]);
    if let Some(logical) = logical {
        tags.insert("aws:cloudformation:logical-id".into(), logical.into());
    }
    tags
}

/// A Copilot-like account: the docs/prod environment's public and internal ALBs, an NLB with the
/// same tags, another environment's ALB, and 120 untagged ALBs so that paging happens.
fn account() -> Fake {
    let mut lbs = vec![
        (
            lb("docs-prod-public", "application", "internet-facing"),
            tags("docs", "prod", Some("PublicLoadBalancer")),
        ),
        (
            lb("docs-prod-internal", "application", "internal"),
            tags("docs", "prod", Some("InternalLoadBalancer")),
        ),
        (
            lb("docs-prod-nlb", "network", "internet-facing"),
            tags("docs", "prod", Some("PublicLoadBalancer")),
        ),
        (
            lb("docs-test-public", "application", "internet-facing"),
            tags("docs", "test", Some("PublicLoadBalancer")),
        ),
    ];
    for i in 0..120 {
        lbs.push((
            lb(&format!("other-{i}"), "application", "internet-facing"),
            HashMap::new(),
        ));
    }
    lbs.rotate_left(60);
    Fake {
        lbs,
        page_size: 50,
        ..Fake::default()
    }
}

#[async_trait]
impl LoadBalancers for Fake {
    async fn describe_load_balancers(
        &self,
        arns: Option<Vec<String>>,
        marker: Option<String>,
    ) -> Result<Page, ElbError> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        if self.panic {
            panic!("injected failure");
        }
        *self.pages_served.lock().unwrap() += 1;
        if let Some(arns) = arns {
            let found: Vec<LoadBalancer> = self
                .lbs
                .iter()
                .filter(|(lb, _)| arns.contains(&lb.arn))
                .map(|(lb, _)| lb.clone())
                .collect();
            if found.len() != arns.len() {
                return Err(ElbError::NotFound(format!("{arns:?}")));
            }
            return Ok(Page {
                load_balancers: found,
                next_marker: None,
            });
        }
        let start: usize = marker.map(|m| m.parse().unwrap()).unwrap_or(0);
        let end = (start + self.page_size).min(self.lbs.len());
        Ok(Page {
            load_balancers: self.lbs[start..end]
                .iter()
                .map(|(lb, _)| lb.clone())
                .collect(),
            next_marker: (end < self.lbs.len()).then(|| end.to_string()),
        })
    }

    async fn describe_tags(
        &self,
        arns: &[String],
    ) -> Result<HashMap<String, HashMap<String, String>>, ElbError> {
        if arns.len() > TAGS_PER_CALL {
            return Err(ElbError::Api(
                "ValidationError: at most 20 resource ARNs".into(),
            ));
        }
        self.tag_call_sizes.lock().unwrap().push(arns.len());
        Ok(self
            .lbs
            .iter()
            .filter(|(lb, _)| arns.contains(&lb.arn))
            .map(|(lb, t)| (lb.arn.clone(), t.clone()))
            .collect())
    }

    async fn idle_timeout(&self, arn: &str) -> Result<Option<u32>, ElbError> {
        if !self.lbs.iter().any(|(lb, _)| lb.arn == arn) {
            return Err(ElbError::NotFound(arn.into()));
        }
        Ok(self.attributes.lock().unwrap().get(arn).copied())
    }

    async fn set_idle_timeout(&self, arn: &str, seconds: u32) -> Result<(), ElbError> {
        if !(1..=4000).contains(&seconds) {
            return Err(ElbError::Api(
                "ValidationError: idle timeout out of range".into(),
            ));
        }
        if !self.lbs.iter().any(|(lb, _)| lb.arn == arn) {
            return Err(ElbError::NotFound(arn.into()));
        }
        self.attributes.lock().unwrap().insert(arn.into(), seconds);
        Ok(())
    }
}

fn request(kind: &str, properties: Value, physical_id: Option<&str>) -> Request {
    let mut event = json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:alb-timeout",
        "ResponseURL": "http://127.0.0.1:1/response",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/docs/1",
        "RequestId": "request-1",
        "ResourceType": "Custom::AlbIdleTimeout",
        "LogicalResourceId": "AlbIdleTimeout",
        "ResourceProperties": properties,
    });
    if let Some(id) = physical_id {
        event["PhysicalResourceId"] = json!(id);
    }
    if kind == "Update" {
        event["OldResourceProperties"] = json!({});
    }
    serde_json::from_value(event).unwrap()
}

fn copilot(timeout: &str) -> Value {
    json!({ "ServiceToken": "x", "App": "docs", "Env": "prod", "IdleTimeoutSeconds": timeout })
}

#[tokio::test]
async fn discovery_pages_chunks_tags_and_picks_the_public_alb() {
    let fake = account();
    let outcome = handle(&fake, &request("Create", copilot("600"), None)).await;
    assert!(outcome.success, "{}", outcome.reason);
    assert_eq!(outcome.data["LoadBalancerArn"], arn("docs-prod-public"));
    assert_eq!(outcome.data["IdleTimeoutSeconds"], "600");
    assert_eq!(
        outcome.data["PreviousIdleTimeoutSeconds"], "60",
        "an unset attribute is AWS's 60"
    );
    assert_eq!(
        *fake
            .attributes
            .lock()
            .unwrap()
            .get(&arn("docs-prod-public"))
            .unwrap(),
        600
    );
    assert_eq!(
        fake.attributes.lock().unwrap().len(),
        1,
        "nothing else touched"
    );
    assert!(
        *fake.pages_served.lock().unwrap() >= 3,
        "124 load balancers take 3 pages of 50"
    );
    let sizes = fake.tag_call_sizes.lock().unwrap().clone();
    assert!(sizes.iter().all(|&n| n <= 20), "{sizes:?}");
    assert_eq!(
        sizes.iter().sum::<usize>(),
        123,
        "only application load balancers: {sizes:?}"
    );
}

#[tokio::test]
async fn without_the_logical_id_tag_the_internet_facing_alb_wins() {
    let fake = Fake {
        lbs: vec![
            (
                lb("pub", "application", "internet-facing"),
                tags("docs", "prod", None),
            ),
            (
                lb("int", "application", "internal"),
                tags("docs", "prod", None),
            ),
        ],
        page_size: 50,
        ..Fake::default()
    };
    let outcome = handle(&fake, &request("Create", copilot("300"), None)).await;
    assert_eq!(
        outcome.data["LoadBalancerArn"],
        arn("pub"),
        "{}",
        outcome.reason
    );
}

#[tokio::test]
async fn no_match_or_several_matches_fail_naming_what_was_found() {
    let fake = account();
    let none = handle(
        &fake,
        &request("Create", json!({ "App": "docs", "Env": "staging" }), None),
    )
    .await;
    assert!(!none.success);
    assert!(
        none.reason.contains("docs") && none.reason.contains("staging"),
        "{}",
        none.reason
    );
    assert!(
        none.physical_id.starts_with("alb-idle-timeout:unresolved:"),
        "{}",
        none.physical_id
    );

    let twins = Fake {
        lbs: vec![
            (
                lb("a", "application", "internet-facing"),
                tags("docs", "prod", Some("PublicLoadBalancer")),
            ),
            (
                lb("b", "application", "internet-facing"),
                tags("docs", "prod", Some("PublicLoadBalancer")),
            ),
        ],
        page_size: 50,
        ..Fake::default()
    };
    let both = handle(&twins, &request("Create", copilot("600"), None)).await;
    assert!(!both.success);
    assert!(
        both.reason.contains(&arn("a")) && both.reason.contains(&arn("b")),
        "{}",
        both.reason
    );
    assert!(twins.attributes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn bad_properties_fail_before_any_call() {
    let fake = account();
    for properties in [
        copilot("0"),
        copilot("4001"),
        copilot("ten"),
        json!({ "Env": "prod" }),
    ] {
        let outcome = handle(&fake, &request("Create", properties.clone(), None)).await;
        assert!(!outcome.success, "{properties}");
    }
    assert_eq!(*fake.pages_served.lock().unwrap(), 0);
}

#[tokio::test]
async fn update_keeps_the_id_on_the_same_alb_and_replaces_it_on_another() {
    let fake = account();
    let created = handle(&fake, &request("Create", copilot("600"), None)).await;
    let id = created.physical_id.clone();
    assert_eq!(parse_physical_id(&id), Some((60, arn("docs-prod-public"))));

    let updated = handle(&fake, &request("Update", copilot("900"), Some(&id))).await;
    assert!(updated.success);
    assert_eq!(updated.physical_id, id, "same ALB, same id");
    assert_eq!(
        updated.data["PreviousIdleTimeoutSeconds"], "60",
        "the value before the first change"
    );

    let by_arn = json!({ "LoadBalancerArn": arn("docs-test-public"), "IdleTimeoutSeconds": "700" });
    let moved = handle(&fake, &request("Update", by_arn, Some(&id))).await;
    assert!(moved.success, "{}", moved.reason);
    assert_ne!(moved.physical_id, id, "another ALB is a replacement");
    assert_eq!(
        parse_physical_id(&moved.physical_id).unwrap().1,
        arn("docs-test-public")
    );
}

#[tokio::test]
async fn delete_restores_only_when_asked_and_succeeds_when_nothing_is_left() {
    let fake = account();
    let target = arn("docs-prod-public");
    fake.attributes.lock().unwrap().insert(target.clone(), 120);
    let created = handle(&fake, &request("Create", copilot("600"), None)).await;
    let id = created.physical_id;

    let kept = handle(&fake, &request("Delete", copilot("600"), Some(&id))).await;
    assert!(kept.success);
    assert_eq!(
        fake.attributes.lock().unwrap()[&target],
        600,
        "shared ALB left alone by default"
    );

    let mut restore = copilot("600");
    restore["RestoreOnDelete"] = json!("true");
    let restored = handle(&fake, &request("Delete", restore.clone(), Some(&id))).await;
    assert!(restored.success, "{}", restored.reason);
    assert_eq!(fake.attributes.lock().unwrap()[&target], 120);
    assert_eq!(restored.physical_id, id);

    // The Delete after a failed Create, and after the ALB is gone.
    let after_failure = handle(
        &fake,
        &request(
            "Delete",
            restore.clone(),
            Some("alb-idle-timeout:unresolved:request-0"),
        ),
    )
    .await;
    assert!(after_failure.success);
    let gone = physical_id(60, &arn("deleted-long-ago"));
    let vanished = handle(&fake, &request("Delete", restore, Some(&gone))).await;
    assert!(vanished.success, "{}", vanished.reason);
    // Even unreadable properties do not block a Delete.
    assert!(
        handle(
            &fake,
            &request("Delete", json!({ "IdleTimeoutSeconds": "zero" }), Some(&id))
        )
        .await
        .success
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_api_is_answered_failed_before_the_deadline() {
    let fake: Arc<dyn LoadBalancers> = Arc::new(Fake {
        hang: true,
        ..account()
    });
    let started = tokio::time::Instant::now();
    let result = outcome(
        fake,
        request("Create", copilot("600"), None),
        Duration::from_secs(25),
    )
    .await;
    assert!(!result.success);
    assert!(result.reason.contains("timed out"), "{}", result.reason);
    assert_eq!(started.elapsed(), Duration::from_secs(25));
}

#[tokio::test]
async fn a_panic_in_the_work_becomes_a_failed_answer() {
    let fake: Arc<dyn LoadBalancers> = Arc::new(Fake {
        panic: true,
        ..account()
    });
    let result = outcome(
        fake,
        request("Update", copilot("600"), Some("alb-idle-timeout:60:x")),
        Duration::from_secs(5),
    )
    .await;
    assert!(!result.success);
    assert!(
        result.reason.contains("panicked") && result.reason.contains("injected failure"),
        "{}",
        result.reason
    );
    assert_eq!(
        result.physical_id, "alb-idle-timeout:60:x",
        "the id it was given"
    );
}
