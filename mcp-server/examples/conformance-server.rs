//! The server with the MCP conformance suite's fixtures instead of the documentation tools.
//!
//! Same HTTP stack, same configuration, different handler: the tools, resources and prompts the
//! suite's server scenarios call by name (`test_simple_text`, `test://static-text`,
//! `test_prompt_with_arguments`, ...), written from the scenario descriptions. Never part of the
//! default server.
//!
//! ```sh
//! cargo run -p mcp-server --example conformance-server
//! npx @modelcontextprotocol/conformance server --url http://127.0.0.1:3100/mcp
//! ```
//!
//! Besides the suite's fixtures it has one diagnostic tool of ours, `fixture_sleep`, which the
//! end-to-end tests use to exercise `REQUEST_TIMEOUT`.

// Logging and sampling are deprecated by SEP-2577, but the legacy scenarios still exercise them.
#![allow(deprecated)]

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_server::changes::{Change, ChangeFeed};
use mcp_server::config::Config;
use rmcp::model::*;
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A 1x1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A minimal WAV.
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// Builds an rmcp type from its wire JSON: the fixtures are specified as JSON, so they are
/// written as JSON.
fn wire<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("fixture JSON matches the rmcp type")
}

/// A final result: like [`wire`], with the `resultType` every 2026-07-28 result carries (rmcp
/// strips it for legacy peers).
fn complete<T: DeserializeOwned>(mut value: Value) -> T {
    value["resultType"] = json!("complete");
    wire(value)
}

fn text_result(text: impl Into<String>) -> CallToolResult {
    complete(json!({ "content": [{ "type": "text", "text": text.into() }] }))
}

#[derive(Clone)]
struct Fixtures {
    /// URIs with a legacy `resources/subscribe`.
    subscriptions: Arc<Mutex<HashSet<String>>>,
    /// List-changed notifications for listen streams and legacy sessions.
    changes: ChangeFeed,
    /// Seals MRTR `requestState` so a tampered one is detected.
    state_codec: Arc<rmcp::model::RequestStateCodec>,
}

impl Fixtures {
    fn new() -> Self {
        let mut key = [0u8; 32];
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut key))
            .expect("/dev/urandom gives a key");
        Fixtures {
            subscriptions: Arc::default(),
            changes: ChangeFeed::default(),
            state_codec: Arc::new(rmcp::model::RequestStateCodec::new(key.to_vec())),
        }
    }
}

fn elicitation(message: &str, field: &str, kind: &str) -> Value {
    json!({
        "method": "elicitation/create",
        "params": {
            "mode": "form",
            "message": message,
            "requestedSchema": { "type": "object", "properties": { field: { "type": kind } }, "required": [field] }
        }
    })
}

fn sampling(text: &str, max_tokens: u32) -> Value {
    json!({
        "method": "sampling/createMessage",
        "params": { "messages": [{ "role": "user", "content": { "type": "text", "text": text } }], "maxTokens": max_tokens }
    })
}

fn input_required(requests: Value, state: Option<String>) -> InputRequiredResult {
    let mut result = json!({ "resultType": "input_required", "inputRequests": requests });
    if let Some(state) = state {
        result["requestState"] = json!(state);
    }
    wire(result)
}

/// Whether the request's `_meta` declares a client capability.
fn declares(cx: &RequestContext<RoleServer>, capability: &str) -> bool {
    cx.meta.client_capabilities().is_some_and(|c| {
        serde_json::to_value(c)
            .unwrap_or_default()
            .get(capability)
            .is_some()
    })
}

fn missing_capability(capability: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        format!(
            "This tool needs the client capability `{capability}`, which the request did not declare"
        ),
        Some(json!({ "requiredCapabilities": { capability: {} } })),
    )
}

fn empty_schema() -> Value {
    json!({ "type": "object", "properties": {} })
}

/// The fixture tools, built once: rmcp looks a tool up on every modern `tools/call` (to check
/// `Mcp-Param-*` headers against its schema).
fn tools() -> &'static [Tool] {
    static TOOLS: std::sync::OnceLock<Vec<Tool>> = std::sync::OnceLock::new();
    TOOLS.get_or_init(build_tools)
}

fn build_tools() -> Vec<Tool> {
    let plain = |name: &str, description: &str| {
        wire::<Tool>(
            json!({ "name": name, "description": description, "inputSchema": empty_schema() }),
        )
    };
    vec![
        plain("test_simple_text", "Returns simple text content"),
        plain("test_image_content", "Returns image content"),
        plain("test_audio_content", "Returns audio content"),
        plain("test_embedded_resource", "Returns an embedded resource"),
        plain(
            "test_multiple_content_types",
            "Returns text, image and resource content",
        ),
        plain(
            "test_tool_with_logging",
            "Sends log notifications while it runs",
        ),
        plain(
            "test_tool_with_progress",
            "Sends progress notifications while it runs",
        ),
        plain("test_error_handling", "Always returns a tool error"),
        plain(
            "test_missing_capability",
            "Needs the client's sampling capability; without it: -32021",
        ),
        plain(
            "test_streaming_elicitation",
            "Asks for input the 2026-07-28 way: an InputRequiredResult, never a request on the stream",
        ),
        plain(
            "test_logging_tool",
            "Logs only when the request's _meta sets a logLevel",
        ),
        plain(
            "test_trigger_tool_change",
            "Announces a tools/list change to listen streams and sessions",
        ),
        plain(
            "test_trigger_prompt_change",
            "Announces a prompts/list change to listen streams and sessions",
        ),
        plain(
            "test_input_required_result_elicitation",
            "MRTR: asks for the user's name",
        ),
        plain(
            "test_input_required_result_sampling",
            "MRTR: asks the client's LLM a question",
        ),
        plain(
            "test_input_required_result_list_roots",
            "MRTR: asks for the client's roots",
        ),
        plain(
            "test_input_required_result_request_state",
            "MRTR: round-trips a sealed requestState",
        ),
        plain(
            "test_input_required_result_multiple_inputs",
            "MRTR: three input requests at once",
        ),
        plain(
            "test_input_required_result_multi_round",
            "MRTR: two rounds with evolving state",
        ),
        plain(
            "test_input_required_result_tampered_state",
            "MRTR: refuses a tampered requestState",
        ),
        plain(
            "test_input_required_result_capabilities",
            "MRTR: asks only for what the client declared",
        ),
        plain(
            "test_reconnection",
            "Closes its SSE stream mid-call; the result arrives on resumption",
        ),
        wire(json!({
            "name": "test_sampling",
            "description": "Asks the client for an LLM completion",
            "inputSchema": { "type": "object", "properties": { "prompt": { "type": "string", "description": "The prompt to send" } }, "required": ["prompt"] }
        })),
        wire(json!({
            "name": "test_elicitation",
            "description": "Asks the user for input",
            "inputSchema": { "type": "object", "properties": { "message": { "type": "string", "description": "The message to show" } }, "required": ["message"] }
        })),
        plain(
            "test_elicitation_sep1034_defaults",
            "Elicitation with default values (SEP-1034)",
        ),
        plain(
            "test_elicitation_sep1330_enums",
            "Elicitation with every enum schema form (SEP-1330)",
        ),
        wire(json!({
            "name": "json_schema_2020_12_tool",
            "description": "Tool whose input schema uses JSON Schema 2020-12 features",
            "inputSchema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": { "address": { "type": "object", "properties": { "street": { "type": "string" }, "city": { "type": "string" } } } },
                "properties": { "name": { "type": "string" }, "address": { "$ref": "#/$defs/address" } },
                "additionalProperties": false
            }
        })),
        wire(json!({
            "name": "fixture_sleep",
            "description": "Sleeps for `ms` milliseconds, then answers (for timeout tests)",
            "inputSchema": { "type": "object", "properties": { "ms": { "type": "integer", "minimum": 0 } }, "required": ["ms"] }
        })),
    ]
}

impl Fixtures {
    async fn log(cx: &RequestContext<RoleServer>, message: &str) {
        let param: LoggingMessageNotificationParam = wire(json!({
            "level": "info",
            "logger": "conformance-fixtures",
            "data": message
        }));
        let _ = cx.peer.notify_logging_message(param).await;
    }

    async fn elicit(
        cx: &RequestContext<RoleServer>,
        message: &str,
        schema: Value,
    ) -> CallToolResult {
        let params: ElicitRequestParams = wire(json!({
            "mode": "form",
            "message": message,
            "requestedSchema": schema
        }));
        match cx.peer.create_elicitation(params).await {
            Ok(result) => {
                let result = serde_json::to_value(&result).unwrap_or_default();
                text_result(format!(
                    "Elicitation completed: action={}, content={}",
                    result["action"].as_str().unwrap_or("unknown"),
                    result.get("content").cloned().unwrap_or(json!({}))
                ))
            }
            Err(error) => complete(json!({
                "content": [{ "type": "text", "text": format!("Elicitation failed: {error}") }],
                "isError": true
            })),
        }
    }

    /// The modern (MRTR) tools, which may answer with an InputRequiredResult.
    fn call_mrtr(
        &self,
        request: &CallToolRequestParams,
        cx: &RequestContext<RoleServer>,
    ) -> Option<Result<CallToolResponse, ErrorData>> {
        let responses = request
            .input_responses
            .as_ref()
            .map(|r| serde_json::to_value(r).unwrap_or_default());
        let response = |key: &str| responses.as_ref().and_then(|r| r.get(key)).cloned();
        let state = request.request_state.as_deref();
        let open = |expected: &str| -> Result<(), ErrorData> {
            let sealed =
                state.ok_or_else(|| ErrorData::invalid_params("requestState is missing", None))?;
            let round: String = self.state_codec.open_json(sealed).map_err(|_| {
                ErrorData::invalid_params("requestState failed its integrity check", None)
            })?;
            if round == expected {
                Ok(())
            } else {
                Err(ErrorData::invalid_params(
                    "requestState is from another round",
                    None,
                ))
            }
        };
        let seal = |round: &str| {
            Some(
                self.state_codec
                    .seal_json(&round.to_string())
                    .expect("a string serialises"),
            )
        };
        let done = |text: String| Ok(CallToolResponse::from(text_result(text)));
        let ask = |requests: Value, state: Option<String>| {
            Ok(CallToolResponse::from(input_required(requests, state)))
        };
        Some(match request.name.as_ref() {
            "test_input_required_result_elicitation" => match response("user_name") {
                None => ask(
                    json!({ "user_name": elicitation("What is your name?", "name", "string") }),
                    None,
                ),
                Some(answer) => done(format!(
                    "Hello, {}!",
                    answer["content"]["name"].as_str().unwrap_or("stranger")
                )),
            },
            "test_input_required_result_sampling" => match response("capital_question") {
                None => ask(
                    json!({ "capital_question": sampling("What is the capital of France?", 100) }),
                    None,
                ),
                Some(answer) => done(format!(
                    "Sampling response: {}",
                    answer["content"]["text"].as_str().unwrap_or("(no text)")
                )),
            },
            "test_input_required_result_list_roots" => match response("client_roots") {
                None => ask(
                    json!({ "client_roots": { "method": "roots/list", "params": {} } }),
                    None,
                ),
                Some(answer) => {
                    let roots: Vec<String> = answer["roots"]
                        .as_array()
                        .map(|r| {
                            r.iter()
                                .filter_map(|root| root["uri"].as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    done(format!("Client roots: {}", roots.join(", ")))
                }
            },
            "test_input_required_result_request_state" => match response("confirm") {
                None => ask(
                    json!({ "confirm": elicitation("Please confirm", "ok", "boolean") }),
                    seal("confirm"),
                ),
                Some(_) => open("confirm").and_then(|()| done("Confirmed: state-ok".into())),
            },
            "test_input_required_result_multiple_inputs" => {
                let keys = ["user_name", "greeting", "client_roots"];
                if keys.iter().all(|k| response(k).is_some()) {
                    open("multiple")
                        .and_then(|()| done("Received all three inputs: state-ok".into()))
                } else {
                    ask(
                        json!({
                            "user_name": elicitation("What is your name?", "name", "string"),
                            "greeting": sampling("Generate a greeting", 50),
                            "client_roots": { "method": "roots/list", "params": {} }
                        }),
                        seal("multiple"),
                    )
                }
            }
            "test_input_required_result_multi_round" => {
                if response("step2").is_some() {
                    open("round-2").and_then(|()| done("Both steps complete".into()))
                } else if response("step1").is_some() {
                    open("round-1").and_then(|()| {
                        ask(json!({ "step2": elicitation("Step 2: What is your favorite color?", "color", "string") }), seal("round-2"))
                    })
                } else {
                    ask(
                        json!({ "step1": elicitation("Step 1: What is your name?", "name", "string") }),
                        seal("round-1"),
                    )
                }
            }
            "test_input_required_result_tampered_state" => match state {
                None => ask(
                    json!({ "confirm": elicitation("Please confirm", "ok", "boolean") }),
                    seal("tamper"),
                ),
                Some(_) => open("tamper").and_then(|()| done("requestState verified".into())),
            },
            "test_input_required_result_capabilities" => {
                let has = |name: &str| declares(cx, name);
                if responses.is_some() {
                    done("Inputs received".into())
                } else {
                    let mut requests = serde_json::Map::new();
                    if has("elicitation") {
                        requests.insert(
                            "user_name".into(),
                            elicitation("What is your name?", "name", "string"),
                        );
                    }
                    if has("sampling") {
                        requests.insert("greeting".into(), sampling("Generate a greeting", 50));
                    }
                    if has("roots") {
                        requests.insert(
                            "client_roots".into(),
                            json!({ "method": "roots/list", "params": {} }),
                        );
                    }
                    if requests.is_empty() {
                        done("The client declared no capability to ask with".into())
                    } else {
                        ask(Value::Object(requests), None)
                    }
                }
            }
            "test_missing_capability" => {
                if declares(cx, "sampling") {
                    match response("answer") {
                        None => ask(json!({ "answer": sampling("Say hello", 20) }), None),
                        Some(_) => done("Sampling answered".into()),
                    }
                } else {
                    Err(missing_capability("sampling"))
                }
            }
            "test_streaming_elicitation" => {
                if !declares(cx, "elicitation") {
                    Err(missing_capability("elicitation"))
                } else if response("confirm").is_some() {
                    done("Confirmed".into())
                } else {
                    ask(
                        json!({ "confirm": elicitation("Please confirm", "ok", "boolean") }),
                        None,
                    )
                }
            }
            _ => return None,
        })
    }

    async fn call(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if let Some(answer) = self.call_mrtr(&request, &cx) {
            return answer;
        }
        let args = request.arguments.unwrap_or_default();
        Ok(match request.name.as_ref() {
            "test_logging_tool" => {
                // 2026-07-28: no log notifications unless the request asked for them.
                if cx.meta.log_level().is_some() {
                    Self::log(&cx, "test_logging_tool ran").await;
                }
                text_result("Logging tool done")
            }
            "test_trigger_tool_change" => {
                self.changes.publish(Change::ToolsListChanged);
                text_result("tools/list change announced")
            }
            "test_trigger_prompt_change" => {
                self.changes.publish(Change::PromptsListChanged);
                text_result("prompts/list change announced")
            }
            "test_simple_text" => text_result("This is a simple text response for testing."),
            "test_image_content" => complete(json!({ "content": [{ "type": "image", "data": PNG, "mimeType": "image/png" }] })),
            "test_audio_content" => complete(json!({ "content": [{ "type": "audio", "data": WAV, "mimeType": "audio/wav" }] })),
            "test_embedded_resource" => complete(json!({ "content": [{
                "type": "resource",
                "resource": { "uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content." }
            }] })),
            "test_multiple_content_types" => complete(json!({ "content": [
                { "type": "text", "text": "Multiple content types test:" },
                { "type": "image", "data": PNG, "mimeType": "image/png" },
                { "type": "resource", "resource": { "uri": "test://mixed-content-resource", "mimeType": "application/json", "text": "{\"test\":\"data\",\"value\":123}" } }
            ] })),
            "test_tool_with_logging" => {
                for message in ["Tool execution started", "Tool processing data", "Tool execution completed"] {
                    Self::log(&cx, message).await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                text_result("Tool with logging executed successfully")
            }
            "test_tool_with_progress" => {
                let token = cx.meta.get_progress_token();
                for step in [0, 50, 100] {
                    if let Some(token) = &token {
                        let param: ProgressNotificationParam = wire(json!({
                            "progressToken": token,
                            "progress": step,
                            "total": 100,
                            "message": format!("Completed step {step} of 100")
                        }));
                        let _ = cx.peer.notify_progress(param).await;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let shown = token.map(|t| serde_json::to_value(t).unwrap_or_default().to_string());
                text_result(shown.unwrap_or_else(|| "0".into()))
            }
            "test_error_handling" => complete(json!({
                "content": [{ "type": "text", "text": "This tool intentionally returns an error for testing" }],
                "isError": true
            })),
            "test_reconnection" => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                text_result("Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.")
            }
            "test_sampling" => {
                let prompt = args.get("prompt").and_then(Value::as_str).unwrap_or("Hello");
                let params: CreateMessageRequestParams = wire(json!({
                    "messages": [{ "role": "user", "content": { "type": "text", "text": prompt } }],
                    "maxTokens": 100
                }));
                match cx.peer.create_message(params).await {
                    Ok(result) => {
                        let result = serde_json::to_value(&result).unwrap_or_default();
                        let text = result["content"]["text"]
                            .as_str()
                            .or_else(|| result["content"][0]["text"].as_str())
                            .unwrap_or("No response")
                            .to_string();
                        text_result(format!("LLM response: {text}"))
                    }
                    Err(error) => complete(json!({
                        "content": [{ "type": "text", "text": format!("Sampling failed: {error}") }],
                        "isError": true
                    })),
                }
            }
            "test_elicitation" => {
                let message = args.get("message").and_then(Value::as_str).unwrap_or("Please provide your information");
                Self::elicit(&cx, message, json!({
                    "type": "object",
                    "properties": { "response": { "type": "string", "description": "User's response" } },
                    "required": ["response"]
                }))
                .await
            }
            "test_elicitation_sep1034_defaults" => {
                Self::elicit(&cx, "Please review and update the form fields with defaults", json!({
                    "type": "object",
                    "properties": {
                        "name": { "type": "string", "description": "User name", "default": "John Doe" },
                        "age": { "type": "integer", "description": "User age", "default": 30 },
                        "score": { "type": "number", "description": "User score", "default": 95.5 },
                        "status": { "type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active" },
                        "verified": { "type": "boolean", "description": "Verification status", "default": true }
                    },
                    "required": []
                }))
                .await
            }
            "test_elicitation_sep1330_enums" => {
                Self::elicit(&cx, "Please select options from the enum fields", json!({
                    "type": "object",
                    "properties": {
                        "untitledSingle": { "type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"] },
                        "titledSingle": { "type": "string", "description": "Select one option with titles", "oneOf": [
                            { "const": "value1", "title": "First Option" },
                            { "const": "value2", "title": "Second Option" },
                            { "const": "value3", "title": "Third Option" }
                        ] },
                        "legacyEnum": { "type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"] },
                        "untitledMulti": { "type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3, "items": { "type": "string", "enum": ["option1", "option2", "option3"] } },
                        "titledMulti": { "type": "array", "description": "Select multiple options with titles", "minItems": 1, "maxItems": 3, "items": { "anyOf": [
                            { "const": "value1", "title": "First Choice" },
                            { "const": "value2", "title": "Second Choice" },
                            { "const": "value3", "title": "Third Choice" }
                        ] } }
                    },
                    "required": []
                }))
                .await
            }
            "json_schema_2020_12_tool" => text_result(format!(
                "JSON Schema 2020-12 tool called with: {}",
                Value::Object(args)
            )),
            "fixture_sleep" => {
                let ms = args.get("ms").and_then(Value::as_u64).unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                text_result(format!("slept {ms} ms"))
            }
            other => {
                return Err(ErrorData::invalid_params(format!("Unknown tool: {other}"), None));
            }
        }
        .into())
    }
}

impl ServerHandler for Fixtures {
    fn get_info(&self) -> ServerConfig {
        let capabilities: ServerCapabilities = wire(json!({
            "tools": { "listChanged": true },
            "resources": { "subscribe": true, "listChanged": true },
            "prompts": { "listChanged": true },
            "logging": {},
            "completions": {}
        }));
        ServerConfig::new(capabilities).with_server_info(Implementation::new(
            "mcp-server-conformance-fixtures",
            env!("CARGO_PKG_VERSION"),
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools().to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools().iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.call(request, cx).await
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        ChangeFeed::accept(requested)
    }

    async fn listen(&self, subscription: SubscriptionContext) -> Result<(), ErrorData> {
        self.changes.serve(subscription).await
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.changes.follow_legacy_session(context.peer);
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(complete(json!({ "resources": [
            { "uri": "test://static-text", "name": "static-text", "title": "Static Text Resource", "description": "A static text resource for testing", "mimeType": "text/plain" },
            { "uri": "test://static-binary", "name": "static-binary", "title": "Static Binary Resource", "description": "A static binary resource (image) for testing", "mimeType": "image/png" },
            { "uri": "test://watched-resource", "name": "watched-resource", "title": "Watched Resource", "description": "A resource clients may subscribe to", "mimeType": "text/plain" }
        ] })))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(complete(json!({ "resourceTemplates": [
            { "uriTemplate": "test://template/{id}/data", "name": "template", "title": "Resource Template", "description": "A resource template with parameter substitution", "mimeType": "application/json" }
        ] })))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri.as_str();
        let contents = match uri {
            "test://static-text" => {
                json!([{ "uri": uri, "mimeType": "text/plain", "text": "This is the content of the static text resource." }])
            }
            "test://static-binary" => json!([{ "uri": uri, "mimeType": "image/png", "blob": PNG }]),
            "test://watched-resource" => {
                json!([{ "uri": uri, "mimeType": "text/plain", "text": "Watched resource content" }])
            }
            _ => match uri
                .strip_prefix("test://template/")
                .and_then(|rest| rest.strip_suffix("/data"))
            {
                Some(id) if !id.is_empty() && !id.contains('/') => json!([{
                    "uri": uri,
                    "mimeType": "application/json",
                    "text": json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") }).to_string()
                }]),
                _ => {
                    return Err(ErrorData::resource_not_found(
                        format!("Resource not found: {uri}"),
                        Some(json!({ "uri": uri })),
                    ));
                }
            },
        };
        let result: ReadResourceResult = complete(json!({ "contents": contents }));
        Ok(result.into())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions
            .lock()
            .unwrap()
            .insert(request.uri.clone());
        Self::log(&cx, &format!("Subscribed to resource: {}", request.uri)).await;
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions.lock().unwrap().remove(&request.uri);
        Self::log(&cx, &format!("Unsubscribed from resource: {}", request.uri)).await;
        Ok(())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(complete(json!({ "prompts": [
            { "name": "test_simple_prompt", "title": "Simple Test Prompt", "description": "A simple prompt without arguments" },
            { "name": "test_prompt_with_arguments", "title": "Prompt With Arguments", "description": "A prompt with required arguments", "arguments": [
                { "name": "arg1", "description": "First test argument", "required": true },
                { "name": "arg2", "description": "Second test argument", "required": true }
            ] },
            { "name": "test_prompt_with_embedded_resource", "title": "Prompt With Embedded Resource", "description": "A prompt that includes an embedded resource", "arguments": [
                { "name": "resourceUri", "description": "URI of the resource to embed", "required": true }
            ] },
            { "name": "test_prompt_with_image", "title": "Prompt With Image", "description": "A prompt that includes image content" },
            { "name": "test_input_required_result_prompt", "title": "Prompt Needing Input", "description": "MRTR: asks for context before answering" }
        ] })))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        if request.name == "test_input_required_result_prompt" {
            let context = request
                .input_responses
                .as_ref()
                .map(|r| serde_json::to_value(r).unwrap_or_default())
                .and_then(|r| r.get("user_context").cloned());
            return Ok(match context {
                None => input_required(
                    json!({ "user_context": elicitation("What context should the prompt use?", "context", "string") }),
                    None,
                )
                .into(),
                Some(answer) => {
                    let text = format!("Use this context: {}", answer["content"]["context"].as_str().unwrap_or(""));
                    let result: GetPromptResult =
                        complete(json!({ "messages": [{ "role": "user", "content": { "type": "text", "text": text } }] }));
                    result.into()
                }
            });
        }
        let args = request.arguments.unwrap_or_default();
        let arg = |name: &str| {
            args.get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let messages = match request.name.as_str() {
            "test_simple_prompt" => {
                json!([{ "role": "user", "content": { "type": "text", "text": "This is a simple prompt for testing." } }])
            }
            "test_prompt_with_arguments" => {
                json!([{ "role": "user", "content": { "type": "text", "text": format!("Prompt with arguments: arg1='{}', arg2='{}'", arg("arg1"), arg("arg2")) } }])
            }
            "test_prompt_with_embedded_resource" => json!([
                { "role": "user", "content": { "type": "resource", "resource": { "uri": arg("resourceUri"), "mimeType": "text/plain", "text": "Embedded resource content for testing." } } },
                { "role": "user", "content": { "type": "text", "text": "Please process the embedded resource above." } }
            ]),
            "test_prompt_with_image" => json!([
                { "role": "user", "content": { "type": "image", "data": PNG, "mimeType": "image/png" } },
                { "role": "user", "content": { "type": "text", "text": "Please analyze the image above." } }
            ]),
            other => {
                return Err(ErrorData::invalid_params(
                    format!("Unknown prompt: {other}"),
                    None,
                ));
            }
        };
        let result: GetPromptResult = complete(json!({ "messages": messages }));
        Ok(result.into())
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let level = serde_json::to_value(request.level).unwrap_or_default();
        Self::log(
            &cx,
            &format!("Log level set to: {}", level.as_str().unwrap_or("?")),
        )
        .await;
        Ok(())
    }

    async fn complete(
        &self,
        _request: CompleteRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        Ok(complete(
            json!({ "completion": { "values": [], "total": 0, "hasMore": false } }),
        ))
    }
}

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("conformance-server: {error}");
            return ExitCode::from(2);
        }
    };
    mcp_server::logging::init(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    match runtime.block_on(mcp_server::run(config, Fixtures::new())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("conformance-server: {error}");
            ExitCode::FAILURE
        }
    }
}
