//! The documentation tools end to end: the official Python SDK (legacy) and MCP Inspector
//! (modern) call every tool and read resources on the real binary, started outside the
//! repository so it serves its embedded docs; hot reload tells both eras; bad DOCS_DIR values
//! stop start-up.

use std::process::Command;
use std::time::{Duration, Instant};

use http::StatusCode;
use serde_json::{Value, json};
use tests::Server;
use tests::http::{legacy_session, modern_request};
use tests::process::binary;
use tests::tools::{inspector, python_report, run};

#[test]
fn the_python_sdk_uses_every_tool_and_reads_resources() {
    let server = Server::start(&[]);
    let report = python_report("docs_client.py", &[&server.mcp_url()]);
    assert_eq!(report["protocolVersion"], "2025-11-25");
    assert_eq!(report["resourcesListChanged"], true);
    assert_eq!(
        report["tools"],
        json!(["list_docs", "read_doc", "search_docs"])
    );
    assert_eq!(
        report["outputSchemas"], report["tools"],
        "every tool has an outputSchema"
    );

    let hits = report["search"]["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 3, "{hits:?}");
    assert!(
        hits.iter().any(|h| h["snippet"]
            .as_str()
            .unwrap()
            .contains("**deregistration**")),
        "{hits:?}"
    );
    assert_eq!(report["searchIsError"], false);
    let section = &report["section"];
    assert_eq!(section["path"], hits[0]["path"]);
    assert_eq!(section["section"], hits[0]["anchor"]);
    assert!(section["text"].as_str().unwrap().starts_with('#'));
    assert!(
        section.get("nextOffset").is_none(),
        "a section fits one chunk"
    );

    let chunk = &report["chunk"];
    assert!(chunk["text"].as_str().unwrap().chars().count() <= 500);
    let next = chunk["nextOffset"].as_u64().unwrap();
    assert_eq!(report["rest"]["offset"], next);
    let total = chunk["totalChars"].as_u64().unwrap();
    let together = chunk["text"].as_str().unwrap().chars().count()
        + report["rest"]["text"].as_str().unwrap().chars().count();
    assert_eq!(together as u64, total, "two chunks cover the page");

    let pages = report["list"].as_array().unwrap();
    for page in [
        "README.md",
        "architecture.md",
        "configuration.md",
        "deployment.md",
        "operations.md",
        "troubleshooting.md",
    ] {
        assert!(
            pages.contains(&json!(page)),
            "{page} missing from {pages:?}"
        );
    }
    assert!(
        report["resources"]
            .as_array()
            .unwrap()
            .contains(&json!("docs://operations.md"))
    );
    assert!(
        report["resourceText"]
            .as_str()
            .unwrap()
            .starts_with("# Operations runbook")
    );
    assert_eq!(report["templates"], json!(["docs://{+path}{?section}"]));
    assert!(
        report["resourceSection"]
            .as_str()
            .unwrap()
            .starts_with("## Health endpoint")
    );

    assert_eq!(report["unknownPath"]["isError"], true);
    assert!(
        report["unknownPath"]["text"]
            .as_str()
            .unwrap()
            .contains("operations.md")
    );
    assert_eq!(report["emptyQuery"]["isError"], true);
    assert!(
        report["emptyQuery"]["text"]
            .as_str()
            .unwrap()
            .contains("no searchable words")
    );
}

#[test]
fn inspector_calls_every_tool_and_reads_a_resource_in_the_modern_era() {
    let server = Server::start(&[]);
    let url = server.mcp_url();
    let search = inspector(
        &url,
        "modern",
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "search_docs",
            "--tool-arg",
            "query=\"idle timeout\"",
        ],
    );
    let first = &search["structuredContent"]["hits"][0];
    assert!(
        first["snippet"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("**idle** **timeout**"),
        "{search}"
    );
    let path = first["path"].as_str().unwrap();

    let read = inspector(
        &url,
        "modern",
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "read_doc",
            "--tool-arg",
            &format!("path={path}"),
        ],
    );
    assert_eq!(read["structuredContent"]["path"], path);
    assert!(read["content"][0]["text"].as_str().unwrap().contains('#'));

    let list = inspector(
        &url,
        "modern",
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "list_docs",
            "--tool-arg",
            "prefix=op",
        ],
    );
    let pages = list["structuredContent"]["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 1, "{list}");
    assert_eq!(pages[0]["path"], "operations.md");

    let resource = inspector(
        &url,
        "modern",
        &[
            "--method",
            "resources/read",
            "--uri",
            "docs://troubleshooting.md?section=502-bad-gateway-during-deploys",
        ],
    );
    let text = resource["contents"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("## 502 Bad Gateway during deploys"),
        "{text}"
    );
    assert_eq!(resource["contents"][0]["mimeType"], "text/markdown");
}

/// Reads SSE events until one carries a message with `method`, bounded.
async fn expect_notification(stream: &mut tests::http::SseStream, method: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = stream.next_event(left).await.expect("stream stays open");
        if let Some(data) = event.data().filter(|d| !d.is_empty()) {
            let message: Value = serde_json::from_str(&data).unwrap();
            if message["method"] == method {
                return;
            }
        }
    }
}

#[tokio::test]
async fn editing_docs_dir_reindexes_and_notifies_both_eras() {
    let folder = std::env::temp_dir().join(format!("docs-e2e-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(folder.join("guides")).unwrap();
    std::fs::write(folder.join("index.md"), "# Home\n\nWelcome.\n").unwrap();
    let server = Server::start(&[
        ("DOCS_DIR", folder.to_str().unwrap()),
        ("DOCS_RELOAD_INTERVAL", "100"),
        ("SSE_KEEPALIVE_INTERVAL", "1000"),
    ]);

    // A legacy session with its GET stream, and a modern listen stream that opted in.
    let session = legacy_session(server.addr).await;
    let get = tests::http::get_stream(server.addr, &session).await;
    assert_eq!(get.status, StatusCode::OK);
    let mut legacy = get.sse();
    let listen = tests::http::listen_stream(server.addr, 1).await;
    assert_eq!(listen.status, StatusCode::OK);
    let mut modern = listen.sse();
    expect_notification(&mut modern, "notifications/subscriptions/acknowledged").await;

    let search = |query: &'static str| async move {
        let response = modern_request(
            server.addr,
            2,
            "tools/call",
            json!({ "name": "search_docs", "arguments": { "query": query } }),
            Some("search_docs"),
        )
        .await;
        response.message().await["result"]["structuredContent"]["hits"].clone()
    };
    assert_eq!(search("zeppelin").await, json!([]));

    std::fs::write(
        folder.join("guides/airships.md"),
        "# Airships\n\n## Zeppelin mooring\n\nMoor the zeppelin to the mast.\n",
    )
    .unwrap();
    expect_notification(&mut modern, "notifications/resources/list_changed").await;
    expect_notification(&mut legacy, "notifications/resources/list_changed").await;
    let hits = search("zeppelin").await;
    assert_eq!(hits[0]["path"], "guides/airships.md", "{hits}");
    assert_eq!(hits[0]["anchor"], "zeppelin-mooring");
    server.wait_for_log("documentation reloaded", Duration::from_secs(5));
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn a_missing_or_empty_docs_dir_stops_start_up_naming_it() {
    let missing = std::env::temp_dir().join("no-such-docs-folder-for-tests");
    let mut command = Command::new(binary("mcp-server"));
    command.env("DOCS_DIR", &missing).env("PORT", "0");
    let (code, output) = run(command, Duration::from_secs(10));
    assert_eq!(code, Some(2), "{output}");
    assert!(output.contains(missing.to_str().unwrap()), "{output}");

    let empty = std::env::temp_dir().join(format!("docs-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not markdown").unwrap();
    let mut command = Command::new(binary("mcp-server"));
    command.env("DOCS_DIR", &empty).env("PORT", "0");
    let (code, output) = run(command, Duration::from_secs(10));
    assert_eq!(code, Some(2), "{output}");
    assert!(output.contains("holds no Markdown"), "{output}");
    std::fs::remove_dir_all(&empty).unwrap();
}

#[tokio::test]
async fn resources_list_pages_through_every_page_with_cursors() {
    let folder = std::env::temp_dir().join(format!("docs-e2e-pages-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..120 {
        std::fs::write(
            folder.join(format!("page-{i:03}.md")),
            format!("# Page {i}\n\nText {i}.\n"),
        )
        .unwrap();
    }
    let server = Server::start(&[("DOCS_DIR", folder.to_str().unwrap())]);
    let mut uris = Vec::new();
    let mut cursor: Option<String> = None;
    for round in 0..10 {
        let params = match &cursor {
            Some(cursor) => json!({ "cursor": cursor }),
            None => json!({}),
        };
        let answer = modern_request(server.addr, round, "resources/list", params, None)
            .await
            .message()
            .await;
        let result = &answer["result"];
        for resource in result["resources"].as_array().unwrap() {
            uris.push(resource["uri"].as_str().unwrap().to_string());
        }
        match result["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(uris.len(), 120);
    assert_eq!(uris[0], "docs://page-000.md");
    assert_eq!(uris[119], "docs://page-119.md");
    let bad = modern_request(
        server.addr,
        99,
        "resources/list",
        json!({ "cursor": "nonsense" }),
        None,
    )
    .await
    .message()
    .await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    std::fs::remove_dir_all(&folder).unwrap();
}
