//! The suite's fixture prompts, including the one that asks for input the 2026-07-28 way.

use rmcp::ErrorData;
use rmcp::model::*;
use serde_json::{Value, json};

use crate::mrtr::{elicitation, input_required};
use crate::{PNG, complete};

pub fn list() -> ListPromptsResult {
    complete(json!({ "prompts": [
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
    ] }))
}

pub fn get(request: GetPromptRequestParams) -> Result<GetPromptResponse, ErrorData> {
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
