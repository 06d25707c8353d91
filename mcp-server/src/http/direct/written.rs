//! How the fast paths write their answers: as rmcp writes them, in a JSON body.

use http::{HeaderValue, StatusCode, header};
use rmcp::model::{ErrorCode, RequestId, ServerJsonRpcMessage};
use warp::reply::Response;

use crate::direct::ToolOutput;

/// A tool's result as rmcp writes a `CallToolResult` with one text block and structured
/// content (a test holds the two equal): `resultType` only under 2026-07-28 (`modern`; rmcp
/// drops it for a legacy peer), `isError: false`.
pub(super) fn tool_response(tool: &ToolOutput, id: &RequestId, modern: bool) -> Option<Response> {
    debug_assert_eq!(
        tool.structured.first(),
        Some(&b'{'),
        "a tool's output is an object"
    );
    // Written by hand around the two parts serde writes: the text would be copied twice into
    // a `serde_json::value::RawValue` for the structured content (built by parsing it again).
    let mut body = Vec::with_capacity(tool.text.len() + tool.structured.len() + 160);
    body.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    serde_json::to_writer(&mut body, id).ok()?;
    body.extend_from_slice(br#","result":{"#);
    if modern {
        body.extend_from_slice(br#""resultType":"complete","#);
    }
    body.extend_from_slice(br#""content":[{"type":"text","text":"#);
    body.extend_from_slice(&tool.text);
    body.extend_from_slice(br#"}],"structuredContent":"#);
    body.extend_from_slice(&tool.structured);
    body.extend_from_slice(br#","isError":false}}"#);
    Some(json_body(body, StatusCode::OK))
}

/// `message` as an `application/json` answer with `status`.
pub(super) fn json_response(
    message: &ServerJsonRpcMessage,
    status: StatusCode,
) -> Option<Response> {
    // Room for a typical answer (a search's is a few KiB), not grown from 128 bytes.
    let mut body = Vec::with_capacity(4096);
    serde_json::to_writer(&mut body, message).ok()?;
    Some(json_body(body, status))
}

/// `body` (JSON) as an `application/json` answer with `status`.
fn json_body(body: Vec<u8>, status: StatusCode) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The HTTP status rmcp gives a modern-era JSON-RPC error (its `jsonrpc_http_status`, for a
/// request whose `_meta` is well-formed).
pub(super) fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
        | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
        | ErrorCode::HEADER_MISMATCH => StatusCode::BAD_REQUEST,
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    }
}
