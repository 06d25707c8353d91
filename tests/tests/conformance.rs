//! The official MCP conformance suite against the fixture server on 127.0.0.1: the stable
//! release (2025-11-25 scenarios) and the 0.2.0 alpha with the 2026-07-28 and 2025-11-25
//! requirement sets. The suite exits 0 only when every scored scenario passes.

use std::time::Duration;

use tests::Server;
use tests::tools::{node_cli, run};

fn conformance(package: &str, extra: &[&str]) {
    let server = Server::start_fixtures(&[("LOG_LEVEL", "info,rmcp=warn")]);
    let mut command = node_cli(package, "dist/index.js");
    command
        .args(["server", "--url", &server.mcp_url()])
        .args(extra);
    let (code, output) = run(command, Duration::from_secs(600));
    let summary = output
        .find("=== SUMMARY")
        .map(|at| &output[at..])
        .unwrap_or(&output);
    println!("{summary}");
    assert_eq!(
        code,
        Some(0),
        "conformance {package} {extra:?} failed:\n{summary}"
    );
    assert!(summary.contains("passed"), "no results:\n{output}");
}

#[test]
fn stable_suite_passes_every_server_scenario() {
    conformance("conformance-stable", &[]);
}

#[test]
fn alpha_suite_passes_the_2026_07_28_requirements() {
    conformance("conformance-next", &["--requirements", "2026-07-28"]);
}

#[test]
fn alpha_suite_passes_the_2025_11_25_requirements() {
    conformance("conformance-next", &["--requirements", "2025-11-25"]);
}
