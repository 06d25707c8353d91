//! The modern-era fast path answers exactly as rmcp does, or not at all.
//!
//! Each request is given to the fast path (`http::direct::answer`) and to rmcp
//! (`App::handle_mcp`, which never takes the fast path): where the fast path answers, status,
//! media type and JSON body must equal rmcp's; where a request is not plainly one rmcp serves
//! statelessly, the fast path must decline it.

use std::sync::Arc;
use std::time::Duration;

use mcp_server::app::App;
use mcp_server::config::Config;
use mcp_server::lifecycle::drain::{Drain, IdleGuess};
use proptest::prelude::*;
use serde_json::{Value, json};

mod common;
use common::both::{fast, rmcp, shared};
use common::{Headers, meta, request};

/// The requests the documentation handler answers itself, and how they are answered.
fn answered() -> Vec<(Vec<(String, String)>, Value)> {
    let call = |name: &str, arguments: Value| {
        request(
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
            json!(7),
        )
    };
    vec![
        call("search_docs", json!({ "query": "idle timeout" })),
        call("search_docs", json!({ "query": "drain", "limit": 2 })),
        call("search_docs", json!({ "query": "" })),
        call("search_docs", json!({ "query": "((((" })),
        call("read_doc", json!({ "path": "README.md", "maxChars": 300 })),
        call(
            "read_doc",
            json!({ "path": "configuration.md", "section": "nope" }),
        ),
        call("read_doc", json!({ "path": "no/such/page.md" })),
        call(
            "read_doc",
            json!({ "path": "README.md", "offset": 99999999 }),
        ),
        call("list_docs", json!({})),
        call("list_docs", json!({ "prefix": "zzz" })),
        request(
            "tools/call",
            json!({ "name": "list_docs" }),
            json!("string id"),
        ),
        request("tools/call", json!({ "name": "list_docs" }), json!(1.0)),
        request("tools/list", json!({}), json!(1)),
        request("resources/list", json!({}), json!(2)),
        request("resources/templates/list", json!({}), json!(3)),
        request(
            "resources/read",
            json!({ "uri": "docs://README.md" }),
            json!(4),
        ),
        request(
            "resources/read",
            json!({ "uri": "docs://README.md?section=run-it" }),
            json!(5),
        ),
        request(
            "resources/read",
            json!({ "uri": "docs://nope.md" }),
            json!(6),
        ),
    ]
}

#[tokio::test]
async fn what_the_fast_path_answers_it_answers_as_rmcp_does() {
    let (app, _) = common::docs_app(|_| None);
    for (headers, body) in answered() {
        let bytes = serde_json::to_vec(&body).unwrap();
        let fast =
            fast(&app, &headers, &bytes).unwrap_or_else(|| panic!("the fast path declined {body}"));
        let rmcp = rmcp(&app, &headers, &bytes).await;
        assert_eq!(fast, rmcp, "for {body}");
    }
}

#[tokio::test]
async fn what_is_not_plainly_a_stateless_request_goes_to_rmcp() {
    let (app, _) = common::docs_app(|_| None);
    let (headers, body) = request(
        "tools/call",
        json!({ "name": "search_docs", "arguments": { "query": "drain" } }),
        json!(1),
    );
    let with = |name: &str, value: &str| {
        let mut h = headers.clone();
        h.retain(|(n, _)| n != name);
        h.push((name.into(), value.into()));
        h
    };
    let without = |name: &str| {
        let mut h = headers.clone();
        h.retain(|(n, _)| n != name);
        h
    };
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut body = body.clone();
        edit(&mut body);
        body
    };
    let cases: Vec<(&str, Headers, Value)> = vec![
        ("no Host", without("host"), body.clone()),
        (
            "a Host that is no authority",
            with("host", "a b"),
            body.clone(),
        ),
        ("no Mcp-Method", without("mcp-method"), body.clone()),
        (
            "another Mcp-Method",
            with("mcp-method", "tools/list"),
            body.clone(),
        ),
        ("no Mcp-Name", without("mcp-name"), body.clone()),
        (
            "another Mcp-Name",
            with("mcp-name", "read_doc"),
            body.clone(),
        ),
        (
            "a Base64 Mcp-Name",
            with("mcp-name", "=?base64?c2VhcmNoX2RvY3M=?="),
            body.clone(),
        ),
        (
            "no version header",
            without("mcp-protocol-version"),
            body.clone(),
        ),
        (
            "a legacy version header",
            with("mcp-protocol-version", "2025-11-25"),
            body.clone(),
        ),
        (
            "a weighted Accept",
            with("accept", "application/json;q=1, text/event-stream"),
            body.clone(),
        ),
        (
            "no SSE in Accept",
            with("accept", "application/json"),
            body.clone(),
        ),
        (
            "another media type",
            with("content-type", "text/plain"),
            body.clone(),
        ),
        (
            "a session header",
            with("mcp-session-id", "abc"),
            body.clone(),
        ),
        (
            "an Mcp-Param header",
            with("mcp-param-query", "drain"),
            body.clone(),
        ),
        (
            "jsonrpc 1.0",
            headers.clone(),
            edited(&|b| b["jsonrpc"] = json!("1.0")),
        ),
        (
            "an extra field",
            headers.clone(),
            edited(&|b| b["extra"] = json!(1)),
        ),
        (
            "a notification",
            headers.clone(),
            edited(&|b| {
                b.as_object_mut().unwrap().remove("id");
            }),
        ),
        (
            "a null id",
            headers.clone(),
            edited(&|b| b["id"] = json!(null)),
        ),
        (
            "a fractional id",
            headers.clone(),
            edited(&|b| b["id"] = json!(1.5)),
        ),
        (
            "no _meta",
            headers.clone(),
            edited(&|b| {
                b["params"].as_object_mut().unwrap().remove("_meta");
            }),
        ),
        (
            "no capabilities",
            headers.clone(),
            edited(&|b| {
                b["params"]["_meta"]
                    .as_object_mut()
                    .unwrap()
                    .remove("io.modelcontextprotocol/clientCapabilities");
            }),
        ),
        (
            "a legacy _meta version",
            headers.clone(),
            edited(&|b| {
                b["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] =
                    json!("2025-11-25")
            }),
        ),
        (
            "arguments of the wrong type",
            headers.clone(),
            edited(&|b| b["params"]["arguments"]["query"] = json!(5)),
        ),
        (
            "an unknown tool",
            with("mcp-name", "nope"),
            edited(&|b| b["params"]["name"] = json!("nope")),
        ),
        (
            "params not an object",
            headers.clone(),
            edited(&|b| b["params"] = json!([1])),
        ),
        (
            "a ping",
            with("mcp-method", "ping"),
            edited(&|b| b["method"] = json!("ping")),
        ),
        (
            "a tools/list cursor rmcp cannot read",
            with("mcp-method", "tools/list"),
            edited(&|b| {
                b["method"] = json!("tools/list");
                b["params"] = json!({ "cursor": 5, "_meta": meta() });
            }),
        ),
    ];
    for (what, headers, body) in cases {
        let bytes = serde_json::to_vec(&body).unwrap();
        assert!(
            fast(&app, &headers, &bytes).is_none(),
            "the fast path answered a request with {what}"
        );
    }
    assert!(fast(&app, &headers, b"{not json").is_none());
    let array = format!(r#"["2.0", 1, "tools/call", {}]"#, body["params"]);
    assert!(fast(&app, &headers, array.as_bytes()).is_none());
    // The unedited request is answered: the cases above fail for what they change.
    assert!(fast(&app, &headers, &serde_json::to_vec(&body).unwrap()).is_some());
}

/// Variations a client (or an attacker) may send; any mix of them.
fn variation() -> impl Strategy<Value = (usize, u8, u8, u8, String)> {
    (
        0..answered().len(),
        0u8..6,
        0u8..6,
        0u8..7,
        "[a-z/_ .:#?=-]{0,12}",
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Whatever is changed in a request, the fast path either declines or answers as rmcp.
    #[test]
    fn changed_requests_are_declined_or_answered_as_rmcp_does(
        (base, header_edit, body_edit, which, text) in variation()
    ) {
        let (runtime, app) = shared();
        let (mut headers, mut body) = answered().swap_remove(base);
        let names = ["mcp-method", "mcp-name", "mcp-protocol-version", "accept", "content-type", "mcp-session-id", "host"];
        let name = names[which as usize % names.len()].to_string();
        match header_edit {
            0 => {}
            1 => headers.retain(|(n, _)| *n != name),
            2 => headers.push((name, text.clone())),
            3 => { headers.retain(|(n, _)| *n != name); headers.push((name, text.clone())); }
            4 => { let copy = headers.clone(); headers.extend(copy); }
            _ => headers.push(("mcp-name".into(), text.clone())),
        }
        match body_edit {
            0 => {}
            1 => body["params"]["name"] = json!(text),
            2 => body["params"]["uri"] = json!(text),
            3 => body["method"] = json!(text),
            4 => body["params"]["arguments"] = json!({ "query": text, "path": text, "prefix": text }),
            _ => body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!(text),
        }
        let bytes = serde_json::to_vec(&body).unwrap();
        if let Some(fast) = fast(app, &headers, &bytes) {
            let rmcp = runtime.block_on(rmcp(app, &headers, &bytes));
            prop_assert_eq!(fast, rmcp, "for {} with {:?}", body, headers);
        }
    }
}

/// A handler whose fast-path answer panics.
#[derive(Clone)]
struct Panicky;

impl rmcp::ServerHandler for Panicky {}
impl mcp_server::report::Report for Panicky {}
impl mcp_server::direct::Direct for Panicky {
    fn answer_directly(
        &self,
        _request: &mcp_server::direct::DirectRequest<'_>,
    ) -> Option<Result<mcp_server::direct::Answer, rmcp::ErrorData>> {
        panic!("boom in a fast-path answer")
    }
}

#[tokio::test]
async fn a_panic_in_a_fast_path_answer_is_that_request_s_internal_error() {
    let config = Config::from_lookup(|_| None).unwrap();
    let drain = Drain::new(Duration::from_secs(60), IdleGuess::Off, false);
    let app = App::new(Arc::new(config), drain, Panicky, None).expect("app");
    let (headers, body) = request("tools/list", json!({}), json!(3));
    let bytes = serde_json::to_vec(&body).unwrap();
    let (status, _, answer) = fast(&app, &headers, &bytes).expect("answered");
    assert_eq!(status, 200);
    assert_eq!(answer["id"], 3);
    assert_eq!(answer["error"]["code"], -32603, "{answer}");
    // The server is still answering.
    let (status, _, answer) = fast(&app, &headers, &bytes).expect("answered");
    assert_eq!((status, &answer["error"]["code"]), (200, &json!(-32603)));
}
