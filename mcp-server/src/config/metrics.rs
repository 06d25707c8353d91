//! What the metrics settings come to: when EMF lines are written, the `Service` dimension, where
//! the Prometheus listener binds.

use std::net::SocketAddr;
use std::time::Duration;

use super::{Config, Mode};

impl Config {
    /// How often an EMF line is written: `METRICS_EMF_INTERVAL`, or every minute on ECS; never
    /// in stdio mode, where stdout carries MCP.
    pub fn emf_interval(&self) -> Option<Duration> {
        if self.mode == Mode::Stdio {
            return None;
        }
        match self.metrics_emf_interval {
            Some(given) => given,
            None if self.ecs_metadata_uri.is_some() => Some(Duration::from_secs(60)),
            None => None,
        }
    }

    /// The `Service` dimension: `METRICS_SERVICE`; else, under Copilot, `app-env-service` (the
    /// service name alone would merge every environment's metrics in one account and region);
    /// else `docs-mcp`.
    pub fn metrics_service(&self) -> String {
        if let Some(service) = &self.metrics_service {
            return service.clone();
        }
        let copilot = [
            &self.copilot_application_name,
            &self.copilot_environment_name,
            &self.copilot_service_name,
        ];
        match copilot {
            [Some(app), Some(env), Some(service)] => format!("{app}-{env}-{service}"),
            [_, _, Some(service)] => service.clone(),
            _ => "docs-mcp".to_string(),
        }
    }

    /// Where the Prometheus listener binds, when `METRICS_PORT` is set.
    pub fn metrics_bind(&self) -> Option<SocketAddr> {
        let port = self.metrics_port?;
        Some(SocketAddr::new(
            self.metrics_host.unwrap_or(self.host),
            port,
        ))
    }
}
