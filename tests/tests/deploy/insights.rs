//! The saved Logs Insights queries run against the real server's output: the server is started
//! with the plain template's environment (JSON logs, its METRICS_NAMESPACE and METRICS_SERVICE,
//! a fast EMF interval), made to open and close streams, call every tool, guess a drain, undo
//! it and shut down on SIGTERM; then each query's `filter` is evaluated over every line it
//! wrote (stderr's logs and stdout's EMF lines share the task's log stream on ECS) and must
//! pick exactly the lines it is about. The EMF lines must carry every metric the templates
//! read, under the namespace and Service dimension the templates read them with.
//! `DEPLOY_SHOW_LINES=1` prints the lines the run collected.
//!
//! `logs_insights` parses and evaluates the queries; `running` runs the server and collects its
//! lines.

use std::collections::BTreeSet;
use std::time::Duration;

use http::{Method, StatusCode};
use regex::Regex;
use serde_json::{Value, json};
use tests::http::{get_stream, legacy_session, listen_stream, modern_request, request};
use tests::process::workspace_root;

use super::observability::metrics::{alarm_metrics, dashboard_metrics, emitted_as, policy_metrics};
use super::observability::stack::Stack;

#[path = "insights/logs_insights.rs"]
mod logs_insights;
#[path = "insights/running.rs"]
mod running;

use logs_insights::{Line, line, parse, queries, query};
use running::Running;

/// A tool call in the modern era.
async fn call(addr: std::net::SocketAddr, id: i64, tool: &str, arguments: Value) {
    let answer = modern_request(
        addr,
        id,
        "tools/call",
        json!({ "name": tool, "arguments": arguments }),
        Some(tool),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{tool}");
}

// Multi-threaded: the test blocks on log lines while the client side runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_saved_queries_pick_the_real_lines_and_the_emf_line_carries_every_metric_read() {
    let settings = super::settings();
    let all = queries(&settings);
    let plain = Stack::plain(&settings);
    let (namespace, service) = emitted_as(&settings, &plain);

    // The task's environment from the template, on loopback, with a line every 200 ms and a
    // drain guess that fires after 800 ms without a request.
    let mut env: Vec<(String, String)> = serde_json::from_value::<
        std::collections::HashMap<String, String>,
    >(settings["cloudformation"]["variables"].clone())
    .unwrap()
    .into_iter()
    .collect();
    for (key, value) in [
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("METRICS_EMF_INTERVAL", "200"),
        ("DRAIN_IDLE_GUESS", "on"),
        ("DRAIN_IDLE_TIMEOUT", "800"),
        ("SHUTDOWN_TIMEOUT", "5000"),
    ] {
        env.retain(|(k, _)| k != key);
        env.push((key.into(), value.into()));
    }
    assert!(
        env.iter().any(|(k, v)| k == "LOG_FORMAT" && v == "json"),
        "the template sets JSON logs"
    );
    let (server, addr) = Running::start(&env);

    // Streams of both eras, and every tool.
    let session = legacy_session(addr).await;
    let get = get_stream(addr, &session).await;
    assert_eq!(get.status, StatusCode::OK);
    let listen = listen_stream(addr, 1).await;
    assert_eq!(listen.status, StatusCode::OK);
    let (mut get, mut listen) = (get.sse(), listen.sse());
    call(addr, 2, "search_docs", json!({ "query": "draining" })).await;
    call(addr, 3, "list_docs", json!({})).await;
    call(addr, 4, "read_doc", json!({ "path": "operations.md" })).await;

    // Silence: the guess drains and ends both streams; a load-balancer health check undoes it.
    get.until_end(Duration::from_secs(10)).await;
    listen.until_end(Duration::from_secs(10)).await;
    server.wait_for(
        |l| l.message().contains("assuming drain"),
        "assuming drain",
        Duration::from_secs(5),
    );
    let check = request(
        addr,
        Method::GET,
        "/health",
        &[("user-agent", "ELB-HealthChecker/2.0")],
        None,
    )
    .await;
    assert_eq!(check.status, StatusCode::OK);
    server.wait_for(
        |l| l.message().contains("back in service"),
        "back in service",
        Duration::from_secs(5),
    );
    // A line written after the tool calls.
    server.wait_for(
        |l| {
            l.is_emf()
                && l.json["ToolCalls.read_doc"].is_number()
                && l.json["SseConnections"] == 0.0
        },
        "EMF line after the calls",
        Duration::from_secs(5),
    );
    let lines: Vec<Line> = server.stop().iter().map(|l| line(l)).collect();
    if std::env::var_os("DEPLOY_SHOW_LINES").is_some() {
        for l in &lines {
            eprintln!("{}", l.raw);
        }
    }
    let logs: Vec<&Line> = lines.iter().filter(|l| !l.is_emf()).collect();
    let emf: Vec<&Line> = lines.iter().filter(|l| l.is_emf()).collect();
    assert!(!emf.is_empty(), "EMF lines on stdout");
    assert!(
        logs.iter().all(|l| l.json.is_object()),
        "every log line is JSON"
    );

    // Streams initiated: exactly the SSE stream initiated lines, with the fields it shows.
    let initiated = query(&all, "SSE streams initiated per 5 minutes");
    let picked: Vec<&Line> = lines.iter().filter(|l| initiated.matches(l)).collect();
    let expected: Vec<&Line> = logs
        .iter()
        .copied()
        .filter(|l| l.message() == "SSE stream initiated")
        .collect();
    assert_eq!(picked.len(), expected.len());
    assert!(picked.len() >= 2, "a GET and a listen stream");
    for l in &picked {
        assert_eq!(l.message(), "SSE stream initiated", "{}", l.raw);
        for field in initiated.fields.iter().filter(|f| !f.starts_with('@')) {
            assert!(l.field(field).is_some(), "{field} in {}", l.raw);
        }
    }

    // Stream closes by reason.
    let closes = query(&all, "SSE stream closes by reason");
    let picked: Vec<&Line> = lines.iter().filter(|l| closes.matches(l)).collect();
    assert_eq!(
        picked.len(),
        logs.iter()
            .filter(|l| l.message() == "SSE stream closed")
            .count()
    );
    assert!(picked.len() >= 2, "both streams closed by the drain");
    for l in &picked {
        for field in closes.stats_fields.iter().chain(&closes.fields) {
            if !field.starts_with('@') {
                assert!(l.field(field).is_some(), "{field} in {}", l.raw);
            }
        }
        assert!(l.json["duration_ms"].is_number(), "{}", l.raw);
    }
    assert!(
        picked.iter().any(|l| l.json["reason"] == "server closing"),
        "the drain's closes"
    );

    // Drain events: every line of ours about draining or shutting down, and nothing else
    // (the MCP SDK's own lines speak of its internal "drain" of pending responses).
    let drain = query(&all, "Drain events");
    let about_drain = |l: &Line| {
        let m = l.message().to_lowercase();
        l.field("target").as_deref() != Some("mcp_server::sdk")
            && (m.contains("drain") || m.starts_with("shut"))
    };
    for l in &lines {
        assert_eq!(
            drain.matches(l),
            !l.is_emf() && about_drain(l),
            "the drain query on {}",
            l.raw
        );
    }
    for wanted in [
        "drain state: no request for",
        "drain state: a load balancer health check arrived after the idle guess",
        "draining: ending long-lived SSE streams",
        "drain state: draining (SIGTERM received)",
        "shutting down: listener closed",
        "shutdown complete",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| drain.matches(l) && l.message().starts_with(wanted)),
            "the drain query shows {wanted:?}"
        );
    }

    // Errors: the lines at level ERROR or with Error in their message, never an EMF line.
    // Those name ToolErrors, so the seed's `@message like /Error/` would list every one of
    // them; the saved query reads `message`.
    let errors = query(&all, "Errors");
    for l in &lines {
        let error = !l.is_emf()
            && (l.field("level").as_deref() == Some("ERROR") || l.message().contains("Error"));
        assert_eq!(errors.matches(l), error, "the errors query on {}", l.raw);
    }
    let seed = parse("seed", "fields @message\n| filter @message like /Error/");
    assert!(
        emf.iter().all(|l| seed.matches(l)),
        "the seed's query would list EMF lines"
    );
    assert!(errors.matches(&line(r#"{"level":"ERROR","message":"boom"}"#)));
    assert!(errors.matches(&line(
        r#"{"level":"WARN","message":"session store Error: refused"}"#
    )));

    // The EMF lines: the template's namespace and Service dimension, the server's dimension
    // sets, a number for every metric declared, and every metric the templates read.
    let mut declared = BTreeSet::new();
    for l in &emf {
        let directive = &l.json["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], namespace.as_str(), "{}", l.raw);
        assert_eq!(
            directive["Dimensions"],
            json!([["Service"], ["Service", "Task"]]),
            "{}",
            l.raw
        );
        assert_eq!(l.json["Service"], service.as_str(), "{}", l.raw);
        assert!(
            l.json["Task"].as_str().is_some_and(|t| !t.is_empty()),
            "{}",
            l.raw
        );
        assert!(l.json["_aws"]["Timestamp"].is_u64(), "{}", l.raw);
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(l.json[name].is_number(), "{name} in {}", l.raw);
            declared.insert(name.to_string());
        }
    }
    for stack in [Stack::plain(&settings), Stack::copilot(&settings)] {
        let (stack_namespace, _) = emitted_as(&settings, &stack);
        let read = dashboard_metrics(&stack)
            .into_iter()
            .chain(alarm_metrics(&stack))
            .chain(policy_metrics(&stack))
            .filter(|r| r.namespace == stack_namespace);
        for r in read {
            assert!(
                declared.contains(&r.name),
                "{}: reads {}, which the server's EMF line never declared: {declared:?}",
                r.origin,
                r.name
            );
        }
    }
    assert!(declared.contains("SseConnections"));
}

/// Every drain or shutdown message in the server's source, at info level or above: the live
/// run above cannot reach them all (the guess is armed by an ALB health check on ECS only).
#[test]
fn the_drain_query_matches_every_drain_message_the_server_can_log() {
    let settings = super::settings();
    let all = queries(&settings);
    let drain = query(&all, "Drain events");
    let mut found = Vec::new();
    for file in [
        "lifecycle/drain.rs",
        "http/server.rs",
        "lifecycle/ecs_metadata.rs",
    ] {
        let source =
            std::fs::read_to_string(workspace_root().join("mcp-server/src").join(file)).unwrap();
        for message in log_messages(&source) {
            let lower = message.to_lowercase();
            if lower.contains("drain") || lower.starts_with("shut") {
                found.push(message);
            }
        }
    }
    assert!(
        found.len() >= 7,
        "the drain and shutdown messages: {found:?}"
    );
    let placeholder = Regex::new(r"\{[^}]*\}").unwrap();
    for message in &found {
        let logged = placeholder.replace_all(message, "1").into_owned();
        let l = line(&json!({ "level": "INFO", "message": logged }).to_string());
        assert!(drain.matches(&l), "the drain query misses {message:?}");
    }
}

/// The messages of `tracing::info!`, `warn!` and `error!` calls: the last string literal of
/// each call that is not a field's value (`name = "..."`).
fn log_messages(source: &str) -> Vec<String> {
    let call = Regex::new(r"tracing::(info|warn|error)!\(").unwrap();
    let mut messages = Vec::new();
    for start in call.find_iter(source) {
        let bytes = &source.as_bytes()[start.end()..];
        let (mut depth, mut i) = (1, 0);
        let mut literals: Vec<(usize, String)> = Vec::new();
        while depth > 0 && i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    let open = i;
                    let mut text = String::new();
                    i += 1;
                    while bytes[i] != b'"' {
                        if bytes[i] == b'\\' {
                            i += 1;
                        }
                        text.push(bytes[i] as char);
                        i += 1;
                    }
                    literals.push((open, text));
                }
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        let body = &source[start.end()..start.end() + i];
        let message = literals
            .into_iter()
            .rev()
            .find(|(open, _)| !body[..*open].trim_end().ends_with('='));
        if let Some((_, text)) = message {
            messages.push(text);
        }
    }
    messages
}
