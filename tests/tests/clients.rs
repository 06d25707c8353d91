//! Real MCP clients against the real binary: MCP Inspector's CLI in both protocol eras, and the
//! official Python SDK (legacy sessions, DELETE on close).

use std::time::Duration;

use serde_json::Value;
use tests::Server;
use tests::http::health;
use tests::tools::{inspector, python_report};

#[tokio::test]
async fn inspector_lists_tools_on_the_default_server_in_both_eras() {
    let server = Server::start(&[]);
    let modern = inspector(&server.mcp_url(), "modern", &["--method", "tools/list"]);
    assert!(modern["tools"].is_array(), "{modern}");
    let started = |server: &Server| {
        server
            .logs()
            .iter()
            .any(|l| l.contains("legacy session started"))
    };
    assert!(
        !started(&server),
        "the modern era must not open a legacy session"
    );
    let legacy = inspector(&server.mcp_url(), "legacy", &["--method", "tools/list"]);
    assert!(legacy["tools"].is_array(), "{legacy}");
    assert!(
        started(&server),
        "the legacy era initializes a session; log:\n{}",
        server.logs().join("\n")
    );
    assert!(
        !server.logs().iter().any(|l| l.contains("session_id")),
        "session ids must not reach the logs at LOG_LEVEL=info"
    );
}

#[tokio::test]
async fn inspector_calls_a_tool_in_both_eras() {
    let server = Server::start_fixtures(&[]);
    for era in ["modern", "legacy"] {
        let result = inspector(
            &server.mcp_url(),
            era,
            &["--method", "tools/call", "--tool-name", "test_simple_text"],
        );
        assert_eq!(
            result["content"][0]["text"], "This is a simple text response for testing.",
            "{era}: {result}"
        );
    }
}

#[tokio::test]
async fn the_python_sdk_initializes_lists_calls_and_closes() {
    let server = Server::start_fixtures(&[]);
    let report = python_report(
        "sdk_client.py",
        &[&server.mcp_url(), "test_simple_text", "test://static-text"],
    );
    assert_eq!(report["serverName"], "mcp-server-conformance-fixtures");
    assert_eq!(report["protocolVersion"], "2025-11-25");
    assert!(
        report["tools"]
            .as_array()
            .unwrap()
            .contains(&Value::from("test_simple_text"))
    );
    assert_eq!(report["isError"], false);
    assert_eq!(
        report["text"][0],
        "This is a simple text response for testing."
    );
    assert_eq!(
        report["resource"][0],
        "This is the content of the static text resource."
    );
    // The SDK sends DELETE on close: the session is gone, and so are its streams.
    let after = health(server.addr).await;
    assert_eq!(after["legacySessions"], 0, "{after}");
    tests::http::wait_for_streams(server.addr, 0, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn the_python_sdk_sees_our_server_info_on_the_default_server() {
    let server = Server::start(&[]);
    let report = python_report("sdk_client.py", &[&server.mcp_url()]);
    assert_eq!(report["serverName"], "mcp-server");
    assert_eq!(
        report["serverVersion"],
        mcp_server::implementation().version.as_str()
    );
}
