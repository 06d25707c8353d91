//! The rules every setting follows (defaults, blanks, errors, flags, help, documentation);
//! the settings of each feature are tested in `tests/features.rs`.

use std::collections::HashMap;

use super::*;
use clap::CommandFactory;

pub(super) fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

pub(super) fn refused(vars: &[(&str, &str)]) -> String {
    config(vars)
        .unwrap_err()
        .variable()
        .expect("the error names a variable")
}

#[test]
fn defaults_match_the_documented_table() {
    let config = config(&[]).unwrap();
    assert_eq!(config.mode, Mode::Http);
    assert_eq!(config.bind(), "127.0.0.1:3100".parse().unwrap());
    assert_eq!(config.sse_keepalive, Duration::from_millis(30_000));
    assert_eq!(config.request_timeout, Duration::from_millis(300_000));
    assert_eq!(config.http_idle_timeout, Duration::from_millis(620_000));
    assert_eq!(
        config.docs_reload_interval(),
        Some(Duration::from_millis(2000))
    );
    assert_eq!(config.docs_dir, None);
    assert_eq!(config.docs_s3_timeout, Duration::from_secs(10));
    assert!(!config.docs_s3_path_style);
    assert_eq!(config.docs_limits(), crate::docs::source::Limits::default());
    assert_eq!(config.ecs_metadata_uri, None);
    assert_eq!(config.drain_idle_guess, IdleGuess::Auto);
    assert_eq!(config.log_level, "info");
    assert_eq!(config.log_format(), LogFormat::Text);
    assert!(config.origins.is_empty());
    assert!(config.hosts.allows("localhost:3100"));
    assert!(!config.hosts.allows("evil.example:3100"));
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
}

#[test]
fn blank_values_mean_the_default_and_values_are_trimmed() {
    let config = config(&[
        ("PORT", ""),
        ("REQUEST_TIMEOUT", "  "),
        ("DOCS_DIR", ""),
        ("MAX_SSE_CONNECTIONS", " 12 "),
        ("DRAIN_IDLE_GUESS", " off"),
    ])
    .unwrap();
    assert_eq!(config.port, 3100);
    assert_eq!(config.request_timeout, Duration::from_millis(300_000));
    assert_eq!(config.docs_dir, None);
    assert_eq!(config.max_sse_connections, 12);
    assert_eq!(config.drain_idle_guess, IdleGuess::Off);
}

#[test]
fn invalid_values_name_the_variable_and_the_accepted_form() {
    let error = config(&[("SSE_KEEPALIVE_INTERVAL", "30s")]).unwrap_err();
    assert_eq!(error.variable().as_deref(), Some("SSE_KEEPALIVE_INTERVAL"));
    let message = error.to_string();
    assert!(message.contains("'30s'"), "{message}");
    assert!(message.contains("SSE_KEEPALIVE_INTERVAL"), "{message}");
    assert!(message.contains("--sse-keepalive-interval"), "{message}");
    assert!(message.contains("milliseconds"), "{message}");

    assert_eq!(refused(&[("PORT", "70000")]), "PORT");
    assert_eq!(refused(&[("MCP_MODE", "websocket")]), "MCP_MODE");
    assert_eq!(refused(&[("REQUEST_TIMEOUT", "0")]), "REQUEST_TIMEOUT");
    assert_eq!(
        refused(&[("ALLOWED_ORIGINS", "journium.app")]),
        "ALLOWED_ORIGINS"
    );
    assert_eq!(refused(&[("ALLOWED_HOSTS", "bad host")]), "ALLOWED_HOSTS");
    assert_eq!(refused(&[("LOG_FORMAT", "xml")]), "LOG_FORMAT");
    assert_eq!(
        refused(&[("DRAIN_IDLE_GUESS", "maybe")]),
        "DRAIN_IDLE_GUESS"
    );
    assert_eq!(refused(&[("MAX_REQUEST_BODY", "-1")]), "MAX_REQUEST_BODY");
    assert_eq!(refused(&[("HOST", "localhost")]), "HOST");
}

#[test]
fn flags_set_what_the_variables_set_and_win_over_them() {
    let mut command = Config::command();
    for variable in variables() {
        command = command.mut_arg(variable.id.as_str(), |arg| arg.env(None::<&'static str>));
    }
    let matches = command
        .try_get_matches_from([
            "mcp-server",
            "--port",
            "8080",
            "--docs-dir=/srv/docs",
            "--mcp-mode",
            "stdio",
            "--request-timeout=1000",
        ])
        .unwrap();
    let config = Config::from_matches(Ok(matches), None).unwrap();
    assert_eq!(config.port, 8080);
    assert_eq!(config.mode, Mode::Stdio);
    assert_eq!(
        config.docs_dir,
        Some(crate::docs::source::DocsSource::Folder(PathBuf::from(
            "/srv/docs"
        )))
    );
    assert_eq!(config.request_timeout, Duration::from_millis(1000));
}

#[test]
fn every_flag_is_its_variable_in_lower_case_with_dashes() {
    let variables = variables();
    assert!(variables.len() >= 24, "{} settings", variables.len());
    for variable in &variables {
        assert_eq!(
            variable.flag,
            format!("--{}", variable.name.to_ascii_lowercase().replace('_', "-")),
            "{}",
            variable.name
        );
        assert!(!variable.help.is_empty(), "{} has no help", variable.name);
    }
}

#[test]
fn node_env_production_selects_json_logs_unless_log_format_says_otherwise() {
    assert_eq!(
        config(&[("NODE_ENV", "production")]).unwrap().log_format(),
        LogFormat::Json
    );
    assert_eq!(
        config(&[("NODE_ENV", "production"), ("LOG_FORMAT", "text")])
            .unwrap()
            .log_format(),
        LogFormat::Text
    );
}

#[test]
fn help_lists_every_variable_with_its_default() {
    let help = Config::command().render_long_help().to_string();
    for variable in variables() {
        assert!(help.contains(&variable.name), "{} missing", variable.name);
        assert!(help.contains(&variable.flag), "{} missing", variable.flag);
    }
    assert!(help.contains("[default: 3100]"), "{help}");
    assert!(help.contains("[default: 30000]"), "{help}");
}

#[test]
fn every_variable_is_documented_in_the_readme_and_the_configuration_page() {
    let readme = include_str!("../../../README.md");
    let page = include_str!("../../../docs/configuration.md");
    for variable in variables() {
        let row = format!("| `{}` |", variable.name);
        assert!(
            readme.contains(&row),
            "README has no row for {}",
            variable.name
        );
        assert!(
            page.contains(&row),
            "docs/configuration.md has no row for {}",
            variable.name
        );
    }
}

mod features;
