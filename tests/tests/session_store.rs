//! Legacy sessions in a shared store (`SESSION_STORE`) on a real `redis-server` on loopback:
//! a session started on one server carries on on another after the first is gone, `DELETE`
//! ends it everywhere, idle sessions leave memory and come back, the store's faults (down,
//! frozen, garbage under our keys, killed and restarted under load) give clear answers and never
//! stop modern clients or `/health`, and the server recovers by itself when the store returns.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::Server;
use tests::http::{
    LEGACY_VERSION, health, initialize_message, legacy_session, modern_request, post, request,
};
use tests::tools::Redis;

/// Logs at debug: the session ids must stay out of every line, not only those at info.
const DEBUG: (&str, &str) = ("LOG_LEVEL", "debug");

/// A server on `redis` with these extra settings.
fn server(redis: &Redis, extra: &[(&str, &str)]) -> Server {
    let url = redis.url();
    let mut env = vec![("SESSION_STORE", url.as_str())];
    env.extend_from_slice(extra);
    Server::start(&env)
}

/// A legacy `tools/call` of `search_docs` in `session`.
async fn legacy_search(addr: SocketAddr, session: &str, id: i64) -> tests::http::Response {
    let message = json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": { "name": "search_docs", "arguments": { "query": "health check" } }
    });
    post(
        addr,
        &[
            ("mcp-session-id", session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        &message,
    )
    .await
}

/// An answer's media type.
fn media(response: &tests::http::Response) -> String {
    response
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Asserts a legacy search answered with results.
async fn assert_served(response: tests::http::Response, id: i64) {
    assert_eq!(response.status, StatusCode::OK);
    let answer = response.message().await;
    assert_eq!(answer["id"], id, "{answer}");
    assert!(
        answer["result"]["content"][0]["text"].is_string(),
        "a search result: {answer}"
    );
}

/// Polls (bounded) until `check` holds of `/health`.
async fn wait_health(addr: SocketAddr, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let now = health(addr).await;
        if check(&now) {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what}; /health says {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_session_started_on_one_server_carries_on_on_another_after_the_first_stops() {
    let redis = Redis::start();
    let mut first = server(&redis, &[]);
    let second = server(&redis, &[]);
    let session = legacy_session(first.addr).await;
    // Held here: answered in place (JSON), not by rmcp's session worker (an SSE stream).
    let answer = legacy_search(first.addr, &session, 2).await;
    assert_eq!(media(&answer), "application/json");
    assert_served(answer, 2).await;

    let keys = redis.keys("docs-mcp:session:*");
    assert_eq!(keys.len(), 1, "one key per session: {keys:?}");
    assert!(!keys[0].contains(&session), "the key hides the id");
    let stored = redis.cli(&["GET", &keys[0]]);
    assert!(!stored.contains(&session), "so does the value: {stored}");
    let stored: Value = serde_json::from_str(stored.trim()).expect("JSON value");
    assert_eq!(stored["docs-mcp-session"], 1);
    assert_eq!(stored["initialize"]["clientInfo"]["name"], "e2e-tests");
    let ttl: i64 = redis.cli(&["TTL", &keys[0]]).trim().parse().unwrap();
    // LEGACY_SESSION_IDLE_TIMEOUT and one renewal interval (an eighth of it): the key never
    // expires sooner than the timeout after the session's last use.
    assert!(
        (1900..=2025).contains(&ttl),
        "expires after LEGACY_SESSION_IDLE_TIMEOUT plus a renewal interval: {ttl}"
    );

    first.signal(libc::SIGKILL);
    first.wait_exit(Duration::from_secs(10));
    // No new initialize: the same id goes on on the other server, restored by rmcp on its first
    // request there, and held (so answered in place) from then on.
    let restored = legacy_search(second.addr, &session, 3).await;
    assert_eq!(media(&restored), "text/event-stream");
    assert_served(restored, 3).await;
    let held = legacy_search(second.addr, &session, 4).await;
    assert_eq!(media(&held), "application/json");
    assert_served(held, 4).await;
    let now = health(second.addr).await;
    assert_eq!(now["legacySessions"], 1, "{now}");
    assert_eq!(now["sessionStore"]["kind"], "redis");
    assert_eq!(now["sessionStore"]["reachable"], true);
    // The session's GET stream opens there too.
    let stream = tests::http::get_stream(second.addr, &session).await;
    assert_eq!(stream.status, StatusCode::OK);
    let logs = second.logs().join("\n");
    assert!(!logs.contains(&session), "the id stays out of the logs");
    assert!(
        !logs.contains("\"level\":\"WARN\"") && !logs.contains("\"level\":\"ERROR\""),
        "a healthy store gives no warnings: {logs}"
    );
}

#[tokio::test]
async fn delete_on_any_server_ends_the_session_in_the_store() {
    let redis = Redis::start();
    let first = server(&redis, &[]);
    let second = server(&redis, &[]);
    let session = legacy_session(first.addr).await;
    let headers = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", LEGACY_VERSION),
    ];
    let deleted = request(second.addr, Method::DELETE, "/mcp", &headers, None).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "the store had it");
    assert!(redis.keys("docs-mcp:session:*").is_empty());
    let again = request(second.addr, Method::DELETE, "/mcp", &headers, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "gone everywhere");
    // The server that held it in memory heard of the end and let it go.
    let started = Instant::now();
    loop {
        let status = legacy_search(first.addr, &session, 9).await.status;
        if status == StatusCode::NOT_FOUND {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the first server still serves a deleted session"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(health(first.addr).await["legacySessions"], 0);
    let third = server(&redis, &[]);
    assert_eq!(
        legacy_search(third.addr, &session, 2).await.status,
        StatusCode::NOT_FOUND,
        "no server can restore it"
    );
}

#[tokio::test]
async fn an_idle_session_leaves_memory_and_comes_back_on_its_next_request() {
    let redis = Redis::start();
    let server = server(&redis, &[("LEGACY_SESSION_MEMORY_IDLE_TIMEOUT", "500")]);
    let session = legacy_session(server.addr).await;
    let idle = legacy_session(server.addr).await;
    let held = tests::http::get_stream(server.addr, &session).await;
    assert_eq!(held.status, StatusCode::OK);
    // The sweep runs every 5 s: the idle session goes, the one with an open stream stays.
    wait_health(server.addr, "the idle session left memory", |h| {
        h["legacySessions"] == 1
    })
    .await;
    assert_eq!(
        redis.keys("docs-mcp:session:*").len(),
        2,
        "both stay in the store"
    );
    assert_served(legacy_search(server.addr, &idle, 2).await, 2).await;
    let now = health(server.addr).await;
    assert_eq!(now["legacySessions"], 2, "restored: {now}");
    drop(held);
}

#[tokio::test]
async fn the_store_down_gives_503_to_what_needs_it_and_nothing_else_then_recovers() {
    let mut redis = Redis::start();
    let first = server(&redis, &[DEBUG]);
    let second = server(&redis, &[DEBUG]);
    let held = legacy_session(first.addr).await;
    let elsewhere = legacy_session(first.addr).await;
    redis.stop();

    // A session held here needs no store.
    assert_served(legacy_search(first.addr, &held, 2).await, 2).await;
    // One held elsewhere does: a clear 503 with Retry-After, not a hang.
    let started = Instant::now();
    let refused = legacy_search(second.addr, &elsewhere, 3).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.header("retry-after").is_some());
    let body = refused.json().await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SESSION_STORE"),
        "{body}"
    );
    // So does a new session.
    let refused = post(second.addr, &[], &initialize_message(1)).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.header("mcp-session-id").is_none());
    // Modern clients and /health go on.
    let modern = modern_request(second.addr, 4, "tools/list", json!({}), None).await;
    assert_eq!(modern.status, StatusCode::OK);
    let now = health(second.addr).await;
    assert_eq!(now["sessionStore"]["reachable"], false, "{now}");
    assert!(now["sessionStore"]["lastError"].is_string(), "{now}");
    let logs = second.logs().join("\n");
    assert!(
        logs.contains("\"level\":\"ERROR\"") && logs.contains("Error: session store unreachable"),
        "logged at error: {logs}"
    );

    // The store comes back (empty: it kept nothing); the servers notice by themselves.
    redis.start_again();
    wait_health(second.addr, "the store is seen back", |h| {
        h["sessionStore"]["reachable"] == true
    })
    .await;
    let fresh = legacy_session(second.addr).await;
    assert_served(legacy_search(second.addr, &fresh, 5).await, 5).await;
    // The lost session is unknown now: its client starts again.
    assert_eq!(
        legacy_search(second.addr, &elsewhere, 6).await.status,
        StatusCode::NOT_FOUND
    );
    assert_ids_not_logged(&[&first, &second], &[held, elsewhere, fresh]);
}

#[tokio::test]
async fn a_frozen_store_is_timed_out_not_waited_for() {
    let redis = Redis::start();
    let first = server(&redis, &[DEBUG]);
    let second = server(&redis, &[("SESSION_STORE_TIMEOUT", "300"), DEBUG]);
    let session = legacy_session(first.addr).await;
    let ending = legacy_session(first.addr).await;
    redis.pause(true);
    let started = Instant::now();
    let refused = legacy_search(second.addr, &session, 2).await;
    let took = started.elapsed();
    // While it stays frozen: modern clients and /health never wait on it, a new session is
    // refused at once.
    let modern = modern_request(second.addr, 4, "tools/list", json!({}), None).await;
    let modern_status = modern.status;
    let modern = modern.message().await;
    let now = health(second.addr).await;
    let initialize = post(second.addr, &[], &initialize_message(5)).await;
    // A DELETE whose removal from the store is not confirmed is refused (the client sends it
    // again), not answered as done.
    let headers = [
        ("mcp-session-id", ending.as_str()),
        ("mcp-protocol-version", LEGACY_VERSION),
    ];
    let deleted = request(first.addr, Method::DELETE, "/mcp", &headers, None).await;
    redis.pause(false);
    assert_eq!(deleted.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(deleted.header("retry-after").is_some());
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.header("retry-after").is_some());
    assert!(
        took < Duration::from_secs(3),
        "bounded by the timeout: {took:?}"
    );
    assert_eq!(modern_status, StatusCode::OK, "{modern}");
    assert!(modern["result"]["tools"].is_array(), "{modern}");
    assert_eq!(now["sessionStore"]["reachable"], false, "{now}");
    assert_eq!(initialize.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(initialize.header("retry-after").is_some());
    wait_health(second.addr, "the store is seen back", |h| {
        h["sessionStore"]["reachable"] == true
    })
    .await;
    assert_served(legacy_search(second.addr, &session, 3).await, 3).await;
    // Sent again, the DELETE ends the session (or finds it ended: the frozen store may have
    // run the first removal once it woke up).
    let deleted = request(second.addr, Method::DELETE, "/mcp", &headers, None).await;
    assert!(
        [StatusCode::ACCEPTED, StatusCode::NOT_FOUND].contains(&deleted.status),
        "{}",
        deleted.status
    );
    assert_eq!(
        redis.keys("docs-mcp:session:*").len(),
        1,
        "only the other one"
    );
    assert_ids_not_logged(&[&first, &second], &[session, ending]);
}

#[tokio::test]
async fn garbage_under_our_keys_is_ignored_with_a_warning() {
    let redis = Redis::start();
    let first = server(&redis, &[DEBUG]);
    let second = server(&redis, &[DEBUG]);
    let session = legacy_session(first.addr).await;
    let other = legacy_session(first.addr).await;
    let keys = redis.keys("docs-mcp:session:*");
    assert_eq!(keys.len(), 2);
    redis.cli(&["SET", &keys[0], "{not json"]);
    redis.cli(&[
        "SET",
        &keys[1],
        r#"{"docs-mcp-session": 99, "initialize": {}}"#,
    ]);
    for (id, session) in [(2, &session), (3, &other)] {
        let answer = legacy_search(second.addr, session, id).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "unknown, not a crash");
    }
    let logs = second.logs().join("\n");
    assert!(logs.contains("ignored"), "warned: {logs}");
    // The server is fine.
    let fresh = legacy_session(second.addr).await;
    assert_served(legacy_search(second.addr, &fresh, 4).await, 4).await;
    // Foreign keys outside the prefix are left alone.
    redis.cli(&["SET", "someone-else:key", "x"]);
    assert_eq!(redis.cli(&["GET", "someone-else:key"]).trim(), "x");
    assert_ids_not_logged(&[&first, &second], &[session, other, fresh]);
}

#[tokio::test]
async fn keys_of_another_type_are_not_ours_and_the_store_stays_up() {
    let folder = std::env::temp_dir().join(format!("docs-store-types-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("index.md"), "# Home\n\nWelcome.\n").unwrap();
    let redis = Redis::start();
    let docs = folder.to_str().unwrap();
    let settings = [("DOCS_DIR", docs), ("DOCS_RELOAD_INTERVAL", "100")];
    let first = server(&redis, &settings);
    let second = server(&redis, &settings);
    let listed = legacy_session(first.addr).await;
    let streamed = legacy_session(first.addr).await;
    let keys = redis.keys("docs-mcp:session:*");
    assert_eq!(keys.len(), 2);
    // Whichever key is which, one session's value becomes a list, the other's events a string.
    let listed_key = keys[0].clone();
    redis.cli(&["DEL", &listed_key]);
    redis.cli(&["RPUSH", &listed_key, "x"]);
    let events_key = keys[1].replace(":session:", ":events:");
    redis.cli(&["SET", &events_key, "not a stream"]);

    // A session whose value is a list is unknown (404), not a store failure (503).
    let mut answers = Vec::new();
    for session in [&listed, &streamed] {
        answers.push(legacy_search(second.addr, session, 2).await.status);
    }
    assert!(answers.contains(&StatusCode::NOT_FOUND), "{answers:?}");
    assert!(
        !answers.contains(&StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    // Resuming, and sending, with a string where the events go: the stream works all the same.
    let session = if answers[0] == StatusCode::OK {
        &listed
    } else {
        &streamed
    };
    let resumed = session_stream(second.addr, session, Some("1-0")).await;
    assert_eq!(resumed.status, StatusCode::OK);
    let mut events = resumed.sse();
    std::fs::write(folder.join("new.md"), "# New\n\nFresh.\n").unwrap();
    let (id, message) = next_message(&mut events, "a change with nowhere to store it").await;
    assert_eq!(message["method"], "notifications/resources/list_changed");
    assert!(id.is_some_and(|id| id.starts_with('l')), "a local id");
    let now = health(second.addr).await;
    assert_eq!(now["sessionStore"]["reachable"], true, "{now}");
    assert_served(legacy_search(second.addr, session, 3).await, 3).await;
    assert!(second.logs().join("\n").contains("of another type ignored"));
    assert_eq!(
        redis.cli(&["GET", &events_key]).trim(),
        "not a stream",
        "left alone"
    );
    std::fs::remove_dir_all(&folder).unwrap();
}

/// A loopback TCP proxy whose target can be switched: the one address a client knows, as a load
/// balancer's is. Connections made after a switch go to the new target.
struct Switch {
    addr: SocketAddr,
    target: std::sync::Arc<std::sync::atomic::AtomicU16>,
}

impl Switch {
    async fn start(target: SocketAddr) -> Switch {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let port = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(target.port()));
        let current = port.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let to = current.load(SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Switch { addr, target: port }
    }

    fn point_at(&self, target: SocketAddr) {
        self.target.store(target.port(), SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_keeps_its_session_when_its_server_is_replaced() {
    use std::io::BufRead;
    let redis = Redis::start();
    let mut first = server(&redis, &[]);
    let second = server(&redis, &[]);
    let switch = Switch::start(first.addr).await;
    let flag = std::env::temp_dir().join(format!("sdk-failover-{}", std::process::id()));
    let _ = std::fs::remove_file(&flag);
    let mut child = std::process::Command::new(tests::tools::python())
        .arg(tests::process::workspace_root().join("tests/python/sdk_failover.py"))
        .arg(format!("http://{}/mcp", switch.addr))
        .arg(&flag)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python starts");
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let ready = lines_rx.recv_timeout(Duration::from_secs(60));
    assert_eq!(ready.as_deref(), Ok("READY"), "the client's first call");
    let held = health(first.addr).await;
    assert_eq!(held["legacySessions"], 1, "{held}");
    assert_eq!(redis.keys("docs-mcp:session:*").len(), 1);

    // The session's server goes away; the address now leads to the other one.
    first.signal(libc::SIGKILL);
    first.wait_exit(Duration::from_secs(10));
    switch.point_at(second.addr);
    std::fs::write(&flag, b"go").unwrap();

    let report = tokio::task::spawn_blocking(move || {
        let mut last = None;
        while let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(60)) {
            last = Some(line);
        }
        let status = child.wait().expect("python exits");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(status.success(), "sdk_failover.py failed:\n{stderr}");
        serde_json::from_str::<Value>(&last.expect("a report")).expect("JSON report")
    })
    .await
    .unwrap();
    let _ = std::fs::remove_file(&flag);
    assert_eq!(report["initializations"], 1, "{report}");
    assert_eq!(report["firstIsError"], false, "{report}");
    assert_eq!(report["secondIsError"], false, "{report}");
    assert!(
        report["secondText"].as_str().is_some_and(|t| !t.is_empty()),
        "{report}"
    );
    assert!(report["tools"].as_array().is_some_and(|t| !t.is_empty()));
    // The session went on on the second server: restored there, never started there.
    let logs = second.logs().join("\n");
    assert!(
        !logs.contains("legacy session started"),
        "no new session on the second server: {logs}"
    );
    // The SDK sends DELETE on close: the second server ended it in the store too.
    assert!(redis.keys("docs-mcp:session:*").is_empty());
}

/// A legacy GET stream of `session`, resumed with `last` when given.
async fn session_stream(
    addr: SocketAddr,
    session: &str,
    last: Option<&str>,
) -> tests::http::Response {
    let mut headers = vec![
        ("accept", "text/event-stream"),
        ("mcp-session-id", session),
        ("mcp-protocol-version", LEGACY_VERSION),
    ];
    if let Some(last) = last {
        headers.push(("last-event-id", last));
    }
    request(addr, Method::GET, "/mcp", &headers, None).await
}

/// The next JSON-RPC message on `events` (keep-alives and priming skipped), with its event id.
async fn next_message(events: &mut tests::http::SseStream, what: &str) -> (Option<String>, Value) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events
            .next_event(left)
            .await
            .unwrap_or_else(|| panic!("{what}: the stream ended or stayed quiet"));
        if let Some(data) = event.data().filter(|d| !d.is_empty()) {
            return (event.id(), serde_json::from_str(&data).unwrap());
        }
    }
}

/// Entries in a session's event stream in the store (`XLEN` of its one `events:` key).
fn stored_events(redis: &Redis) -> usize {
    let keys = redis.keys("docs-mcp:events:*");
    keys.iter()
        .map(|key| redis.cli(&["XLEN", key]).trim().parse::<usize>().unwrap())
        .sum()
}

#[tokio::test]
async fn a_stream_resumed_on_another_server_replays_what_its_client_missed_then_goes_on() {
    let folder = std::env::temp_dir().join(format!("docs-store-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("index.md"), "# Home\n\nWelcome.\n").unwrap();
    let redis = Redis::start();
    let docs = folder.to_str().unwrap();
    let settings = [
        ("DOCS_DIR", docs),
        ("DOCS_RELOAD_INTERVAL", "100"),
        ("SSE_KEEPALIVE_INTERVAL", "1000"),
    ];
    let mut first = server(&redis, &settings);
    let second = server(&redis, &settings);
    let session = legacy_session(first.addr).await;

    // A notification the client gets: its id names an entry of the session's stream in the store.
    let stream = session_stream(first.addr, &session, None).await;
    assert_eq!(stream.status, StatusCode::OK);
    let mut events = stream.sse();
    std::fs::write(folder.join("one.md"), "# One\n\nFirst.\n").unwrap();
    let (seen, message) = next_message(&mut events, "the first change").await;
    assert_eq!(message["method"], "notifications/resources/list_changed");
    let seen = seen.expect("an event id");
    assert!(
        seen.split_once('-')
            .is_some_and(|(a, b)| a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok()),
        "a store entry id: {seen}"
    );
    assert!(
        !seen.contains(&session),
        "the id does not carry the session id"
    );
    let before = stored_events(&redis);

    // The client's stream goes (a drain, a network blip); the docs change meanwhile.
    drop(events);
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(folder.join("two.md"), "# Two\n\nSecond.\n").unwrap();
    let started = Instant::now();
    while stored_events(&redis) <= before {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the missed change was never stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.signal(libc::SIGKILL);
    first.wait_exit(Duration::from_secs(10));

    // The client reconnects through the load balancer, to the other server, with its last id:
    // it gets the change it missed first, exactly once, then what happens from now on.
    let resumed = session_stream(second.addr, &session, Some(&seen)).await;
    assert_eq!(resumed.status, StatusCode::OK);
    let mut events = resumed.sse();
    let (missed, message) = next_message(&mut events, "the missed change").await;
    assert_eq!(message["method"], "notifications/resources/list_changed");
    let missed = missed.expect("its id");
    assert_ne!(missed, seen, "not the change the client already had");
    std::fs::write(folder.join("three.md"), "# Three\n\nThird.\n").unwrap();
    let (live, message) = next_message(&mut events, "a change after the resume").await;
    assert_eq!(message["method"], "notifications/resources/list_changed");
    let live = live.expect("its id");
    assert!(
        live != missed && live != seen,
        "a new event: {seen} {missed} {live}"
    );

    // Another session resuming from this session's id gets nothing of it: only its own events
    // (it has none yet, so the first it gets is the next change).
    let other = legacy_session(second.addr).await;
    let intruder = session_stream(second.addr, &other, Some(&seen)).await;
    assert_eq!(intruder.status, StatusCode::OK);
    let mut foreign = intruder.sse();
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(folder.join("four.md"), "# Four\n\nFourth.\n").unwrap();
    let (id, message) = next_message(&mut foreign, "the other session's own change").await;
    assert_eq!(message["method"], "notifications/resources/list_changed");
    let id = id.expect("its id");
    assert!(
        ![&seen, &missed, &live].contains(&&id),
        "the other session's own event, not a replay of this one's: {id}"
    );

    let (_, message) = next_message(&mut events, "the same change for this session").await;
    assert_eq!(message["method"], "notifications/resources/list_changed");

    // DELETE ends the session's resumed stream and removes its events from the store.
    let deleted = request(
        second.addr,
        Method::DELETE,
        "/mcp",
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        None,
    )
    .await;
    assert!(deleted.status.is_success(), "{}", deleted.status);
    let started = Instant::now();
    let rest = events.until_end(Duration::from_secs(10)).await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the resumed stream ends with its session"
    );
    assert!(
        rest.iter().all(|e| e.data().is_none_or(|d| d.is_empty())),
        "nothing more for an ended session"
    );
    let left = redis.keys("docs-mcp:events:*");
    assert_eq!(
        left.len(),
        1,
        "only the other session's events stay: {left:?}"
    );
    std::fs::remove_dir_all(&folder).unwrap();
}

#[tokio::test]
async fn a_modern_get_stays_refused_with_a_store_whatever_last_event_id_it_sends() {
    let redis = Redis::start();
    let server = server(&redis, &[]);
    let refused = request(
        server.addr,
        Method::GET,
        "/mcp",
        &[
            ("accept", "text/event-stream"),
            ("mcp-protocol-version", tests::http::MODERN_VERSION),
            ("last-event-id", "1-0"),
        ],
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_session_is_not_released_while_a_request_of_it_runs() {
    let redis = Redis::start();
    let url = redis.url();
    let server = Server::start_fixtures(&[
        ("SESSION_STORE", url.as_str()),
        ("LEGACY_SESSION_MEMORY_IDLE_TIMEOUT", "500"),
    ]);
    let session = legacy_session(server.addr).await;
    // Longer than the idle timeout and than one sweep (5 s): the session must stay for it.
    let call = json!({
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": { "name": "fixture_sleep", "arguments": { "ms": 7000 } }
    });
    let answer = post(
        server.addr,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        &call,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let message = answer.message().await;
    assert_eq!(
        message["result"]["content"][0]["text"], "slept 7000 ms",
        "{message}"
    );
    // Idle afterwards, it does leave memory.
    wait_health(server.addr, "the idle session left memory", |h| {
        h["legacySessions"] == 0
    })
    .await;
}

#[tokio::test]
async fn initialize_params_too_large_to_keep_are_refused_and_take_no_room() {
    let redis = Redis::start();
    let server = server(&redis, &[]);
    let mut message = initialize_message(1);
    message["params"]["capabilities"]["experimental"] =
        json!({ "padding": { "data": "x".repeat(20_000) } });
    let refused = post(server.addr, &[], &message).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.header("mcp-session-id").is_none());
    let body = refused.json().await;
    assert_eq!(body["error"]["code"], -32602, "{body}");
    assert!(redis.keys("docs-mcp:session:*").is_empty());
    assert_eq!(health(server.addr).await["legacySessions"], 0);
    // An ordinary one is kept.
    legacy_session(server.addr).await;
    assert_eq!(redis.keys("docs-mcp:session:*").len(), 1);
}

#[tokio::test]
async fn an_initialize_naming_a_stored_session_counts_like_a_restore_and_leaves_memory() {
    let redis = Redis::start();
    let first = server(&redis, &[]);
    let second = server(&redis, &[("LEGACY_SESSION_MEMORY_IDLE_TIMEOUT", "500")]);
    let session = legacy_session(first.addr).await;
    // rmcp looks the named session up (and so restores it) before it reads the message.
    let answer = post(
        second.addr,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", LEGACY_VERSION),
        ],
        &initialize_message(2),
    )
    .await;
    assert!(answer.status.is_client_error() || answer.status.is_success());
    // Whatever rmcp answered, the session it restored is idle here and leaves memory.
    wait_health(second.addr, "the restored session left memory", |h| {
        h["legacySessions"] == 0
    })
    .await;
}

/// The store's state during a run under load: up; being killed; dead (the process reaped);
/// started again. An answer is counted under the state it came in.
const UP: usize = 0;
const KILLING: usize = 1;
const DOWN: usize = 2;
const BACK: usize = 3;
const STATES: [&str; 4] = ["up", "killing", "down", "back"];

/// What the clients of a run under load saw.
struct Tally {
    state: AtomicUsize,
    stop: AtomicBool,
    /// Legacy answers served (200, 202), by store state.
    served: [AtomicU64; 4],
    /// Legacy 503s with Retry-After naming SESSION_STORE, by store state.
    refused: [AtomicU64; 4],
    /// Legacy 404s (sessions the restarted store lost), by store state.
    lost: [AtomicU64; 4],
    /// Modern tool calls and /health answers (200), by store state.
    modern: [AtomicU64; 4],
    health: [AtomicU64; 4],
    /// Whether /health of each server said the store was unreachable while it was down.
    seen_down: [AtomicBool; 2],
    /// Tool calls served, per legacy client, in sessions started after the restart.
    recovered: Vec<AtomicU64>,
    /// Every session id a client got.
    sessions: std::sync::Mutex<Vec<String>>,
    /// Anything a client should never see.
    problems: std::sync::Mutex<Vec<String>>,
}

impl Tally {
    fn new(legacy_clients: usize) -> Tally {
        Tally {
            state: Default::default(),
            stop: Default::default(),
            served: Default::default(),
            refused: Default::default(),
            lost: Default::default(),
            modern: Default::default(),
            health: Default::default(),
            seen_down: Default::default(),
            recovered: (0..legacy_clients).map(|_| Default::default()).collect(),
            sessions: Default::default(),
            problems: Default::default(),
        }
    }

    fn state(&self) -> usize {
        self.state.load(SeqCst)
    }

    fn stopped(&self) -> bool {
        self.stop.load(SeqCst)
    }

    fn count(counter: &[AtomicU64; 4], state: usize) {
        counter[state].fetch_add(1, SeqCst);
    }

    fn get(counter: &[AtomicU64; 4], state: usize) -> u64 {
        counter[state].load(SeqCst)
    }

    fn problem(&self, what: String) {
        self.problems.lock().unwrap().push(what);
    }

    /// Sends a request; an answer that does not come is a problem (a hang), not a wait.
    async fn send(
        &self,
        what: &str,
        request: impl std::future::Future<Output = tests::http::Response>,
    ) -> Option<(tests::http::Response, usize, usize)> {
        let sent = self.state();
        match tokio::time::timeout(Duration::from_secs(15), request).await {
            Ok(response) => Some((response, sent, self.state())),
            Err(_) => {
                self.problem(format!(
                    "{what} sent with the store {}: no answer (a hang)",
                    STATES[sent]
                ));
                None
            }
        }
    }

    /// Sorts a legacy answer: `Some` for one served (200 or 202), `None` for a refusal or a
    /// lost session (the caller looks at the status), a problem for anything else.
    async fn legacy(
        &self,
        what: &str,
        (response, sent, answered): (tests::http::Response, usize, usize),
    ) -> Option<tests::http::Response> {
        let status = response.status;
        if status == StatusCode::OK || status == StatusCode::ACCEPTED {
            if what == "DELETE" && sent == DOWN && answered == DOWN {
                // The removal cannot have happened: the client must send it again.
                self.problem(format!("DELETE answered {status} while the store was down"));
            }
            Tally::count(&self.served, answered);
            return Some(response);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            let retry = response.header("retry-after").map(str::to_string);
            let body = response.text().await;
            if retry.is_none() || !body.contains("SESSION_STORE") {
                self.problem(format!(
                    "{what}: 503 without Retry-After or not the store's: {body}"
                ));
            } else if sent == UP && answered == UP {
                self.problem(format!("{what}: 503 while the store was up: {body}"));
            } else {
                Tally::count(&self.refused, answered);
            }
            return None;
        }
        if status == StatusCode::NOT_FOUND {
            // Only a store that restarted empty can have lost a session.
            if answered == BACK {
                Tally::count(&self.lost, answered);
            } else {
                self.problem(format!("{what}: 404 with the store {}", STATES[answered]));
            }
            return None;
        }
        let body = response.text().await;
        self.problem(format!(
            "{what} (store {} to {}): {status} {body}",
            STATES[sent], STATES[answered]
        ));
        None
    }
}

/// A legacy client behind a balancer without stickiness: each request goes to the next server
/// (a session's first request on the other server restores it from the store). After three
/// calls it ends its session with DELETE and starts another, so it keeps needing the store.
async fn legacy_client_under_outage(index: usize, servers: [SocketAddr; 2], tally: Arc<Tally>) {
    let mut session: Option<String> = None;
    let mut started_after_restart = false;
    let mut calls = 0;
    let mut id = 0;
    while !tally.stopped() {
        id += 1;
        let addr = servers[(index + id as usize) % 2];
        tokio::time::sleep(Duration::from_millis(20)).await;
        let Some(current) = session.clone() else {
            let Some(answer) = tally
                .send("initialize", post(addr, &[], &initialize_message(id)))
                .await
            else {
                continue;
            };
            let answered = answer.2;
            let Some(response) = tally.legacy("initialize", answer).await else {
                continue;
            };
            let Some(fresh) = response.header("mcp-session-id").map(str::to_string) else {
                tally.problem("initialize answered without a session".into());
                continue;
            };
            tally.sessions.lock().unwrap().push(fresh.clone());
            response.message().await;
            // Its notification goes where the session is held.
            let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
            let headers = [
                ("mcp-session-id", fresh.as_str()),
                ("mcp-protocol-version", LEGACY_VERSION),
            ];
            if let Some(answer) = tally
                .send("initialized", post(addr, &headers, &initialized))
                .await
            {
                tally.legacy("initialized", answer).await;
            }
            session = Some(fresh);
            started_after_restart = answered == BACK;
            calls = 0;
            continue;
        };
        if calls >= 3 {
            let headers = [
                ("mcp-session-id", current.as_str()),
                ("mcp-protocol-version", LEGACY_VERSION),
            ];
            let delete = request(addr, Method::DELETE, "/mcp", &headers, None);
            let Some(answer) = tally.send("DELETE", delete).await else {
                continue;
            };
            let status = answer.0.status;
            // Ended (or lost with the store): a new session next. Refused: sent again.
            if tally.legacy("DELETE", answer).await.is_some() || status == StatusCode::NOT_FOUND {
                session = None;
            }
            continue;
        }
        let Some(answer) = tally
            .send("tools/call", legacy_search(addr, &current, id))
            .await
        else {
            continue;
        };
        let status = answer.0.status;
        match tally.legacy("tools/call", answer).await {
            Some(response) => {
                let message = response.message().await;
                if !message["result"]["content"][0]["text"].is_string() {
                    tally.problem(format!("tools/call served without a result: {message}"));
                }
                calls += 1;
                if started_after_restart {
                    tally.recovered[index].fetch_add(1, SeqCst);
                }
            }
            None if status == StatusCode::NOT_FOUND => session = None,
            None => {}
        }
    }
}

/// A modern client calling a tool on both servers in turn: it never needs the store.
async fn modern_client_under_outage(servers: [SocketAddr; 2], tally: Arc<Tally>) {
    let mut id = 0;
    while !tally.stopped() {
        id += 1;
        let addr = servers[id as usize % 2];
        let call = modern_request(
            addr,
            id,
            "tools/call",
            json!({ "name": "search_docs", "arguments": { "query": "health check" } }),
            Some("search_docs"),
        );
        if let Some((response, sent, answered)) = tally.send("modern tools/call", call).await {
            let status = response.status;
            let message = response.message().await;
            if status == StatusCode::OK && message["result"]["content"][0]["text"].is_string() {
                Tally::count(&tally.modern, answered);
            } else {
                tally.problem(format!(
                    "modern tools/call (store {} to {}): {status} {message}",
                    STATES[sent], STATES[answered]
                ));
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls /health of both servers in turn, as a load balancer's health checks do.
async fn health_checks_under_outage(servers: [SocketAddr; 2], tally: Arc<Tally>) {
    let mut turn = 0;
    while !tally.stopped() {
        turn += 1;
        let which = turn % 2;
        let check = request(servers[which], Method::GET, "/health", &[], None);
        if let Some((response, _, answered)) = tally.send("GET /health", check).await {
            let status = response.status;
            let text = response.text().await;
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if status != StatusCode::OK || !body["sessionStore"].is_object() {
                tally.problem(format!("GET /health: {status} {text}"));
            } else {
                Tally::count(&tally.health, answered);
                if answered == DOWN && body["sessionStore"]["reachable"] == false {
                    tally.seen_down[which].store(true, SeqCst);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (bounded) until `done` holds, saying what did not happen and what the clients saw.
async fn wait_for(what: &str, tally: &Tally, done: impl Fn(&Tally) -> bool) {
    let started = Instant::now();
    while !done(tally) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} did not happen; problems so far: {:?}",
            tally.problems.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Subscribers of the ended-session channel, as the store counts them.
fn ended_subscribers(redis: &Redis) -> u64 {
    redis
        .cli(&["PUBSUB", "NUMSUB", "docs-mcp:ended"])
        .lines()
        .nth(1)
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_killed_and_restarted_under_load_refuses_cleanly_and_recovers_by_itself() {
    const LEGACY_CLIENTS: usize = 4;
    let mut redis = Redis::start();
    // The store's deadline is generous: before the kill, every store call must succeed.
    let mut settings = vec![("SESSION_STORE_TIMEOUT", "5000"), DEBUG];
    settings.extend_from_slice(tests::load::ONE_ADDRESS_LOAD);
    let first = server(&redis, &settings);
    let second = server(&redis, &settings);
    let servers = [first.addr, second.addr];
    let tally = Arc::new(Tally::new(LEGACY_CLIENTS));
    let mut clients = Vec::new();
    for index in 0..LEGACY_CLIENTS {
        clients.push(tokio::spawn(legacy_client_under_outage(
            index,
            servers,
            tally.clone(),
        )));
    }
    clients.push(tokio::spawn(modern_client_under_outage(
        servers,
        tally.clone(),
    )));
    clients.push(tokio::spawn(health_checks_under_outage(
        servers,
        tally.clone(),
    )));

    // Up: everyone is served.
    wait_for("calls with the store up", &tally, |t| {
        Tally::get(&t.served, UP) >= 8 * LEGACY_CLIENTS as u64 && Tally::get(&t.modern, UP) >= 5
    })
    .await;

    // Killed: legacy requests that need the store are refused with 503 (until it is back),
    // the others, modern calls and /health go on.
    tally.state.store(KILLING, SeqCst);
    redis.stop();
    tally.state.store(DOWN, SeqCst);
    wait_for(
        "refusals, modern calls and health checks while the store is down",
        &tally,
        |t| {
            Tally::get(&t.refused, DOWN) >= 2 * LEGACY_CLIENTS as u64
                && Tally::get(&t.modern, DOWN) >= 10
                && Tally::get(&t.health, DOWN) >= 10
                && t.seen_down.iter().all(|s| s.load(SeqCst))
        },
    )
    .await;

    // Started again (empty): the servers notice by themselves, every client carries on.
    tally.state.store(BACK, SeqCst);
    redis.start_again();
    wait_for("every legacy client served in a new session", &tally, |t| {
        t.recovered.iter().all(|n| n.load(SeqCst) >= 2)
    })
    .await;
    tally.stop.store(true, SeqCst);
    for client in clients {
        client.await.expect("a client panicked");
    }
    let counts = |name: &str, counter: &[AtomicU64; 4]| {
        let [up, killing, down, back] = [UP, KILLING, DOWN, BACK].map(|s| Tally::get(counter, s));
        format!("{name} {up}/{killing}/{down}/{back}")
    };
    println!(
        "store up/killing/down/back: {}, {}, {}, {}, {}",
        counts("legacy served", &tally.served),
        counts("legacy 503", &tally.refused),
        counts("legacy 404", &tally.lost),
        counts("modern served", &tally.modern),
        counts("health 200", &tally.health),
    );
    let problems = tally.problems.lock().unwrap().clone();
    assert!(
        problems.is_empty(),
        "{} problems: {problems:#?}",
        problems.len()
    );
    for server in [&first, &second] {
        wait_health(server.addr, "the store is seen back", |h| {
            h["sessionStore"]["reachable"] == true
        })
        .await;
    }

    // The ended-session notices come again: both servers subscribed again by themselves
    // (a dropped connection is noticed at once, a silent one at the next ping, 30 s).
    let started = Instant::now();
    while ended_subscribers(&redis) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(45),
            "the servers did not subscribe again to the ended channel"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A session held in memory on both servers, DELETEd on one, is gone from the other too.
    let session = legacy_session(first.addr).await;
    assert_served(legacy_search(second.addr, &session, 2).await, 2).await;
    let headers = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", LEGACY_VERSION),
    ];
    let deleted = request(first.addr, Method::DELETE, "/mcp", &headers, None).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    let started = Instant::now();
    loop {
        let status = legacy_search(second.addr, &session, 3).await.status;
        if status == StatusCode::NOT_FOUND {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the other server still serves a session DELETEd after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut sessions = tally.sessions.lock().unwrap().clone();
    sessions.push(session);
    assert_ids_not_logged(&[&first, &second], &sessions);
}

/// Asserts that no log line of `servers` names one of `sessions` (ids are credentials), and
/// that they did log at debug (so every line they can write was looked at).
fn assert_ids_not_logged(servers: &[&Server], sessions: &[String]) {
    assert!(
        servers
            .iter()
            .any(|s| s.logs().iter().any(|l| l.contains("\"level\":\"DEBUG\""))),
        "the servers log at debug"
    );
    for server in servers {
        let logs = server.logs();
        for session in sessions {
            let leaks: Vec<&String> = logs.iter().filter(|l| l.contains(session)).collect();
            assert!(leaks.is_empty(), "a session id in the log: {leaks:#?}");
        }
    }
}

#[tokio::test]
async fn over_tls_with_a_password_a_session_carries_on_and_a_wrong_password_is_a_store_down() {
    let password = "tls-test-password-7f3a";
    let redis = Redis::start_tls(password);
    let tls = redis.tls().expect("TLS settings");
    let url = redis.url();
    assert!(url.starts_with("rediss://127.0.0.1:"), "{url}");
    let ca = tls.ca.display().to_string();
    // The store's CA is trusted through SSL_CERT_FILE (read by rustls-native-certs, which the
    // redis client loads its roots with): a PEM bundle that replaces the system's roots.
    let settings = [
        ("SESSION_STORE", url.as_str()),
        ("SESSION_STORE_PASSWORD", password),
        ("SSL_CERT_FILE", ca.as_str()),
        DEBUG,
    ];
    let mut first = Server::start(&settings);
    let second = Server::start(&settings);
    let session = legacy_session(first.addr).await;
    assert_served(legacy_search(first.addr, &session, 2).await, 2).await;
    assert_eq!(
        redis.keys("docs-mcp:session:*").len(),
        1,
        "written over TLS"
    );
    first.signal(libc::SIGKILL);
    first.wait_exit(Duration::from_secs(10));
    assert_served(legacy_search(second.addr, &session, 3).await, 3).await;
    let now = health(second.addr).await;
    assert_eq!(now["sessionStore"]["reachable"], true, "{now}");
    assert_eq!(now["legacySessions"], 1, "restored over TLS: {now}");

    // A wrong password: the store is unreachable for this server (not a crash, not a hang).
    let wrong = Server::start(&[
        ("SESSION_STORE", url.as_str()),
        ("SESSION_STORE_PASSWORD", "not-the-password"),
        ("SSL_CERT_FILE", ca.as_str()),
        DEBUG,
    ]);
    let refused = post(wrong.addr, &[], &initialize_message(1)).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.header("retry-after").is_some());
    assert!(refused.header("mcp-session-id").is_none());
    let now = wait_health(wrong.addr, "the store is reported unreachable", |h| {
        h["sessionStore"]["reachable"] == false
    })
    .await;
    assert!(
        now["sessionStore"]["lastError"]
            .as_str()
            .is_some_and(|e| e.to_lowercase().contains("authentication")),
        "{now}"
    );
    let refused = legacy_search(wrong.addr, &session, 4).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    let modern = modern_request(wrong.addr, 5, "tools/list", json!({}), None).await;
    assert_eq!(modern.status, StatusCode::OK);

    // A server that does not trust the store's CA refuses its certificate: TLS is verified.
    let untrusting = Server::start(&[
        ("SESSION_STORE", url.as_str()),
        ("SESSION_STORE_PASSWORD", password),
        DEBUG,
    ]);
    let refused = post(untrusting.addr, &[], &initialize_message(1)).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    let now = wait_health(untrusting.addr, "the store is reported unreachable", |h| {
        h["sessionStore"]["reachable"] == false
    })
    .await;
    assert!(
        now["sessionStore"]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("certificate")),
        "{now}"
    );

    for server in [&first, &second, &wrong, &untrusting] {
        let logs = server.logs().join("\n");
        assert!(
            !logs.contains(password),
            "the password stays out of the logs"
        );
        assert!(!logs.contains("not-the-password"));
    }
    assert_ids_not_logged(&[&first, &second, &wrong, &untrusting], &[session]);
}
