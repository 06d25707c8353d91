//! A tool call's arguments are read from their text on the fast path (see
//! `DirectRequest::tool_call`), not through a map of values: texts where the two readings could
//! part are held to rmcp's answers.

use serde_json::json;

mod common;
use common::both::{fast, rmcp, shared};
use common::request;

/// A tool call's arguments are read from their text (see `DirectRequest::tool_call`): texts a
/// map of values cannot show (a key given twice, `null`, arguments that are not an object,
/// numbers written as floats, odd `inputResponses` and `requestState`) are declined or answered
/// as rmcp answers them; the plain ones are answered.
#[tokio::test]
async fn tool_arguments_read_from_their_text_are_declined_or_answered_as_rmcp_does() {
    let (_, app) = shared();
    let (headers, body) = request(
        "tools/call",
        json!({ "name": "search_docs", "arguments": { "query": "idle timeout" } }),
        json!(7),
    );
    let text = serde_json::to_string(&body).unwrap();
    let params = body["params"].to_string();
    let meta = body["params"]["_meta"].to_string();
    let with_params = |params: String| text.replace(&body["params"].to_string(), &params);
    let call = |name: &str, rest: &str| {
        with_params(format!(r#"{{"_meta":{meta},"name":"{name}"{rest}}}"#))
    };
    // The parameters after `_meta` and `name`, and whether the fast path must answer them.
    const SEARCH: &[(&str, bool)] = &[
        (r#","arguments":{"query":"drain"}"#, true),
        (
            r#","arguments": { "query" : "drain" , "limit" : 2 } "#,
            true,
        ),
        (r#","arguments":{"query":"drain","query":"idle"}"#, false),
        (r#","arguments":{"query":"drain","limit":2.0}"#, false),
        (r#","arguments":{"query":"drain","limit":1e1}"#, false),
        (
            r#","arguments":{"query":"drain","limit":99999999999}"#,
            false,
        ),
        (r#","arguments":{"query":"drain","limit":-1}"#, false),
        (
            r#","arguments":{"query":"dr\u0061in","version":null}"#,
            true,
        ),
        (
            r#","arguments":{"query":"drain","unknown":[1,{"a":2}]}"#,
            true,
        ),
        (r#","arguments":null"#, false),
        (r#","arguments":["drain"]"#, false),
        (r#","arguments":"drain""#, false),
        (r#","arguments":7"#, false),
        ("", false),
        (
            r#","arguments":{"query":"drain"},"inputResponses":"no""#,
            false,
        ),
        (
            r#","arguments":{"query":"drain"},"inputResponses":{"a":1}"#,
            true,
        ),
        (r#","arguments":{"query":"drain"},"requestState":5"#, false),
        (r#","arguments":{"query":"drain"},"requestState":"s""#, true),
        (r#","arguments":{"query":"drain"},"name":"read_doc""#, false),
        // Values rmcp refuses the body for (415), where the tool does not look.
        (r#","arguments":{"query":"drain","x":"\ud800"}"#, false),
        (r#","arguments":{"query":"drain","x":1e400}"#, false),
        (r#","arguments":{"query":"drain"},"x":"\udfff""#, false),
        (
            r#","arguments":{"query":"drain","x":"\ud83d\ude00","y":1.5e3}"#,
            true,
        ),
    ];
    const LIST: &[(&str, bool)] = &[
        (r#","arguments":null"#, true),
        ("", true),
        (r#","arguments":{},"arguments":{"prefix":"zzz"}"#, false),
    ];
    let deep = format!(
        r#","arguments":{{"query":"drain","x":{}1{}}}"#,
        "[".repeat(130),
        "]".repeat(130)
    );
    let mut cases: Vec<(String, bool)> = vec![
        (text.clone(), true),
        (call("search_docs", &deep), false),
        (
            with_params(format!(r#"{{"_meta":{meta},"arguments":{{}}}}"#)),
            false,
        ),
        (
            with_params(format!(r#"{{"_meta":{meta},"name":5,"arguments":{{}}}}"#)),
            false,
        ),
        (params.clone(), false),
    ];
    cases.extend(
        SEARCH
            .iter()
            .map(|&(rest, answerable)| (call("search_docs", rest), answerable)),
    );
    cases.extend(
        LIST.iter()
            .map(|&(rest, answerable)| (call("list_docs", rest), answerable)),
    );
    for (body, answerable) in cases {
        // `Mcp-Name` names the tool the body names first (the checks hold the two equal).
        let mut headers = headers.clone();
        if body.contains(r#""name":"list_docs""#) {
            for (name, value) in headers.iter_mut() {
                if name == "mcp-name" {
                    *value = "list_docs".into();
                }
            }
        }
        let fast = fast(app, &headers, body.as_bytes());
        if let Some(fast) = &fast {
            let rmcp = rmcp(app, &headers, body.as_bytes()).await;
            assert_eq!(fast, &rmcp, "for {body}");
        }
        if answerable {
            assert!(fast.is_some(), "the fast path declined {body}");
        }
    }
}
