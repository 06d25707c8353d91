//! A real browser against `/mcp`: headless Chromium (Debian's package) loads pages served on
//! loopback and calls the server with `fetch`. A page on an allowed origin reads `tools/list`
//! and the `Mcp-Session-Id` header (CORS exposes it); a page on a refused origin is blocked; a
//! DNS-rebinding page (a foreign host name resolved to loopback) gets nothing.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tests::Server;
use tests::tools::run;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Serves `page` (HTML) to every request on a fresh loopback port; returns the port.
async fn page_server(page: String) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let page = page.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 2048];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    port
}

/// A page that initializes a legacy session at `mcp`, lists the tools, and writes what it saw
/// into `#out`.
fn mcp_page(mcp: &str) -> String {
    format!(
        r#"<!doctype html><html><body><pre id="out">pending</pre><script>
const url = {mcp:?};
const base = {{ "content-type": "application/json", "accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" }};
const post = (headers, body) => fetch(url, {{ method: "POST", headers: Object.assign({{}}, base, headers), body: JSON.stringify(body) }});
(async () => {{
  try {{
    const init = await post({{}}, {{ jsonrpc: "2.0", id: 1, method: "initialize", params: {{ protocolVersion: "2025-11-25", capabilities: {{}}, clientInfo: {{ name: "browser", version: "1" }} }} }});
    const session = init.headers.get("mcp-session-id");
    await init.text();
    if (!session) {{ document.getElementById("out").textContent = "NO-SESSION status=" + init.status; return; }}
    await post({{ "mcp-session-id": session }}, {{ jsonrpc: "2.0", method: "notifications/initialized" }});
    const list = await post({{ "mcp-session-id": session }}, {{ jsonrpc: "2.0", id: 2, method: "tools/list", params: {{}} }});
    // The answer may be JSON or an SSE stream (a priming event, then the message).
    const text = await list.text();
    const events = text.split("\n").filter(l => l.startsWith("data: {{")).map(l => JSON.parse(l.slice(6)));
    const body = events.length ? events[0] : JSON.parse(text);
    document.getElementById("out").textContent = "OK session=" + session.length + " tools=" + body.result.tools.map(t => t.name).sort().join(",");
  }} catch (error) {{
    document.getElementById("out").textContent = "BLOCKED " + error;
  }}
}})();
</script></body></html>"#
    )
}

/// Loads `url` in headless Chromium and returns the `#out` text once the page's work is done.
fn browse(url: &str, resolver_rules: Option<&str>) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "Chromium is missing: run scripts/install-test-tools.sh (apt-get install chromium)"
    );
    let profile = std::env::temp_dir().join(format!(
        "chromium-profile-{}-{}",
        std::process::id(),
        url.len()
    ));
    let mut command = Command::new(CHROMIUM);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=10000",
        "--dump-dom",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    if let Some(rules) = resolver_rules {
        command.arg(format!("--host-resolver-rules={rules}"));
    }
    command.arg(url);
    let (code, output) = run(command, Duration::from_secs(60));
    let _ = std::fs::remove_dir_all(&profile);
    assert_eq!(code, Some(0), "chromium failed: {output}");
    let start = output.find("<pre id=\"out\">").expect("the page rendered") + 14;
    let end = output[start..].find("</pre>").unwrap() + start;
    output[start..end].to_string()
}

async fn browse_async(url: String, rules: Option<&'static str>) -> String {
    tokio::task::spawn_blocking(move || browse(&url, rules))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_on_an_allowed_origin_is_served_and_others_are_not() {
    // The page ports must be known before the server starts (ALLOWED_ORIGINS), and the server's
    // port before the pages are written: reserve the server's port first.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mcp_port = reserved.local_addr().unwrap().port();
    drop(reserved);
    let mcp = format!("http://127.0.0.1:{mcp_port}/mcp");
    let allowed = page_server(mcp_page(&mcp)).await;
    let refused = page_server(mcp_page(&mcp)).await;
    let rebinding = page_server(mcp_page(&format!("http://evil.test:{mcp_port}/mcp"))).await;
    let origin = format!("http://127.0.0.1:{allowed}");
    let port = mcp_port.to_string();
    let server = Server::start(&[("PORT", &port), ("ALLOWED_ORIGINS", &origin)]);
    assert_eq!(server.addr, SocketAddr::from(([127, 0, 0, 1], mcp_port)));

    let seen = browse_async(format!("http://127.0.0.1:{allowed}/"), None).await;
    assert!(seen.starts_with("OK session=36 "), "{seen}");
    assert!(seen.contains("search_docs"), "{seen}");

    let seen = browse_async(format!("http://127.0.0.1:{refused}/"), None).await;
    assert!(seen.starts_with("BLOCKED"), "{seen}");
    server.wait_for_log("Origin refused", Duration::from_secs(5));

    // evil.test resolves to loopback, as after a DNS rebinding: the Host is refused.
    let seen = browse_async(
        format!("http://evil.test:{rebinding}/"),
        Some("MAP evil.test 127.0.0.1"),
    )
    .await;
    assert!(seen.starts_with("BLOCKED"), "{seen}");
    let refused_host = server.wait_for_log("Host refused", Duration::from_secs(5));
    assert!(refused_host.contains("evil.test"), "{refused_host}");
}
