//! The MCP SDK's own log lines, made safe: rmcp logs legacy session ids (credentials), stream
//! ids and, at debug, whole messages with tool arguments. Its events never reach the formatter
//! directly; this layer takes those at `warn` and `error` only, whatever `LOG_LEVEL` says,
//! redacts every id-like token, and writes them again under our own target `mcp_server::sdk`
//! (with the SDK's target as a field), so operators still see the SDK's problems.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// The SDK's target prefix.
pub const SDK_TARGET: &str = "rmcp";

/// Replaces id-like tokens with `[redacted]`: UUIDs, and any run of 20 or more letters, digits,
/// `-`, `_` or `.` that contains a digit (session ids, stream ids, tokens). Words of prose have
/// no digits; paths and versions are shorter.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.chars().count() >= 20 && token.chars().any(|c| c.is_ascii_digit()) {
            out.push_str("[redacted]");
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

/// SDK errors that are the expected end of a stream the server itself ends when it drains (the
/// stream's channel is gone when the SDK tries to send on it): logged at warn, so the saved
/// errors query and alarms on error lines see only real failures, not every deploy.
const EXPECTED_WHEN_DRAINING: &[&str] = &["failed to send pending response during drain"];

/// Whether an SDK error line is one of [`EXPECTED_WHEN_DRAINING`].
fn expected_when_draining(message: &str) -> bool {
    EXPECTED_WHEN_DRAINING
        .iter()
        .any(|known| message.trim_start().starts_with(known))
}

/// Collects an event's fields as `name=value` text.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

/// The layer; add it with a filter that passes only the SDK's targets (see [`super::init`]).
pub struct SdkLines;

impl<S: Subscriber> Layer<S> for SdkLines {
    fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
        let metadata = event.metadata();
        if !metadata.target().starts_with(SDK_TARGET) || *metadata.level() > Level::WARN {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = redact(&format!("{}{}", fields.message, fields.rest));
        let sdk = metadata.target();
        if *metadata.level() == Level::ERROR && !expected_when_draining(&fields.message) {
            tracing::error!(target: "mcp_server::sdk", sdk, "Error in the MCP SDK: {line}");
        } else {
            tracing::warn!(target: "mcp_server::sdk", sdk, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{expected_when_draining, redact};

    #[test]
    fn the_drain_ends_streams_without_an_error_line() {
        assert!(expected_when_draining(
            "failed to send pending response during drain"
        ));
        assert!(!expected_when_draining("failed to send response"));
        assert!(!expected_when_draining("transport error"));
    }

    #[test]
    fn ids_are_redacted_and_prose_is_kept() {
        assert_eq!(
            redact("Failed to close session 0f8c2f3e-9a4b-4c1d-8e2f-1234567890ab: gone"),
            "Failed to close session [redacted]: gone"
        );
        assert_eq!(
            redact("stream_id=\"3f2a9c1e7b6d4a5f8e0c_12\" broken"),
            "stream_id=\"[redacted]\" broken"
        );
        let prose = "http request wise channel not found for version 2025-11-25";
        assert_eq!(redact(prose), prose);
    }
}
