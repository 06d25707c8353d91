//! The deployment files, checked: cfn-lint on every template (errors and warnings fail), the
//! Copilot manifest and the CloudFormation service template against the server's own
//! configuration (every variable they set is one the server reads, with a value its parser
//! accepts, and the timeouts that must nest do: keep-alive below the ALB idle timeout below the
//! server's HTTP idle timeout; drain guess below the deregistration delay; shutdown below the
//! stop timeout), and the Copilot session cache addon as Copilot reads it. `deploy/observability.rs`
//! (with its modules in `deploy/observability/`) checks autoscaling, alarms, saved queries and
//! dashboards against the metrics the server emits; `deploy/insights.rs` (and
//! `deploy/insights/`) runs the saved queries over the real server's output; `deploy/api_keys.rs`
//! checks the API-key wiring (the secret ECS reads, the permission to read it) on both paths, and
//! `deploy/oauth.rs` the OAuth wiring (issuer, audience, scopes, the Cognito user pool the
//! template can create, the Rules that keep the ways to authenticate apart), and
//! `deploy/docs_source.rs` documentation from S3 (`DOCS_DIR`, the task role's least privilege,
//! evaluated as IAM would, and the Copilot addon that does the same).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_server::config::{self, Config};
use serde_json::Value;
use tests::process::workspace_root;
use tests::tools::{python_report, run, tools_dir};

#[path = "deploy/api_keys.rs"]
mod api_keys;
#[path = "deploy/docs_source.rs"]
mod docs_source;
#[path = "deploy/insights.rs"]
mod insights;
#[path = "deploy/oauth.rs"]
mod oauth;
#[path = "deploy/observability.rs"]
mod observability;

const TEMPLATES: &[&str] = &[
    "template/service.yml",
    "template/alb-timeout.yml",
    "copilot/docs-mcp/addons/alb-timeout.yml",
    "copilot/docs-mcp/addons/session-cache.yml",
    "copilot/docs-mcp/addons/observability.yml",
    "copilot/docs-mcp/addons/docs-source.yml",
];

/// cfn-lint on `templates`, from the workspace root, failing on warnings too: its exit code and
/// output.
fn cfn_lint<T: AsRef<OsStr>>(templates: impl IntoIterator<Item = T>) -> (Option<i32>, String) {
    let lint = tools_dir().join("venv/bin/cfn-lint");
    assert!(
        lint.exists(),
        "cfn-lint is missing: run scripts/install-test-tools.sh (pip cfn-lint)"
    );
    let mut command = Command::new(lint);
    command
        .current_dir(workspace_root())
        .args(["--non-zero-exit-code", "warning"])
        .args(templates);
    run(command, Duration::from_secs(300))
}

#[test]
fn cfn_lint_finds_no_errors_or_warnings_in_any_template() {
    let (code, output) = cfn_lint(TEMPLATES);
    assert_eq!(
        code,
        Some(0),
        "cfn-lint reported errors or warnings:\n{output}"
    );
}

/// cfn-lint passes `template/service.yml` with the parameters of every case no Rule refuses
/// (`cases` as the feature modules declare them: name, parameters, Rules that refuse them).
fn cfn_lint_passes_every_allowed_case(cases: Vec<(&str, Value, &[&str])>) {
    for (case, given, refused) in cases {
        if !refused.is_empty() {
            continue;
        }
        let given: Vec<(&str, Value)> = given
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let (code, output) = cfn_lint_service(&given);
        assert_eq!(code, Some(0), "{case}: cfn-lint reported:\n{output}");
    }
}

/// cfn-lint on `template/service.yml` with its required parameters and `given` (a list
/// parameter as a JSON list), through a parameter file: cfn-lint resolves each Ref to the value
/// and checks what it reaches.
fn cfn_lint_service(given: &[(&str, Value)]) -> (Option<i32>, String) {
    static FILES: AtomicUsize = AtomicUsize::new(0);
    let mut parameters = serde_json::json!([
        { "ParameterKey": "VpcId", "ParameterValue": "vpc-0123456789abcdef0" },
        { "ParameterKey": "PublicSubnetIds",
          "ParameterValue": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] },
        { "ParameterKey": "ServiceSubnetIds", "ParameterValue": ["subnet-0123456789abcdef2"] },
        { "ParameterKey": "ImageUri",
          "ParameterValue": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/docs-mcp:1" },
    ]);
    for (name, value) in given {
        parameters
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({ "ParameterKey": name, "ParameterValue": value }));
    }
    let file = std::env::temp_dir().join(format!(
        "docs-mcp-service-parameters-{}-{}.json",
        std::process::id(),
        FILES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, parameters.to_string()).unwrap();
    let result = cfn_lint([
        "--parameter-files".as_ref(),
        file.as_os_str(),
        "--".as_ref(),
        "template/service.yml".as_ref(),
    ]);
    std::fs::remove_file(&file).unwrap();
    result
}

fn settings() -> Value {
    python_report("deploy_settings.py", &[workspace_root().to_str().unwrap()])
}

/// The settings, with `template/service.yml` deployed with each of `cases` (case name to
/// parameter values) under "cases": the task, resources, outputs and refusing Rules of each.
fn settings_with_cases(cases: &Value) -> Value {
    python_report(
        "deploy_settings.py",
        &[workspace_root().to_str().unwrap(), &cases.to_string()],
    )
}

/// Checks one deployment's settings; `name` says which in failures.
fn check(name: &str, deployment: &Value) {
    let variables: HashMap<String, String> =
        serde_json::from_value(deployment["variables"].clone()).unwrap();
    for key in variables.keys() {
        assert!(
            config::variables().iter().any(|v| v.name == *key),
            "{name} sets {key}, which the server does not read"
        );
    }
    let config = Config::from_lookup(|key| variables.get(key).cloned())
        .unwrap_or_else(|error| panic!("{name}: the server would refuse to start: {error}"));
    assert!(
        config.warnings().is_empty(),
        "{name}: start-up warnings {:?}",
        config.warnings()
    );

    let alb_idle = Duration::from_secs(deployment["albIdleTimeout"].as_u64().unwrap());
    assert!(
        config.sse_keepalive < alb_idle,
        "{name}: keep-alive {:?} not below the ALB idle timeout {alb_idle:?}",
        config.sse_keepalive
    );
    assert!(
        config.sse_keepalive < Duration::from_secs(60),
        "{name}: keep-alive must also beat an ALB left at AWS's 60 s"
    );
    assert!(
        config.http_idle_timeout > alb_idle,
        "{name}: HTTP_IDLE_TIMEOUT {:?} must exceed the ALB idle timeout {alb_idle:?} (else 502s)",
        config.http_idle_timeout
    );

    let deregistration = Duration::from_secs(deployment["deregistrationDelay"].as_u64().unwrap());
    assert!(
        deregistration > config.drain_idle_timeout,
        "{name}: deregistration delay {deregistration:?} must exceed DRAIN_IDLE_TIMEOUT {:?}",
        config.drain_idle_timeout
    );
    let stop = Duration::from_secs(deployment["stopTimeout"].as_u64().unwrap());
    assert!(
        stop > config.shutdown_timeout,
        "{name}: stop timeout {stop:?} must exceed SHUTDOWN_TIMEOUT {:?}",
        config.shutdown_timeout
    );
    assert!(
        stop <= Duration::from_secs(120),
        "{name}: Fargate allows at most 120 s"
    );

    let interval = Duration::from_secs(deployment["healthInterval"].as_u64().unwrap());
    let timeout = Duration::from_secs(deployment["healthTimeout"].as_u64().unwrap());
    assert!(
        timeout < interval,
        "{name}: health check timeout must be below its interval"
    );
    assert!(
        config.drain_idle_timeout > interval * 2,
        "{name}: DRAIN_IDLE_TIMEOUT {:?} must outlast a missed health check (interval {interval:?})",
        config.drain_idle_timeout
    );
    assert_eq!(deployment["healthPath"], "/health", "{name}");
    assert_eq!(
        deployment["healthPort"].as_u64(),
        Some(config.bind().port() as u64),
        "{name}: health check port"
    );
    assert_eq!(
        deployment["imagePort"].as_u64(),
        Some(config.bind().port() as u64),
        "{name}: container port"
    );
    assert!(
        !config.bind().ip().is_loopback(),
        "{name}: a container must not bind loopback"
    );
    assert_eq!(
        deployment["stickiness"], true,
        "{name}: legacy sessions need stickiness"
    );
}

/// Every Rule of `template/service.yml` refuses some case of the modules that test it (OAuth,
/// documentation from S3), and says why.
#[test]
fn every_rule_of_the_template_refuses_a_case_and_says_why() {
    let settings = settings();
    let rules = settings["observability"]["service"]["Rules"]
        .as_object()
        .unwrap();
    let refused: Vec<&str> = oauth::cases()
        .into_iter()
        .chain(docs_source::cases())
        .flat_map(|(_, _, refused)| refused.iter().copied())
        .collect();
    for (name, rule) in rules {
        assert!(
            refused.contains(&name.as_str()),
            "no case reaches rule {name}"
        );
        for assertion in rule["Assertions"].as_array().unwrap() {
            assert!(
                assertion["AssertDescription"].as_str().is_some(),
                "{name}: an assertion without a description"
            );
        }
    }
}

#[test]
fn the_copilot_manifest_agrees_with_the_server() {
    let settings = settings();
    let copilot = &settings["copilot"];
    check("copilot/docs-mcp/manifest.yml", copilot);
    let lambda = copilot["lambdaTimeout"].as_u64().unwrap();
    assert!(
        copilot["serviceTimeout"].as_u64().unwrap() > lambda,
        "CloudFormation must wait longer than the function can run"
    );
}

#[test]
fn the_copilot_session_cache_admits_this_service_only_and_deploys_either_way() {
    let settings = settings();
    let cache = &settings["copilot"]["sessionCache"];
    let outputs = cache["outputs"].as_array().unwrap();
    // Copilot's service template reads every addon output with Fn::GetAtt: a conditional one
    // is missing when its condition is false, and the deploy fails.
    for output in outputs {
        assert_eq!(
            output["conditional"], false,
            "output {} must exist with or without the cache",
            output["name"]
        );
    }
    // The client group: an output that is a Ref to a security group, which Copilot attaches to
    // the service's tasks; it must exist with or without the cache too.
    let clients: Vec<&str> = outputs
        .iter()
        .filter_map(|o| o["securityGroup"].as_str())
        .collect();
    assert_eq!(
        clients.len(),
        1,
        "one client security group output: {outputs:?}"
    );
    let client = outputs
        .iter()
        .find(|o| o["securityGroup"].is_string())
        .unwrap();
    assert_eq!(client["securityGroupConditional"], false, "{client}");
    // The cache admits the Redis ports from that group only.
    let ingress = cache["ingress"].as_array().unwrap();
    assert!(!ingress.is_empty());
    for rule in ingress {
        assert_eq!(
            rule["SourceSecurityGroupId"],
            serde_json::json!({ "Ref": clients[0] }),
            "the cache admits the client group only: {rule}"
        );
        assert!(rule.get("CidrIp").is_none() && rule.get("CidrIpv6").is_none());
        assert_eq!(rule["IpProtocol"], "tcp");
        assert_eq!(rule["FromPort"], 6379);
        assert_eq!(rule["ToPort"], 6380);
    }
    // SESSION_STORE as the server gets it, without the cache (the default) and with it.
    let store = outputs
        .iter()
        .find(|o| o["name"] == "SessionStore")
        .expect("the SessionStore output (Copilot's SESSION_STORE)");
    for (which, value) in [
        ("without the cache", &store["value"]),
        ("with it", &store["valueWithCache"]),
    ] {
        let value = value
            .as_str()
            .unwrap()
            .replace("${SessionStoreCache.Endpoint.Address}", "cache.example");
        let value = value.replace("${SessionStoreCache.Endpoint.Port}", "6379");
        let config = Config::from_lookup(|key| (key == "SESSION_STORE").then(|| value.clone()))
            .unwrap_or_else(|error| panic!("SESSION_STORE {which} ({value}): {error}"));
        assert!(
            config.warnings().is_empty(),
            "{which}: {:?}",
            config.warnings()
        );
    }
    assert_eq!(store["value"], "memory");
    assert!(
        store["valueWithCache"]
            .as_str()
            .unwrap()
            .starts_with("rediss://"),
        "TLS to the cache"
    );
}

#[test]
fn the_cloudformation_service_template_agrees_with_the_server() {
    let settings = settings();
    check("template/service.yml", &settings["cloudformation"]);
    let standalone = &settings["standalone"];
    assert_eq!(standalone["runtime"], "provided.al2023");
    assert!(
        standalone["serviceTimeout"].as_u64().unwrap()
            > standalone["lambdaTimeout"].as_u64().unwrap()
    );
    assert_eq!(
        standalone["idleTimeoutDefault"],
        settings["cloudformation"]["albIdleTimeout"]
    );
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_as_a_non_root_user_on_the_default_port() {
    let dockerfile = std::fs::read_to_string(workspace_root().join("Dockerfile")).unwrap();
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let stages = lines.iter().filter(|l| l.starts_with("FROM ")).count();
    assert!(stages >= 2, "multi-stage build expected");
    let final_stage = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    let runtime = &lines[final_stage..];
    let user = runtime
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the final stage sets USER");
    assert!(
        !user.starts_with("root") && !user.starts_with('0'),
        "runs as {user}"
    );
    let config = Config::from_lookup(|_| None).unwrap();
    assert!(
        runtime
            .iter()
            .any(|l| l.starts_with("EXPOSE ") && l.contains(&config.bind().port().to_string())),
        "EXPOSE the default PORT"
    );
    assert!(
        runtime.iter().any(|l| l.contains("HOST=0.0.0.0")),
        "the image binds all interfaces"
    );
    let ignore = std::fs::read_to_string(workspace_root().join(".dockerignore")).unwrap();
    for excluded in ["target", ".tools", ".git"] {
        assert!(
            ignore.lines().any(|l| l.trim() == excluded),
            ".dockerignore leaves {excluded} in the build context"
        );
    }
}
