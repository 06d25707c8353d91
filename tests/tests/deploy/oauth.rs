//! OAuth on both deployment paths. The plain template is deployed (by `deploy_settings.py`'s
//! evaluator: conditions, `Fn::If`, `AWS::NoValue`, the Rules) with each way to authenticate
//! callers and each wrong mix of them: with none, the task and stack are as before; with
//! `AuthIssuer` (a corporate identity provider) or `CreateCognitoUserPool=true` the container
//! gets exactly the expected `AUTH*` variables, the Cognito resources exist only with the pool
//! and are wired to `AuthAudience`, the outputs say where tokens and the metadata are, and the
//! Rules refuse every mix the server could not run. The Copilot manifest's commented OAuth example
//! is uncommented as a user would. Both paths must route the metadata paths to the tasks.
//!
//! By concern: here the cases, the container's variables, the Rules and Copilot's example;
//! `cognito` the pool's resources and the outputs; `parameters` what the parameters accept,
//! cfn-lint with each accepted set, and the routing of the metadata paths.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Value, json};

use super::{check, settings, settings_with_cases};

#[path = "oauth/cognito.rs"]
mod cognito;
#[path = "oauth/parameters.rs"]
mod parameters;

const AUDIENCE: &str = "https://docs.example.com/mcp";
const ISSUER: &str = "https://example.okta.com/oauth2/default";
const PREFIX: &str = "docs-mcp-example";
const API_KEY_SECRET_ARN: &str =
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:docs-mcp/api-key-hashes-AbC123";
/// A user pool id, standing in for the `${UserPool}` CloudFormation fills in.
const POOL_ID: &str = "eu-west-1_AbCdEf123";

/// The Cognito resources `CreateCognitoUserPool=true` adds, by type.
const COGNITO: &[(&str, &str)] = &[
    ("UserPool", "AWS::Cognito::UserPool"),
    ("UserPoolDomain", "AWS::Cognito::UserPoolDomain"),
    (
        "UserPoolResourceServer",
        "AWS::Cognito::UserPoolResourceServer",
    ),
    ("UserPoolClient", "AWS::Cognito::UserPoolClient"),
];

/// Parameter values of `template/service.yml` for each case, and the Rules that must refuse
/// them (none for a stack CloudFormation creates).
pub(super) fn cases() -> Vec<(&'static str, Value, &'static [&'static str])> {
    let cognito = json!({
        "CreateCognitoUserPool": "true", "CognitoDomainPrefix": PREFIX, "AuthAudience": AUDIENCE,
    });
    let with = |base: &Value, more: Value| {
        let mut values = base.clone();
        values
            .as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        values
    };
    let issuer = json!({ "AuthIssuer": ISSUER, "AuthAudience": AUDIENCE });
    vec![
        ("none", json!({}), &[]),
        (
            "apiKeys",
            json!({ "ApiKeyHashesSecretArn": API_KEY_SECRET_ARN }),
            &[],
        ),
        ("issuer", issuer.clone(), &[]),
        (
            "issuerWithScopes",
            with(&issuer, json!({ "AuthScopes": "docs.read,docs.search" })),
            &[],
        ),
        ("cognito", cognito.clone(), &[]),
        (
            "cognitoWithScopes",
            with(&cognito, json!({ "AuthScopes": "docs.admin" })),
            &[],
        ),
        // One issuer: the pool's or the given one.
        (
            "cognitoAndIssuer",
            with(&cognito, json!({ "AuthIssuer": ISSUER })),
            &["CognitoOrAuthIssuer"],
        ),
        (
            "issuerWithoutAudience",
            json!({ "AuthIssuer": ISSUER }),
            &["OAuthNeedsAudience"],
        ),
        (
            "cognitoWithoutAudience",
            json!({ "CreateCognitoUserPool": "true", "CognitoDomainPrefix": PREFIX }),
            &["OAuthNeedsAudience"],
        ),
        (
            "cognitoWithoutPrefix",
            json!({ "CreateCognitoUserPool": "true", "AuthAudience": AUDIENCE }),
            &["CognitoNeedsDomainPrefix"],
        ),
        // Settings that look like OAuth but would leave /mcp open.
        (
            "audienceAlone",
            json!({ "AuthAudience": AUDIENCE }),
            &["OAuthSettingsNeedOAuth"],
        ),
        (
            "scopesAlone",
            json!({ "AuthScopes": "docs.read" }),
            &["OAuthSettingsNeedOAuth"],
        ),
        // API keys or tokens, never both.
        (
            "issuerAndApiKeys",
            with(
                &issuer,
                json!({ "ApiKeyHashesSecretArn": API_KEY_SECRET_ARN }),
            ),
            &["OAuthOrApiKeys"],
        ),
        (
            "cognitoAndApiKeys",
            with(
                &cognito,
                json!({ "ApiKeyHashesSecretArn": API_KEY_SECRET_ARN }),
            ),
            &["OAuthOrApiKeys"],
        ),
    ]
}

fn deployments() -> (Value, Value) {
    let cases: serde_json::Map<String, Value> = cases()
        .into_iter()
        .map(|(name, given, _)| (name.to_string(), given))
        .collect();
    let mut settings = settings_with_cases(&Value::Object(cases));
    let deployed = settings["cases"].take();
    (settings, deployed)
}

fn strings(value: &Value) -> HashMap<String, String> {
    serde_json::from_value(value.clone()).unwrap()
}

/// The `AUTH*` variables of an environment, and the rest.
fn split_auth(environment: &Value) -> (HashMap<String, String>, HashMap<String, String>) {
    strings(environment)
        .into_iter()
        .partition(|(name, _)| name.starts_with("AUTH"))
}

fn expected(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The whole deployment check (every variable one the server reads, with a value its parser
/// takes, no start-up warning, the timeouts nested) on `deployment` with `environment`.
fn check_with_server(name: &str, deployment: &Value, environment: &HashMap<String, String>) {
    let mut deployment = deployment.clone();
    deployment["variables"] = json!(environment);
    check(name, &deployment);
}

#[test]
fn each_way_to_authenticate_gives_the_container_exactly_its_auth_variables() {
    let (settings, deployed) = deployments();
    let region = settings["observability"]["pseudo"]["AWS::Region"]
        .as_str()
        .unwrap();
    let (none_auth, base) = split_auth(&deployed["none"]["task"]["environment"]);
    assert!(none_auth.is_empty(), "no AUTH* by default: {none_auth:?}");
    assert_eq!(
        base,
        strings(&settings["cloudformation"]["variables"]),
        "the default task is the one every other deploy test checks"
    );

    let cognito_issuer = format!("https://cognito-idp.{region}.amazonaws.com/${{UserPool}}");
    let read = format!("{AUDIENCE}/read");
    let read_and_admin = format!("{AUDIENCE}/read docs.admin");
    let cases: [(&str, HashMap<String, String>); 6] = [
        ("none", expected(&[])),
        ("apiKeys", expected(&[("AUTH", "api-key")])),
        (
            "issuer",
            expected(&[
                ("AUTH", "oauth"),
                ("AUTH_ISSUER", ISSUER),
                ("AUTH_AUDIENCE", AUDIENCE),
                // Empty: no scope required.
                ("AUTH_SCOPES", ""),
            ]),
        ),
        (
            "issuerWithScopes",
            expected(&[
                ("AUTH", "oauth"),
                ("AUTH_ISSUER", ISSUER),
                ("AUTH_AUDIENCE", AUDIENCE),
                ("AUTH_SCOPES", "docs.read,docs.search"),
            ]),
        ),
        (
            "cognito",
            expected(&[
                ("AUTH", "oauth"),
                ("AUTH_ISSUER", &cognito_issuer),
                ("AUTH_AUDIENCE", AUDIENCE),
                ("AUTH_SCOPES", &read),
                ("AUTH_AUDIENCE_IN_SCOPE", "true"),
            ]),
        ),
        (
            "cognitoWithScopes",
            expected(&[
                ("AUTH", "oauth"),
                ("AUTH_ISSUER", &cognito_issuer),
                ("AUTH_AUDIENCE", AUDIENCE),
                ("AUTH_SCOPES", &read_and_admin),
                ("AUTH_AUDIENCE_IN_SCOPE", "true"),
            ]),
        ),
    ];
    for (case, auth) in cases {
        let task = &deployed[case]["task"];
        let (actual, rest) = split_auth(&task["environment"]);
        assert_eq!(actual, auth, "{case}: the AUTH* variables");
        assert_eq!(
            rest, base,
            "{case}: nothing else in the environment changes"
        );
        if case != "apiKeys" {
            // Tokens are checked against the issuer's public keys: nothing secret reaches the
            // task, and its execution role reads nothing more.
            assert_eq!(task["secrets"], json!({}), "{case}");
            assert_eq!(task["executionRolePolicies"], json!([]), "{case}");
        }
        if auth.get("AUTH").map(String::as_str) == Some("oauth") {
            let mut environment = base.clone();
            environment.extend(auth);
            for value in environment.values_mut() {
                *value = value.replace("${UserPool}", POOL_ID);
            }
            check_with_server(
                &format!("template/service.yml ({case})"),
                &settings["cloudformation"],
                &environment,
            );
        }
    }
}

#[test]
fn the_rules_refuse_every_mix_the_server_could_not_run() {
    let (_, deployed) = deployments();
    for (case, _, refused) in cases() {
        let failing: Vec<&str> = deployed[case]["failingRules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(failing, refused, "{case}: the Rules that refuse it");
    }
    // That every rule is reached by some case (these or another module's), and says why, is
    // deploy.rs's every_rule_of_the_template_refuses_a_case_and_says_why.
}

#[test]
fn the_copilot_manifest_s_oauth_example_works_once_uncommented() {
    let settings = settings();
    let copilot = &settings["copilot"];
    let example = &copilot["oauthExample"];
    // As shipped: open (AUTH unset). Uncommented: AUTH and the four AUTH_ lines, nothing else.
    assert!(copilot["variables"].get("AUTH").is_none());
    assert_eq!(example["linesUncommented"], 5);
    // No `secrets`: tokens are checked against the issuer's published keys.
    assert_eq!(example["restUnchanged"], true);
    let (auth, rest) = split_auth(&example["variables"]);
    assert_eq!(rest, strings(&copilot["variables"]));
    assert_eq!(auth["AUTH"], "oauth");
    // A Cognito pool's issuer (the example's), whose tokens carry the audience in the scope
    // <audience>/read, the one scope the template's resource server has.
    let issuer = Regex::new(
        r"^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/([a-z0-9-]+)_[A-Za-z0-9]+$",
    )
    .unwrap();
    let captures = issuer
        .captures(&auth["AUTH_ISSUER"])
        .unwrap_or_else(|| panic!("not a Cognito issuer: {}", auth["AUTH_ISSUER"]));
    assert_eq!(
        &captures[1], &captures[2],
        "the pool id starts with its region"
    );
    let audience = &auth["AUTH_AUDIENCE"];
    assert!(audience.starts_with("https://") && audience.ends_with("/mcp"));
    assert_eq!(auth["AUTH_SCOPES"], format!("{audience}/read"));
    assert_eq!(auth["AUTH_AUDIENCE_IN_SCOPE"], "true");
    assert_eq!(auth.len(), 5, "{auth:?}");
    check_with_server(
        "copilot/docs-mcp/manifest.yml with OAuth",
        copilot,
        &strings(&example["variables"]),
    );
}
