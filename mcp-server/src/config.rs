//! Configuration: one typed struct, read once from the environment at start-up.
//!
//! Every variable the server reads is listed in [`VARIABLES`]; `mcp-server --help` prints that
//! table, and the README documents the same list. Nothing else in the crate reads the
//! environment. An invalid value stops start-up with a message that names the variable and the
//! form it accepts.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::origin::{HostPolicy, OriginPolicy};

/// One environment variable: its name, its default as the user would type it, and what it does.
pub struct Variable {
    /// The environment variable's name.
    pub name: &'static str,
    /// The default, as text; empty when unset means something specific (said in `help`).
    pub default: &'static str,
    /// One line for `--help` and the README.
    pub help: &'static str,
}

/// Every variable the server reads, in the order `--help` prints them.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "MCP_MODE",
        default: "http",
        help: "`http` serves /mcp and /health; `stdio` serves MCP on stdin/stdout (logs on stderr)",
    },
    Variable {
        name: "PORT",
        default: "3100",
        help: "TCP port to listen on (0 picks a free port and logs it)",
    },
    Variable {
        name: "HOST",
        default: "127.0.0.1",
        help: "address to bind; the container image sets 0.0.0.0",
    },
    Variable {
        name: "DOCS_DIR",
        default: "",
        help: "folder of Markdown (.md, .mdx) to serve; empty serves this project's own docs, embedded in the binary",
    },
    Variable {
        name: "DOCS_RELOAD_INTERVAL",
        default: "2000",
        help: "ms between checks of DOCS_DIR for changes (then the index is rebuilt and clients told); 0 turns reloading off",
    },
    Variable {
        name: "ALLOWED_ORIGINS",
        default: "",
        help: "comma-separated browser origins allowed to call /mcp, e.g. `https://app.example.com,https://*.example.com`; requests without Origin always pass; empty refuses every Origin",
    },
    Variable {
        name: "ALLOWED_HOSTS",
        default: "",
        help: "comma-separated Host values accepted on /mcp (`name`, `name:port`, `*.example.com`, or `*`); empty means loopback names when HOST is loopback, any host otherwise",
    },
    Variable {
        name: "SSE_KEEPALIVE_INTERVAL",
        default: "30000",
        help: "ms between keep-alive comments on every SSE stream; keep it below the smallest idle timeout on the path (ALB: 60 s by default)",
    },
    Variable {
        name: "SSE_RETRY_INTERVAL",
        default: "3000",
        help: "ms sent as the SSE `retry:` field: how long clients wait before reconnecting a stream the server ended",
    },
    Variable {
        name: "REQUEST_TIMEOUT",
        default: "300000",
        help: "ms a request may run (then it gets a JSON-RPC error) and a stream may stay open (then it ends after a `retry:` field)",
    },
    Variable {
        name: "HTTP_IDLE_TIMEOUT",
        default: "620000",
        help: "ms an idle keep-alive connection is kept; must exceed the load balancer's idle timeout (ALB addon: 600 s) or the ALB reuses a closing connection (502)",
    },
    Variable {
        name: "HEADER_READ_TIMEOUT",
        default: "30000",
        help: "ms a client has, once it starts a request, to send all its headers",
    },
    Variable {
        name: "SHUTDOWN_TIMEOUT",
        default: "25000",
        help: "ms in-flight requests get to finish after SIGTERM/SIGINT before the process exits; keep it below the task's stop timeout",
    },
    Variable {
        name: "DRAIN_IDLE_TIMEOUT",
        default: "60000",
        help: "ms without any request (health checks included) after which the server assumes the load balancer has let it go and drains",
    },
    Variable {
        name: "DRAIN_IDLE_GUESS",
        default: "auto",
        help: "`auto` arms that guess once a load-balancer health check (User-Agent ELB-HealthChecker/) is seen; `on` arms it from the start; `off` never guesses",
    },
    Variable {
        name: "ECS_CONTAINER_METADATA_URI_V4",
        default: "",
        help: "set by ECS: when present, the task metadata is polled and DesiredStatus STOPPED starts a drain",
    },
    Variable {
        name: "ECS_METADATA_POLL_INTERVAL",
        default: "5000",
        help: "ms between polls of the ECS task metadata",
    },
    Variable {
        name: "MAX_SSE_CONNECTIONS",
        default: "10000",
        help: "long-lived SSE streams (GET and subscriptions/listen) one process holds; beyond it a new one gets 503 with Retry-After",
    },
    Variable {
        name: "LEGACY_SESSION_IDLE_TIMEOUT",
        default: "1800000",
        help: "ms a legacy (pre-2026-07-28) session may go without traffic before it is closed; keep it above REQUEST_TIMEOUT so a client holding a GET stream stays alive",
    },
    Variable {
        name: "MAX_LEGACY_SESSIONS",
        default: "10000",
        help: "legacy sessions one process holds at most; beyond it `initialize` gets 503 with Retry-After",
    },
    Variable {
        name: "MAX_REQUEST_BODY",
        default: "4194304",
        help: "bytes a POST body may have; larger bodies get 413",
    },
    Variable {
        name: "LOG_LEVEL",
        default: "info",
        help: "`error`, `warn`, `info`, `debug` or `trace`, or a tracing filter such as `info,mcp_server=debug`; at info and below the SDK's own lines (which carry session ids) are held to warn",
    },
    Variable {
        name: "LOG_FORMAT",
        default: "",
        help: "`json` (one object per line, for CloudWatch) or `text`; empty means json when NODE_ENV=production, text otherwise",
    },
    Variable {
        name: "NODE_ENV",
        default: "",
        help: "kept from the Node.js seed: `production` makes JSON the default log format; nothing else reads it",
    },
];

/// How the process talks MCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Streamable HTTP on `/mcp`, plus `/health`.
    Http,
    /// Newline-delimited JSON-RPC on stdin/stdout, for local clients that spawn the server.
    Stdio,
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line: what CloudWatch Logs Insights queries parse.
    Json,
    /// Human-readable lines for a terminal.
    Text,
}

/// The server's whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// HTTP or stdio.
    pub mode: Mode,
    /// Where to listen in HTTP mode.
    pub bind: SocketAddr,
    /// Markdown folder to serve; `None` serves the embedded docs.
    pub docs_dir: Option<std::path::PathBuf>,
    /// How often `docs_dir` is checked for changes; `None` never.
    pub docs_reload_interval: Option<Duration>,
    /// Which browser origins may call `/mcp`.
    pub origins: OriginPolicy,
    /// Which `Host` values `/mcp` answers (DNS-rebinding protection).
    pub hosts: HostPolicy,
    /// Whether `ALLOWED_HOSTS` was given (an explicit `*` is a choice, not an oversight).
    pub hosts_configured: bool,
    /// Interval of SSE keep-alive comments.
    pub sse_keepalive: Duration,
    /// The `retry:` hint sent before the server ends a stream.
    pub sse_retry: Duration,
    /// Longest a request may run and a stream may stay open.
    pub request_timeout: Duration,
    /// How long an idle keep-alive connection is kept.
    pub http_idle_timeout: Duration,
    /// How long a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// Silence after which the server assumes it is draining.
    pub drain_idle_timeout: Duration,
    /// When that guess may fire.
    pub drain_idle_guess: crate::drain::IdleGuess,
    /// ECS task metadata base URL, when running on ECS.
    pub ecs_metadata_uri: Option<String>,
    /// How often the task metadata is polled.
    pub ecs_metadata_poll_interval: Duration,
    /// Cap on long-lived SSE streams.
    pub max_sse_connections: usize,
    /// Idle expiry of legacy sessions.
    pub legacy_session_idle_timeout: Duration,
    /// Cap on legacy sessions.
    pub max_legacy_sessions: usize,
    /// Cap on POST body size.
    pub max_request_body: usize,
    /// Tracing filter directive.
    pub log_level: String,
    /// Log line format.
    pub log_format: LogFormat,
}

/// A variable with a value the server cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// The value as given.
    pub value: String,
    /// What the variable accepts.
    pub expected: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {}={:?}: expected {}",
            self.variable, self.value, self.expected
        )
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let reader = Reader { lookup: &lookup };
        let mode = match reader.text("MCP_MODE").as_str() {
            "http" => Mode::Http,
            "stdio" => Mode::Stdio,
            other => return Err(reader.error("MCP_MODE", other, "`http` or `stdio`")),
        };
        let port: u16 = reader.parse("PORT", "a TCP port number from 0 to 65535")?;
        let host: IpAddr = reader.parse("HOST", "an IP address such as 127.0.0.1 or 0.0.0.0")?;
        let bind = SocketAddr::new(host, port);

        let origins_text = reader.text("ALLOWED_ORIGINS");
        let origins = OriginPolicy::parse(&origins_text).map_err(|why| {
            reader.error(
                "ALLOWED_ORIGINS",
                &origins_text,
                &format!(
                    "comma-separated origins such as https://app.example.com or https://*.example.com ({why})"
                ),
            )
        })?;
        let hosts_text = reader.text("ALLOWED_HOSTS");
        let hosts_configured = !hosts_text.trim().is_empty();
        let hosts = if !hosts_configured {
            HostPolicy::default_for_bind(host)
        } else {
            HostPolicy::parse(&hosts_text).map_err(|why| {
                reader.error(
                    "ALLOWED_HOSTS",
                    &hosts_text,
                    &format!(
                        "comma-separated host names such as docs.example.com, localhost:3100, *.example.com or * ({why})"
                    ),
                )
            })?
        };

        let log_format = match reader.text("LOG_FORMAT").as_str() {
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            "" if reader.text("NODE_ENV") == "production" => LogFormat::Json,
            "" => LogFormat::Text,
            other => return Err(reader.error("LOG_FORMAT", other, "`json` or `text`")),
        };
        let log_level = reader.text("LOG_LEVEL");
        if log_level.trim().is_empty() {
            return Err(reader.error(
                "LOG_LEVEL",
                &log_level,
                "a level (error, warn, info, debug, trace) or a tracing filter",
            ));
        }

        let docs_dir = Some(reader.text("DOCS_DIR"))
            .filter(|d| !d.is_empty())
            .map(std::path::PathBuf::from);
        let reload_text = reader.text("DOCS_RELOAD_INTERVAL");
        let docs_reload_interval = match reload_text.parse::<u64>() {
            Ok(0) => None,
            Ok(ms) => Some(Duration::from_millis(ms)),
            Err(_) => {
                return Err(reader.error(
                    "DOCS_RELOAD_INTERVAL",
                    &reload_text,
                    "a whole number of milliseconds, or 0 to turn reloading off",
                ));
            }
        };

        let drain_idle_guess = match reader.text("DRAIN_IDLE_GUESS").as_str() {
            "auto" => crate::drain::IdleGuess::Auto,
            "on" => crate::drain::IdleGuess::On,
            "off" => crate::drain::IdleGuess::Off,
            other => return Err(reader.error("DRAIN_IDLE_GUESS", other, "`auto`, `on` or `off`")),
        };
        let ecs_metadata_uri =
            Some(reader.text("ECS_CONTAINER_METADATA_URI_V4")).filter(|u| !u.is_empty());

        Ok(Config {
            mode,
            bind,
            drain_idle_timeout: reader.millis("DRAIN_IDLE_TIMEOUT")?,
            drain_idle_guess,
            ecs_metadata_uri,
            ecs_metadata_poll_interval: reader.millis("ECS_METADATA_POLL_INTERVAL")?,
            max_sse_connections: reader.positive("MAX_SSE_CONNECTIONS")?,
            docs_dir,
            docs_reload_interval,
            origins,
            hosts,
            hosts_configured,
            sse_keepalive: reader.millis("SSE_KEEPALIVE_INTERVAL")?,
            sse_retry: reader.millis("SSE_RETRY_INTERVAL")?,
            request_timeout: reader.millis("REQUEST_TIMEOUT")?,
            http_idle_timeout: reader.millis("HTTP_IDLE_TIMEOUT")?,
            header_read_timeout: reader.millis("HEADER_READ_TIMEOUT")?,
            shutdown_timeout: reader.millis("SHUTDOWN_TIMEOUT")?,
            legacy_session_idle_timeout: reader.millis("LEGACY_SESSION_IDLE_TIMEOUT")?,
            max_legacy_sessions: reader.positive("MAX_LEGACY_SESSIONS")?,
            max_request_body: reader.positive("MAX_REQUEST_BODY")?,
            log_level,
            log_format,
        })
    }

    /// Warnings about values that work but probably are not what the operator wants.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.sse_keepalive >= Duration::from_secs(60) {
            warnings.push(format!(
                "SSE_KEEPALIVE_INTERVAL is {} ms: a load balancer with the default 60 s idle timeout will cut quiet streams",
                self.sse_keepalive.as_millis()
            ));
        }
        if self.legacy_session_idle_timeout <= self.request_timeout {
            warnings.push(
                "LEGACY_SESSION_IDLE_TIMEOUT is not above REQUEST_TIMEOUT: sessions that only hold a GET stream may expire".into(),
            );
        }
        if self.shutdown_timeout >= Duration::from_secs(120) {
            warnings.push(
                "SHUTDOWN_TIMEOUT is 120 s or more: ECS kills a task at most 120 s after SIGTERM"
                    .into(),
            );
        }
        if !self.hosts_configured && !self.bind.ip().is_loopback() {
            warnings.push(
                "ALLOWED_HOSTS is not set and HOST is not loopback: any Host header is accepted; set ALLOWED_HOSTS to the public host name".into(),
            );
        }
        warnings
    }
}

/// The text of `mcp-server --help`.
pub fn help_text() -> String {
    let mut text = format!(
        "{name} {version}: {description}\n\n\
         Usage: {name} [--help | --version]\n\n\
         Configuration is read from the environment only:\n\n",
        name = env!("CARGO_PKG_NAME"),
        version = env!("CARGO_PKG_VERSION"),
        description = env!("CARGO_PKG_DESCRIPTION"),
    );
    let width = VARIABLES.iter().map(|v| v.name.len()).max().unwrap_or(0);
    for variable in VARIABLES {
        let default = if variable.default.is_empty() {
            "(unset)".to_string()
        } else {
            variable.default.to_string()
        };
        text.push_str(&format!(
            "  {:width$}  default {}\n  {:width$}  {}\n\n",
            variable.name, default, "", variable.help
        ));
    }
    text.push_str("Durations are whole milliseconds. See README.md for the full reference.\n");
    text
}

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Reader<'_> {
    fn default_of(name: &str) -> &'static str {
        VARIABLES
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.default)
            .unwrap_or_else(|| panic!("{name} is read but missing from VARIABLES"))
    }

    /// The value, or the default when unset or empty.
    fn text(&self, name: &'static str) -> String {
        match (self.lookup)(name) {
            Some(value) if !value.trim().is_empty() => value.trim().to_string(),
            _ => Self::default_of(name).to_string(),
        }
    }

    fn error(&self, variable: &'static str, value: &str, expected: &str) -> ConfigError {
        ConfigError {
            variable,
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        expected: &str,
    ) -> Result<T, ConfigError> {
        let value = self.text(name);
        value
            .parse()
            .map_err(|_| self.error(name, &value, expected))
    }

    fn positive(&self, name: &'static str) -> Result<usize, ConfigError> {
        let value = self.text(name);
        match value.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(self.error(name, &value, "a whole number greater than 0")),
        }
    }

    fn millis(&self, name: &'static str) -> Result<Duration, ConfigError> {
        let value = self.text(name);
        match value.parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
            _ => Err(self.error(
                name,
                &value,
                &format!(
                    "a whole number of milliseconds greater than 0, e.g. {}",
                    Self::default_of(name)
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let config = config(&[]).unwrap();
        assert_eq!(config.mode, Mode::Http);
        assert_eq!(config.bind, "127.0.0.1:3100".parse().unwrap());
        assert_eq!(config.sse_keepalive, Duration::from_millis(30_000));
        assert_eq!(config.request_timeout, Duration::from_millis(300_000));
        assert_eq!(config.http_idle_timeout, Duration::from_millis(620_000));
        assert_eq!(config.log_level, "info");
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(config.hosts.allows("localhost:3100"));
        assert!(!config.hosts.allows("evil.example:3100"));
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    }

    #[test]
    fn invalid_values_name_the_variable_and_the_accepted_form() {
        let error = config(&[("SSE_KEEPALIVE_INTERVAL", "30s")]).unwrap_err();
        assert_eq!(error.variable, "SSE_KEEPALIVE_INTERVAL");
        let message = error.to_string();
        assert!(
            message.contains("SSE_KEEPALIVE_INTERVAL=\"30s\""),
            "{message}"
        );
        assert!(message.contains("milliseconds"), "{message}");

        assert_eq!(config(&[("PORT", "70000")]).unwrap_err().variable, "PORT");
        assert_eq!(
            config(&[("MCP_MODE", "websocket")]).unwrap_err().variable,
            "MCP_MODE"
        );
        assert_eq!(
            config(&[("REQUEST_TIMEOUT", "0")]).unwrap_err().variable,
            "REQUEST_TIMEOUT"
        );
        assert_eq!(
            config(&[("ALLOWED_ORIGINS", "journium.app")])
                .unwrap_err()
                .variable,
            "ALLOWED_ORIGINS"
        );
        assert_eq!(
            config(&[("LOG_FORMAT", "xml")]).unwrap_err().variable,
            "LOG_FORMAT"
        );
    }

    #[test]
    fn node_env_production_selects_json_logs_unless_log_format_says_otherwise() {
        assert_eq!(
            config(&[("NODE_ENV", "production")]).unwrap().log_format,
            LogFormat::Json
        );
        assert_eq!(
            config(&[("NODE_ENV", "production"), ("LOG_FORMAT", "text")])
                .unwrap()
                .log_format,
            LogFormat::Text
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
        let chosen = super::Config::from_lookup(|k| match k {
            "HOST" => Some("0.0.0.0".into()),
            "ALLOWED_HOSTS" => Some("*".into()),
            _ => None,
        })
        .unwrap();
        assert!(chosen.warnings().is_empty(), "an explicit * is a choice");
    }

    #[test]
    fn help_lists_every_variable_with_its_default() {
        let help = help_text();
        for variable in VARIABLES {
            assert!(help.contains(variable.name), "{} missing", variable.name);
        }
        assert!(help.contains("default 3100"));
        assert!(help.contains("default 30000"));
    }
}
