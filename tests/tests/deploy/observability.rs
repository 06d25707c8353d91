//! Autoscaling, alarms, saved queries and dashboards, on both deployment paths (the plain
//! template, and Copilot's manifest, addon and override patch), checked against what the server
//! emits: every metric they read is one of the names of the server's EMF line (namespace,
//! metric, the `Service` dimension with the value the server is given), the dashboards are
//! valid JSON once `Fn::Sub` has run, expressions name metrics that exist, and the numbers that
//! must agree between files do.
//!
//! By concern: `stack` reads a deployment's template with the values its parameters take (Ref,
//! `Fn::Sub`, the dashboard body); `metrics` collects the metrics the dashboards, alarms and
//! scaling policies read and checks them against what the server emits; `dashboards`, `alarms`,
//! `scaling` (with `copilot_patch`, the policy Copilot's override adds) and `queries` test each.

#[path = "observability/alarms.rs"]
mod alarms;
#[path = "observability/copilot_patch.rs"]
mod copilot_patch;
#[path = "observability/dashboards.rs"]
mod dashboards;
#[path = "observability/metrics.rs"]
pub mod metrics;
#[path = "observability/queries.rs"]
pub mod queries;
#[path = "observability/scaling.rs"]
mod scaling;
#[path = "observability/stack.rs"]
pub mod stack;
