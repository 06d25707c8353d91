//! `AUTH=oauth` on the real binary against a real OpenID provider on loopback (oidc-provider,
//! `tests/src/oidc.rs`): tokens from the client credentials grant are let in, by the official
//! Python SDK running the whole MCP authorization discovery and by MCP Inspector with a token;
//! every kind of bad token gets the right 401 or 403 and challenge; the RFC 9728 metadata is
//! served; key rotation is followed, a JWKS outage neither stops known keys nor makes the
//! server hammer the issuer; start-up waits for the issuer and gives up with a clear message.

use std::net::SocketAddr;
use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::http::{ACCEPT_BOTH, MODERN_VERSION, modern_meta, request};
use tests::oidc::Oidc;
use tests::process::Server;
use tests::tools::{inspector, python_report};

/// A loopback port free now, for a server whose URL (its token audience) must be known before
/// it starts.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A provider for this server's `/mcp` (and for another resource), and the server with
/// `AUTH=oauth` requiring `docs:read`.
fn setup(extra: &[(&str, &str)]) -> (Oidc, Server, String) {
    let port = free_port();
    let audience = format!("http://127.0.0.1:{port}/mcp");
    let oidc = Oidc::start(&[&audience, "http://127.0.0.1:1/other"]);
    let issuer = oidc.issuer();
    let port = port.to_string();
    let mut env = vec![
        ("PORT", port.as_str()),
        ("AUTH", "oauth"),
        ("AUTH_ISSUER", issuer.as_str()),
        ("AUTH_AUDIENCE", audience.as_str()),
        ("AUTH_SCOPES", "docs:read"),
        ("ALLOWED_ORIGINS", "https://app.example"),
    ];
    env.extend_from_slice(extra);
    let server = Server::start(&env);
    (oidc, server, audience)
}

async fn modern_list(addr: SocketAddr, credentials: &[(&str, &str)]) -> tests::http::Response {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", ACCEPT_BOTH),
        ("mcp-protocol-version", MODERN_VERSION),
        ("mcp-method", "tools/list"),
    ];
    headers.extend_from_slice(credentials);
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": modern_meta() } });
    request(
        addr,
        Method::POST,
        "/mcp",
        &headers,
        Some(&body.to_string()),
    )
    .await
}

async fn with_token(addr: SocketAddr, token: &str) -> tests::http::Response {
    modern_list(addr, &[("authorization", &format!("Bearer {token}"))]).await
}

/// The status and `WWW-Authenticate` of a call with `token`.
async fn refused(addr: SocketAddr, token: &str) -> (StatusCode, String) {
    let answer = with_token(addr, token).await;
    let challenge = answer.header("www-authenticate").unwrap_or("").to_string();
    (answer.status, challenge)
}

async fn listed(addr: SocketAddr, token: &str) -> bool {
    let answer = with_token(addr, token).await;
    answer.status == StatusCode::OK
        && answer.message().await["result"]["tools"]
            .as_array()
            .is_some_and(|t| t.len() == 3)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_a_real_provider_are_checked_in_full() {
    let (oidc, server, audience) = setup(&[("LOG_LEVEL", "debug")]);
    let addr = server.addr;
    let metadata_url = format!(
        "http://{}/.well-known/oauth-protected-resource/mcp",
        server.addr
    );

    // No token: the challenge points at the metadata and names the scope.
    let none = modern_list(addr, &[]).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.header("www-authenticate"),
        Some(format!(r#"Bearer resource_metadata="{metadata_url}", scope="docs:read""#).as_str())
    );
    // The metadata, at both paths, readable from any page.
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let answer = request(addr, Method::GET, path, &[], None).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
        let document = answer.json().await;
        assert_eq!(document["resource"], audience.as_str(), "{document}");
        assert_eq!(document["authorization_servers"], json!([oidc.issuer()]));
        assert_eq!(document["scopes_supported"], json!(["docs:read"]));
        assert_eq!(document["bearer_methods_supported"], json!(["header"]));
    }
    let elsewhere = request(
        addr,
        Method::GET,
        "/.well-known/oauth-protected-resource/other",
        &[],
        None,
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);

    // Real tokens of the client credentials grant.
    let reader = oidc
        .token("reader", "reader-secret", None, Some(&audience))
        .await
        .unwrap();
    assert!(listed(addr, &reader).await, "reader is let in");
    let writer = oidc
        .token(
            "writer",
            "writer-secret",
            Some("docs:read docs:write"),
            None,
        )
        .await
        .unwrap();
    assert!(listed(addr, &writer).await, "the default resource is ours");
    // A real token without the required scope: 403 insufficient_scope.
    let guest = oidc
        .token("guest", "guest-secret", None, Some(&audience))
        .await
        .unwrap();
    let (status, challenge) = refused(addr, &guest).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        challenge.starts_with(r#"Bearer error="insufficient_scope", scope="docs:read""#)
            && challenge.contains(&format!(r#"resource_metadata="{metadata_url}""#)),
        "{challenge}"
    );
    // A real token for another resource: not for us.
    let other = oidc
        .token(
            "reader",
            "reader-secret",
            None,
            Some("http://127.0.0.1:1/other"),
        )
        .await
        .unwrap();
    let (status, challenge) = refused(addr, &other).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        challenge.contains(r#"error="invalid_token""#) && challenge.contains("not for this server"),
        "{challenge}"
    );

    // Tokens the provider's own keys sign, with one thing wrong each.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let es256 = oidc.sign(json!({ "alg": "ES256" })).await;
    assert!(listed(addr, &es256).await, "ES256 is accepted");
    let cases: [(Value, &str); 7] = [
        (
            json!({ "claims": { "exp": now - 600, "iat": now - 900 } }),
            "expired",
        ),
        (
            json!({ "claims": { "iss": "http://127.0.0.1:1" } }),
            "another issuer",
        ),
        (
            json!({ "claims": { "aud": "https://elsewhere.example/mcp" } }),
            "not for this server",
        ),
        (json!({ "alg": "none" }), "not a signed JWT"),
        (json!({ "alg": "HS256" }), "algorithm"),
        (
            json!({ "key": "stranger" }),
            "a key the issuer does not publish",
        ),
        (json!({ "claims": { "nbf": now + 600 } }), "not valid yet"),
    ];
    for (request, why) in cases {
        let token = oidc.sign(request.clone()).await;
        let (status, challenge) = refused(addr, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{request}");
        assert!(
            challenge.contains(r#"error="invalid_token""#) && challenge.contains(why),
            "{request}: {challenge}"
        );
    }
    let no_scope = oidc.sign(json!({ "claims": { "scope": null } })).await;
    assert_eq!(refused(addr, &no_scope).await.0, StatusCode::FORBIDDEN);
    // A real token with its payload swapped: the signature no longer verifies.
    let parts: Vec<&str> = reader.split('.').collect();
    let forged_payload = oidc
        .sign(json!({ "claims": { "sub": "admin", "scope": "docs:read docs:write" } }))
        .await;
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        forged_payload.split('.').nth(1).unwrap(),
        parts[2]
    );
    let (status, challenge) = refused(addr, &tampered).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("signature"), "{challenge}");
    for junk in ["", "not.a.jwt", "a.b", &"x".repeat(17_000)] {
        assert_eq!(
            refused(addr, junk).await.0,
            StatusCode::UNAUTHORIZED,
            "{:.20}",
            junk
        );
    }

    // Open: the health check (which shows the issuer's keys) and a browser's preflight.
    let health = request(addr, Method::GET, "/health", &[], None).await;
    assert_eq!(health.status, StatusCode::OK);
    let health = health.json().await;
    assert_eq!(health["auth"]["mode"], "oauth", "{health}");
    assert_eq!(health["auth"]["issuer"], oidc.issuer().as_str());
    assert!(health["auth"]["keys"].as_u64() >= Some(2), "{health}");
    assert!(health["auth"]["lastError"].is_null(), "{health}");
    let preflight = request(
        addr,
        Method::OPTIONS,
        "/mcp",
        &[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type",
            ),
        ],
        None,
    )
    .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    let from_page = modern_list(addr, &[("origin", "https://app.example")]).await;
    assert_eq!(from_page.status, StatusCode::UNAUTHORIZED);
    assert!(
        from_page
            .header("access-control-expose-headers")
            .is_some_and(|h| h.contains("WWW-Authenticate")),
        "a page can read the challenge"
    );

    // Real clients: the Python SDK discovers the issuer from the 401 and gets its own token;
    // MCP Inspector is given one as a header, in both eras.
    let url = server.mcp_url();
    let sdk = python_report(
        "sdk_oauth.py",
        &[&url, "writer", "writer-secret", "docs:read"],
    );
    assert_eq!(
        sdk["tools"],
        json!(["list_docs", "read_doc", "search_docs"]),
        "{sdk}"
    );
    assert_eq!(sdk["isError"], false, "{sdk}");
    assert_eq!(sdk["gotToken"], true, "{sdk}");
    let header = format!("Authorization: Bearer {reader}");
    for era in ["modern", "legacy"] {
        let listed = inspector(&url, era, &["--method", "tools/list", "--header", &header]);
        assert!(
            listed["tools"].as_array().is_some_and(|t| t.len() == 3),
            "{era}: {listed}"
        );
        let search = inspector(
            &url,
            era,
            &[
                "--method",
                "tools/call",
                "--tool-name",
                "search_docs",
                "--tool-arg",
                "query=\"idle timeout\"",
                "--header",
                &header,
            ],
        );
        assert!(
            search["structuredContent"]["hits"]
                .as_array()
                .is_some_and(|hits| !hits.is_empty()),
            "{era}: {search}"
        );
    }

    // Tokens never reach the logs, even at debug; the subject does, as a field.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let logs = server.logs().join("\n");
    for token in [&reader, &writer, &guest, &other, &es256, &tampered] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature), "a token was logged");
    }
    assert!(
        logs.contains(r#""subject":"reader""#),
        "the subject is logged at debug"
    );
    assert!(logs.contains("access token refused"), "refusals are logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_keys_are_fetched_once_and_made_up_kids_are_not() {
    let (oidc, server, _) = setup(&[]);
    let addr = server.addr;
    let before = oidc.sign(json!({})).await;
    assert!(listed(addr, &before).await);
    let (jwks_at_start, _) = oidc.stats().await;
    assert_eq!(jwks_at_start, 1, "one fetch at start-up");

    // The issuer rotates: the first token of the new key makes one fetch, and is let in.
    let rotated = oidc.rotate().await;
    assert_ne!(rotated["kids"]["RS256"], rotated["previous"]["RS256"]);
    let after = oidc.sign(json!({})).await;
    assert!(listed(addr, &after).await, "the new key is fetched");
    assert!(
        listed(addr, &before).await,
        "the old key is still published"
    );
    assert_eq!(oidc.stats().await.0, 2);

    // Tokens with made-up key ids, right after that fetch: not let in, and no fetch for 30 s;
    // they cannot be checked till then (503), so no one can spend the window to make fresh
    // tokens of a rotated key look invalid (401, which makes clients authorize again).
    for _ in 0..20 {
        let stranger = oidc.sign(json!({ "key": "stranger" })).await;
        let answer = with_token(addr, &stranger).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.header("retry-after"), Some("30"));
    }
    assert_eq!(oidc.stats().await.0, 2, "no fetch per made-up kid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_outage_keeps_known_keys_and_answers_503_for_new_ones() {
    let (oidc, server, _) = setup(&[]);
    let addr = server.addr;
    let known = oidc.sign(json!({})).await;
    assert!(listed(addr, &known).await);

    oidc.jwks_down(true).await;
    oidc.rotate().await;
    let unknown = oidc.sign(json!({})).await;
    let answer = with_token(addr, &unknown).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the token cannot be checked now"
    );
    assert_eq!(answer.header("retry-after"), Some("30"));
    assert!(
        answer.header("www-authenticate").is_none(),
        "not a reason to re-authorize"
    );
    assert!(listed(addr, &known).await, "keys held keep verifying");
    for _ in 0..10 {
        assert_eq!(
            with_token(addr, &unknown).await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(
        oidc.stats().await.0,
        2,
        "one failed fetch, not one per request"
    );
    let health = request(addr, Method::GET, "/health", &[], None)
        .await
        .json()
        .await;
    assert!(
        health["auth"]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{health}"
    );
    assert!(
        server
            .logs()
            .iter()
            .any(|l| l.contains(r#""level":"ERROR""#)
                && l.contains("Error fetching the issuer's keys")),
        "the failure is logged at error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_waits_for_the_issuer_and_gives_up_with_its_name() {
    // Discovery down for the first tries: the server starts once the issuer answers.
    let port = free_port();
    let audience = format!("http://127.0.0.1:{port}/mcp");
    let oidc = Oidc::start(&[&audience]);
    oidc.discovery_down(true).await;
    let issuer = oidc.issuer();
    let env: Vec<(String, String)> = [
        ("PORT", port.to_string()),
        ("AUTH", "oauth".to_string()),
        ("AUTH_ISSUER", issuer.clone()),
        ("AUTH_AUDIENCE", audience.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let starting = std::thread::spawn(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Server::start(&env)
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    oidc.discovery_down(false).await;
    let server = tokio::task::spawn_blocking(move || starting.join().unwrap())
        .await
        .unwrap();
    let token = oidc.sign(json!({ "claims": { "aud": audience } })).await;
    assert!(listed(server.addr, &token).await);
    assert!(
        server
            .logs()
            .iter()
            .any(|l| l.contains("cannot fetch the issuer's keys yet; retrying")),
        "the retries are logged"
    );

    // An issuer that never answers: the server exits, naming it.
    let output = std::process::Command::new(tests::process::binary("mcp-server"))
        .env_clear()
        .env("PORT", "0")
        .env("AUTH", "oauth")
        .env("AUTH_ISSUER", "http://127.0.0.1:1")
        .env("AUTH_AUDIENCE", "https://docs.example.com/mcp")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("http://127.0.0.1:1 (AUTH_ISSUER)") && stderr.contains("5 tries"),
        "{stderr}"
    );
}

#[test]
fn incomplete_or_unsafe_oauth_settings_stop_start_up() {
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("AUTH", "oauth")], "set AUTH_ISSUER"),
        (
            &[
                ("AUTH", "oauth"),
                ("AUTH_ISSUER", "https://idp.example.com"),
            ],
            "set AUTH_AUDIENCE",
        ),
        (
            &[
                ("AUTH", "oauth"),
                ("AUTH_ISSUER", "http://idp.example.com"),
                ("AUTH_AUDIENCE", "https://docs.example.com/mcp"),
            ],
            "only https is accepted",
        ),
        (
            &[
                ("AUTH", "oauth"),
                ("AUTH_ISSUER", "https://idp.example.com"),
                ("AUTH_AUDIENCE", "docs"),
            ],
            "absolute http(s) URL",
        ),
        (
            &[
                ("AUTH", "oauth"),
                ("AUTH_ISSUER", "https://idp.example.com"),
                ("AUTH_AUDIENCE", "https://docs.example.com/mcp"),
                ("AUTH_SCOPES", "docs:read \"x\""),
            ],
            "is not a scope",
        ),
        (
            &[("AUTH", "oauth"), ("AUTH_AUDIENCE_IN_SCOPE", "maybe")],
            "--auth-audience-in-scope",
        ),
    ];
    for (env, expected) in cases {
        let output = std::process::Command::new(tests::process::binary("mcp-server"))
            .env_clear()
            .envs(env.iter().copied())
            .env("PORT", "0")
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{env:?} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listen_stream_ends_when_its_token_expires() {
    let (oidc, server, _) = setup(&[]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let open = |token: String| async move {
        let mut params = json!({ "notifications": { "resourcesListChanged": true } });
        params["_meta"] = modern_meta();
        let message = json!({ "jsonrpc": "2.0", "id": 7, "method": "subscriptions/listen", "params": params });
        let bearer = format!("Bearer {token}");
        let headers = [
            ("content-type", "application/json"),
            ("accept", ACCEPT_BOTH),
            ("mcp-protocol-version", MODERN_VERSION),
            ("mcp-method", "subscriptions/listen"),
            ("authorization", bearer.as_str()),
        ];
        request(
            server.addr,
            Method::POST,
            "/mcp",
            &headers,
            Some(&message.to_string()),
        )
        .await
    };
    // A token that expires in 3 s: its stream ends then, with a retry field, so the client
    // reconnects with a fresh token; a token good for 5 minutes keeps its stream.
    let short = oidc.sign(json!({ "claims": { "exp": now + 3 } })).await;
    let long = oidc.sign(json!({})).await;
    let (short, long) = (open(short).await, open(long).await);
    assert_eq!(short.status, StatusCode::OK);
    assert_eq!(long.status, StatusCode::OK);
    let started = std::time::Instant::now();
    let mut short = short.sse();
    let events = short.until_end(Duration::from_secs(15)).await;
    let lasted = started.elapsed();
    assert!(
        lasted >= Duration::from_secs(1) && lasted < Duration::from_secs(10),
        "ended after {lasted:?}"
    );
    assert!(
        events.last().and_then(|e| e.retry()).is_some(),
        "the last event tells the client to come back: {:?}",
        events.iter().map(|e| e.data()).collect::<Vec<_>>()
    );
    let _long = long.sse();
    let health = request(server.addr, Method::GET, "/health", &[], None)
        .await
        .json()
        .await;
    assert_eq!(health["longLivedStreams"], 1, "{health}");
}
