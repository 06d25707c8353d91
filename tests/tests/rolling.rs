//! A rolling replace through a real load balancer, as ECS does it behind an ALB.
//!
//! Two servers run behind HAProxy on loopback (health checks on `/health` with the ALB's
//! User-Agent, round robin). Modern clients hold a `subscriptions/listen` stream and call a tool
//! in a loop; legacy clients hold a session, its GET stream, and call a tool in a loop. Then a
//! third server starts and joins, the first leaves rotation and gets SIGTERM. Asserted: no modern
//! tool call fails, every legacy client re-initializes or resumes and carries on, every stream
//! reconnects, and the old process exits within its deadline. Prints reconnect times and lost
//! requests.
//!
//! It runs twice. With sessions in memory the balancer is sticky (a cookie, redispatch when the
//! sticky server is gone), as such sessions need. With a shared session store it is not: every
//! request goes to the next server, so the test also shows that legacy clients need no
//! stickiness with a store (0 re-initializations, 0 404s, 0 lost calls).
//!
//! `ROLLING_CLIENTS` (default 100, half of each era) sets the load; the figures in the README
//! come from `ROLLING_CLIENTS=1000 cargo test --release -p tests --test rolling -- --nocapture`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use serde_json::{Value, json};
use tests::Server;
use tests::http::{LEGACY_VERSION, MODERN_VERSION, modern_meta};
use tests::load::{connect, percentile, raise_fd_limit};
use tokio::sync::Mutex;

const SHUTDOWN_TIMEOUT_MS: u64 = 5000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// HAProxy on loopback, configured like the ALB in front of our service.
struct Balancer {
    child: Child,
    socket: PathBuf,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Balancer {
    /// HAProxy in front of `servers` (name, port, in rotation), sticky by a cookie or not.
    fn start(servers: &[(&str, u16, bool)], sticky: bool) -> Balancer {
        let haproxy = which("haproxy").unwrap_or_else(|| {
            panic!(
                "haproxy is missing: run scripts/install-test-tools.sh (apt-get install haproxy)"
            )
        });
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("rolling-haproxy-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("admin.sock");
        // Without the cookie, every request (keep-alive or not: HAProxy balances each one, as
        // `option prefer-last-server` is off) goes to the next server in rotation.
        let cookie = if sticky {
            "  cookie MCPSRV insert indirect nocache\n"
        } else {
            ""
        };
        let mut config = format!(
            "global\n  maxconn 8000\n  stats socket {} mode 600 level admin\n\n\
             defaults\n  mode http\n  option redispatch\n  retries 3\n  timeout connect 2s\n  \
             timeout client 600s\n  timeout server 600s\n  timeout http-request 10s\n\n\
             frontend fe\n  bind 127.0.0.1:{port}\n  default_backend services\n\n\
             backend services\n  balance roundrobin\n{cookie}  \
             option httpchk\n  http-check send meth GET uri /health hdr User-Agent ELB-HealthChecker/2.0\n  \
             timeout check 3s\n  default-server inter 1s fall 3 rise 1\n",
            socket.display()
        );
        for (name, port, enabled) in servers {
            config.push_str(&format!(
                "  server {name} 127.0.0.1:{port} check{}{}\n",
                if sticky {
                    format!(" cookie {name}")
                } else {
                    String::new()
                },
                if *enabled { "" } else { " disabled" }
            ));
        }
        let file = dir.join("haproxy.cfg");
        std::fs::write(&file, config).unwrap();
        let child = Command::new(haproxy)
            .args(["-db", "-f"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "haproxy did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Balancer {
            child,
            socket,
            addr,
            dir,
        }
    }

    /// A runtime API command (`set server services/s1 state maint`).
    fn admin(&self, command: &str) -> String {
        use std::io::{Read, Write};
        let mut stream =
            std::os::unix::net::UnixStream::connect(&self.socket).expect("admin socket");
        stream.write_all(format!("{command}\n").as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    /// Waits (bounded) until `server` is UP in HAProxy's view.
    fn wait_up(&self, server: &str) {
        let started = Instant::now();
        loop {
            let state = self.admin("show servers state services");
            let up = state.lines().any(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                fields.get(3) == Some(&server) && fields.get(5) == Some(&"2")
            });
            if up {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{server} never came up:\n{state}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| PathBuf::from(dir).join(name))
        .chain(
            ["/usr/sbin", "/sbin"]
                .iter()
                .map(|d| PathBuf::from(d).join(name)),
        )
        .find(|p| p.exists())
}

/// What every client reports.
#[derive(Default)]
struct Stats {
    calls_ok: AtomicU64,
    modern_failures: AtomicU64,
    legacy_failures: AtomicU64,
    reinitialized: AtomicU64,
    /// 404s to legacy requests (calls and GET streams): sessions the servers did not know.
    not_found: AtomicU64,
    /// Legacy sessions whose `initialize` answer set the balancer's stickiness cookie.
    cookies: AtomicU64,
    reconnects: AtomicU64,
    reconnect_us: Mutex<Vec<u32>>,
    /// Clients whose stream is open now.
    streams_open: AtomicUsize,
    /// Successful calls per client after the replace began, by client index.
    after_replace: Vec<AtomicU64>,
    replacing: AtomicBool,
    stop: AtomicBool,
    first_error: Mutex<Option<String>>,
}

fn request(
    addr: SocketAddr,
    method: http::Method,
    headers: &[(&str, String)],
    body: Option<&Value>,
) -> http::Request<Full<Bytes>> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri("/mcp")
        .header("host", addr.to_string());
    for (k, v) in headers {
        builder = builder.header(*k, v);
    }
    let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    builder.body(Full::new(body)).unwrap()
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    request: http::Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, String> {
    if sender.ready().await.is_err() {
        *sender = connect(addr).await;
    }
    match sender.send_request(request).await {
        Ok(response) => Ok(response),
        Err(error) => {
            *sender = connect(addr).await;
            Err(error.to_string())
        }
    }
}

/// The JSON-RPC message of a JSON or SSE answer.
async fn message(response: hyper::Response<hyper::body::Incoming>) -> Result<Value, String> {
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let data = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .find(|d| d.starts_with('{'))
        .map(str::to_string)
        .unwrap_or_else(|| text.to_string());
    serde_json::from_str(&data).map_err(|e| format!("{e}: {text}"))
}

fn json_headers() -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("accept", "application/json, text/event-stream".into()),
    ]
}

async fn note_error(stats: &Stats, error: String) {
    let mut first = stats.first_error.lock().await;
    if first.is_none() {
        *first = Some(error);
    }
}

/// Holds a stream open, reconnecting whenever it ends; `open` opens one (None: try later).
async fn hold_stream<F, Fut>(stats: Arc<Stats>, open: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<hyper::Response<hyper::body::Incoming>>>,
{
    let mut ended_at: Option<Instant> = None;
    while !stats.stop.load(Ordering::Relaxed) {
        let Some(response) = open().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        if let Some(ended) = ended_at.take() {
            stats.reconnects.fetch_add(1, Ordering::Relaxed);
            stats
                .reconnect_us
                .lock()
                .await
                .push(ended.elapsed().as_micros() as u32);
        }
        stats.streams_open.fetch_add(1, Ordering::Relaxed);
        let mut body = response.into_body();
        let mut retry = Duration::ZERO;
        loop {
            tokio::select! {
                frame = body.frame() => match frame {
                    Some(Ok(frame)) => {
                        // Honour the server's reconnect hint, as EventSource clients do.
                        if let Some(ms) = frame.data_ref().and_then(retry_hint) {
                            retry = Duration::from_millis(ms);
                        }
                    }
                    _ => break,
                },
                () = tokio::time::sleep(Duration::from_millis(200)) => {
                    if stats.stop.load(Ordering::Relaxed) { break; }
                }
            }
        }
        stats.streams_open.fetch_sub(1, Ordering::Relaxed);
        ended_at = Some(Instant::now());
        tokio::time::sleep(retry).await;
    }
}

/// The `retry:` value in a chunk of SSE text.
fn retry_hint(chunk: &Bytes) -> Option<u64> {
    std::str::from_utf8(chunk)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("retry:"))
        .and_then(|v| v.trim().parse().ok())
}

async fn modern_client(index: usize, addr: SocketAddr, stats: Arc<Stats>) {
    let listen_stats = stats.clone();
    let listener = tokio::spawn(async move {
        let sender = Mutex::new(connect(addr).await);
        hold_stream(listen_stats, || async {
            let mut params = json!({ "notifications": { "resourcesListChanged": true } });
            params["_meta"] = modern_meta();
            let mut headers = json_headers();
            headers.push(("mcp-protocol-version", MODERN_VERSION.into()));
            headers.push(("mcp-method", "subscriptions/listen".into()));
            let body = json!({ "jsonrpc": "2.0", "id": 0, "method": "subscriptions/listen", "params": params });
            let mut sender = sender.lock().await;
            let response = send(&mut sender, addr, request(addr, http::Method::POST, &headers, Some(&body))).await.ok()?;
            (response.status() == 200).then_some(response)
        })
        .await;
    });
    let mut sender = connect(addr).await;
    let mut id = 0u64;
    while !stats.stop.load(Ordering::Relaxed) {
        id += 1;
        let mut params = json!({ "name": "search_docs", "arguments": { "query": "draining" } });
        params["_meta"] = modern_meta();
        let mut headers = json_headers();
        headers.push(("mcp-protocol-version", MODERN_VERSION.into()));
        headers.push(("mcp-method", "tools/call".into()));
        headers.push(("mcp-name", "search_docs".into()));
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params });
        let outcome = match send(
            &mut sender,
            addr,
            request(addr, http::Method::POST, &headers, Some(&body)),
        )
        .await
        {
            Ok(response) if response.status() == 200 => message(response).await,
            Ok(response) => Err(format!("status {}", response.status())),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(answer) if answer["result"]["structuredContent"]["hits"].is_array() => {
                stats.calls_ok.fetch_add(1, Ordering::Relaxed);
                if stats.replacing.load(Ordering::Relaxed) {
                    stats.after_replace[index].fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(answer) => {
                stats.modern_failures.fetch_add(1, Ordering::Relaxed);
                note_error(&stats, format!("modern: {answer}")).await;
            }
            Err(error) => {
                stats.modern_failures.fetch_add(1, Ordering::Relaxed);
                note_error(&stats, format!("modern: {error}")).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = listener.await;
}

/// A legacy session: its id and the stickiness cookie (empty without stickiness).
#[derive(Clone, Default)]
struct Session {
    id: String,
    cookie: String,
}

async fn initialize(
    sender: &mut SendRequest<Full<Bytes>>,
    addr: SocketAddr,
) -> Result<Session, String> {
    let body = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": { "name": "rolling", "version": "1" } } });
    let response = send(
        sender,
        addr,
        request(addr, http::Method::POST, &json_headers(), Some(&body)),
    )
    .await?;
    let id = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .ok_or("no session id")?
        .to_string();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next().filter(|c| c.starts_with("MCPSRV=")))
        .unwrap_or_default()
        .to_string();
    message(response).await?;
    let session = Session { id, cookie };
    let mut headers = session_headers(&session);
    headers.extend(json_headers());
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let response = send(
        sender,
        addr,
        request(addr, http::Method::POST, &headers, Some(&initialized)),
    )
    .await?;
    let _ = response.into_body().collect().await;
    Ok(session)
}

fn session_headers(session: &Session) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("mcp-session-id", session.id.clone()),
        ("mcp-protocol-version", LEGACY_VERSION.into()),
    ];
    if !session.cookie.is_empty() {
        headers.push(("cookie", session.cookie.clone()));
    }
    headers
}

async fn legacy_client(index: usize, addr: SocketAddr, stats: Arc<Stats>) {
    let session: Arc<Mutex<Option<Session>>> = Arc::new(Mutex::new(None));
    let stream_session = session.clone();
    let stream_stats = stats.clone();
    let stream = tokio::spawn(async move {
        let sender = Mutex::new(connect(addr).await);
        let counts = stream_stats.clone();
        hold_stream(stream_stats, || async {
            let current = stream_session.lock().await.clone()?;
            let mut headers = session_headers(&current);
            headers.push(("accept", "text/event-stream".into()));
            let mut sender = sender.lock().await;
            let response = send(
                &mut sender,
                addr,
                request(addr, http::Method::GET, &headers, None),
            )
            .await
            .ok()?;
            if response.status() == 404 {
                counts.not_found.fetch_add(1, Ordering::Relaxed);
                // The session's task is gone: the caller re-initializes.
                let mut slot = stream_session.lock().await;
                if slot.as_ref().is_some_and(|s| s.id == current.id) {
                    *slot = None;
                }
                return None;
            }
            (response.status() == 200).then_some(response)
        })
        .await;
    });
    let mut sender = connect(addr).await;
    let mut id = 0u64;
    while !stats.stop.load(Ordering::Relaxed) {
        let current = session.lock().await.clone();
        let current = match current {
            Some(current) => current,
            None => match initialize(&mut sender, addr).await {
                Ok(fresh) => {
                    if id > 0 {
                        stats.reinitialized.fetch_add(1, Ordering::Relaxed);
                    }
                    if !fresh.cookie.is_empty() {
                        stats.cookies.fetch_add(1, Ordering::Relaxed);
                    }
                    *session.lock().await = Some(fresh.clone());
                    fresh
                }
                Err(error) => {
                    stats.legacy_failures.fetch_add(1, Ordering::Relaxed);
                    note_error(&stats, format!("legacy initialize: {error}")).await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        id += 1;
        let mut headers = session_headers(&current);
        headers.extend(json_headers());
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "search_docs", "arguments": { "query": "draining" } } });
        match send(
            &mut sender,
            addr,
            request(addr, http::Method::POST, &headers, Some(&body)),
        )
        .await
        {
            Ok(response) if response.status() == 404 => {
                stats.not_found.fetch_add(1, Ordering::Relaxed);
                let mut slot = session.lock().await;
                if slot.as_ref().is_some_and(|s| s.id == current.id) {
                    *slot = None;
                }
            }
            Ok(response) if response.status() == 200 => match message(response).await {
                Ok(answer) if answer["result"]["structuredContent"]["hits"].is_array() => {
                    stats.calls_ok.fetch_add(1, Ordering::Relaxed);
                    if stats.replacing.load(Ordering::Relaxed) {
                        stats.after_replace[index].fetch_add(1, Ordering::Relaxed);
                    }
                }
                other => {
                    stats.legacy_failures.fetch_add(1, Ordering::Relaxed);
                    note_error(&stats, format!("legacy call: {other:?}")).await;
                }
            },
            other => {
                stats.legacy_failures.fetch_add(1, Ordering::Relaxed);
                note_error(
                    &stats,
                    format!("legacy call: {:?}", other.map(|r| r.status())),
                )
                .await;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stream.await;
}

async fn wait_until(what: &str, timeout: Duration, condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < timeout,
            "{what} did not happen within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_replace_moves_every_client_without_losing_a_request() {
    let (stats, _) = rolling_replace(None).await;
    assert!(
        stats.reinitialized.load(Ordering::Relaxed) > 0,
        "legacy clients of the old task re-initialized"
    );
    assert!(
        stats.cookies.load(Ordering::Relaxed) > 0,
        "sessions in memory ride a sticky balancer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_session_store_legacy_clients_move_without_stickiness_or_initializing_again() {
    let redis = tests::tools::Redis::start();
    let (stats, held) = rolling_replace(Some(redis.url())).await;
    assert_eq!(
        stats.reinitialized.load(Ordering::Relaxed),
        0,
        "their sessions carried on on the other tasks"
    );
    assert_eq!(stats.not_found.load(Ordering::Relaxed), 0, "no 404");
    assert_eq!(
        stats.cookies.load(Ordering::Relaxed),
        0,
        "no stickiness cookie"
    );
    // Without stickiness a session's requests reach both tasks, and each holds a copy: more
    // sessions held than there are legacy clients (with a cookie, as many).
    let legacy = rolling_clients() / 2;
    assert!(
        held > legacy as u64,
        "{held} sessions held by the two tasks for {legacy} legacy clients: requests stuck to one task"
    );
}

/// `ROLLING_CLIENTS`, or 100.
fn rolling_clients() -> usize {
    std::env::var("ROLLING_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

/// Runs the replace with `ROLLING_CLIENTS` clients (legacy sessions in `store`, if given, and
/// then no stickiness), prints the figures, asserts what holds either way, and gives the counts
/// back, with the legacy sessions the first two tasks held together before the replace.
async fn rolling_replace(store: Option<String>) -> (Arc<Stats>, u64) {
    // One replace at a time: two would share two cores and each other's timing.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    raise_fd_limit();
    let clients = rolling_clients();
    // Every client reaches the servers through HAProxy from loopback: one address for all.
    let mut env: Vec<(&str, &str)> = vec![
        ("LOG_LEVEL", "warn,mcp_server=info"),
        ("SHUTDOWN_TIMEOUT", "5000"),
        ("SSE_RETRY_INTERVAL", "500"),
        ("SSE_KEEPALIVE_INTERVAL", "1000"),
        ("ALLOWED_HOSTS", "*"),
        ("MAX_LEGACY_SESSIONS", "100000"),
    ];
    if let Some(url) = &store {
        env.push(("SESSION_STORE", url));
    }
    env.extend_from_slice(tests::load::ONE_ADDRESS_LOAD);
    let env = env.as_slice();
    let mut old = Server::start(env);
    let stay = Server::start(env);
    let new_port = free_port();
    // Sessions in memory need stickiness; with a store it is left off.
    let sticky = store.is_none();
    let balancer = Balancer::start(
        &[
            ("s1", old.addr.port(), true),
            ("s2", stay.addr.port(), true),
            ("s3", new_port, false),
        ],
        sticky,
    );
    balancer.wait_up("s1");
    balancer.wait_up("s2");
    let addr = balancer.addr;

    let stats = Arc::new(Stats {
        after_replace: (0..clients).map(|_| AtomicU64::new(0)).collect(),
        ..Stats::default()
    });
    let mut tasks = Vec::new();
    for index in 0..clients {
        let stats = stats.clone();
        tasks.push(if index % 2 == 0 {
            tokio::spawn(modern_client(index, addr, stats))
        } else {
            tokio::spawn(legacy_client(index, addr, stats))
        });
    }
    wait_until(
        "every client holding a stream",
        Duration::from_secs(60),
        || stats.streams_open.load(Ordering::Relaxed) == clients,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_old = tests::http::health(old.addr).await;
    let streams_on_old = before_old["longLivedStreams"].as_u64().unwrap();
    let held = before_old["legacySessions"].as_u64().unwrap()
        + tests::http::health(stay.addr).await["legacySessions"]
            .as_u64()
            .unwrap();
    assert!(
        streams_on_old > 0,
        "round robin put streams on the old task"
    );

    // The new task starts and joins; the old one leaves rotation, then gets SIGTERM.
    let mut new_env = env.to_vec();
    let port = new_port.to_string();
    new_env.push(("PORT", &port));
    let new = Server::start(&new_env);
    balancer.admin("set server services/s3 state ready");
    balancer.wait_up("s3");
    let calls_before = stats.calls_ok.load(Ordering::Relaxed);
    stats.replacing.store(true, Ordering::Relaxed);
    let replace_began = Instant::now();
    // As ECS does: the target leaves the load balancer first, the signal comes after (ECS waits
    // for the deregistration delay; a second is enough for HAProxy to stop using the task).
    balancer.admin("set server services/s1 state maint");
    tokio::time::sleep(Duration::from_secs(1)).await;
    old.signal(libc::SIGTERM);
    let (code, took, old_logs) = tokio::task::spawn_blocking(move || {
        let (code, took) = old.wait_exit(Duration::from_secs(15));
        let logs = old.logs();
        drop(old);
        (code, took, logs)
    })
    .await
    .unwrap();

    // Let everyone settle on the remaining tasks, then stop.
    wait_until("every stream reconnected", Duration::from_secs(30), || {
        stats.streams_open.load(Ordering::Relaxed) == clients
    })
    .await;
    let everyone_moved = replace_began.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stats.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }

    let mut reconnect = stats.reconnect_us.lock().await.clone();
    reconnect.sort_unstable();
    let first_error = stats.first_error.lock().await.clone();
    if first_error.is_some() {
        // What the tasks said, so a failure names its cause.
        let mut said = old_logs.clone();
        said.extend(stay.logs());
        said.extend(new.logs());
        for line in said
            .iter()
            .filter(|l| l.contains("\"WARN\"") || l.contains("\"ERROR\""))
        {
            println!("  task log: {line}");
        }
    }
    let silent: Vec<usize> = (0..clients)
        .filter(|&i| stats.after_replace[i].load(Ordering::Relaxed) == 0)
        .collect();
    println!(
        "rolling replace, {clients} clients ({} modern, {} legacy), {streams_on_old} streams on the old task:\n  \
         old task exit {:?} after {:.2} s (deadline {} ms)\n  \
         reconnects {}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; every stream back after {:.2} s\n  \
         tool calls ok {} ({} during/after the replace); lost: modern {}, legacy {}; legacy re-initialized {} (404s {})\n  \
         first error: {:?}",
        clients.div_ceil(2),
        clients / 2,
        code,
        took.as_secs_f64(),
        SHUTDOWN_TIMEOUT_MS,
        reconnect.len(),
        percentile(&reconnect, 0.5),
        percentile(&reconnect, 0.99),
        reconnect.last().copied().unwrap_or(0) as f64 / 1000.0,
        everyone_moved.as_secs_f64(),
        stats.calls_ok.load(Ordering::Relaxed),
        stats.calls_ok.load(Ordering::Relaxed) - calls_before,
        stats.modern_failures.load(Ordering::Relaxed),
        stats.legacy_failures.load(Ordering::Relaxed),
        stats.reinitialized.load(Ordering::Relaxed),
        stats.not_found.load(Ordering::Relaxed),
        first_error,
    );
    if store.is_some() {
        println!(
            "  (legacy sessions in a shared store, no stickiness: {held} sessions held by the first two tasks)"
        );
    }
    assert_eq!(code, Some(0), "the old task exits cleanly");
    assert!(
        took < Duration::from_millis(SHUTDOWN_TIMEOUT_MS + 2000),
        "exit took {took:?}"
    );
    assert_eq!(
        stats.modern_failures.load(Ordering::Relaxed),
        0,
        "{first_error:?}"
    );
    assert_eq!(
        stats.legacy_failures.load(Ordering::Relaxed),
        0,
        "{first_error:?}"
    );
    assert!(
        silent.is_empty(),
        "clients that made no call after the replace: {silent:?}"
    );
    assert!(
        stats.reconnects.load(Ordering::Relaxed) >= streams_on_old,
        "every stream on the old task reconnected"
    );
    let remaining = tests::http::health(stay.addr).await["activeConnections"]
        .as_u64()
        .unwrap()
        + tests::http::health(new.addr).await["activeConnections"]
            .as_u64()
            .unwrap();
    assert!(remaining <= clients as u64);
    (stats, held)
}
