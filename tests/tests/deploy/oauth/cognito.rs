//! The Cognito resources `CreateCognitoUserPool=true` adds, and the outputs of each way to
//! authenticate: what exists in which case, how it is wired to `AuthAudience`, and that no
//! output gives the client's secret away.

use serde_json::{Value, json};

use super::{AUDIENCE, COGNITO, PREFIX, cases, deployments};

#[test]
fn the_cognito_user_pool_exists_only_when_asked_for_and_serves_the_audience() {
    let (_, deployed) = deployments();
    for (case, _, refused) in cases() {
        if !refused.is_empty() {
            continue;
        }
        let resources = deployed[case]["resources"].as_object().unwrap();
        let cognito: Vec<&String> = resources
            .iter()
            .filter(|(_, r)| r["Type"].as_str().unwrap().starts_with("AWS::Cognito::"))
            .map(|(name, _)| name)
            .collect();
        if !case.starts_with("cognito") {
            assert!(cognito.is_empty(), "{case}: Cognito resources {cognito:?}");
            continue;
        }
        for (name, kind) in COGNITO {
            assert_eq!(resources[*name]["Type"], *kind, "{case}: {name}");
        }
        assert_eq!(cognito.len(), COGNITO.len(), "{case}: {cognito:?}");
        let properties = |name: &str| &resources[name]["Properties"];

        // Nobody signs up; the pool outlives an accidental delete.
        let pool = properties("UserPool");
        assert_eq!(
            pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
            true
        );
        assert_eq!(pool["DeletionProtection"], "ACTIVE");
        assert_eq!(resources["UserPool"]["DeletionPolicy"], "Retain");
        assert_eq!(resources["UserPool"]["UpdateReplacePolicy"], "Retain");

        let domain = properties("UserPoolDomain");
        assert_eq!(domain["UserPoolId"], "${UserPool}");
        assert_eq!(domain["Domain"], PREFIX, "a Cognito prefix domain");
        assert!(domain.get("CustomDomainConfig").is_none());

        // The resource server is the MCP endpoint, with the one scope the client gets.
        let server = properties("UserPoolResourceServer");
        assert_eq!(server["UserPoolId"], "${UserPool}");
        assert_eq!(server["Identifier"], AUDIENCE);
        let scopes: Vec<&Value> = server["Scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["ScopeName"])
            .collect();
        assert_eq!(scopes, [&json!("read")]);

        // A machine client: client credentials with a secret, for that scope only.
        let client = properties("UserPoolClient");
        assert_eq!(client["UserPoolId"], "${UserPool}");
        assert_eq!(client["GenerateSecret"], true);
        assert_eq!(client["AllowedOAuthFlowsUserPoolClient"], true);
        assert_eq!(client["AllowedOAuthFlows"], json!(["client_credentials"]));
        assert_eq!(
            client["AllowedOAuthScopes"],
            json!([format!("{AUDIENCE}/read")])
        );
        assert!(client.get("CallbackURLs").is_none());
        // The scope is named by text: without the dependency the client could be created
        // before the scope exists.
        assert_eq!(
            resources["UserPoolClient"]["DependsOn"],
            "UserPoolResourceServer"
        );
        // The documented token lifetime.
        assert_eq!(client["AccessTokenValidity"], 60);
        assert_eq!(client["TokenValidityUnits"]["AccessToken"], "minutes");
    }
}

#[test]
fn the_outputs_say_where_tokens_and_metadata_are_and_never_give_the_secret() {
    let (settings, deployed) = deployments();
    let region = settings["observability"]["pseudo"]["AWS::Region"]
        .as_str()
        .unwrap();
    let oauth_outputs = [
        "OAuthProtectedResourceMetadataUrl",
        "CognitoTokenEndpoint",
        "CognitoUserPoolId",
        "CognitoClientId",
    ];
    for (case, _, refused) in cases() {
        if !refused.is_empty() {
            continue;
        }
        let outputs = deployed[case]["outputs"].as_object().unwrap();
        for (name, output) in outputs {
            assert!(
                !output["value"].to_string().contains("ClientSecret"),
                "{case}: output {name} gives the client secret away"
            );
        }
        let present: Vec<&str> = oauth_outputs
            .into_iter()
            .filter(|name| outputs.contains_key(*name))
            .collect();
        let value = |name: &str| outputs[name]["value"].as_str().unwrap();
        match case {
            "none" | "apiKeys" => assert!(present.is_empty(), "{case}: {present:?}"),
            "issuer" | "issuerWithScopes" => {
                assert_eq!(present, ["OAuthProtectedResourceMetadataUrl"], "{case}")
            }
            _ => assert_eq!(present, oauth_outputs, "{case}"),
        }
        if present.is_empty() {
            continue;
        }
        // RFC 9728: the well-known path goes between the host and the resource's path.
        assert_eq!(
            value("OAuthProtectedResourceMetadataUrl"),
            "https://docs.example.com/.well-known/oauth-protected-resource/mcp",
            "{case}"
        );
        if present.len() == 1 {
            continue;
        }
        assert_eq!(
            value("CognitoTokenEndpoint"),
            format!("https://{PREFIX}.auth.{region}.amazoncognito.com/oauth2/token")
        );
        // The pool id is the last part of the issuer the tasks check tokens against.
        assert_eq!(value("CognitoUserPoolId"), "${UserPool}");
        let issuer = &deployed[case]["task"]["environment"]["AUTH_ISSUER"];
        assert!(
            issuer.as_str().unwrap().ends_with("/${UserPool}"),
            "{issuer}"
        );
        assert_eq!(value("CognitoClientId"), "${UserPoolClient}");
        let description = outputs["CognitoClientId"]["description"].as_str().unwrap();
        assert!(
            description.contains("aws cognito-idp describe-user-pool-client")
                && description.contains("ClientSecret"),
            "the client id's description says how to read the secret: {description}"
        );
    }
}
