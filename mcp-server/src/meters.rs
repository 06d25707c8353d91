//! What the server counts, under which names: the one place every layer records its figures,
//! through the `metrics` facade. A leaf: it imports nothing of ours, so any layer may call it.
//!
//! Until [`crate::telemetry`] installs a recorder, recording goes to the facade's no-op
//! recorder. Once it has, the per-request figures go through handles registered once per
//! label set and kept here ([`Handles`]), so a request costs a few atomic adds, not a key built,
//! hashed and looked up in each exporter's registry.
//!
//! Names follow the Prometheus rules (snake case, base units, `_total` on counters); the EMF
//! line maps them to CloudWatch names (`telemetry/emf.rs`). Every label takes values from a
//! fixed set, never from what a client sends as is: a hostile client must not be able to
//! create metrics (each one costs memory here and money in CloudWatch).

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Counter, Histogram};

/// Counter: HTTP responses, by `route` and `status`.
pub const HTTP_REQUESTS: &str = "mcp_http_requests_total";
/// Histogram: seconds from a request's arrival to its response head, by `route`.
pub const HTTP_DURATION: &str = "mcp_http_request_duration_seconds";
/// Counter: requests whose client went away (or whose handler failed) before an answer, by
/// `route`.
pub const HTTP_CANCELLED: &str = "mcp_http_requests_cancelled_total";
/// Counter: connections refused over `MAX_CONNECTIONS` (a 503 written before any request).
pub const CONNECTIONS_REFUSED: &str = "mcp_connections_refused_total";
/// Counter: tool calls, by `tool` and `outcome`.
pub const TOOL_CALLS: &str = "mcp_tool_calls_total";
/// Counter: requests, bodies and connections ended by a time limit, by `limit`.
pub const TIMEOUTS: &str = "mcp_timeouts_total";
/// Counter: panics caught (each one answered as an error).
pub const PANICS: &str = "mcp_panics_total";
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

/// The limits whose expiry is counted: `REQUEST_TIMEOUT` is the server's (a request it did
/// not answer in time); the others are the client's (a body or headers that never came, an
/// answer it never read).
pub const LIMITS: [&str; 4] = [
    "REQUEST_TIMEOUT",
    "BODY_READ_TIMEOUT",
    "HEADER_READ_TIMEOUT",
    "WRITE_TIMEOUT",
];

/// Where a request went, as a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/mcp`.
    Mcp,
    /// `/health`.
    Health,
    /// Anything else (answered 404).
    Other,
}

impl Route {
    pub const ALL: [Route; 3] = [Route::Mcp, Route::Health, Route::Other];

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
pub fn tool_label(name: &str, known: impl FnOnce(&str) -> bool) -> &str {
    if known(name) { name } else { "unknown" }
}

/// The handles of the per-request figures, registered once the recorder is installed.
pub struct Handles {
    /// By route, then by status label ([`STATUSES`]).
    responses: [[OnceLock<Counter>; STATUSES.len()]; 3],
    durations: [Histogram; 3],
    cancelled: [Counter; 3],
    refused: Counter,
    timeouts: [Counter; 4],
    /// Each tool's calls by outcome, registered on its first call (a handler has a few tools;
    /// the labels are checked names, see [`tool_label`]). Looking a counter up by its labels
    /// wrote them out, hashed them and read the registry under a lock on every call.
    tools: [OnceLock<(Box<str>, [Counter; 3])>; 16],
}

static HANDLES: OnceLock<Handles> = OnceLock::new();

/// Registers the per-request handles with the installed recorder; call once, after it is
/// installed. The counters every dashboard reads (each route's 200, every timeout, refusals)
/// exist from the start, at 0, so a first increase is seen as one.
pub fn bind() {
    let route = |r: Route| r.label();
    let handles = Handles {
        responses: Default::default(),
        durations: Route::ALL.map(|r| metrics::histogram!(HTTP_DURATION, "route" => route(r))),
        cancelled: Route::ALL.map(|r| metrics::counter!(HTTP_CANCELLED, "route" => route(r))),
        refused: metrics::counter!(CONNECTIONS_REFUSED),
        timeouts: LIMITS.map(|limit| metrics::counter!(TIMEOUTS, "limit" => limit)),
        tools: Default::default(),
    };
    for r in Route::ALL {
        response_counter(&handles, r, 200);
    }
    let _ = HANDLES.set(handles);
}

fn response_counter(handles: &Handles, route: Route, status: u16) -> &Counter {
    let i = status_index(status);
    handles.responses[route as usize][i].get_or_init(
        || metrics::counter!(HTTP_REQUESTS, "route" => route.label(), "status" => STATUSES[i]),
    )
}

/// One HTTP response: its route, status and the time to its head.
pub fn response(route: Route, status: u16, elapsed: Duration) {
    match HANDLES.get() {
        Some(handles) => {
            response_counter(handles, route, status).increment(1);
            handles.durations[route as usize].record(elapsed.as_secs_f64());
        }
        None => {
            let status = STATUSES[status_index(status)];
            metrics::counter!(HTTP_REQUESTS, "route" => route.label(), "status" => status)
                .increment(1);
            metrics::histogram!(HTTP_DURATION, "route" => route.label())
                .record(elapsed.as_secs_f64());
        }
    }
}

/// One request that got no answer: its client went away, or its handler failed, first.
pub fn cancelled(route: Route) {
    match HANDLES.get() {
        Some(handles) => handles.cancelled[route as usize].increment(1),
        None => metrics::counter!(HTTP_CANCELLED, "route" => route.label()).increment(1),
    }
}

/// One connection refused over `MAX_CONNECTIONS`.
pub fn refused() {
    match HANDLES.get() {
        Some(handles) => handles.refused.increment(1),
        None => metrics::counter!(CONNECTIONS_REFUSED).increment(1),
    }
}

/// One tool call. (Tools are the handler's; their names are known only per call.)
pub fn tool_call(tool: &str, outcome: Outcome) {
    let counters = HANDLES.get().and_then(|handles| {
        // The first slot free or holding `tool`: a slot another call fills first with another
        // tool is passed over.
        handles.tools.iter().find_map(|slot| {
            let (name, counters) = slot.get_or_init(|| {
                let counter = |outcome: Outcome| {
                    metrics::counter!(TOOL_CALLS, "tool" => tool.to_string(), "outcome" => outcome.label())
                };
                (tool.into(), [Outcome::Ok, Outcome::Error, Outcome::Failed].map(counter))
            });
            (**name == *tool).then_some(counters)
        })
    });
    match counters {
        Some(counters) => counters[outcome as usize].increment(1),
        None => {
            metrics::counter!(TOOL_CALLS, "tool" => tool.to_string(), "outcome" => outcome.label())
                .increment(1);
        }
    }
}

/// One request, body or connection ended by the limit named (one of [`LIMITS`]).
pub fn timeout(limit: &'static str) {
    match (HANDLES.get(), LIMITS.iter().position(|l| *l == limit)) {
        (Some(handles), Some(i)) => handles.timeouts[i].increment(1),
        _ => metrics::counter!(TIMEOUTS, "limit" => limit).increment(1),
    }
}

/// One panic (counted by the panic hook).
pub fn panic() {
    metrics::counter!(PANICS).increment(1);
}

/// The status labels: the codes this server answers, then the classes of the others.
const STATUSES: [&str; 26] = [
    "200", "202", "204", "400", "401", "403", "404", "405", "406", "408", "409", "413", "415",
    "422", "429", "431", "500", "502", "503", "504", "1xx", "2xx", "3xx", "4xx", "5xx", "other",
];

/// The codes of the first labels of [`STATUSES`], in the same order.
const CODES: [u16; 20] = [
    200, 202, 204, 400, 401, 403, 404, 405, 406, 408, 409, 413, 415, 422, 429, 431, 500, 502, 503,
    504,
];

/// The place of a status code's label in [`STATUSES`].
fn status_index(status: u16) -> usize {
    if let Some(i) = CODES.iter().position(|&c| c == status) {
        return i;
    }
    match status {
        100..=199 => 20,
        200..=299 => 21,
        300..=399 => 22,
        400..=499 => 23,
        500..=599 => 24,
        _ => 25,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_label_from_a_fixed_set() {
        for (code, label) in CODES.iter().zip(STATUSES) {
            assert_eq!(code.to_string(), label);
        }
        for status in 100..=999u16 {
            let label = STATUSES[status_index(status)];
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
