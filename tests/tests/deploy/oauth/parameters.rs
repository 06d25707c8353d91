//! What the OAuth parameters accept, cfn-lint with each accepted set of them, and the routing
//! that brings the protected-resource metadata paths to the tasks on both paths.

use regex::Regex;
use serde_json::json;

use super::super::{cfn_lint_passes_every_allowed_case, settings};
use super::{AUDIENCE, ISSUER, PREFIX, cases};

#[test]
fn the_oauth_parameters_take_only_usable_values() {
    let settings = settings();
    let parameters = &settings["observability"]["service"]["Parameters"];
    let pattern = |name: &str| {
        Regex::new(parameters[name]["AllowedPattern"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let audience = pattern("AuthAudience");
    for accepted in ["", AUDIENCE, "https://mcp.internal.example.com:8443/mcp"] {
        assert!(
            audience.is_match(accepted),
            "AuthAudience refuses {accepted}"
        );
    }
    for refused in [
        // Not TLS; not the MCP endpoint (the metadata the server publishes is for /mcp).
        "http://docs.example.com/mcp",
        "https://docs.example.com",
        "https://docs.example.com/",
        "https://docs.example.com/mcp/",
        "https://docs.example.com/mcp?x=1",
        // A space would split the Cognito scope <AuthAudience>/read in two.
        "https://docs.example.com/m cp",
        "docs.example.com/mcp",
    ] {
        assert!(
            !audience.is_match(refused),
            "AuthAudience accepts {refused}"
        );
    }
    let issuer = pattern("AuthIssuer");
    for accepted in [
        "",
        ISSUER,
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
        "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
        "https://keycloak.example.com/realms/engineering",
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
        "https://example.eu.auth0.com/",
    ] {
        assert!(issuer.is_match(accepted), "AuthIssuer refuses {accepted}");
    }
    for refused in [
        "http://keycloak.example.com/realms/engineering",
        "https://example.okta.com/oauth2/default/.well-known/openid-configuration?x",
        "example.okta.com",
    ] {
        assert!(!issuer.is_match(refused), "AuthIssuer accepts {refused}");
    }
    let prefix = pattern("CognitoDomainPrefix");
    for accepted in ["", PREFIX, "a", "docs-mcp-prod-7"] {
        assert!(
            prefix.is_match(accepted),
            "CognitoDomainPrefix refuses {accepted}"
        );
    }
    for refused in [
        "-docs",
        "docs-",
        "Docs",
        "docs.example",
        "https://docs-mcp.auth.eu-west-1.amazoncognito.com",
        &"a".repeat(64),
    ] {
        assert!(
            !prefix.is_match(refused),
            "CognitoDomainPrefix accepts {refused}"
        );
    }
    let scopes = pattern("AuthScopes");
    for accepted in ["", "docs.read", "docs.read docs.search", "a,b", "api://x/y"] {
        assert!(scopes.is_match(accepted), "AuthScopes refuses {accepted}");
    }
    for refused in ["a\"b", "a\\b", "a\tb"] {
        assert!(!scopes.is_match(refused), "AuthScopes accepts {refused:?}");
    }
    assert_eq!(
        parameters["CreateCognitoUserPool"]["AllowedValues"],
        json!(["false", "true"])
    );
    for name in [
        "AuthIssuer",
        "AuthAudience",
        "AuthScopes",
        "CognitoDomainPrefix",
    ] {
        assert_eq!(parameters[name]["Default"], "", "{name} is off by default");
    }
    assert_eq!(parameters["CreateCognitoUserPool"]["Default"], "false");
}

#[test]
fn cfn_lint_passes_the_template_with_each_way_to_authenticate() {
    cfn_lint_passes_every_allowed_case(cases());
}

#[test]
fn the_metadata_paths_reach_the_tasks_on_both_paths() {
    let settings = settings();
    // The plain template: no listener rules, so every path takes a listener's default action,
    // which forwards to the tasks (or redirects plain HTTP to the HTTPS listener that does).
    let template = &settings["observability"]["service"];
    let resources = template["Resources"].as_object().unwrap();
    let forward = json!({ "Type": "forward", "TargetGroupArn": { "Ref": "TargetGroup" } });
    for (name, resource) in resources {
        assert_ne!(
            resource["Type"], "AWS::ElasticLoadBalancingV2::ListenerRule",
            "{name}: a listener rule could keep /.well-known/oauth-protected-resource from the tasks"
        );
    }
    let http = &resources["HttpListener"]["Properties"]["DefaultActions"]["Fn::If"];
    assert_eq!(http[0], "HasCertificate");
    assert_eq!(http[1][0]["Type"], "redirect");
    assert_eq!(http[1][0]["RedirectConfig"]["Protocol"], "HTTPS");
    assert_eq!(http[2], json!([forward]));
    assert_eq!(
        resources["HttpsListener"]["Properties"]["DefaultActions"],
        json!([forward])
    );
    // Copilot: the service's listener rule matches http.path and everything below it.
    assert_eq!(settings["copilot"]["httpPath"], "/");
}
