//! What each request type does, as a plain outcome; [`crate::answer`] sends it.
//!
//! The physical id is `alb-idle-timeout:<previous seconds>:<ALB ARN>`: stable for one ALB (an
//! Update on the same ALB keeps it, with the value found at Create), a new one when an Update
//! moves to another ALB (CloudFormation then deletes the old one), and it carries what a Delete
//! needs to restore, since Delete requests do not bring back `Data`. A Create that failed before
//! finding an ALB answers `alb-idle-timeout:unresolved:<RequestId>`, which its Delete recognises
//! as nothing to undo.

use std::collections::HashMap;

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest as Request;
use serde_json::Value;

use crate::discovery::{self, DiscoveryError};
use crate::elb::{AWS_DEFAULT_IDLE_TIMEOUT, ElbError, LoadBalancers};
use crate::properties::{Properties, Target};

const ID_PREFIX: &str = "alb-idle-timeout:";

/// What to tell CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub success: bool,
    pub reason: String,
    pub physical_id: String,
    pub data: HashMap<String, String>,
}

impl Outcome {
    fn failed(physical_id: String, reason: String) -> Outcome {
        Outcome {
            success: false,
            reason,
            physical_id,
            data: HashMap::new(),
        }
    }
}

/// The fields every request type shares.
pub struct Common<'a> {
    pub kind: &'static str,
    pub request_id: &'a str,
    pub physical_id: Option<&'a str>,
    pub properties: &'a Value,
}

/// Borrows the shared fields of a request.
pub fn common(request: &Request) -> Common<'_> {
    match request {
        Request::Create(r) => Common {
            kind: "Create",
            request_id: &r.request_id,
            physical_id: None,
            properties: &r.resource_properties,
        },
        Request::Update(r) => Common {
            kind: "Update",
            request_id: &r.request_id,
            physical_id: Some(&r.physical_resource_id),
            properties: &r.resource_properties,
        },
        Request::Delete(r) => Common {
            kind: "Delete",
            request_id: &r.request_id,
            physical_id: Some(&r.physical_resource_id),
            properties: &r.resource_properties,
        },
        _ => Common {
            kind: "Unknown",
            request_id: "",
            physical_id: None,
            properties: &Value::Null,
        },
    }
}

/// The id for a resource on `arn` whose value before us was `previous`.
pub fn physical_id(previous: u32, arn: &str) -> String {
    format!("{ID_PREFIX}{previous}:{arn}")
}

/// `(previous, arn)` from an id this resource made, `None` for anything else.
pub fn parse_physical_id(id: &str) -> Option<(u32, String)> {
    let rest = id.strip_prefix(ID_PREFIX)?;
    let (previous, arn) = rest.split_once(':')?;
    Some((previous.parse().ok()?, arn.to_string()))
}

/// The id a request answers with when it fails before knowing the ALB: the id it was given
/// (Update, Delete), or one its Delete will recognise as nothing to undo (Create).
pub fn fallback_id(physical_id: Option<&str>, request_id: &str) -> String {
    physical_id
        .map(str::to_string)
        .unwrap_or_else(|| format!("{ID_PREFIX}unresolved:{request_id}"))
}

/// Handles one request.
pub async fn handle(api: &dyn LoadBalancers, request: &Request) -> Outcome {
    let common = common(request);
    match request {
        Request::Create(_) | Request::Update(_) => create_or_update(api, &common).await,
        Request::Delete(_) => delete(api, &common).await,
        _ => Outcome::failed(
            fallback_id(common.physical_id, common.request_id),
            "unknown RequestType".into(),
        ),
    }
}

async fn create_or_update(api: &dyn LoadBalancers, common: &Common<'_>) -> Outcome {
    let properties = match Properties::parse(common.properties) {
        Ok(p) => p,
        Err(error) => {
            return Outcome::failed(fallback_id(common.physical_id, common.request_id), error.0);
        }
    };
    let lb = match discovery::find(api, &properties.target).await {
        Ok(lb) => lb,
        Err(error) => {
            return Outcome::failed(
                fallback_id(common.physical_id, common.request_id),
                error.to_string(),
            );
        }
    };
    tracing::info!(step = "discovered", arn = %lb.arn, name = %lb.name, "load balancer found");
    let current = match api.idle_timeout(&lb.arn).await {
        Ok(current) => current.unwrap_or(AWS_DEFAULT_IDLE_TIMEOUT),
        Err(error) => {
            return Outcome::failed(
                fallback_id(common.physical_id, common.request_id),
                format!("reading attributes of {}: {error}", lb.arn),
            );
        }
    };
    // An Update on the same ALB keeps its id (and the value found before the first change);
    // anything else starts a new one from the current value.
    let (previous, id) = match common.physical_id.and_then(parse_physical_id) {
        Some((previous, arn)) if arn == lb.arn => (previous, physical_id(previous, &arn)),
        _ => (current, physical_id(current, &lb.arn)),
    };
    tracing::info!(step = "read", arn = %lb.arn, current, wanted = properties.idle_timeout, "current idle timeout");
    if current != properties.idle_timeout {
        if let Err(error) = api.set_idle_timeout(&lb.arn, properties.idle_timeout).await {
            return Outcome::failed(
                fallback_id(common.physical_id, common.request_id),
                format!("setting the idle timeout of {}: {error}", lb.arn),
            );
        }
        tracing::info!(step = "modified", arn = %lb.arn, seconds = properties.idle_timeout, "idle timeout set");
    }
    match api.idle_timeout(&lb.arn).await {
        Ok(Some(value)) if value == properties.idle_timeout => {}
        Ok(other) => {
            return Outcome::failed(
                fallback_id(common.physical_id, common.request_id),
                format!(
                    "{} reports idle_timeout.timeout_seconds {other:?} after setting {}",
                    lb.arn, properties.idle_timeout
                ),
            );
        }
        Err(error) => {
            return Outcome::failed(
                fallback_id(common.physical_id, common.request_id),
                format!("verifying {}: {error}", lb.arn),
            );
        }
    }
    tracing::info!(step = "verified", arn = %lb.arn, seconds = properties.idle_timeout, "idle timeout verified");
    Outcome {
        success: true,
        reason: format!(
            "idle timeout of {} set to {} s (was {} s)",
            lb.name, properties.idle_timeout, current
        ),
        physical_id: id,
        data: HashMap::from([
            ("LoadBalancerArn".to_string(), lb.arn),
            (
                "IdleTimeoutSeconds".to_string(),
                properties.idle_timeout.to_string(),
            ),
            (
                "PreviousIdleTimeoutSeconds".to_string(),
                previous.to_string(),
            ),
        ]),
    }
}

async fn delete(api: &dyn LoadBalancers, common: &Common<'_>) -> Outcome {
    let id = fallback_id(common.physical_id, common.request_id);
    let success = |reason: String| Outcome {
        success: true,
        reason,
        physical_id: id.clone(),
        data: HashMap::new(),
    };
    let Some((previous, arn)) = common.physical_id.and_then(parse_physical_id) else {
        return success("nothing to undo: this resource never changed a load balancer".into());
    };
    // Properties only decide whether to restore; a Delete with unreadable ones still succeeds.
    let restore = Properties::parse(common.properties)
        .map(|p| p.restore_on_delete)
        .unwrap_or(false);
    if !restore {
        return success(format!(
            "left {arn} as it is (RestoreOnDelete is not \"true\")"
        ));
    }
    match discovery::find(api, &Target::Arn(arn.clone())).await {
        Err(DiscoveryError::NotFound(_)) | Err(DiscoveryError::Api(ElbError::NotFound(_))) => {
            return success(format!("nothing to undo: {arn} no longer exists"));
        }
        Err(error) => return Outcome::failed(id, format!("finding {arn} to restore it: {error}")),
        Ok(_) => {}
    }
    match api.set_idle_timeout(&arn, previous).await {
        Ok(()) => {
            tracing::info!(step = "restored", %arn, seconds = previous, "idle timeout restored");
            success(format!(
                "restored the idle timeout of {arn} to {previous} s"
            ))
        }
        Err(ElbError::NotFound(_)) => success(format!("nothing to undo: {arn} no longer exists")),
        Err(error) => Outcome::failed(id, format!("restoring {arn} to {previous} s: {error}")),
    }
}
