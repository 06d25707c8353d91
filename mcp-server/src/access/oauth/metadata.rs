//! What `AUTH=oauth` tells clients: the RFC 9728 Protected Resource Metadata document (served at
//! `/.well-known/oauth-protected-resource` and `/.well-known/oauth-protected-resource/mcp`), and
//! the `WWW-Authenticate` challenge of a refusal (RFC 6750), which points at that document so
//! MCP clients can find the authorization server.

use serde_json::{Value, json};

use super::{Refused, Settings};

/// The path of the metadata document of a resource whose URL has the path `path` (RFC 9728
/// §3.1: the well-known segment goes between the host and the resource's path).
pub fn well_known_path(path: &str) -> String {
    let path = path.trim_end_matches('/');
    format!("/.well-known/oauth-protected-resource{path}")
}

/// The absolute URL of the metadata document of `audience` (an absolute http(s) URL, as
/// `AUTH_AUDIENCE` is checked to be).
pub fn metadata_url(audience: &str) -> String {
    match audience.parse::<http::Uri>() {
        Ok(uri) if uri.scheme().is_some() && uri.authority().is_some() => format!(
            "{}://{}{}",
            uri.scheme_str().unwrap_or("https"),
            uri.authority().map_or("", |a| a.as_str()),
            well_known_path(uri.path())
        ),
        _ => well_known_path(""),
    }
}

/// The metadata document: this resource, its issuer, the scopes it requires, and that tokens
/// go in the `Authorization` header.
pub fn document(settings: &Settings) -> Value {
    let mut document = json!({
        "resource": settings.audience,
        "authorization_servers": [settings.issuer],
        "bearer_methods_supported": ["header"],
        "resource_name": "Documentation MCP server",
    });
    if !settings.scopes.is_empty() {
        document["scopes_supported"] = json!(settings.scopes);
    }
    document
}

/// The `WWW-Authenticate` value of a 401 or 403 (none for other refusals). Every quoted value
/// is free of `"` and `\`: scopes are checked at start-up, descriptions are ours, URLs cannot
/// hold them.
pub fn challenge(refused: Refused, settings: &Settings) -> Option<String> {
    let metadata = format!(
        r#"resource_metadata="{}""#,
        metadata_url(&settings.audience)
    );
    let scope = if settings.scopes.is_empty() {
        String::new()
    } else {
        format!(r#", scope="{}""#, settings.scopes.join(" "))
    };
    match refused {
        Refused::Missing => Some(format!("Bearer {metadata}{scope}")),
        Refused::Invalid(why) => Some(format!(
            r#"Bearer error="invalid_token", error_description="{why}", {metadata}{scope}"#
        )),
        Refused::UnknownKey => challenge(
            Refused::Invalid("the token is signed by a key the issuer does not publish"),
            settings,
        ),
        Refused::Scope => Some(format!(
            r#"Bearer error="insufficient_scope"{scope}, error_description="the token lacks a required scope", {metadata}"#
        )),
        Refused::Unavailable => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(scopes: &[&str]) -> Settings {
        Settings {
            issuer: "https://idp.example.com".into(),
            audience: "https://docs.example.com/mcp".into(),
            aliases: vec![],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            audience_in_scope: false,
        }
    }

    #[test]
    fn the_metadata_url_inserts_the_well_known_segment() {
        assert_eq!(
            metadata_url("https://docs.example.com/mcp"),
            "https://docs.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("https://docs.example.com:8443/"),
            "https://docs.example.com:8443/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            metadata_url("http://127.0.0.1:3100/team/mcp"),
            "http://127.0.0.1:3100/.well-known/oauth-protected-resource/team/mcp"
        );
    }

    #[test]
    fn challenges_follow_rfc_6750_and_the_mcp_spec() {
        let s = settings(&["docs:read", "docs:write"]);
        let meta = r#"resource_metadata="https://docs.example.com/.well-known/oauth-protected-resource/mcp""#;
        assert_eq!(
            challenge(Refused::Missing, &s).unwrap(),
            format!(r#"Bearer {meta}, scope="docs:read docs:write""#)
        );
        assert_eq!(
            challenge(Refused::Missing, &settings(&[])).unwrap(),
            format!("Bearer {meta}")
        );
        assert_eq!(
            challenge(Refused::Invalid("the token has expired"), &s).unwrap(),
            format!(
                r#"Bearer error="invalid_token", error_description="the token has expired", {meta}, scope="docs:read docs:write""#
            )
        );
        let scope = challenge(Refused::Scope, &s).unwrap();
        assert!(
            scope.starts_with(r#"Bearer error="insufficient_scope", scope="docs:read docs:write""#)
        );
        assert!(scope.ends_with(meta));
        assert_eq!(challenge(Refused::Unavailable, &s), None);
        let document = document(&s);
        assert_eq!(document["resource"], "https://docs.example.com/mcp");
        assert_eq!(
            document["authorization_servers"][0],
            "https://idp.example.com"
        );
        assert_eq!(document["scopes_supported"][1], "docs:write");
        assert!(
            super::document(&settings(&[]))
                .get("scopes_supported")
                .is_none()
        );
    }
}
