//! `AUTH=api-key` on the real binary: no key or an unknown key gets 401 with the right
//! `WWW-Authenticate`; a known key (from the hashes or the key file, in either header) is let
//! in, by the official Python SDK and MCP Inspector too; `/health` and CORS preflights stay
//! open; per-client limits follow the key, not the address; keys never reach the logs.

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::json;
use tests::http::{
    ACCEPT_BOTH, MODERN_VERSION, initialize_message, modern_meta, request, request_from,
};
use tests::process::Server;
use tests::tools::{inspector, python_report};

const KEY_A: &str = "docs-key-alpha-3f9c1e";
const KEY_B: &str = "docs-key-beta-77aa02";

fn sha256(key: &str) -> String {
    let output = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(key.as_bytes())?;
            child.wait_with_output()
        })
        .expect("sha256sum (coreutils) runs");
    String::from_utf8(output.stdout).unwrap()[..64].to_string()
}

/// A server that lets in KEY_A (by AUTH_API_KEY_HASHES) and KEY_B (by AUTH_API_KEY_FILE).
fn server(extra: &[(&str, &str)]) -> (Server, std::path::PathBuf) {
    // One file per server: tests run at once and each removes its own.
    static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let file = std::env::temp_dir().join(format!("api-keys-{}-{n}", std::process::id()));
    std::fs::write(&file, format!("# the beta team\n{}\n", sha256(KEY_B))).unwrap();
    let hashes = sha256(KEY_A);
    let mut env = vec![
        ("AUTH", "api-key"),
        ("AUTH_API_KEY_HASHES", hashes.as_str()),
        ("AUTH_API_KEY_FILE", file.to_str().unwrap()),
        ("ALLOWED_ORIGINS", "https://app.example"),
    ];
    env.extend_from_slice(extra);
    (Server::start(&env), file)
}

fn tools_list() -> String {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": modern_meta() } })
        .to_string()
}

async fn modern_list(
    addr: std::net::SocketAddr,
    source: Option<std::net::IpAddr>,
    credentials: &[(&str, &str)],
) -> tests::http::Response {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", ACCEPT_BOTH),
        ("mcp-protocol-version", MODERN_VERSION),
        ("mcp-method", "tools/list"),
    ];
    headers.extend_from_slice(credentials);
    request_from(
        source,
        addr,
        Method::POST,
        "/mcp",
        &headers,
        Some(&tools_list()),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_known_api_keys_reach_mcp() {
    let (server, file) = server(&[]);
    let addr = server.addr;

    let none = modern_list(addr, None, &[]).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.header("www-authenticate"),
        Some(r#"Bearer realm="mcp""#)
    );
    let body = none.json().await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-Api-Key"),
        "{body}"
    );

    for credentials in [
        [("authorization", "Bearer not-a-key")],
        [("x-api-key", "not-a-key")],
        [("authorization", &format!("Bearer {}", sha256(KEY_A)))],
    ] {
        let wrong = modern_list(addr, None, &credentials).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{credentials:?}");
        assert_eq!(
            wrong.header("www-authenticate"),
            Some(r#"Bearer realm="mcp", error="invalid_token""#),
            "{credentials:?}"
        );
    }
    let basic = modern_list(addr, None, &[("authorization", "Basic a2V5Og==")]).await;
    assert_eq!(
        basic.status,
        StatusCode::UNAUTHORIZED,
        "only Bearer carries a key"
    );

    let bearer = format!("Bearer {KEY_A}");
    for credentials in [
        vec![("authorization", bearer.as_str())],
        vec![("authorization", "bearer docs-key-beta-77aa02")],
        vec![("x-api-key", KEY_B)],
    ] {
        let ok = modern_list(addr, None, &credentials).await;
        assert_eq!(ok.status, StatusCode::OK, "{credentials:?}");
        let answer = ok.message().await;
        assert!(answer["result"]["tools"].is_array(), "{answer}");
    }

    // A legacy session: every request of it carries the key.
    let initialize = request(
        addr,
        Method::POST,
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", ACCEPT_BOTH),
        ],
        Some(&initialize_message(1).to_string()),
    )
    .await;
    assert_eq!(
        initialize.status,
        StatusCode::UNAUTHORIZED,
        "initialize needs a key too"
    );

    // Open: the health check and a browser's preflight (browsers send no credentials on it).
    let health = request(addr, Method::GET, "/health", &[], None).await;
    assert_eq!(health.status, StatusCode::OK);
    let preflight = request(
        addr,
        Method::OPTIONS,
        "/mcp",
        &[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, x-api-key, content-type",
            ),
        ],
        None,
    )
    .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("x-api-key"),
        "{allowed}"
    );
    // A refused browser call still tells the page why (CORS headers on the 401).
    let from_page = modern_list(addr, None, &[("origin", "https://app.example")]).await;
    assert_eq!(from_page.status, StatusCode::UNAUTHORIZED);
    assert!(
        from_page
            .header("access-control-expose-headers")
            .is_some_and(|h| h.contains("WWW-Authenticate")),
        "the page can read the challenge"
    );

    // Real clients with a key: the Python SDK (legacy session) and MCP Inspector (both eras).
    let url = server.mcp_url();
    let sdk = python_report("sdk_api_key.py", &[&url, "Authorization", &bearer]);
    assert_eq!(
        sdk["tools"],
        json!(["list_docs", "read_doc", "search_docs"]),
        "{sdk}"
    );
    assert_eq!(sdk["isError"], false, "{sdk}");
    let sdk_b = python_report("sdk_api_key.py", &[&url, "X-Api-Key", KEY_B]);
    assert_eq!(sdk_b["isError"], false, "{sdk_b}");
    for era in ["modern", "legacy"] {
        let header = format!("X-Api-Key: {KEY_A}");
        let listed = inspector(&url, era, &["--method", "tools/list", "--header", &header]);
        assert!(
            listed["tools"].as_array().is_some_and(|t| t.len() == 3),
            "{era}: {listed}"
        );
    }

    // Keys never reach the logs; the key id may.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let logs = server.logs().join("\n");
    for key in [KEY_A, KEY_B, "not-a-key"] {
        assert!(!logs.contains(key), "{key} was logged");
    }
    assert!(logs.contains("API key refused"), "refusals are logged");
    let _ = std::fs::remove_file(file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_client_limits_follow_the_key_not_the_address() {
    let (server, file) = server(&[("CLIENT_REQUEST_RATE", "1"), ("CLIENT_REQUEST_BURST", "2")]);
    let addr = server.addr;
    let a = format!("Bearer {KEY_A}");
    let other: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    // KEY_A's burst of two, spent from two addresses: the third call is refused wherever it
    // comes from, while KEY_B, from the same address, still has its own.
    assert_eq!(
        modern_list(addr, None, &[("authorization", &a)])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        modern_list(addr, Some(other), &[("authorization", &a)])
            .await
            .status,
        StatusCode::OK
    );
    let third = modern_list(addr, Some(other), &[("authorization", &a)]).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    let b = modern_list(addr, Some(other), &[("x-api-key", KEY_B)]).await;
    assert_eq!(b.status, StatusCode::OK, "another key is another client");
    // Wrong keys count against their address's rate: guessing stops at 429, and a known key
    // from that same address is still served.
    let guesser: std::net::IpAddr = "127.0.0.3".parse().unwrap();
    let mut statuses = Vec::new();
    for guess in 0..4 {
        let wrong = format!("Bearer guess-{guess}");
        statuses.push(
            modern_list(addr, Some(guesser), &[("authorization", &wrong)])
                .await
                .status,
        );
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let known = modern_list(addr, Some(guesser), &[("x-api-key", KEY_B)]).await;
    assert_ne!(known.status, StatusCode::UNAUTHORIZED);
    let _ = std::fs::remove_file(file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_belongs_to_the_key_that_started_it() {
    use tests::http::{LEGACY_VERSION, post};
    let (server, file) = server(&[]);
    let addr = server.addr;
    let a = format!("Bearer {KEY_A}");
    let started = post(addr, &[("authorization", &a)], &initialize_message(1)).await;
    assert_eq!(started.status, StatusCode::OK);
    let session = started.header("mcp-session-id").unwrap().to_string();
    let _ = started.message().await;
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let noted = post(
        addr,
        &[
            ("authorization", &a),
            ("mcp-session-id", &session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        &initialized,
    )
    .await;
    assert_eq!(noted.status, StatusCode::ACCEPTED);
    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    let in_session = |credentials: (&'static str, String)| {
        let session = session.clone();
        let list = list.clone();
        async move {
            post(
                addr,
                &[
                    (credentials.0, &credentials.1),
                    ("mcp-session-id", &session),
                    ("mcp-protocol-version", LEGACY_VERSION),
                ],
                &list,
            )
            .await
            .status
        }
    };
    // Another valid key holding the id is told the session does not exist, for every method.
    assert_eq!(
        in_session(("x-api-key", KEY_B.to_string())).await,
        StatusCode::NOT_FOUND
    );
    for method in [Method::GET, Method::DELETE] {
        let answer = request(
            addr,
            method.clone(),
            "/mcp",
            &[
                ("x-api-key", KEY_B),
                ("accept", "text/event-stream"),
                ("mcp-session-id", &session),
                ("mcp-protocol-version", LEGACY_VERSION),
            ],
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method}");
    }
    // Its own key still uses it (so the DELETE above ended nothing).
    assert_eq!(
        in_session(("authorization", a.clone())).await,
        StatusCode::OK
    );
    let _ = std::fs::remove_file(file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_session_store_the_binding_holds_on_every_task() {
    use tests::http::{LEGACY_VERSION, legacy_session_with, post};
    let redis = tests::tools::Redis::start();
    let url = redis.url();
    let store = [("SESSION_STORE", url.as_str())];
    let (first, file_a) = server(&store);
    let (second, file_b) = server(&store);
    let a = format!("Bearer {KEY_A}");
    let session = legacy_session_with(first.addr, &[("authorization", &a)]).await;
    assert_eq!(
        redis.keys("docs-mcp:owner:*").len(),
        1,
        "the owner is recorded"
    );
    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    let call = |addr, credentials: (&'static str, String)| {
        let (session, list) = (session.clone(), list.clone());
        async move {
            post(
                addr,
                &[
                    (credentials.0, &credentials.1),
                    ("mcp-session-id", &session),
                    ("mcp-protocol-version", LEGACY_VERSION),
                ],
                &list,
            )
            .await
            .status
        }
    };
    // On the task that does not hold it, another key can neither restore it nor end it.
    let b = ("x-api-key", KEY_B.to_string());
    assert_eq!(call(second.addr, b.clone()).await, StatusCode::NOT_FOUND);
    let delete = request(
        second.addr,
        Method::DELETE,
        "/mcp",
        &[
            ("x-api-key", KEY_B),
            ("mcp-session-id", &session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        None,
    )
    .await;
    assert_eq!(delete.status, StatusCode::NOT_FOUND);
    assert_eq!(
        redis.keys("docs-mcp:session:*").len(),
        1,
        "still in the store"
    );
    // Its own key restores it there and carries on; after that, the binding holds there too.
    assert_eq!(
        call(second.addr, ("authorization", a.clone())).await,
        StatusCode::OK
    );
    assert_eq!(call(second.addr, b).await, StatusCode::NOT_FOUND);
    for file in [file_a, file_b] {
        let _ = std::fs::remove_file(file);
    }
}

#[test]
fn a_server_without_keys_or_with_bad_hashes_does_not_start() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("AUTH", "api-key")], "no key hash given"),
        (
            &[("AUTH", "api-key"), ("AUTH_API_KEY_HASHES", KEY_A)],
            "expected SHA-256 hashes",
        ),
        (
            &[
                ("AUTH", "api-key"),
                ("AUTH_API_KEY_FILE", "/nonexistent/keys"),
            ],
            "cannot read it",
        ),
        (
            &[("AUTH", "api-key"), ("AUTH_API_KEY_FILE", KEY_A)],
            "of 21 characters",
        ),
    ];
    for (env, expected) in cases {
        let output = std::process::Command::new(tests::process::binary("mcp-server"))
            .env_clear()
            .envs(env.iter().copied())
            .env("PORT", "0")
            .output()
            .expect("runs");
        assert!(!output.status.success(), "{env:?} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
        assert!(!stderr.contains(KEY_A), "the value is not echoed: {stderr}");
    }
}
