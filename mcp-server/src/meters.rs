//! What the server counts, under which names: the one place every layer records its figures,
//! through the `metrics` facade (a no-op until [`crate::telemetry`] installs a recorder, so
//! stdio mode and tests pay nothing). A leaf: it imports nothing of ours, so any layer may
//! call it.
//!
//! Names follow the Prometheus rules (snake case, base units, `_total` on counters); the EMF
//! line maps them to CloudWatch names (`telemetry/emf.rs`). Every label takes values from a
//! fixed set, never from what a client sends as is: a hostile client must not be able to
//! create metrics (each one costs memory here and money in CloudWatch).

use std::time::Duration;

/// Counter: HTTP responses, by `route` and `status`.
pub const HTTP_REQUESTS: &str = "mcp_http_requests_total";
/// Histogram: seconds from a request's arrival to its response head, by `route`.
pub const HTTP_DURATION: &str = "mcp_http_request_duration_seconds";
/// Counter: tool calls, by `tool` and `outcome`.
pub const TOOL_CALLS: &str = "mcp_tool_calls_total";
/// Counter: requests, streams and connections ended by a time limit, by `limit`.
pub const TIMEOUTS: &str = "mcp_timeouts_total";
/// Gauge: SSE streams open now (request streams included).
pub const SSE_CONNECTIONS: &str = "mcp_sse_connections";
/// Gauge: long-lived SSE streams (GET and `subscriptions/listen`) open now.
pub const LONG_LIVED_STREAMS: &str = "mcp_long_lived_streams";
/// Gauge: TCP connections open now.
pub const OPEN_CONNECTIONS: &str = "mcp_open_connections";
/// Gauge: legacy sessions held in this process.
pub const LEGACY_SESSIONS: &str = "mcp_legacy_sessions";
/// Gauge: 1 while the server drains, else 0.
pub const DRAINING: &str = "mcp_draining";
/// Gauge: the process's resident memory, in bytes.
pub const RESIDENT_MEMORY: &str = "process_resident_memory_bytes";

/// Where a request went, as a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/mcp`.
    Mcp,
    /// `/health`.
    Health,
    /// Anything else (answered 404).
    Other,
    /// A connection refused before any request was read (over `MAX_CONNECTIONS`).
    Connection,
}

impl Route {
    /// The route of a request path.
    pub fn of(path: &str) -> Route {
        match path {
            "/mcp" => Route::Mcp,
            "/health" => Route::Health,
            _ => Route::Other,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Route::Mcp => "mcp",
            Route::Health => "health",
            Route::Other => "other",
            Route::Connection => "connection",
        }
    }
}

/// How a tool call ended, as a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A result without `isError`.
    Ok,
    /// A result with `isError`: the caller's mistake, said in the result.
    Error,
    /// A JSON-RPC error: unknown tool, invalid arguments, a failure of ours.
    Failed,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Failed => "failed",
        }
    }
}

/// The label of a tool name: the name when the server has that tool, else `unknown` (names
/// come from clients).
pub fn tool_label(name: &str, known: impl FnOnce(&str) -> bool) -> String {
    if known(name) {
        name.to_string()
    } else {
        "unknown".to_string()
    }
}

/// One HTTP response: its route, status and the time to its head.
pub fn response(route: Route, status: u16, elapsed: Duration) {
    metrics::counter!(HTTP_REQUESTS, "route" => route.label(), "status" => status_label(status))
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route.label()).record(elapsed.as_secs_f64());
}

/// One tool call.
pub fn tool_call(tool: String, outcome: Outcome) {
    metrics::counter!(TOOL_CALLS, "tool" => tool, "outcome" => outcome.label()).increment(1);
}

/// One request, stream or connection ended by the limit named (`REQUEST_TIMEOUT`, ...).
pub fn timeout(limit: &'static str) {
    metrics::counter!(TIMEOUTS, "limit" => limit).increment(1);
}

/// The label of a status code, without allocating: the code itself for the codes this server
/// answers, else its class.
fn status_label(status: u16) -> &'static str {
    const KNOWN: [(u16, &str); 20] = [
        (200, "200"),
        (202, "202"),
        (204, "204"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (406, "406"),
        (408, "408"),
        (409, "409"),
        (413, "413"),
        (415, "415"),
        (422, "422"),
        (429, "429"),
        (431, "431"),
        (500, "500"),
        (502, "502"),
        (503, "503"),
        (504, "504"),
    ];
    if let Some((_, label)) = KNOWN.iter().find(|(code, _)| *code == status) {
        return label;
    }
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_label_from_a_fixed_set() {
        for status in 100..=999u16 {
            let label = status_label(status);
            let exact = label == status.to_string();
            let class = label.len() == 3 && label.ends_with("xx");
            assert!(
                exact || class || status >= 600 && label == "other",
                "{status} -> {label}"
            );
            if class && status < 600 {
                assert_eq!(&label[..1], &status.to_string()[..1], "{status}");
            }
        }
    }

    #[test]
    fn routes_and_tools_come_from_fixed_sets() {
        assert_eq!(Route::of("/mcp"), Route::Mcp);
        assert_eq!(Route::of("/health"), Route::Health);
        assert_eq!(Route::of("/mcp/"), Route::Other);
        assert_eq!(Route::of("/anything?x"), Route::Other);
        assert_eq!(
            tool_label("search_docs", |n| n == "search_docs"),
            "search_docs"
        );
        assert_eq!(tool_label("evil\n{}", |n| n == "search_docs"), "unknown");
    }
}
