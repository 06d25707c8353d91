//! The 2026-07-28 fixtures that ask the client for input with an `InputRequiredResult` (MRTR:
//! multi-round-trip requests) and carry a sealed `requestState` between rounds.

use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde_json::{Value, json};

use crate::{Fixtures, text_result, wire};

pub fn elicitation(message: &str, field: &str, kind: &str) -> Value {
    json!({
        "method": "elicitation/create",
        "params": {
            "mode": "form",
            "message": message,
            "requestedSchema": { "type": "object", "properties": { field: { "type": kind } }, "required": [field] }
        }
    })
}

pub fn sampling(text: &str, max_tokens: u32) -> Value {
    json!({
        "method": "sampling/createMessage",
        "params": { "messages": [{ "role": "user", "content": { "type": "text", "text": text } }], "maxTokens": max_tokens }
    })
}

pub fn input_required(requests: Value, state: Option<String>) -> InputRequiredResult {
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

pub fn missing_capability(capability: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        format!(
            "This tool needs the client capability `{capability}`, which the request did not declare"
        ),
        Some(json!({ "requiredCapabilities": { capability: {} } })),
    )
}

impl Fixtures {
    /// The modern (MRTR) tools, which may answer with an InputRequiredResult.
    pub fn call_mrtr(
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
}
