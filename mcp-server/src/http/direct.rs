//! The fast paths: a stateless request the handler can answer itself ([`crate::direct`]) is
//! answered here, without rmcp's per-request service and task; and so is such a request in a
//! legacy session this process holds ([`answer_in_session`]), without the session worker's
//! channels and the SSE stream rmcp answers every legacy request with.
//!
//! It is taken only for a request that rmcp would serve statelessly and answer with this same
//! JSON: every check rmcp makes on such a request is made here the same way or more strictly,
//! and whatever is not plainly well-formed (a parameter in `Accept`, a Base64 `Mcp-Name`, an
//! `Mcp-Param-*` header, an unknown envelope field, a version other than 2026-07-28, a session
//! header) is declined and goes to rmcp, so rmcp still words every error. The answer is built
//! with rmcp's own types and steps (cache hints filled, `resultType` kept, a missing resource
//! reported as `-32602`, the HTTP status rmcp gives each error code); a tool's successful result
//! is written around its structured content, already JSON ([`crate::direct::ToolOutput`]), as
//! rmcp writes a `CallToolResult`.

use std::borrow::Cow;

use http::uri::Authority;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use rmcp::model::{
    ErrorCode, InitializeRequestParams, ProtocolVersion, RequestId, RequestMetaObject,
    ServerJsonRpcMessage, ServerResult,
};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use warp::reply::Response;

use crate::app::App;
use crate::direct::{Answer, DirectRequest};
use crate::http::MODERN_PROTOCOL;
use crate::sessions::dormant::Dormant;

/// The JSON-RPC request, exactly: any other field, or a notification, is left to rmcp.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Envelope<'a> {
    jsonrpc: &'a str,
    pub id: RequestId,
    pub method: &'a str,
    /// Absent in a legacy request without parameters (`tools/list`); a modern one always has
    /// them, with `_meta`.
    #[serde(default)]
    params: Params,
}

/// What the checks read of `params` (which must be an object); the handler reads the rest.
#[derive(Default)]
struct Params {
    meta: Option<RequestMetaObject>,
    name: Option<String>,
    uri: Option<String>,
}

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Params;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
                fn once<T, E: de::Error>(slot: &mut Option<T>, value: T) -> Result<(), E> {
                    match slot.replace(value) {
                        None => Ok(()),
                        Some(_) => Err(E::custom("a field given twice")),
                    }
                }
                let mut params = Params::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "_meta" => once(&mut params.meta, map.next_value()?)?,
                        "name" => once(&mut params.name, map.next_value()?)?,
                        "uri" => once(&mut params.uri, map.next_value()?)?,
                        // Read as rmcp reads values, not passed over (see `values`): a tool's
                        // arguments are among them.
                        _ => {
                            map.next_value::<values::AnyValue>()?;
                        }
                    }
                }
                Ok(params)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// The envelope of a request rmcp would serve statelessly at 2026-07-28, every check rmcp makes
/// on it passed; `None` when anything is not plainly so.
pub(crate) fn checked<'b>(
    headers: &HeaderMap,
    body: &'b [u8],
    json_content: bool,
) -> Option<Envelope<'b>> {
    // A session is rmcp's business (it decides the era from the body).
    if headers.contains_key("mcp-session-id") {
        return None;
    }
    let envelope = plain_request(headers, body, json_content)?;
    let params = &envelope.params;
    // rmcp's lifecycle checks, all of which a request passes to be served statelessly at
    // 2026-07-28: the header names it, `_meta` carries it and well-formed capabilities.
    let meta = params.meta.as_ref()?;
    if single(headers, "mcp-protocol-version")? != MODERN_PROTOCOL
        || meta.protocol_version()? != ProtocolVersion::V_2026_07_28
        || !meta
            .missing_required_keys(&ProtocolVersion::V_2026_07_28)
            .is_empty()
    {
        return None;
    }
    // SEP-2243: `Mcp-Method` always, `Mcp-Name` where the method names something.
    if single(headers, "mcp-method")? != envelope.method {
        return None;
    }
    let named = match envelope.method {
        "tools/call" | "prompts/get" => Some(params.name.as_deref()?),
        "resources/read" => Some(params.uri.as_deref()?),
        _ => None,
    };
    if let Some(named) = named
        && single(headers, "mcp-name")? != named
    {
        return None;
    }
    Some(envelope)
}

/// The envelope of a request in a legacy session that rmcp would hand to the session's handler,
/// every check rmcp makes on it passed; `None` when anything is not plainly so. The session
/// itself is the caller's to check. With the envelope, the protocol version the request names.
fn checked_legacy<'h, 'b>(
    headers: &'h HeaderMap,
    body: &'b [u8],
    json_content: bool,
) -> Option<(Envelope<'b>, &'h str)> {
    // 2026-07-28's standard headers, which rmcp checks against the body.
    if headers.contains_key("mcp-method") || headers.contains_key("mcp-name") {
        return None;
    }
    let envelope = plain_request(headers, body, json_content)?;
    // The version the session's client names after `initialize`, if any (rmcp would refuse an
    // unknown one), and no per-request version in `_meta` (rmcp checks it against the header; a
    // legacy request has none).
    let version = legacy_version(headers)?;
    if envelope
        .params
        .meta
        .as_ref()
        .is_some_and(|meta| meta.protocol_version().is_some())
    {
        return None;
    }
    Some((envelope, version))
}

/// What every request a fast path takes is: `application/json`, accepting both media types
/// rmcp requires, a `Host` rmcp reads as an authority (it refuses a request without one,
/// whatever its host list), no `Mcp-Param-*` header (checked against tool schemas only rmcp
/// reads), and a body that is exactly a JSON-RPC 2.0 request object.
fn plain_request<'b>(
    headers: &HeaderMap,
    body: &'b [u8],
    json_content: bool,
) -> Option<Envelope<'b>> {
    let envelope: Envelope = plain_message(headers, body, json_content)?;
    (envelope.jsonrpc == "2.0").then_some(envelope)
}

/// The body as `T` (a JSON-RPC message's envelope), if the request is plain as
/// [`plain_request`] says.
fn plain_message<'b, T: Deserialize<'b>>(
    headers: &HeaderMap,
    body: &'b [u8],
    json_content: bool,
) -> Option<T> {
    if !json_content
        || !accepts_json_and_sse(headers)
        || single(headers, "host").is_none_or(|host| Authority::try_from(host).is_err())
        || headers
            .keys()
            .any(|name| name.as_str().starts_with("mcp-param-"))
    {
        return None;
    }
    // An object: serde would also read a struct from an array, which rmcp refuses.
    if !body.trim_ascii_start().starts_with(b"{") {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// The legacy version a session request names: its `MCP-Protocol-Version`, or, without one
/// (clients of 2025-03-26 and before send none), 2025-03-26, as rmcp takes it. Legacy answers
/// do not differ by version (the session's handler answers them alike), so the session's own
/// version need not be known. `None` for two headers, or a version that is not a legacy one.
fn legacy_version(headers: &HeaderMap) -> Option<&str> {
    if !headers.contains_key("mcp-protocol-version") {
        return Some("2025-03-26");
    }
    let version = single(headers, "mcp-protocol-version")?;
    LEGACY_PROTOCOLS.contains(&version).then_some(version)
}

/// The protocol versions of the legacy (session) era.
pub(crate) const LEGACY_PROTOCOLS: [&str; 4] =
    ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// A legacy `initialize` that starts a dormant session (see [`crate::sessions::dormant`]): the
/// new session's id and the answer, or `None` for rmcp (no dormant sessions here, or anything
/// not plainly as rmcp would take it). The caller has admitted the session under its caps.
/// The answer is the handler's `negotiate_initialize`, which is rmcp's own `initialize`, in
/// a JSON body with the session id in `Mcp-Session-Id` (rmcp sends the same result as a
/// one-event SSE stream; either is the client's to read).
pub fn start_session(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
    json_content: bool,
) -> Option<(String, Response)> {
    app.dormant.as_ref()?;
    // What a dormant session keeps is bounded as a stored one is (real clients send a few
    // hundred bytes; `capabilities` takes any JSON): a larger one is rmcp's, as before.
    if body.len() > crate::sessions::store::MAX_STORED_BYTES {
        return None;
    }
    // A session header: rmcp looks the session up first. `Mcp-Method` and `Mcp-Name`: rmcp
    // checks them against the body.
    if ["mcp-session-id", "mcp-method", "mcp-name"]
        .iter()
        .any(|name| headers.contains_key(*name))
    {
        return None;
    }
    let envelope = plain_request(headers, body, json_content)?;
    if envelope.method != "initialize"
        || envelope
            .params
            .meta
            .as_ref()
            .is_some_and(|meta| meta.protocol_version().is_some())
    {
        return None;
    }
    let request = DirectRequest {
        method: envelope.method,
        protocol: "",
        body,
    };
    let params: InitializeRequestParams = request.params()?;
    // rmcp's checks: a version header, if any, is a known version and the one in the body.
    if headers.contains_key("mcp-protocol-version") {
        let named = single(headers, "mcp-protocol-version")?;
        if named != params.protocol_version.as_str()
            || !ProtocolVersion::KNOWN_VERSIONS
                .iter()
                .any(|known| known.as_str() == named)
        {
            return None;
        }
    }
    let kept = Dormant::kept(&params, crate::sessions::store::MAX_STORED_BYTES)?;
    let result = app.initialize_dormant(&params)?;
    let mut result = ServerResult::InitializeResult(result);
    result.strip_result_type_for_legacy_peer();
    let message = ServerJsonRpcMessage::response(result, envelope.id);
    let mut response = json_response(&message, StatusCode::OK)?;
    let id = rmcp::transport::common::server_side_http::session_id();
    response
        .headers_mut()
        .insert("mcp-session-id", HeaderValue::from_str(&id).ok()?);
    app.dormant.as_ref()?.start(id.to_string(), kept);
    Some((id.to_string(), response))
}

/// A JSON-RPC notification, exactly.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Notice<'a> {
    jsonrpc: &'a str,
    method: &'a str,
    #[serde(default)]
    params: Params,
}

/// The 202 for `notifications/initialized` in a dormant session, which needs nothing until the
/// session wakes (rmcp then replays it to the handler); `None` for rmcp, for any other
/// notification, a session that is not dormant here, or anything not plainly as rmcp takes it.
pub fn accept_in_session(
    app: &App,
    session: &str,
    headers: &HeaderMap,
    body: &[u8],
    json_content: bool,
) -> Option<Response> {
    if headers.contains_key("mcp-method") || headers.contains_key("mcp-name") {
        return None;
    }
    let notice: Notice = plain_message(headers, body, json_content)?;
    // A legacy version, or none (rmcp refuses an unknown one).
    legacy_version(headers)?;
    if notice.jsonrpc != "2.0"
        || notice.method != "notifications/initialized"
        || notice
            .params
            .meta
            .as_ref()
            .is_some_and(|meta| meta.protocol_version().is_some())
        || !app.dormant_used(session)
    {
        return None;
    }
    let mut response = Response::new(Default::default());
    *response.status_mut() = StatusCode::ACCEPTED;
    Some(response)
}

/// The answer to a request in legacy session `session`, when the handler answers it itself and
/// the session is one rmcp holds here, or a dormant one; `None` for rmcp (which, like the TypeScript SDK, serves a
/// session's requests whether or not its `notifications/initialized` came first). The
/// result has the legacy shape rmcp gives it (no `resultType: "complete"`, object-only tool
/// output, `-32002` for a missing resource), in a JSON body rather than a one-event SSE
/// stream (either is the client's to read).
pub fn answer_in_session(
    app: &App,
    session: &str,
    headers: &HeaderMap,
    body: &[u8],
    json_content: bool,
) -> Option<Response> {
    let (envelope, version) = checked_legacy(headers, body, json_content)?;
    let in_rmcp = app.holds_session_now(session);
    if !in_rmcp && !app.dormant_used(session) {
        return None;
    }
    let request = DirectRequest {
        method: envelope.method,
        protocol: version,
        body,
    };
    let response = match app.answer_directly(&request)? {
        Ok(Answer::Tool(tool)) => tool_response(&tool, &envelope.id, false),
        Ok(Answer::Result(mut result)) => {
            result.strip_result_type_for_legacy_peer();
            result.strip_non_object_output_for_legacy_peer();
            json_response(
                &ServerJsonRpcMessage::response(result, envelope.id),
                StatusCode::OK,
            )
        }
        Err(error) => json_response(
            &ServerJsonRpcMessage::error(error, Some(envelope.id)),
            StatusCode::OK,
        ),
    };
    // Not while rmcp may be replaying the handshake: the worker takes nothing else then.
    if in_rmcp && !app.wakes.in_flight(session) {
        app.keep_session_alive(session);
    }
    response
}

/// The answer to a modern-era request the handler answers itself, or `None` for rmcp.
/// `json_content`: the request's media type is `application/json` (rmcp's own test).
pub fn answer(app: &App, headers: &HeaderMap, body: &[u8], json_content: bool) -> Option<Response> {
    let envelope = checked(headers, body, json_content)?;
    let request = DirectRequest {
        method: envelope.method,
        protocol: MODERN_PROTOCOL,
        body,
    };
    let outcome = app.answer_directly(&request)?;
    let (message, status) = match outcome {
        Ok(Answer::Tool(tool)) => return tool_response(&tool, &envelope.id, true),
        Ok(Answer::Result(mut result)) => {
            result.fill_missing_cache_hints();
            (
                ServerJsonRpcMessage::response(result, envelope.id),
                StatusCode::OK,
            )
        }
        Err(mut error) => {
            if error.code == ErrorCode::RESOURCE_NOT_FOUND {
                error.code = ErrorCode::INVALID_PARAMS;
            }
            let status = status_of(error.code);
            (
                ServerJsonRpcMessage::error(error, Some(envelope.id)),
                status,
            )
        }
    };
    json_response(&message, status)
}

/// The one value of header `name`, as text; `None` when absent, repeated, not visible ASCII,
/// or in the Base64 form (`=?base64?...?=`) that only rmcp decodes.
pub(crate) fn single<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() || value.starts_with("=?") {
        return None;
    }
    Some(value)
}

/// `Accept` lists both media types rmcp requires, with no parameters or quoting (a weight, even
/// `q=1`, sends the request to rmcp, which reads weights).
fn accepts_json_and_sse(headers: &HeaderMap) -> bool {
    let (mut json, mut sse) = (false, false);
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        if value.contains(['"', ';']) {
            return false;
        }
        for essence in value.split(',').map(str::trim) {
            json |= essence.eq_ignore_ascii_case("application/json");
            sse |= essence.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && sse
}

mod values;
mod written;

use written::{json_response, status_of, tool_response};
