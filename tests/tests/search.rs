//! Search quality and search behaviour on the real binary: the labelled query sets meet the
//! aims (recall@5 >= 0.9, MRR@10 >= 0.8, five distinct answers in the top five) on this
//! project's docs and on the Copilot corpus in `../shared/corpora`; versions and languages
//! collapse into one hit with `version` and `language` arguments to pick another; includes are
//! resolved; HTML-anchored fields are read by their anchor.

use std::path::PathBuf;

use serde_json::{Value, json};
use tests::Server;
use tests::http::modern_request;
use tests::relevance::{load_queries, run};

fn assert_aims(name: &str, server: &Server, queries: &std::path::Path) {
    let report = tokio::runtime::Runtime::new().unwrap().block_on(run(
        server.addr,
        &load_queries(queries),
        &json!({}),
    ));
    let summary = report.summary();
    assert!(
        report.recall_at_5() >= 0.9 && report.mrr_at_10() >= 0.8 && report.distinct_in_5() >= 5.0,
        "{name}: {summary}\n{}",
        report.misses(false)
    );
}

#[test]
fn our_own_docs_meet_the_relevance_aims() {
    let server = Server::start(&[]);
    let queries = tests::process::workspace_root().join("tests/relevance/embedded-docs.json");
    assert_aims("embedded docs", &server, &queries);
}

#[test]
fn the_copilot_corpus_meets_the_relevance_aims() {
    let corpus = tests::process::workspace_root().join("../shared/corpora/copilot-docs");
    assert!(
        corpus.join("queries.json").is_file(),
        "{} is missing: the shared corpora sit beside the repository (../shared/corpora)",
        corpus.display()
    );
    let docs = std::fs::canonicalize(corpus.join("docs")).unwrap();
    let server = Server::start(&[
        ("DOCS_DIR", docs.to_str().unwrap()),
        ("DOCS_RELOAD_INTERVAL", "0"),
    ]);
    assert_aims("copilot-docs", &server, &corpus.join("queries.json"));
}

/// A small versioned, translated documentation set with an include and anchored fields.
fn versioned_docs(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let files = [
        (
            "spec/2024-11-05/transport.md",
            "# Transport\n\nThe old transport uses HTTP with SSE for streaming.\n",
        ),
        (
            "spec/2025-06-18/transport.md",
            "# Transport\n\nStreamable HTTP replaces HTTP with SSE for streaming.\n",
        ),
        (
            "spec/draft/transport.md",
            "# Transport\n\nDraft: streaming over HTTP without sessions.\n",
        ),
        (
            "guide/setup.en.md",
            "# Setup\n\nInstall the streaming server with one command.\n",
        ),
        (
            "guide/setup.ja.md",
            "# セットアップ\n\nstreaming サーバーをインストールします。\n",
        ),
        (
            "reference/manifest.md",
            "# Manifest\n\nAll fields of the manifest.\n\n## http\n\n{% include 'fields.md' %}\n",
        ),
        (
            "include/fields.md",
            "<a id=\"http-deregistration-delay\" href=\"#http-deregistration-delay\" class=\"field\">`deregistration_delay`</a> <span class=\"type\">Duration</span>\nHow long the load balancer waits before it deregisters a target.\n\n<a id=\"http-stickiness\" class=\"field\">`stickiness`</a>\nSticky sessions for the target group.\n",
        ),
    ];
    for (path, text) in files {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    root
}

async fn call(server: &Server, name: &str, arguments: Value) -> Value {
    let response = modern_request(
        server.addr,
        1,
        "tools/call",
        json!({ "name": name, "arguments": arguments }),
        Some(name),
    )
    .await;
    response.message().await["result"].clone()
}

fn paths(result: &Value) -> Vec<String> {
    result["structuredContent"]["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits: {result}"))
        .iter()
        .map(|h| {
            format!(
                "{}#{}",
                h["path"].as_str().unwrap(),
                h["anchor"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn versions_and_languages_are_one_hit_and_arguments_pick_another() {
    let root = versioned_docs("versions");
    let server = Server::start(&[
        ("DOCS_DIR", root.to_str().unwrap()),
        ("DOCS_RELOAD_INTERVAL", "0"),
    ]);

    let hits = call(
        &server,
        "search_docs",
        json!({ "query": "streaming", "limit": 10 }),
    )
    .await;
    let mut found = paths(&hits);
    found.sort();
    assert_eq!(
        found,
        [
            "guide/setup.en.md#setup".to_string(),
            "spec/2025-06-18/transport.md#transport".to_string()
        ],
        "the newest released version and the default language, once each: {hits}"
    );
    let transport = hits["structuredContent"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["path"] == "spec/2025-06-18/transport.md")
        .unwrap();
    let variants = &transport["variants"];
    assert_eq!(variants.as_array().map(Vec::len), Some(2), "{variants}");
    assert!(variants.to_string().contains("spec/draft/transport.md"));
    assert!(
        hits["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("also as: ")
    );

    let old = call(
        &server,
        "search_docs",
        json!({ "query": "streaming", "version": "2024-11-05" }),
    )
    .await;
    let old = paths(&old);
    assert!(
        old.contains(&"spec/2024-11-05/transport.md#transport".to_string()),
        "{old:?}"
    );
    assert!(!old.iter().any(|p| p.contains("2025-06-18")), "{old:?}");
    let japanese = call(
        &server,
        "search_docs",
        json!({ "query": "streaming", "language": "ja" }),
    )
    .await;
    assert!(
        paths(&japanese).contains(&"guide/setup.ja.md#セットアップ".to_string()),
        "{japanese}"
    );

    let unknown = call(
        &server,
        "search_docs",
        json!({ "query": "streaming", "version": "9.9" }),
    )
    .await;
    assert_eq!(unknown["isError"], true);
    let text = unknown["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("no version \"9.9\"") && text.contains("2024-11-05, 2025-06-18"),
        "{text}"
    );

    let list = call(&server, "list_docs", json!({})).await;
    let listed = &list["structuredContent"];
    assert_eq!(
        listed["versions"],
        json!(["draft", "2024-11-05", "2025-06-18"])
    );
    assert_eq!(listed["languages"], json!(["en", "ja"]));
    let listed_paths: Vec<&str> = listed["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert!(
        !listed_paths.contains(&"spec/draft/transport.md")
            && listed_paths.contains(&"spec/2025-06-18/transport.md"),
        "{listed_paths:?}"
    );
    let every = call(&server, "list_docs", json!({ "version": "all" })).await;
    assert_eq!(
        every["structuredContent"]["pages"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn included_fields_are_one_hit_readable_by_their_anchor() {
    let root = versioned_docs("includes");
    let server = Server::start(&[
        ("DOCS_DIR", root.to_str().unwrap()),
        ("DOCS_RELOAD_INTERVAL", "0"),
    ]);

    let hits = call(
        &server,
        "search_docs",
        json!({ "query": "How do I set the deregistration delay?" }),
    )
    .await;
    let first = &hits["structuredContent"]["hits"][0];
    assert_eq!(first["anchor"], "http-deregistration-delay", "{hits}");
    assert_eq!(first["path"], "include/fields.md", "the fragment, once");
    assert_eq!(
        first["alsoIn"],
        json!(["reference/manifest.md#http-deregistration-delay"])
    );
    assert_eq!(first["sectionTitle"], "deregistration_delay");
    let snippet = first["snippet"].as_str().unwrap();
    assert!(
        snippet.contains("**deregistration**") && !snippet.contains("class="),
        "{snippet}"
    );
    assert!(
        !paths(&hits).contains(&"reference/manifest.md#http-deregistration-delay".to_string()),
        "the same text under two pages is one hit: {hits}"
    );

    let read = call(
        &server,
        "read_doc",
        json!({ "path": "reference/manifest.md", "section": "http-stickiness" }),
    )
    .await;
    let text = read["structuredContent"]["text"].as_str().unwrap();
    assert!(
        text.contains("Sticky sessions for the target group."),
        "{read}"
    );
    assert!(!text.contains("deregisters"), "only that field: {text}");
    let page = call(
        &server,
        "read_doc",
        json!({ "path": "reference/manifest.md" }),
    )
    .await;
    assert!(
        page["structuredContent"]["text"]
            .as_str()
            .unwrap()
            .contains("How long the load balancer waits"),
        "{page}"
    );
    std::fs::remove_dir_all(root).unwrap();
}
