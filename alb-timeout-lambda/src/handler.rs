//! One invocation: parse, do the work under the deadline, always answer, return Ok.
//!
//! CloudFormation invokes custom resources asynchronously: a returned error makes Lambda retry
//! the whole invocation, and no answer leaves the stack waiting up to an hour. So every path
//! ends in a PUT: malformed requests, ELBv2 errors, a deadline about to pass (the work gets the
//! invocation's time minus a margin for the PUT), even a panic in the work (it runs in its own
//! task and the join error becomes a FAILED answer).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest as Request;
use serde_json::Value;
use tokio::time::Instant;

use crate::answer::{self, Addressee};
use crate::elb::LoadBalancers;
use crate::resource::{self, Outcome};

/// Time kept back from the work for answering.
pub const ANSWER_MARGIN: Duration = Duration::from_secs(5);
/// The time an invocation assumes it has when its deadline is unusable.
pub const FALLBACK_BUDGET: Duration = Duration::from_secs(60);

/// What an invocation needs, built once per cold start.
#[derive(Clone)]
pub struct Handler {
    pub api: Arc<dyn LoadBalancers>,
    pub http: reqwest::Client,
}

/// The request fields the answer needs, read from raw JSON so even a request this code cannot
/// parse gets an answer.
struct Envelope {
    response_url: String,
    stack_id: String,
    request_id: String,
    logical_resource_id: String,
    physical_id: Option<String>,
}

fn envelope(event: &Value) -> Option<Envelope> {
    let field = |name: &str| event.get(name).and_then(Value::as_str).map(str::to_string);
    Some(Envelope {
        response_url: field("ResponseURL")?,
        stack_id: field("StackId").unwrap_or_default(),
        request_id: field("RequestId").unwrap_or_default(),
        logical_resource_id: field("LogicalResourceId").unwrap_or_default(),
        physical_id: field("PhysicalResourceId"),
    })
}

/// Does the work for `request` within `budget`; a timeout or a panic becomes FAILED.
pub async fn outcome(api: Arc<dyn LoadBalancers>, request: Request, budget: Duration) -> Outcome {
    let common = resource::common(&request);
    let fallback_id = resource::fallback_id(common.physical_id, common.request_id);
    let work = tokio::spawn(async move { resource::handle(api.as_ref(), &request).await });
    let abort = work.abort_handle();
    match tokio::time::timeout(budget, work).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(error)) => {
            let why = if error.is_panic() {
                let payload = error.into_panic();
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                format!("internal error: the handler panicked: {text}")
            } else {
                "internal error: the handler was cancelled".into()
            };
            tracing::error!(step = "failed", reason = %why, "Error in the custom resource handler");
            Outcome {
                success: false,
                reason: why,
                physical_id: fallback_id,
                data: Default::default(),
            }
        }
        Err(_) => {
            abort.abort();
            let why = format!(
                "timed out after {} s waiting for the ELBv2 API; nothing was verified",
                budget.as_secs()
            );
            tracing::error!(step = "timeout", reason = %why, "Error: deadline reached");
            Outcome {
                success: false,
                reason: why,
                physical_id: fallback_id,
                data: Default::default(),
            }
        }
    }
}

impl Handler {
    /// Handles one event; `deadline` is the invocation's end (from the Lambda context).
    pub async fn invoke(
        &self,
        event: Value,
        deadline: SystemTime,
    ) -> Result<(), lambda_runtime::Error> {
        let left = match deadline.duration_since(SystemTime::now()) {
            Ok(left) if !left.is_zero() => left,
            // Lambda always invokes with time left; a deadline already past means a clock or an
            // emulator that sends none. Working within a bounded budget still answers in time.
            _ => {
                tracing::warn!(
                    step = "deadline",
                    deadline_ms = deadline
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as u64),
                    fallback_s = FALLBACK_BUDGET.as_secs(),
                    "the invocation deadline is not in the future; using a fallback"
                );
                FALLBACK_BUDGET
            }
        };
        let end = Instant::now() + left;
        let Some(envelope) = envelope(&event) else {
            tracing::error!(
                step = "rejected",
                "Error: the event has no ResponseURL; it is not a CloudFormation custom resource request"
            );
            return Ok(());
        };
        let kind = event
            .get("RequestType")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        tracing::info!(step = "received", request_type = %kind, request_id = %envelope.request_id, logical_resource_id = %envelope.logical_resource_id, time_left_ms = left.as_millis() as u64, "custom resource request");
        let outcome = match serde_json::from_value::<Request>(event) {
            Ok(request) => {
                let budget = left.saturating_sub(ANSWER_MARGIN).max(left / 2);
                outcome(self.api.clone(), request, budget).await
            }
            Err(error) => Outcome {
                success: false,
                reason: format!("malformed request: {error}"),
                physical_id: resource::fallback_id(
                    envelope.physical_id.as_deref(),
                    &envelope.request_id,
                ),
                data: Default::default(),
            },
        };
        tracing::info!(step = "outcome", success = outcome.success, reason = %outcome.reason, physical_id = %outcome.physical_id, "custom resource outcome");
        let body = answer::body(
            &Addressee {
                stack_id: &envelope.stack_id,
                request_id: &envelope.request_id,
                logical_resource_id: &envelope.logical_resource_id,
            },
            &outcome,
        );
        if let Err(error) = answer::send(&self.http, &envelope.response_url, body, end).await {
            // Nothing else to do: returning an error would only make Lambda run it all again.
            tracing::error!(step = "answer failed", %error, "Error delivering the response to CloudFormation");
        }
        Ok(())
    }
}
