//! The binary's command line and start-up: --help, bad configuration, stdio mode.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use tests::process::binary;
use tests::tools::run;

#[test]
fn help_lists_every_variable_with_its_default() {
    let mut command = Command::new(binary("mcp-server"));
    command.arg("--help");
    let (code, output) = run(command, Duration::from_secs(10));
    assert_eq!(code, Some(0));
    for name in [
        "PORT",
        "HOST",
        "MCP_MODE",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "NODE_ENV",
        "SSE_KEEPALIVE_INTERVAL",
        "REQUEST_TIMEOUT",
        "ALLOWED_ORIGINS",
        "ALLOWED_HOSTS",
        "SHUTDOWN_TIMEOUT",
    ] {
        assert!(output.contains(name), "--help lacks {name}:\n{output}");
    }
    assert!(output.contains("[default: 3100]"), "{output}");
}

#[test]
fn an_invalid_value_stops_start_up_naming_the_variable_and_the_form() {
    let mut command = Command::new(binary("mcp-server"));
    command.env("REQUEST_TIMEOUT", "5 minutes");
    let (code, output) = run(command, Duration::from_secs(10));
    assert_eq!(code, Some(2));
    assert!(output.contains("REQUEST_TIMEOUT"), "{output}");
    assert!(output.contains("milliseconds"), "{output}");

    let mut command = Command::new(binary("mcp-server"));
    command.env("ALLOWED_ORIGINS", "journium.app");
    let (code, output) = run(command, Duration::from_secs(10));
    assert_eq!(code, Some(2));
    assert!(output.contains("ALLOWED_ORIGINS"), "{output}");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut command = Command::new(binary("mcp-server"));
    command.env("PORT", &port);
    let (code, output) = run(command, Duration::from_secs(10));
    assert_eq!(code, Some(1));
    assert!(output.contains("cannot listen"), "{output}");
}

#[test]
fn stdio_mode_serves_mcp_on_stdout_and_logs_on_stderr() {
    let mut child = Command::new(binary("mcp-server"))
        .env("MCP_MODE", "stdio")
        .env("LOG_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    writeln!(stdin, "{initialize}").unwrap();
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("initialize answered");
    let answer: serde_json::Value =
        serde_json::from_str(&line).expect("stdout carries only JSON-RPC");
    assert_eq!(answer["result"]["serverInfo"]["name"], "mcp-server");
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{{}}}}"#
    )
    .unwrap();
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("tools/list answered");
    let answer: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(answer["id"], 2);
    assert!(answer["result"]["tools"].is_array());
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "stdio server exits cleanly when stdin closes"
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("serving MCP on stdin/stdout"), "{stderr}");
}
