//! Structured logs through `tracing`: JSON lines in production (CloudWatch Logs Insights parses
//! them), readable text on a terminal; always on stderr, so stdio mode keeps stdout for MCP.

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// The tracing filter for a `LOG_LEVEL` value. A bare `error`, `warn` or `info` keeps rmcp at
/// `warn`: its own info lines carry legacy session ids, which act as credentials and must not
/// reach the logs. `debug`, `trace` and explicit filters are taken as given.
pub fn filter_directive(log_level: &str) -> String {
    match log_level.trim().to_ascii_lowercase().as_str() {
        level @ ("error" | "warn") => level.to_string(),
        "info" => "info,rmcp=warn".to_string(),
        _ => log_level.to_string(),
    }
}

/// Installs the global subscriber. An invalid `LOG_LEVEL` is reported and replaced by `info`.
pub fn init(config: &Config) {
    let (filter, bad_filter) = match EnvFilter::try_new(filter_directive(&config.log_level)) {
        Ok(filter) => (filter, None),
        Err(error) => (EnvFilter::new(filter_directive("info")), Some(error)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format() {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
    // A panic is logged as an error line like any other (JSON for CloudWatch), not as bare text
    // on stderr; `recover` then answers the request it broke.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(location, panic = ?message, "Error: panic");
    }));
    if let Some(error) = bad_filter {
        tracing::warn!(%error, value = %config.log_level, "LOG_LEVEL is not a valid filter; using info");
    }
}

#[cfg(test)]
mod tests {
    use super::filter_directive;

    #[test]
    fn bare_levels_keep_rmcp_session_ids_out_of_the_logs() {
        assert_eq!(filter_directive("info"), "info,rmcp=warn");
        assert_eq!(filter_directive("INFO"), "info,rmcp=warn");
        assert_eq!(filter_directive("warn"), "warn");
        assert_eq!(filter_directive("debug"), "debug");
        assert_eq!(filter_directive("info,rmcp=info"), "info,rmcp=info");
    }
}
