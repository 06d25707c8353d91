//! Structured logs through `tracing`: JSON lines in production (CloudWatch Logs Insights parses
//! them), readable text on a terminal; always on stderr, so stdio mode keeps stdout for MCP.

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Installs the global subscriber. An invalid `LOG_LEVEL` is reported and replaced by `info`.
pub fn init(config: &Config) {
    let (filter, bad_filter) = match EnvFilter::try_new(&config.log_level) {
        Ok(filter) => (filter, None),
        Err(error) => (EnvFilter::new("info"), Some(error)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
    if let Some(error) = bad_filter {
        tracing::warn!(%error, value = %config.log_level, "LOG_LEVEL is not a valid filter; using info");
    }
}
