//! The ELBv2 calls the resource needs, behind a narrow trait so the logic is testable without
//! AWS; [`SdkLoadBalancers`] is the real implementation.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::LoadBalancerAttribute;

/// The attribute this resource manages.
pub const IDLE_TIMEOUT_KEY: &str = "idle_timeout.timeout_seconds";
/// What AWS reports for an ALB whose idle timeout was never set.
pub const AWS_DEFAULT_IDLE_TIMEOUT: u32 = 60;
/// The most ARNs one DescribeTags call takes.
pub const TAGS_PER_CALL: usize = 20;

/// A load balancer as DescribeLoadBalancers reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    /// `application`, `network` or `gateway`.
    pub kind: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
}

/// One page of DescribeLoadBalancers.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub load_balancers: Vec<LoadBalancer>,
    pub next_marker: Option<String>,
}

/// An ELBv2 call that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElbError {
    /// The load balancer does not exist (any more).
    #[error("load balancer not found: {0}")]
    NotFound(String),
    /// Anything else: permissions, throttling after retries, the network.
    #[error("{0}")]
    Api(String),
}

/// The four ELBv2 operations, one method each.
#[async_trait]
pub trait LoadBalancers: Send + Sync {
    /// One page of DescribeLoadBalancers; `arns` narrows it to those ARNs.
    async fn describe_load_balancers(
        &self,
        arns: Option<Vec<String>>,
        marker: Option<String>,
    ) -> Result<Page, ElbError>;
    /// DescribeTags for at most [`TAGS_PER_CALL`] ARNs.
    async fn describe_tags(
        &self,
        arns: &[String],
    ) -> Result<HashMap<String, HashMap<String, String>>, ElbError>;
    /// The current `idle_timeout.timeout_seconds`, if the attribute is reported.
    async fn idle_timeout(&self, arn: &str) -> Result<Option<u32>, ElbError>;
    /// ModifyLoadBalancerAttributes for `idle_timeout.timeout_seconds`.
    async fn set_idle_timeout(&self, arn: &str, seconds: u32) -> Result<(), ElbError>;
}

/// The AWS SDK client.
pub struct SdkLoadBalancers(pub Client);

fn api_error<E: ProvideErrorMetadata + std::fmt::Debug>(error: E) -> ElbError {
    let code = error.code().unwrap_or("");
    let message = error.message().unwrap_or("").to_string();
    if code == "LoadBalancerNotFound" {
        ElbError::NotFound(message)
    } else if code.is_empty() {
        ElbError::Api(format!("{error:?}"))
    } else {
        ElbError::Api(format!("{code}: {message}"))
    }
}

#[async_trait]
impl LoadBalancers for SdkLoadBalancers {
    async fn describe_load_balancers(
        &self,
        arns: Option<Vec<String>>,
        marker: Option<String>,
    ) -> Result<Page, ElbError> {
        let output = self
            .0
            .describe_load_balancers()
            .set_load_balancer_arns(arns)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| api_error(e.into_service_error()))?;
        Ok(Page {
            load_balancers: output
                .load_balancers()
                .iter()
                .map(|lb| LoadBalancer {
                    arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
                    name: lb.load_balancer_name().unwrap_or_default().to_string(),
                    kind: lb
                        .r#type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    scheme: lb
                        .scheme()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                })
                .collect(),
            next_marker: output.next_marker().map(str::to_string),
        })
    }

    async fn describe_tags(
        &self,
        arns: &[String],
    ) -> Result<HashMap<String, HashMap<String, String>>, ElbError> {
        let output = self
            .0
            .describe_tags()
            .set_resource_arns(Some(arns.to_vec()))
            .send()
            .await
            .map_err(|e| api_error(e.into_service_error()))?;
        Ok(output
            .tag_descriptions()
            .iter()
            .map(|d| {
                let tags = d
                    .tags()
                    .iter()
                    .map(|t| {
                        (
                            t.key().unwrap_or_default().to_string(),
                            t.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                (d.resource_arn().unwrap_or_default().to_string(), tags)
            })
            .collect())
    }

    async fn idle_timeout(&self, arn: &str) -> Result<Option<u32>, ElbError> {
        let output = self
            .0
            .describe_load_balancer_attributes()
            .load_balancer_arn(arn)
            .send()
            .await
            .map_err(|e| api_error(e.into_service_error()))?;
        Ok(output
            .attributes()
            .iter()
            .find(|a| a.key() == Some(IDLE_TIMEOUT_KEY))
            .and_then(|a| a.value())
            .and_then(|v| v.parse().ok()))
    }

    async fn set_idle_timeout(&self, arn: &str, seconds: u32) -> Result<(), ElbError> {
        self.0
            .modify_load_balancer_attributes()
            .load_balancer_arn(arn)
            .attributes(
                LoadBalancerAttribute::builder()
                    .key(IDLE_TIMEOUT_KEY)
                    .value(seconds.to_string())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| api_error(e.into_service_error()))?;
        Ok(())
    }
}
