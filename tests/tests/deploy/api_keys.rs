//! API keys on both deployment paths: the plain template's `ApiKeyHashesSecretArn` and the
//! Copilot manifest's commented `secrets` example. Each is read as ECS would run the task (its
//! environment plus each secret's value under the secret's name) and fed to the server's own
//! configuration parser: with keys, the server runs with `AUTH=api-key`, lets in exactly the
//! keys whose hashes the secret holds, and would refuse to start without the secret; without
//! them, nothing about the task changes. The template is also linted with the parameter set.

use std::collections::HashMap;
use std::process::Command;

use mcp_server::access::auth::Denied;
use mcp_server::config::{AuthMode, Config};
use regex::Regex;
use serde_json::{Value, json};

use super::{cfn_lint_service, check, settings};

const KEY_A: &str = "alpha-team-key-7f3c";
const KEY_B: &str = "beta-team-key-91d2";

/// A key's SHA-256 as docs/deployment.md tells operators to compute it.
fn sha256(key: &str) -> String {
    let output = Command::new("sh")
        .args(["-c", r#"printf %s "$KEY" | sha256sum"#])
        .env("KEY", key)
        .output()
        .expect("sh and sha256sum (coreutils) run");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()[..64].to_string()
}

/// The secret's value: both keys' hashes, comma-separated, as the docs say to store them.
fn secret_value() -> String {
    format!("{},{}", sha256(KEY_A), sha256(KEY_B))
}

fn strings(value: &Value) -> HashMap<String, String> {
    serde_json::from_value(value.clone()).unwrap()
}

/// The environment ECS gives the container: the plain variables, and each secret's value (from
/// `store`, by the ARN or parameter name it is read from) under the secret's name. A secret
/// the store lacks fails the task's start, as on ECS.
fn container_env(
    environment: &HashMap<String, String>,
    secrets: &HashMap<String, String>,
    store: &HashMap<String, String>,
) -> HashMap<String, String> {
    let mut env = environment.clone();
    for (name, from) in secrets {
        let value = store
            .get(from)
            .unwrap_or_else(|| panic!("ECS cannot start the task: no secret {from}"));
        assert!(
            env.insert(name.clone(), value.clone()).is_none(),
            "{name} is both a variable and a secret"
        );
    }
    env
}

/// The server's configuration from `env`, or why it would refuse to start.
fn parse(env: &HashMap<String, String>) -> Result<Config, String> {
    Config::from_lookup(|key| env.get(key).cloned()).map_err(|error| error.to_string())
}

/// With keys configured: each of the two keys is let in, by either header, and nothing else.
fn assert_lets_in_exactly_the_two_keys(label: &str, config: &Config) {
    assert_eq!(config.auth, AuthMode::ApiKey, "{label}");
    assert_eq!(config.api_keys.len(), 2, "{label}");
    let bearer = |key: &str| format!("Bearer {key}").into_bytes();
    assert!(
        config.api_keys.check(Some(&bearer(KEY_A)), None).is_ok(),
        "{label}"
    );
    assert!(
        config.api_keys.check(None, Some(KEY_B.as_bytes())).is_ok(),
        "{label}"
    );
    assert_eq!(
        config.api_keys.check(Some(&bearer("gamma-key")), None),
        Err(Denied::Invalid),
        "{label}"
    );
    // A hash sent as if it were the key does not pass: the server holds hashes, not keys.
    assert_eq!(
        config.api_keys.check(Some(&bearer(&sha256(KEY_A))), None),
        Err(Denied::Invalid),
        "{label}"
    );
    assert_eq!(
        config.api_keys.check(None, None),
        Err(Denied::Missing),
        "{label}"
    );
}

#[test]
fn the_template_gives_the_tasks_keys_from_secrets_manager_only_when_given_a_secret_arn() {
    let settings = settings();
    let cloudformation = &settings["cloudformation"];
    let arn = cloudformation["apiKeySecretArn"]
        .as_str()
        .unwrap()
        .to_string();
    let without = &cloudformation["task"];
    let with = &cloudformation["taskWithApiKeys"];

    // Without the parameter (the default): no secret, no AUTH, no extra permission; /mcp open.
    assert_eq!(without["secrets"], json!({}), "no secrets by default");
    assert_eq!(
        without["executionRolePolicies"],
        json!([]),
        "the execution role gets no permission by default"
    );
    let open = parse(&container_env(
        &strings(&without["environment"]),
        &HashMap::new(),
        &HashMap::new(),
    ))
    .unwrap();
    assert_eq!(open.auth, AuthMode::None);
    assert!(open.api_keys.is_empty());

    // With it: the same variables plus AUTH=api-key, and the hashes from that secret.
    let mut environment = strings(&with["environment"]);
    assert_eq!(environment.remove("AUTH").as_deref(), Some("api-key"));
    assert_eq!(
        environment,
        strings(&without["environment"]),
        "nothing else in the environment changes"
    );
    let secrets = strings(&with["secrets"]);
    assert_eq!(
        secrets,
        HashMap::from([("AUTH_API_KEY_HASHES".to_string(), arn.clone())]),
        "the hashes come from the secret the parameter names, and only they"
    );

    // The role ECS reads secrets with (the task definition's execution role) may read exactly
    // that secret, and do nothing else with it.
    assert_eq!(
        with["executionRoleArn"],
        json!({ "Fn::GetAtt": ["ExecutionRole", "Arn"] })
    );
    let policies = with["executionRolePolicies"].as_array().unwrap();
    let statements: Vec<&Value> = policies
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap())
        .collect();
    assert_eq!(statements.len(), 1, "one statement: {policies:?}");
    let statement = statements[0];
    assert_eq!(statement["Effect"], "Allow");
    let one = |value: &Value| match value {
        Value::Array(items) if items.len() == 1 => items[0].clone(),
        other => other.clone(),
    };
    assert_eq!(one(&statement["Action"]), "secretsmanager:GetSecretValue");
    assert_eq!(one(&statement["Resource"]), json!(arn), "that secret only");
    assert!(statement.get("Condition").is_none() && statement.get("NotResource").is_none());

    // The task as ECS starts it, with the secret holding both keys' hashes: the server runs
    // with keys, and the whole deployment still agrees with it (timeouts, no warnings).
    let store = HashMap::from([(arn.clone(), secret_value())]);
    let env = container_env(&strings(&with["environment"]), &secrets, &store);
    assert_lets_in_exactly_the_two_keys("template/service.yml", &parse(&env).unwrap());
    let mut deployment = cloudformation.clone();
    deployment["variables"] = json!(env);
    check(
        "template/service.yml with ApiKeyHashesSecretArn",
        &deployment,
    );

    // AUTH=api-key without the hashes is no open server: it refuses to start, so the secret
    // and the variable must come together (as the condition makes them).
    let error = parse(&strings(&with["environment"])).unwrap_err();
    assert!(error.contains("AUTH_API_KEY_HASHES"), "{error}");
    // A key stored instead of its hash is refused too, without echoing it.
    let store = HashMap::from([(arn.clone(), KEY_A.to_string())]);
    let error = parse(&container_env(
        &strings(&with["environment"]),
        &secrets,
        &store,
    ))
    .unwrap_err();
    assert!(!error.contains(KEY_A), "the key is echoed: {error}");
}

#[test]
fn the_template_takes_only_a_full_secret_arn() {
    let settings = settings();
    let cloudformation = &settings["cloudformation"];
    let pattern = Regex::new(cloudformation["apiKeySecretPattern"].as_str().unwrap()).unwrap();
    // Empty (no keys) and a full ARN, which IAM needs to match the secret exactly.
    assert!(pattern.is_match(""));
    assert!(pattern.is_match(cloudformation["apiKeySecretArn"].as_str().unwrap()));
    assert!(pattern.is_match(
        "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:team/docs_mcp.keys-a1B2c3"
    ));
    for refused in [
        // A partial ARN (no random suffix): ECS would find it, but IAM on it matches nothing.
        // (A name that itself ends in a hyphen and six characters cannot be told from a full
        // ARN; docs/deployment.md says to avoid such names, as Secrets Manager does.)
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:docs-mcp/api-keys",
        // A JSON key or version after the ARN: the IAM resource would not be the secret.
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:docs-mcp/keys-AbC123:hashes::",
        "docs-mcp/api-keys",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/docs-mcp/keys",
        &sha256(KEY_A),
    ] {
        assert!(!pattern.is_match(refused), "accepts {refused}");
    }
}

#[test]
fn cfn_lint_passes_the_template_with_and_without_a_secret_arn() {
    let settings = settings();
    let arn = settings["cloudformation"]["apiKeySecretArn"]
        .as_str()
        .unwrap()
        .to_string();
    // cfn-lint resolves each Ref to the given value and checks what it reaches (the IAM
    // resource must be an ARN).
    let lint = |secret: &str| cfn_lint_service(&[("ApiKeyHashesSecretArn", json!(secret))]);
    for secret in ["", arn.as_str()] {
        let (code, output) = lint(secret);
        assert_eq!(
            code,
            Some(0),
            "ApiKeyHashesSecretArn={secret:?}: cfn-lint reported:\n{output}"
        );
    }
    // The same run does reach the wiring: a value that is no ARN is reported there.
    let (code, output) = lint("not-an-arn");
    assert_ne!(code, Some(0), "cfn-lint did not check the secret's ARN");
    assert!(output.contains("ApiKeyHashesSecretArn"), "{output}");
}

#[test]
fn the_copilot_manifest_s_api_key_example_works_once_uncommented() {
    let settings = settings();
    let copilot = &settings["copilot"];
    let example = &copilot["apiKeyExample"];
    // As shipped: no keys (the manifest test checks the rest).
    assert_eq!(example["secretsBefore"], Value::Null);
    assert!(copilot["variables"].get("AUTH").is_none());
    // Uncommented: three lines, the AUTH variable and the secrets block, and nothing else moves.
    assert_eq!(example["linesUncommented"], 3);
    assert_eq!(example["restUnchanged"], true);
    let mut variables = strings(&example["variables"]);
    assert_eq!(variables.remove("AUTH").as_deref(), Some("api-key"));
    assert_eq!(variables, strings(&copilot["variables"]));
    let secrets = strings(&example["secrets"]);
    assert_eq!(secrets.len(), 1, "{secrets:?}");
    // The SSM parameter `copilot secret init --name docs-mcp-api-keys` writes, one per
    // environment (Copilot interpolates the names; its execution role reads the tagged ones).
    let path = &secrets["AUTH_API_KEY_HASHES"];
    assert_eq!(
        path,
        "/copilot/${COPILOT_APPLICATION_NAME}/${COPILOT_ENVIRONMENT_NAME}/secrets/docs-mcp-api-keys"
    );
    let store = HashMap::from([(path.clone(), secret_value())]);
    let env = container_env(&strings(&example["variables"]), &secrets, &store);
    assert_lets_in_exactly_the_two_keys("copilot/docs-mcp/manifest.yml", &parse(&env).unwrap());
    let mut deployment = copilot.clone();
    deployment["variables"] = json!(env);
    check("copilot/docs-mcp/manifest.yml with API keys", &deployment);
    // Half uncommented (AUTH without the secret) the task would not start.
    let error = parse(&strings(&example["variables"])).unwrap_err();
    assert!(error.contains("AUTH_API_KEY_HASHES"), "{error}");
}
