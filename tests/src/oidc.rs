//! A real OpenID provider on loopback for the OAuth tests: `tests/node/oidc_provider.mjs`
//! (oidc-provider under the pinned Node 22) issuing RS256 JWT access tokens by the client
//! credentials grant, plus its test-control endpoints (forged tokens, key rotation, JWKS and
//! discovery outages, request counts). Killed when dropped.
//!
//! Clients (HTTP basic): `reader`/`reader-secret` (scope `docs:read`), `writer`/`writer-secret`
//! (`docs:read docs:write`), `guest`/`guest-secret` (`docs:write`, no `docs:read`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::process::workspace_root;
use crate::tools::{node, npm_cli, tools_dir};

/// Sent on the harness's own discovery request: the provider neither counts it in
/// `/test/stats` nor refuses it while discovery is down, so the figures a test checks are the
/// server's alone.
const HARNESS_HEADER: (&str, &str) = ("x-test-harness", "1");

/// The running provider.
pub struct Oidc {
    child: Child,
    /// Held open: the provider exits when its stdin closes (so it dies with the test process).
    stdin: Option<ChildStdin>,
    issuer: String,
    addr: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
    token_endpoint: OnceLock<String>,
}

impl Oidc {
    /// Starts the provider for these resource URLs (the first is the default resource when a
    /// token request names none) and waits, at most 30 s, for it to report its address.
    pub fn start(audiences: &[&str]) -> Oidc {
        assert!(!audiences.is_empty(), "the provider needs an audience");
        // Fails with the install command when the packages are missing.
        npm_cli("oidc-provider", "package.json");
        npm_cli("jose", "package.json");
        let mut command = Command::new(node());
        command
            .arg(workspace_root().join("tests/node/oidc_provider.mjs"))
            .env("NODE_PATH", tools_dir().join("npm/node_modules"))
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for audience in audiences {
            command.args(["--audience", audience]);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdin = child.stdin.take();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let said = {
            let logs = logs.clone();
            let stderr = child.stderr.take().expect("stderr piped");
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    logs.lock().unwrap().push(line);
                }
            })
        };
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let stdout = child.stdout.take().expect("stdout piped");
            let logs = logs.clone();
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let ready = serde_json::from_str::<Value>(&line).ok().and_then(|v| {
                        Some((
                            v.get("issuer")?.as_str()?.to_string(),
                            v.get("port")?.as_u64()?,
                        ))
                    });
                    match (ready, tx.take()) {
                        (Some(ready), Some(tx)) => {
                            let _ = tx.send(ready);
                        }
                        (_, rest) => {
                            tx = rest;
                            logs.lock().unwrap().push(line);
                        }
                    }
                }
            });
        }
        let (issuer, port) = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(ready) => ready,
            Err(e) => {
                let _ = child.kill();
                let status = child.wait();
                // The process is gone, so its stderr ends and the reader finishes.
                let _ = said.join();
                panic!(
                    "the OpenID provider did not report its address ({}; exit {status:?}); its \
                     output:\n{}",
                    match e {
                        std::sync::mpsc::RecvTimeoutError::Timeout => "not within 30 s",
                        std::sync::mpsc::RecvTimeoutError::Disconnected => "it exited",
                    },
                    logs.lock().unwrap().join("\n")
                );
            }
        };
        let port = u16::try_from(port).expect("a port number");
        Oidc {
            child,
            stdin,
            issuer,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            logs,
            token_endpoint: OnceLock::new(),
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): the `iss` of its tokens.
    pub fn issuer(&self) -> String {
        self.issuer.clone()
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What it wrote on stderr (and any stray stdout line) so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// An access token by the client credentials grant, at the token endpoint its discovery
    /// document gives, with HTTP basic client authentication. `scope` omitted: the client's own
    /// scopes; `resource` omitted: the first audience. A refusal is `Err("STATUS BODY")` (e.g.
    /// `400 {"error":"invalid_scope",...}`, `400 {"error":"invalid_target",...}` for an unknown
    /// resource, `401 {"error":"invalid_client",...}` for a wrong secret).
    pub async fn token(
        &self,
        client_id: &str,
        secret: &str,
        scope: Option<&str>,
        resource: Option<&str>,
    ) -> Result<String, String> {
        let endpoint = self.token_endpoint().await;
        let path = endpoint
            .strip_prefix(&self.issuer)
            .unwrap_or_else(|| panic!("token endpoint {endpoint} is not under {}", self.issuer));
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(scope.map(|s| ("scope", s)));
        form.extend(resource.map(|r| ("resource", r)));
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        // RFC 6749 2.3.1: id and secret are form-encoded before they are joined and base64'd.
        let basic = format!(
            "Basic {}",
            base64(format!("{}:{}", form_encode(client_id), form_encode(secret)).as_bytes())
        );
        let headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "application/json"),
            ("authorization", basic.as_str()),
        ];
        let response =
            crate::http::request(self.addr, Method::POST, path, &headers, Some(&body)).await;
        let status = response.status;
        let text = response.text().await;
        if status != StatusCode::OK {
            return Err(format!("{} {text}", status.as_u16()));
        }
        let answer: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("token answer is not JSON ({e}): {text}"));
        answer["access_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{} no access_token in {text}", status.as_u16()))
    }

    /// A token made to order by `POST /test/sign`: `{"alg": "RS256"|"ES256"|"none"|"HS256",
    /// "key": "current"|"stranger", "header": {..}, "claims": {..}}` (every member optional; a
    /// null override removes that header member or claim).
    pub async fn sign(&self, request: Value) -> String {
        let answer = self
            .control(Method::POST, "/test/sign", Some(request))
            .await;
        answer["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {answer}"))
            .to_string()
    }

    /// Rotates both keys (`POST /test/rotate`): tokens are signed with the new ones from now on,
    /// and the JWKS lists the new keys first, then the previous ones. Returns
    /// `{"kids": {"RS256": new, "ES256": new}, "previous": {"RS256": old, "ES256": old}}`.
    pub async fn rotate(&self) -> Value {
        self.control(Method::POST, "/test/rotate", None).await
    }

    /// While down, the jwks_uri answers 503 (discovery still works).
    pub async fn jwks_down(&self, down: bool) {
        self.control(Method::POST, "/test/jwks", Some(json!({ "down": down })))
            .await;
    }

    /// While down, both discovery documents (`/.well-known/openid-configuration` and
    /// `/.well-known/oauth-authorization-server`) answer 503.
    pub async fn discovery_down(&self, down: bool) {
        self.control(
            Method::POST,
            "/test/jwks",
            Some(json!({ "discoveryDown": down })),
        )
        .await;
    }

    /// `(jwks requests, discovery requests)` since start, 503s included; the harness's own
    /// discovery request is not counted.
    pub async fn stats(&self) -> (u64, u64) {
        let stats = self.control(Method::GET, "/test/stats", None).await;
        let count = |name: &str| {
            stats[name]
                .as_u64()
                .unwrap_or_else(|| panic!("no {name} in {stats}"))
        };
        (count("jwksRequests"), count("discoveryRequests"))
    }

    async fn token_endpoint(&self) -> String {
        if let Some(endpoint) = self.token_endpoint.get() {
            return endpoint.clone();
        }
        let response = crate::http::request(
            self.addr,
            Method::GET,
            "/.well-known/openid-configuration",
            &[HARNESS_HEADER],
            None,
        )
        .await;
        assert_eq!(response.status, StatusCode::OK, "discovery document");
        let document = response.json().await;
        let endpoint = document["token_endpoint"]
            .as_str()
            .unwrap_or_else(|| panic!("no token_endpoint in {document}"))
            .to_string();
        self.token_endpoint.get_or_init(|| endpoint).clone()
    }

    async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string());
        let response = crate::http::request(
            self.addr,
            method,
            path,
            &[("content-type", "application/json")],
            body.as_deref(),
        )
        .await;
        let status = response.status;
        let answer = response.json().await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
        answer
    }
}

impl Drop for Oidc {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `application/x-www-form-urlencoded` for one value: all but the unreserved characters escaped.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Standard base64 with padding (HTTP basic credentials).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{base64, form_encode};

    #[test]
    fn basic_credentials_are_form_encoded_then_base64() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(
            base64(b"reader:reader-secret"),
            "cmVhZGVyOnJlYWRlci1zZWNyZXQ="
        );
        assert_eq!(
            form_encode("docs:read docs:write"),
            "docs%3Aread%20docs%3Awrite"
        );
        assert_eq!(
            form_encode("http://127.0.0.1:8080/mcp?a=b&c"),
            "http%3A%2F%2F127.0.0.1%3A8080%2Fmcp%3Fa%3Db%26c"
        );
        assert_eq!(form_encode("a-b_c.d~é"), "a-b_c.d~%C3%A9");
    }
}
