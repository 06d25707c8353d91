//! Finding the load balancer: by ARN, or by the Copilot environment's tags.
//!
//! DescribeLoadBalancers has no tag filter, so discovery pages through every load balancer,
//! keeps the application load balancers, reads their tags 20 ARNs at a time, and keeps those of
//! the Copilot application and environment. An environment has a public and an internal ALB with
//! the same Copilot tags; the public one has the CloudFormation logical id `PublicLoadBalancer`
//! (or, failing that tag, the scheme `internet-facing`).

use crate::elb::{ElbError, LoadBalancer, LoadBalancers, TAGS_PER_CALL};
use crate::properties::Target;

/// Copilot's tags on environment resources, and CloudFormation's logical-id tag.
pub const APP_TAG: &str = "copilot-application";
pub const ENV_TAG: &str = "copilot-environment";
pub const LOGICAL_ID_TAG: &str = "aws:cloudformation:logical-id";
pub const PUBLIC_LOGICAL_ID: &str = "PublicLoadBalancer";
/// A bound on DescribeLoadBalancers pages (400 per page: 400,000 load balancers).
const MAX_PAGES: usize = 1000;

/// Why no single load balancer was found; the text is the FAILED reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Ambiguous(String),
    #[error("{0}")]
    Api(#[from] ElbError),
}

/// The one load balancer `target` designates.
pub async fn find(
    api: &dyn LoadBalancers,
    target: &Target,
) -> Result<LoadBalancer, DiscoveryError> {
    match target {
        Target::Arn(arn) => {
            let page = match api
                .describe_load_balancers(Some(vec![arn.clone()]), None)
                .await
            {
                Ok(page) => page,
                Err(ElbError::NotFound(_)) => {
                    return Err(DiscoveryError::NotFound(format!("no load balancer {arn}")));
                }
                Err(error) => return Err(error.into()),
            };
            let lb = page
                .load_balancers
                .into_iter()
                .find(|lb| &lb.arn == arn)
                .ok_or_else(|| DiscoveryError::NotFound(format!("no load balancer {arn}")))?;
            if lb.kind != "application" {
                return Err(DiscoveryError::NotFound(format!(
                    "{arn} is a {} load balancer; only application load balancers have an idle timeout",
                    lb.kind
                )));
            }
            Ok(lb)
        }
        Target::Copilot { app, env } => by_tags(api, app, env).await,
    }
}

async fn by_tags(
    api: &dyn LoadBalancers,
    app: &str,
    env: &str,
) -> Result<LoadBalancer, DiscoveryError> {
    let mut applications = Vec::new();
    let mut seen = 0usize;
    let mut marker = None;
    for _ in 0..MAX_PAGES {
        let page = api.describe_load_balancers(None, marker.take()).await?;
        seen += page.load_balancers.len();
        applications.extend(
            page.load_balancers
                .into_iter()
                .filter(|lb| lb.kind == "application"),
        );
        match page.next_marker {
            Some(next) if !next.is_empty() => marker = Some(next),
            _ => break,
        }
    }
    let mut tagged = Vec::new();
    for chunk in applications.chunks(TAGS_PER_CALL) {
        let arns: Vec<String> = chunk.iter().map(|lb| lb.arn.clone()).collect();
        let tags = api.describe_tags(&arns).await?;
        for lb in chunk {
            let Some(tags) = tags.get(&lb.arn) else {
                continue;
            };
            if tags.get(APP_TAG).map(String::as_str) == Some(app)
                && tags.get(ENV_TAG).map(String::as_str) == Some(env)
            {
                tagged.push((lb.clone(), tags.get(LOGICAL_ID_TAG).cloned()));
            }
        }
    }
    let describe = |lbs: &[(LoadBalancer, Option<String>)]| {
        lbs.iter()
            .map(|(lb, logical)| {
                format!(
                    "{} ({}, logical id {})",
                    lb.arn,
                    lb.scheme,
                    logical.as_deref().unwrap_or("none")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    if tagged.is_empty() {
        return Err(DiscoveryError::NotFound(format!(
            "no application load balancer tagged {APP_TAG}={app} and {ENV_TAG}={env} among {} application load balancers ({seen} load balancers in all)",
            applications.len()
        )));
    }
    let by_logical_id: Vec<_> = tagged
        .iter()
        .filter(|(_, logical)| logical.as_deref() == Some(PUBLIC_LOGICAL_ID))
        .cloned()
        .collect();
    let candidates = if by_logical_id.is_empty() {
        tagged
            .iter()
            .filter(|(lb, _)| lb.scheme == "internet-facing")
            .cloned()
            .collect()
    } else {
        by_logical_id
    };
    match candidates.len() {
        1 => Ok(candidates.into_iter().next().unwrap().0),
        0 => Err(DiscoveryError::NotFound(format!(
            "the application load balancers of {app}/{env} are not public: {}",
            describe(&tagged)
        ))),
        _ => Err(DiscoveryError::Ambiguous(format!(
            "{} public application load balancers match {app}/{env}; give LoadBalancerArn instead: {}",
            candidates.len(),
            describe(&candidates)
        ))),
    }
}
