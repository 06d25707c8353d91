//! A CloudFormation custom resource that sets an Application Load Balancer's idle timeout
//! (`idle_timeout.timeout_seconds`), which AWS Copilot cannot set, and always answers.
//!
//! - [`properties`]: what the template passes (all strings).
//! - [`elb`]: the four ELBv2 calls, behind a trait.
//! - [`discovery`]: the ALB by ARN or by Copilot tags.
//! - [`resource`]: Create, Update, Delete as outcomes.
//! - [`answer`]: the response document and its PUT.
//! - [`handler`]: one invocation, deadline and panics included.

pub mod answer;
pub mod discovery;
pub mod elb;
pub mod handler;
pub mod properties;
pub mod resource;

#[cfg(test)]
mod tests;
