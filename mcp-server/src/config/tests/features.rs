//! The settings of each feature: documentation (reloading, S3, variants), the memory budget,
//! the session store, metrics, OAuth and a public bind.

use super::super::*;
use super::{config, refused};
use clap::CommandFactory;

#[test]
fn zero_turns_reloading_off() {
    let config = config(&[("DOCS_RELOAD_INTERVAL", "0")]).unwrap();
    assert_eq!(config.docs_reload_interval(), None);
}

#[test]
fn an_s3_docs_dir_is_checked_every_30_s_unless_told_otherwise() {
    use crate::docs::source::{DocsSource, S3Location};
    let site = config(&[("DOCS_DIR", "s3://docs-bucket/site")]).unwrap();
    assert_eq!(
        site.docs_dir,
        Some(DocsSource::S3(S3Location {
            bucket: "docs-bucket".into(),
            prefix: "site/".into()
        }))
    );
    assert_eq!(site.docs_reload_interval(), Some(Duration::from_secs(30)));
    let given = config(&[
        ("DOCS_DIR", "s3://docs-bucket/"),
        ("DOCS_RELOAD_INTERVAL", "5000"),
        ("DOCS_S3_PATH_STYLE", "true"),
        ("DOCS_MAX_PAGES", "7"),
    ])
    .unwrap();
    assert_eq!(given.docs_reload_interval(), Some(Duration::from_secs(5)));
    assert!(given.docs_s3_path_style);
    assert_eq!(given.docs_limits().pages, 7);
    assert_eq!(refused(&[("DOCS_DIR", "s3://Bad_Bucket/x")]), "DOCS_DIR");
    assert_eq!(refused(&[("DOCS_S3_TIMEOUT", "0")]), "DOCS_S3_TIMEOUT");
    assert_eq!(
        refused(&[("DOCS_MAX_PAGE_BYTES", "0")]),
        "DOCS_MAX_PAGE_BYTES"
    );
}

#[test]
fn a_public_bind_without_allowed_hosts_accepts_any_host_and_warns() {
    let config = config(&[("HOST", "0.0.0.0")]).unwrap();
    assert!(config.hosts.allows("docs.example.com"));
    assert!(config.hosts.allows("10.0.3.7:3100"));
    assert!(
        config
            .warnings()
            .iter()
            .any(|w| w.contains("ALLOWED_HOSTS"))
    );
    assert!(
        config
            .warnings()
            .iter()
            .any(|w| w.contains("TRUSTED_PROXY_HOPS"))
    );
    let chosen = super::Config::from_lookup(|k| match k {
        "HOST" => Some("0.0.0.0".into()),
        "ALLOWED_HOSTS" => Some("*".into()),
        "TRUSTED_PROXY_HOPS" => Some("1".into()),
        _ => None,
    })
    .unwrap();
    assert!(chosen.warnings().is_empty(), "an explicit * is a choice");
}

#[test]
fn a_memory_limit_lowers_the_caps_left_at_their_defaults_only() {
    let limited = config(&[("MEMORY_LIMIT", "1073741824")]).unwrap();
    assert_eq!(limited.memory.map(|m| m.bytes), Some(1 << 30));
    assert_eq!(
        (
            limited.max_legacy_sessions,
            limited.max_sse_connections,
            limited.max_connections,
            limited.max_body_bytes_in_flight
        ),
        (3981, 9953, 12164, 64 << 20)
    );
    let chosen = config(&[
        ("MEMORY_LIMIT", "1073741824"),
        ("MAX_LEGACY_SESSIONS", "9000"),
    ])
    .unwrap();
    assert_eq!(
        (chosen.max_legacy_sessions, chosen.max_sse_connections),
        (9000, 9953)
    );
    assert!(limited.warnings().is_empty(), "{:?}", limited.warnings());
    let blank = config(&[("MEMORY_LIMIT", "1073741824"), ("MAX_LEGACY_SESSIONS", " ")]).unwrap();
    assert_eq!(
        blank.max_legacy_sessions, 3981,
        "blank means the default, derived too"
    );
    assert!(
        chosen.warnings().iter().any(|w| w.contains("memory limit")),
        "an explicit cap above the budget is kept, with a warning"
    );
    let unknown = config(&[]).unwrap();
    assert_eq!(unknown.memory, None);
    assert_eq!(
        (unknown.max_legacy_sessions, unknown.max_sse_connections),
        (10_000, 10_000)
    );
    assert_eq!(refused(&[("MEMORY_LIMIT", "1G")]), "MEMORY_LIMIT");
    let odd = config(&[
        ("MAX_BODY_BYTES_IN_FLIGHT", "1000"),
        ("MAX_CONNECTIONS", "5"),
    ])
    .unwrap();
    let warnings = odd.warnings().join("\n");
    assert!(
        warnings.contains("MAX_BODY_BYTES_IN_FLIGHT (1000) is below MAX_REQUEST_BODY"),
        "{warnings}"
    );
    assert!(
        warnings.contains("MAX_CONNECTIONS (5) is below MAX_SSE_CONNECTIONS"),
        "{warnings}"
    );
    assert_eq!(refused(&[("MAX_CONNECTIONS", "0")]), "MAX_CONNECTIONS");
}

#[test]
fn variant_settings_are_checked_and_become_the_rules() {
    assert_eq!(
        refused(&[("DOCS_VERSION_PATTERN", "(")]),
        "DOCS_VERSION_PATTERN"
    );
    assert_eq!(
        refused(&[("DOCS_LANGUAGE_PATTERN", r"\.ja\.md$")]),
        "DOCS_LANGUAGE_PATTERN",
        "a language pattern without a group names no language"
    );
    let chosen = config(&[
        ("DOCS_VERSION_PATTERN", "^release-\\d+$"),
        ("DOCS_LANGUAGE", "ja"),
        ("DOCS_VERSION", "release-2"),
    ])
    .unwrap();
    let rules = chosen.variant_rules();
    let variant = rules.variant("release-2/guide.ja.md");
    assert_eq!(variant.key, "guide.md");
    assert_eq!(variant.version.as_deref(), Some("release-2"));
    assert_eq!(rules.default_language, "ja");
    assert_eq!(rules.default_version.as_deref(), Some("release-2"));
    let defaults = config(&[]).unwrap().variant_rules();
    assert_eq!(defaults.variant("v1.2/a.en.md").key, "a.md");
}

#[test]
fn the_session_store_is_read_and_a_refused_url_never_shows_its_password() {
    let memory = config(&[]).unwrap();
    assert_eq!(memory.session_store, StoreSetting::Memory);
    let redis = config(&[("SESSION_STORE", " redis://127.0.0.1:6379/0 ")]).unwrap();
    assert!(matches!(redis.session_store, StoreSetting::Redis(_)));
    for bad in [
        "redis://:hunter2@host:notaport/0",
        "https://app:hunter2@host",
        "app:hunter2@host",
    ] {
        let message = config(&[("SESSION_STORE", bad)]).unwrap_err().to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("SESSION_STORE"), "{message}");
    }
    // Nor does --help print the variable's value.
    let help = Config::command().render_help().to_string();
    assert!(help.contains("SESSION_STORE"));
}

#[test]
fn metrics_settings_are_checked_and_have_deployment_friendly_defaults() {
    let local = config(&[]).unwrap();
    assert_eq!(
        local.emf_interval(),
        None,
        "no EMF lines off ECS unless asked"
    );
    assert_eq!(
        local.metrics_bind(),
        None,
        "no Prometheus listener unless asked"
    );
    assert_eq!(local.metrics_namespace, "DocsMcp");
    assert_eq!(local.metrics_service(), "docs-mcp");
    let ecs = config(&[("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/x")]).unwrap();
    assert_eq!(
        ecs.emf_interval(),
        Some(Duration::from_secs(60)),
        "on by default on ECS"
    );
    let off = config(&[
        ("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/x"),
        ("METRICS_EMF_INTERVAL", "0"),
    ])
    .unwrap();
    assert_eq!(off.emf_interval(), None);
    let stdio = config(&[("MCP_MODE", "stdio"), ("METRICS_EMF_INTERVAL", "1000")]).unwrap();
    assert_eq!(
        stdio.emf_interval(),
        None,
        "stdout carries MCP in stdio mode"
    );
    for bad in ["50", "3600001", "18446744073709551615", "-1", "1m"] {
        assert_eq!(
            refused(&[("METRICS_EMF_INTERVAL", bad)]),
            "METRICS_EMF_INTERVAL",
            "{bad}"
        );
    }
    for bad in ["AWS/ECS", "aws/x", ":x", "tab\there", &"x".repeat(256)] {
        assert_eq!(
            refused(&[("METRICS_NAMESPACE", bad)]),
            "METRICS_NAMESPACE",
            "{bad}"
        );
    }
    let copilot = config(&[
        ("COPILOT_APPLICATION_NAME", "docs"),
        ("COPILOT_ENVIRONMENT_NAME", "prod"),
        ("COPILOT_SERVICE_NAME", "docs-mcp"),
    ])
    .unwrap();
    assert_eq!(
        copilot.metrics_service(),
        "docs-prod-docs-mcp",
        "environments kept apart"
    );
    let named = config(&[("COPILOT_SERVICE_NAME", "svc"), ("METRICS_SERVICE", "mine")]).unwrap();
    assert_eq!(named.metrics_service(), "mine");
    let port = config(&[("METRICS_PORT", "9464"), ("HOST", "0.0.0.0")]).unwrap();
    assert_eq!(port.metrics_bind(), Some("0.0.0.0:9464".parse().unwrap()));
    let both = config(&[
        ("METRICS_PORT", "9464"),
        ("METRICS_HOST", "127.0.0.1"),
        ("HOST", "0.0.0.0"),
    ])
    .unwrap();
    assert_eq!(both.metrics_bind(), Some("127.0.0.1:9464".parse().unwrap()));
}

#[test]
fn oauth_settings_are_read_whole_and_only_with_auth_oauth() {
    let base = [
        ("AUTH", "oauth"),
        (
            "AUTH_ISSUER",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
        ),
        ("AUTH_AUDIENCE", "https://docs.example.com/mcp"),
    ];
    let plain = config(&base).unwrap().oauth.unwrap();
    assert!(plain.scopes.is_empty());
    assert!(!plain.audience_in_scope);
    let mut cognito = base.to_vec();
    cognito.extend([
        (
            "AUTH_SCOPES",
            "https://docs.example.com/mcp/read, docs:extra docs:extra",
        ),
        ("AUTH_AUDIENCE_IN_SCOPE", "true"),
        (
            "AUTH_AUDIENCE_ALIASES",
            "api://docs, 6731de76-14a6-49ae-97bc-6eba6914391e",
        ),
    ]);
    let settings = config(&cognito).unwrap().oauth.unwrap();
    assert_eq!(
        settings.scopes,
        ["https://docs.example.com/mcp/read", "docs:extra"]
    );
    assert!(
        settings.audience_in_scope,
        "a boolean setting takes a value"
    );
    assert_eq!(
        settings.aliases,
        ["api://docs", "6731de76-14a6-49ae-97bc-6eba6914391e"]
    );
    assert_eq!(
        refused(&[("AUTH_AUDIENCE_IN_SCOPE", "yes")]),
        "AUTH_AUDIENCE_IN_SCOPE"
    );
    for bad in [
        "https://docs.example.com/mc\"p",
        "https://docs.example.com/mcp#frag",
        "https://user:pw@docs.example.com/mcp",
        "https://docs.example.com/m cp",
        "docs",
    ] {
        let mut vars = base.to_vec();
        vars[2] = ("AUTH_AUDIENCE", bad);
        let message = config(&vars).unwrap_err().to_string();
        assert!(
            message.contains("--auth-audience <AUTH_AUDIENCE>"),
            "{bad}: {message}"
        );
    }
    let other = config(&[("AUTH_ISSUER", "https://idp.example.com")]).unwrap();
    assert!(other.oauth.is_none());
    assert!(
        other
            .warnings()
            .iter()
            .any(|w| w.contains("AUTH is not oauth")),
        "an issuer without AUTH=oauth guards nothing"
    );
}
