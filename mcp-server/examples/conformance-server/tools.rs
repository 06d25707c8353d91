//! The suite's fixture tools: their list (built once) and what each call does; the MRTR ones
//! are in `mrtr`.

use std::time::Duration;

use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde_json::{Value, json};

use crate::{Fixtures, PNG, WAV, complete, text_result, wire};
use mcp_server::sessions::changes::Change;

fn empty_schema() -> Value {
    json!({ "type": "object", "properties": {} })
}

/// The fixture tools, built once: rmcp looks a tool up on every modern `tools/call` (to check
/// `Mcp-Param-*` headers against its schema).
pub fn tools() -> &'static [Tool] {
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
        plain(
            "fixture_panic",
            "Panics, so tests see a handler panic answered at once",
        ),
        wire(json!({
            "name": "fixture_sleep",
            "description": "Sleeps for `ms` milliseconds, then answers (for timeout tests)",
            "inputSchema": { "type": "object", "properties": { "ms": { "type": "integer", "minimum": 0 } }, "required": ["ms"] }
        })),
    ]
}

impl Fixtures {
    pub async fn log(cx: &RequestContext<RoleServer>, message: &str) {
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
    pub async fn call(
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
            name @ ("test_simple_text"
            | "test_image_content"
            | "test_audio_content"
            | "test_embedded_resource") => fixed(name).expect("a fixed answer"),
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
            "fixture_panic" => panic!("fixture_panic was called"),
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

/// The answers of the fixtures that answer the same whatever they are asked.
pub fn fixed(name: &str) -> Option<CallToolResult> {
    Some(match name {
        "test_simple_text" => text_result("This is a simple text response for testing."),
        "test_image_content" => complete(
            json!({ "content": [{ "type": "image", "data": PNG, "mimeType": "image/png" }] }),
        ),
        "test_audio_content" => complete(
            json!({ "content": [{ "type": "audio", "data": WAV, "mimeType": "audio/wav" }] }),
        ),
        "test_embedded_resource" => complete(json!({ "content": [{
            "type": "resource",
            "resource": { "uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content." }
        }] })),
        _ => return None,
    })
}
