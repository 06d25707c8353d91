//! Structured logs through `tracing`: JSON lines in production (CloudWatch Logs Insights parses
//! them), readable text on a terminal; always on stderr, so stdio mode keeps stdout for MCP.

mod sdk_lines;

use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{Config, LogFormat};
pub use sdk_lines::redact;
use sdk_lines::{SDK_TARGET, SdkLines};

/// The tracing filter for a `LOG_LEVEL` value. The MCP SDK's own lines are always enabled at
/// `warn` (whatever the value says) so that `SdkLines` sees them; it is the only way they reach
/// the logs: they carry legacy session ids, which act as credentials, and at debug whole
/// messages with tool arguments.
pub fn filter_directive(log_level: &str) -> String {
    let level = log_level.trim();
    let base = match level.to_ascii_lowercase().as_str() {
        lower @ ("error" | "warn" | "info" | "debug" | "trace") => lower.to_string(),
        _ => level.to_string(),
    };
    format!("{base},{SDK_TARGET}=warn")
}

/// Installs the global subscriber. An invalid `LOG_LEVEL` is reported and replaced by `info`.
pub fn init(config: &Config) {
    let (filter, bad_filter) = match EnvFilter::try_new(filter_directive(&config.log_level)) {
        Ok(filter) => (filter, None),
        Err(error) => (EnvFilter::new(filter_directive("info")), Some(error)),
    };
    // Everything but the SDK goes to the formatter as it is; the SDK goes through SdkLines.
    let not_sdk = filter_fn(|metadata| !metadata.target().starts_with(SDK_TARGET));
    let formatter = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let formatter = match config.log_format() {
        LogFormat::Json => formatter
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_filter(not_sdk)
            .boxed(),
        LogFormat::Text => formatter.with_ansi(false).with_filter(not_sdk).boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(formatter)
        .with(SdkLines)
        .init();
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
        crate::meters::panic();
    }));
    if let Some(error) = bad_filter {
        tracing::warn!(%error, value = %config.log_level, "LOG_LEVEL is not a valid filter; using info");
    }
}

#[cfg(test)]
mod tests {
    use super::filter_directive;

    #[test]
    fn the_sdk_is_held_to_warn_whatever_the_level_says() {
        assert_eq!(filter_directive("info"), "info,rmcp=warn");
        assert_eq!(filter_directive("INFO"), "info,rmcp=warn");
        assert_eq!(filter_directive("warn"), "warn,rmcp=warn");
        assert_eq!(filter_directive("debug"), "debug,rmcp=warn");
        assert_eq!(
            filter_directive("info,rmcp=debug"),
            "info,rmcp=debug,rmcp=warn"
        );
    }
}
