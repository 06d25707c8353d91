//! Responses the server writes itself (rmcp writes the rest): JSON-RPC error bodies with the
//! right HTTP status, so clients see what was wrong whichever layer refused them.

use std::time::Duration;

use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use warp::reply::Response;

/// JSON-RPC "server error" code used for transport-level refusals (bad Origin or Host, limits).
pub const SERVER_ERROR: i64 = -32000;
/// JSON-RPC "parse error".
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC "invalid request".
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC "invalid params".
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC "internal error".
pub const INTERNAL_ERROR: i64 = -32603;

/// A JSON-RPC error response; `id` is `None` when the request's id is unknown (then the body has
/// no `id`, as MCP allows for errors not tied to a request).
pub fn jsonrpc_error(status: StatusCode, id: Option<&Value>, code: i64, message: &str) -> Response {
    let mut body = json!({
        "jsonrpc": "2.0",
        "error": { "code": code, "message": message },
    });
    if let Some(id) = id {
        body["id"] = id.clone();
    }
    json_response(status, &body)
}

/// 503 with `Retry-After`, for a limit the client can simply wait out.
pub fn unavailable(id: Option<&Value>, message: &str, retry_after: Duration) -> Response {
    let mut response = jsonrpc_error(StatusCode::SERVICE_UNAVAILABLE, id, SERVER_ERROR, message);
    let seconds = retry_after.as_secs().max(1);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// 429 with `Retry-After` (whole seconds, rounded up), for a client over its own limit.
pub fn too_many(id: Option<&Value>, message: &str, retry_after: Duration) -> Response {
    let mut response = jsonrpc_error(StatusCode::TOO_MANY_REQUESTS, id, SERVER_ERROR, message);
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// A JSON body with a status.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(body.to_string().into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// rmcp answers some refusals (406, 415, an unsupported `MCP-Protocol-Version`, an unknown
/// session) with plain text; JSON-RPC clients expect a JSON-RPC error body, with the same status
/// and headers and rmcp's text as the message.
pub fn as_jsonrpc_error(
    parts: &http::response::Parts,
    body: &bytes::Bytes,
    id: Option<&Value>,
) -> Option<Response> {
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(parts.status.is_client_error() || parts.status.is_server_error()) {
        return None;
    }
    let code = if parts.status.is_server_error() {
        INTERNAL_ERROR
    } else {
        INVALID_REQUEST
    };
    let text = String::from_utf8_lossy(body);
    let message = match text.trim() {
        "" => parts
            .status
            .canonical_reason()
            .unwrap_or("Error")
            .to_string(),
        text => text.to_string(),
    };
    let mut response = jsonrpc_error(parts.status, id, code, &message);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.headers_mut().append(name, value.clone());
        }
    }
    Some(response)
}

/// rmcp answers a JSON body it cannot read as a JSON-RPC message with 415 and plain text;
/// JSON-RPC clients expect a parse error (-32700) or an invalid request (-32600), as JSON.
/// `json_content` says the request's Content-Type was JSON, so the body, not the type, was
/// what rmcp refused. Any other answer passes through.
pub fn unreadable_body(response: Response, body: &[u8], json_content: bool) -> Response {
    if response.status() != StatusCode::UNSUPPORTED_MEDIA_TYPE || !json_content {
        return response;
    }
    match serde_json::from_slice::<Value>(body) {
        Err(error) => jsonrpc_error(
            StatusCode::BAD_REQUEST,
            None,
            PARSE_ERROR,
            &format!("Parse error: the body is not JSON ({error})"),
        ),
        Ok(Value::Array(_)) => jsonrpc_error(
            StatusCode::BAD_REQUEST,
            None,
            INVALID_REQUEST,
            "Invalid Request: JSON-RPC batches are not supported (removed in MCP 2025-06-18)",
        ),
        Ok(_) => jsonrpc_error(
            StatusCode::BAD_REQUEST,
            None,
            INVALID_REQUEST,
            "Invalid Request: the body is not a JSON-RPC 2.0 request, notification or response",
        ),
    }
}
