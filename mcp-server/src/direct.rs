//! Modern-era requests a handler answers itself, without rmcp's per-request machinery.
//!
//! rmcp serves each stateless (2026-07-28) request by parsing it into its message types,
//! serialising it back to check the `Mcp-*` headers, cloning the handler, spawning a service
//! task over a one-shot transport and waiting on its channel. For a request whose answer is a
//! pure function of its parameters (our documentation tools, the lists), that is most of the
//! cost. A handler that implements [`Direct`] answers such requests in place: the HTTP layer
//! ([`crate::http::direct`]) first checks the request is exactly one rmcp would serve
//! statelessly, and anything else (an odd header, a tool that talks back to the client, a
//! malformed argument) is declined and goes to rmcp, which answers it as before. The same
//! answers serve requests in a legacy session this process holds.

use rmcp::ErrorData;
use rmcp::model::ServerResult;
use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;

use crate::sessions::changes::ChangeFeed;

/// A well-formed modern-era request, its envelope and headers already checked.
pub struct DirectRequest<'a> {
    /// The JSON-RPC method (`tools/call`, `tools/list`, ...).
    pub method: &'a str,
    /// The protocol version the request is made under (its `MCP-Protocol-Version`): a legacy
    /// session's or 2026-07-28. Answers differ by version where rmcp's do (cache hints only
    /// from 2026-07-28; the HTTP layer makes the other changes rmcp makes).
    pub protocol: &'a str,
    /// The whole body; [`DirectRequest::params`] reads its `params` (an object). The HTTP layer
    /// has already read every value in it as rmcp reads values (`params._meta`, if any, as
    /// rmcp's `RequestMetaObject`).
    pub body: &'a [u8],
}

impl DirectRequest<'_> {
    /// Whether the request is made under 2026-07-28 or later (not in a legacy session).
    pub fn is_modern(&self) -> bool {
        self.protocol >= crate::http::MODERN_PROTOCOL
    }

    /// `params` (with `_meta`) read as `T`, one of rmcp's parameter types; `None` if it does not
    /// read as one, and the handler should decline.
    pub fn params<T: DeserializeOwned>(&self) -> Option<T> {
        self.params_borrowed()
    }
}

/// A `tools/call` request's tool and arguments, read as rmcp reads its parameters
/// (`CallToolRequestParams`) but for the arguments, which are kept as written until the tool
/// reads them ([`ToolCall::arguments`]).
pub struct ToolCall<'a> {
    pub name: Cow<'a, str>,
    arguments: Option<&'a RawValue>,
}

impl DirectRequest<'_> {
    /// `params` read as a `tools/call`'s: `None` when rmcp's `CallToolRequestParams` would not
    /// read them, and the handler should decline. Read in one pass: `_meta` was read as rmcp
    /// reads it before (see [`DirectRequest::body`]) and is only passed over here, and the
    /// arguments are not built into a map to be read again (rmcp's type parsed both, which was
    /// a twentieth of a `search_docs` call).
    pub fn tool_call(&self) -> Option<ToolCall<'_>> {
        // `CallToolRequestParams`'s fields, as its derive names and reads them.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Params<'a> {
            #[serde(rename = "_meta", default)]
            _meta: Option<IgnoredAny>,
            #[serde(borrow)]
            name: Cow<'a, str>,
            #[serde(borrow, default)]
            arguments: Option<&'a RawValue>,
            #[serde(default)]
            #[allow(dead_code)]
            input_responses: Option<rmcp::model::InputResponses>,
            #[serde(default)]
            #[allow(dead_code)]
            request_state: Option<String>,
        }
        let params: Params = self.params_borrowed()?;
        // rmcp's `Option<JsonObject>`: an object or null (`None` here: serde reads `null` as
        // an absent option).
        let arguments = match params.arguments {
            Some(raw) if raw.get().starts_with('{') => Some(raw),
            Some(_) => return None,
            None => None,
        };
        Some(ToolCall {
            name: params.name,
            arguments,
        })
    }

    /// [`DirectRequest::params`], borrowing from the body where `T` can.
    fn params_borrowed<'a, T: Deserialize<'a>>(&'a self) -> Option<T> {
        #[derive(Deserialize)]
        struct Envelope<T> {
            params: T,
        }
        serde_json::from_slice::<Envelope<T>>(self.body)
            .ok()
            .map(|envelope| envelope.params)
    }
}

impl ToolCall<'_> {
    /// The arguments read as `T`, as rmcp's `Parameters` reads them (absent or null: `{}`);
    /// `None` when they do not read as one. Read from the text, not from a map: every value in
    /// the body was already read as rmcp reads values (`http::direct` refuses a body with a
    /// lone surrogate, a number beyond a float or too deep), so the one difference left, a key
    /// given twice (the map keeps the last), is declined here and rmcp answers it.
    pub fn arguments<T: DeserializeOwned>(&self) -> Option<T> {
        let text = self.arguments.map_or("{}", |raw| raw.get());
        serde_json::from_str(text).ok()
    }
}

/// A handler's answer to a request it answers in place.
// It lives on the stack for one request and is moved once or twice; boxing the larger variant
// would allocate for every answer but a tool's.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Answer {
    /// A result in rmcp's types, written as rmcp writes it.
    Result(ServerResult),
    /// A tool's successful result, its structured content already written.
    Tool(ToolOutput),
}

impl From<ServerResult> for Answer {
    fn from(result: ServerResult) -> Self {
        Answer::Result(result)
    }
}

/// A tool's successful result whose structured content is already JSON: what rmcp's
/// `CallToolResult::success` gives with one text block and that structured content, without
/// building the content as a `serde_json::Value` (rmcp's type for it) and writing that out, which
/// was a tenth of a `search_docs` call's CPU.
#[derive(Debug)]
pub struct ToolOutput {
    /// The readable text, the result's one content block, as a JSON string (quotes included).
    pub text: Vec<u8>,
    /// The structured content: a JSON object (what the tool's `outputSchema` describes) as
    /// `serde_json` writes it, written into the answer as it is.
    pub structured: Vec<u8>,
}

/// What a handler answers in place.
pub trait Direct {
    /// The feed this handler's `subscriptions/listen` streams carry, when its `listen` is
    /// [`ChangeFeed::serve`] and its `accepted_subscription_filter` is [`ChangeFeed::accept`]:
    /// the HTTP layer then serves modern listen streams from it itself (an acknowledgment, the
    /// accepted changes, keep-alive comments), without a service task and its channels per
    /// stream. `None` leaves listen streams to rmcp.
    fn change_feed(&self) -> Option<&ChangeFeed> {
        None
    }

    /// Whether a legacy session of this handler may start without rmcp (see
    /// [`crate::sessions::dormant`]): `initialize` is then answered from the handler's
    /// `negotiate_initialize`, and rmcp replays the handshake to the handler only when a request
    /// needs the session in rmcp. Only for a handler that keeps rmcp's own `initialize` (nothing
    /// of its own happens there) and whose sessions need nothing from rmcp until they do (what
    /// it does in `on_initialized` then waits for the wake).
    fn dormant_sessions(&self) -> bool {
        false
    }

    /// Whether a dormant session's GET stream may be served from [`Direct::change_feed`] without
    /// waking the session: only for a handler whose legacy sessions hear nothing on that stream
    /// but the list changes `on_initialized` follows (no server-initiated requests, no other
    /// notifications outside a request). Needs [`Direct::dormant_sessions`] and a feed.
    fn session_streams_from_feed(&self) -> bool {
        false
    }

    /// The answer to `request`, or `None` to leave it to rmcp. Only for requests whose answer
    /// needs nothing from the client (no progress or log notifications, no questions back), and
    /// only where the answer is the one the handler gives through rmcp: the same result, or the
    /// same error. Arguments the handler cannot read are declined, so rmcp words the error.
    /// A tool whose input schema marks properties with `x-mcp-header` must be declined too: the
    /// HTTP layer declines requests that carry `Mcp-Param-*` headers, but only rmcp checks that
    /// such a tool's requests carry them.
    fn answer_directly(&self, _request: &DirectRequest<'_>) -> Option<Result<Answer, ErrorData>> {
        None
    }
}
