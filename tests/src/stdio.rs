//! A server in `MCP_MODE=stdio`, driven line by line as a spawning client (Claude Desktop,
//! Cursor) drives it; killed when dropped.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use serde_json::{Value, json};

use crate::process::binary;

pub struct StdioServer {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl StdioServer {
    /// Starts `binary` (`mcp-server` or `examples/conformance-server`) in stdio mode with `env`
    /// and completes the legacy handshake.
    pub fn start(name: &str, env: &[(&str, &str)]) -> StdioServer {
        let mut command = Command::new(binary(name));
        command
            .current_dir(std::env::temp_dir())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("MCP_MODE", "stdio")
            .env("LOG_FORMAT", "json")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("stdio server starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = StdioServer {
            child,
            stdin,
            lines,
        };
        let answer = server.request(
            0,
            "initialize",
            json!({ "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } }),
            Duration::from_secs(10),
        );
        assert!(answer["result"].is_object(), "{answer}");
        server.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
        server
    }

    /// Writes one message.
    pub fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").expect("stdin open");
    }

    /// Sends a request and waits (bounded) for the answer with its id; `None` after `timeout`.
    pub fn try_request(
        &mut self,
        id: i64,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Option<Value> {
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            let line = self.lines.recv_timeout(left).ok()?;
            let message: Value = serde_json::from_str(&line).expect("stdout carries only JSON");
            if message["id"] == id {
                return Some(message);
            }
        }
    }

    /// Like [`try_request`](Self::try_request), failing the test without an answer.
    pub fn request(&mut self, id: i64, method: &str, params: Value, timeout: Duration) -> Value {
        self.try_request(id, method, params, timeout)
            .unwrap_or_else(|| panic!("no answer to {method} within {timeout:?}"))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

impl Drop for StdioServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
