//! CORS for the origins `ALLOWED_ORIGINS` lets in.
//!
//! Written out rather than taken from `warp::cors()`, which answers a refused origin with its own
//! plain 403; here a refused origin gets the same JSON-RPC 403 as everywhere else (see
//! `mcp_endpoint`), and an allowed one gets exactly the headers MCP clients in a browser need.

use http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

/// Request headers a browser MCP client sends: the `Mcp-*` family and resumption.
const ALLOW_HEADERS: &str = "Content-Type, Accept, Authorization, X-Api-Key, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID";
/// Response headers scripts may read: the session id above all.
const EXPOSE_HEADERS: &str = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After";
const ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// Browsers cache a preflight at most this long (seconds); Chromium caps it at 7200.
const MAX_AGE: &str = "7200";

/// The answer to a preflight from an allowed origin (or from a non-browser client without one).
pub fn preflight(
    origin: Option<&HeaderValue>,
    requested_headers: Option<&HeaderValue>,
) -> Response {
    let mut response = Response::new(bytes::Bytes::new().into());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    // `Mcp-Param-*` headers (SEP-2243) vary by tool; echo whatever the browser asks for when it
    // stays within the MCP header families, and always include the fixed list.
    let mut allow = ALLOW_HEADERS.to_string();
    if let Some(requested) = requested_headers.and_then(|v| v.to_str().ok()) {
        for name in requested.split(',').map(str::trim) {
            if name.to_ascii_lowercase().starts_with("mcp-param-") {
                allow.push_str(", ");
                allow.push_str(name);
            }
        }
    }
    if let Ok(value) = HeaderValue::from_str(&allow) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    decorate(&mut response, origin);
    response
}

/// Adds the CORS response headers for an allowed origin; without an Origin nothing is added.
pub fn decorate(response: &mut Response, origin: Option<&HeaderValue>) {
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
}
