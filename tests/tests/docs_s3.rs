//! `DOCS_DIR=s3://bucket/prefix/` end to end against moto's S3: the real binary loads and
//! searches the objects, sees a change, an addition and a deletion within two intervals and
//! tells a held listen stream, skips hostile keys and oversized objects, keeps serving the last
//! pages while S3 is frozen (and says so in `/health`), recovers, and refuses to start on a
//! missing bucket or an empty prefix with a message that names them.

use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use http::StatusCode;
use serde_json::{Value, json};
use tests::Server;
use tests::http::{health, modern_request};
use tests::process::binary;
use tests::tools::{Moto, run};

const BUCKET: &str = "docs-bucket";

async fn put(s3: &aws_sdk_s3::Client, key: &str, body: impl Into<Vec<u8>>) {
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from(body.into()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

/// A moto with the bucket and two pages under `site/`, plus keys the server must not serve.
async fn docs_bucket() -> (Moto, aws_sdk_s3::Client) {
    let moto = Moto::start();
    let s3 = moto.s3();
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    put(
        &s3,
        "site/alpha.md",
        "# Alpha\n\n## Anchoring\n\nDrop the alpha anchor.\n",
    )
    .await;
    put(
        &s3,
        "site/guide/beta.md",
        "# Beta\n\nBeta pages about balloons.\n",
    )
    .await;
    // Refused: climbs out of the prefix, hides, too large, not Markdown, outside the prefix.
    put(&s3, "site/../secret.md", "# Secret\n\nescaped\n").await;
    put(&s3, "site/.git/config.md", "# Hidden\n\nhidden\n").await;
    put(&s3, "site/huge.md", vec![b'x'; 5000]).await;
    put(&s3, "site/notes.txt", "not markdown").await;
    put(&s3, "site/binary.md", vec![0xff, 0xfe, 0x00, 0x41]).await;
    put(&s3, "other/outside.md", "# Outside\n\noutside the prefix\n").await;
    (moto, s3)
}

fn start(moto: &Moto, extra: &[(&str, &str)]) -> Server {
    let aws = moto.server_env();
    let mut env: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("DOCS_DIR", "s3://docs-bucket/site/"));
    env.push(("DOCS_MAX_PAGE_BYTES", "4096"));
    env.extend_from_slice(extra);
    Server::start(&env)
}

async fn call(server: &Server, tool: &str, arguments: Value) -> Value {
    let response = modern_request(
        server.addr,
        7,
        "tools/call",
        json!({ "name": tool, "arguments": arguments }),
        Some(tool),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    response.message().await["result"].clone()
}

async fn paths(server: &Server) -> Vec<String> {
    let list = call(server, "list_docs", json!({})).await;
    list["structuredContent"]["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap().to_string())
        .collect()
}

async fn first_hit(server: &Server, query: &str) -> Value {
    let result = call(server, "search_docs", json!({ "query": query })).await;
    result["structuredContent"]["hits"][0].clone()
}

/// Polls `/health` until `done` holds for its `docs` block (bounded).
async fn docs_health_until(server: &Server, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let docs = health(server.addr).await["docs"].clone();
        if done(&docs) {
            return docs;
        }
        assert!(Instant::now() < deadline, "{what}; docs health: {docs}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn expect_list_changed(stream: &mut tests::http::SseStream, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = stream
            .next_event(left)
            .await
            .expect("list_changed arrives within two intervals");
        if let Some(data) = event.data().filter(|d| !d.is_empty()) {
            let message: Value = serde_json::from_str(&data).unwrap();
            if message["method"] == "notifications/resources/list_changed" {
                return;
            }
        }
    }
}

#[tokio::test]
async fn pages_load_from_a_prefix_and_changes_show_within_two_intervals() {
    let (moto, s3) = docs_bucket().await;
    let server = start(&moto, &[("DOCS_RELOAD_INTERVAL", "1000")]);

    assert_eq!(paths(&server).await, ["alpha.md", "guide/beta.md"]);
    let hit = first_hit(&server, "anchor").await;
    assert_eq!(hit["path"], "alpha.md", "{hit}");
    assert_eq!(hit["anchor"], "anchoring");
    let docs = health(server.addr).await["docs"].clone();
    assert_eq!(docs["source"], "s3://docs-bucket/site/");
    assert_eq!(docs["pages"], 2);
    assert_eq!(
        docs["skipped"], 4,
        "escape, hidden, huge, not UTF-8: {docs}"
    );
    assert_eq!(docs["refreshFailing"], false);
    let first_version = docs["version"].as_str().unwrap().to_string();
    let logs = server.logs().join("\n");
    for skipped in ["../secret.md", ".git/config.md", "huge.md", "binary.md"] {
        assert!(
            logs.contains(&format!("\"path\":\"{skipped}\"")),
            "{skipped} skipped with a warning:\n{logs}"
        );
    }
    assert!(!logs.contains("outside.md"), "nothing outside the prefix");
    let escaped = call(&server, "read_doc", json!({ "path": "../secret.md" })).await;
    assert_eq!(escaped["isError"], true, "{escaped}");

    // Changed, added and deleted, seen by a held listen stream within two intervals.
    let listen = tests::http::listen_stream(server.addr, 1).await;
    assert_eq!(listen.status, StatusCode::OK);
    let mut stream = listen.sse();
    put(
        &s3,
        "site/guide/beta.md",
        "# Beta\n\n## Zeppelins\n\nMoor the zeppelin.\n",
    )
    .await;
    put(
        &s3,
        "site/gamma.mdx",
        "# Gamma\n\nGamma rays and gondolas.\n",
    )
    .await;
    s3.delete_object()
        .bucket(BUCKET)
        .key("site/alpha.md")
        .send()
        .await
        .unwrap();
    expect_list_changed(&mut stream, Duration::from_millis(2 * 1000 + 1500)).await;
    assert_eq!(paths(&server).await, ["gamma.mdx", "guide/beta.md"]);
    let hit = first_hit(&server, "zeppelin").await;
    assert_eq!(hit["path"], "guide/beta.md", "{hit}");
    assert_eq!(first_hit(&server, "gondolas").await["path"], "gamma.mdx");
    let gone = call(&server, "read_doc", json!({ "path": "alpha.md" })).await;
    assert_eq!(gone["isError"], true, "{gone}");
    let docs = health(server.addr).await["docs"].clone();
    assert_ne!(docs["version"], first_version.as_str());
    assert_eq!(docs["pages"], 2);
    assert_eq!(docs["skipped"], 4);
    let warned = |path: &str| {
        let needle = format!("\"path\":\"{path}\"");
        server.logs().iter().filter(|l| l.contains(&needle)).count()
    };
    assert_eq!(
        warned("../secret.md"),
        1,
        "a skipped key is warned about once"
    );
    assert_eq!(warned("binary.md"), 1, "a refused object is not read again");

    // Nothing changed: a check is one listing, no download.
    let before = health(server.addr).await["docs"]["s3Requests"]
        .as_u64()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let after = health(server.addr).await["docs"]["s3Requests"]
        .as_u64()
        .unwrap();
    assert!(
        (2..=5).contains(&(after - before)),
        "about one listing a second and no GetObject: {before} -> {after}"
    );
}

#[tokio::test]
async fn a_frozen_s3_keeps_the_last_pages_served_and_reports_it_then_recovers() {
    let (moto, s3) = docs_bucket().await;
    let server = start(
        &moto,
        &[("DOCS_RELOAD_INTERVAL", "300"), ("DOCS_S3_TIMEOUT", "1000")],
    );
    assert_eq!(
        first_hit(&server, "balloons").await["path"],
        "guide/beta.md"
    );

    moto.pause(true);
    let docs = docs_health_until(&server, "the failed check shows", |docs| {
        docs["refreshFailing"] == true
    })
    .await;
    let error = docs["lastError"].as_str().unwrap();
    assert!(error.contains("ListObjectsV2"), "{error}");
    assert!(docs["lastErrorAt"].as_u64().is_some(), "{docs}");
    assert_eq!(docs["pages"], 2, "the last snapshot is still served");
    // Requests are answered from it meanwhile, not held by the check.
    assert_eq!(
        first_hit(&server, "balloons").await["path"],
        "guide/beta.md"
    );
    assert!(
        server
            .logs()
            .iter()
            .any(|l| l.contains("\"level\":\"ERROR\"")
                && l.contains("Error checking the documentation")),
        "the failure is logged at error"
    );

    moto.pause(false);
    put(
        &s3,
        "site/guide/beta.md",
        "# Beta\n\nBeta pages about blimps.\n",
    )
    .await;
    docs_health_until(&server, "the check recovers", |docs| {
        docs["refreshFailing"] == false
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while first_hit(&server, "blimps").await["path"] != "guide/beta.md" {
        assert!(
            Instant::now() < deadline,
            "the change after recovery is served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn start_up_without_the_bucket_or_without_pages_exits_naming_them() {
    let moto = Moto::start();
    let s3 = moto.s3();
    s3.create_bucket()
        .bucket("empty-bucket")
        .send()
        .await
        .unwrap();
    put_in(&s3, "empty-bucket", "docs/readme.txt", "no Markdown here").await;
    for (docs_dir, cause) in [
        ("s3://no-such-bucket/docs/", "NoSuchBucket"),
        ("s3://empty-bucket/docs/", "no Markdown objects"),
    ] {
        let mut command = Command::new(binary("mcp-server"));
        command
            .env_clear()
            .env("DOCS_DIR", docs_dir)
            .env("PORT", "0");
        for (key, value) in moto.server_env() {
            command.env(key, value);
        }
        let started = Instant::now();
        let (code, output) = run(command, Duration::from_secs(60));
        assert_eq!(code, Some(2), "{output}");
        let bucket = docs_dir.split('/').nth(2).unwrap();
        assert!(
            output.contains(&format!("bucket '{bucket}', prefix 'docs/'")),
            "{output}"
        );
        assert!(output.contains(cause), "{output}");
        assert!(output.contains("after 5 tries"), "{output}");
        // Four waits of 0.5, 1, 2 and 4 s: bounded, and not given up at the first answer.
        assert!(started.elapsed() >= Duration::from_secs(7), "{output}");
    }
}

async fn put_in(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
}
