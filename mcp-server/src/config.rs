//! Configuration: one typed struct, declared once with clap and read once at start-up.
//!
//! Each setting is one field: its flag, its environment variable, its default and its help text
//! (the doc comment) sit together, and `mcp-server --help` prints them. A flag wins over its
//! variable; every flag is its variable's name in lower case with dashes (`PORT` is `--port`).
//! Nothing else in the crate reads the environment. An invalid value stops start-up with a
//! message that names the flag and the variable (`--request-timeout <REQUEST_TIMEOUT>`) and the
//! form it accepts. A blank value means the default, as it always has: task definitions that set
//! a variable to an empty string keep working.
//!
//! The struct is the one declaration of every setting, so it stays whole here, past the usual
//! 450 lines: it is long because there are many settings, each a doc comment and an attribute,
//! and a reader looks one up, never holds them all. Everything else is elsewhere: the parsers in
//! `config/values.rs`; how the command line, the environment and the cgroup become a `Config` in
//! `config/load.rs`; what clap says of the settings (errors, the list of variables) in
//! `config/describe.rs`; the tests in `config/tests.rs` (the rules every setting follows) and
//! `config/tests/features.rs` (each feature's settings).

mod describe;
mod keys;
mod load;
mod memory;
pub use memory::DOCS_BYTES_PER_TEXT_BYTE;
mod metrics;
mod values;
mod warnings;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{EnumValueParser, NonEmptyStringValueParser, PathBufValueParser};
use clap::{Parser, ValueEnum};

use crate::access::budget::MemoryLimit;
use crate::access::origin::{HostPolicy, OriginPolicy};
use crate::docs::source::{DocsSource, Limits};
use crate::lifecycle::drain::IdleGuess;
use crate::sessions::store::StoreSetting;
pub use describe::{ConfigError, Variable, variables};
pub use values::metric_dimension;
use values::{Maybe, Optional, Setting};

/// MAX_LEGACY_SESSIONS when not given and no memory limit lowers it.
const DEFAULT_SESSIONS: usize = 10_000;
/// MAX_SSE_CONNECTIONS when not given and no memory limit lowers it.
const DEFAULT_STREAMS: usize = 10_000;
/// `MAX_CONNECTIONS` when left at its default and no memory limit lowers it.
const DEFAULT_CONNECTIONS: usize = 20_000;
/// `MAX_BODY_BYTES_IN_FLIGHT` when left at its default and no memory limit lowers it: sixteen
/// bodies of the largest size at once.
const DEFAULT_BODY_BYTES: usize = 64 << 20;

/// How the process talks MCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Streamable HTTP on `/mcp`, plus `/health`.
    Http,
    /// Newline-delimited JSON-RPC on stdin/stdout, for local clients that spawn the server.
    Stdio,
}

/// Who may call `/mcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Anyone who can reach the server.
    None,
    /// Callers presenting one of the keys whose SHA-256 is in AUTH_API_KEY_HASHES or
    /// AUTH_API_KEY_FILE.
    #[value(name = "api-key")]
    ApiKey,
    /// Callers presenting an OAuth access token (a JWT) from AUTH_ISSUER for AUTH_AUDIENCE.
    #[value(name = "oauth")]
    OAuth,
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line: what CloudWatch Logs Insights queries parse.
    Json,
    /// Human-readable lines for a terminal.
    Text,
}

/// The server's whole configuration.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "mcp-server",
    version,
    about,
    after_help = "Every flag can also be set by its environment variable (shown as [env: ...]); \
                  a flag wins over its variable, and a blank variable means the default. \
                  Durations are whole milliseconds. See README.md for the full reference."
)]
pub struct Config {
    /// `http` serves /mcp and /health; `stdio` serves MCP on stdin/stdout (logs on stderr)
    #[arg(long = "mcp-mode", env = "MCP_MODE", value_name = "MCP_MODE", default_value = "http",
          value_parser = Setting(EnumValueParser::<Mode>::new()), help_heading = "Serving")]
    pub mode: Mode,

    /// TCP port to listen on (0 picks a free port and logs it)
    #[arg(long, env = "PORT", value_name = "PORT", default_value = "3100",
          value_parser = Setting(values::port), help_heading = "Serving")]
    pub port: u16,

    /// Address to bind; the container image sets 0.0.0.0
    #[arg(long, env = "HOST", value_name = "HOST", default_value = "127.0.0.1",
          value_parser = Setting(values::ip_address), help_heading = "Serving")]
    pub host: IpAddr,

    /// Folder of Markdown (.md, .mdx) to serve, or `s3://bucket/prefix/` to read it from S3 (with
    /// the task role's credentials); empty serves this project's own docs, embedded in the binary
    #[arg(long, env = "DOCS_DIR", value_name = "DOCS_DIR", default_value = "", hide_default_value = true,
          value_parser = Setting(Optional(values::docs_source)), help_heading = "Documentation")]
    pub docs_dir: Maybe<DocsSource>,

    /// Milliseconds between checks of DOCS_DIR for changes (then the index is rebuilt and clients
    /// told); empty means 2000 for a folder and 30000 for S3 (one listing per check); 0 turns
    /// reloading off
    #[arg(long, env = "DOCS_RELOAD_INTERVAL", value_name = "DOCS_RELOAD_INTERVAL", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(values::millis_or_off)),
          help_heading = "Documentation")]
    docs_reload_interval: Maybe<Option<Duration>>,

    /// Milliseconds one S3 call may take, retries and the object's body included
    #[arg(long, env = "DOCS_S3_TIMEOUT", value_name = "DOCS_S3_TIMEOUT", default_value = "10000",
          value_parser = Setting(values::millis), help_heading = "Documentation")]
    pub docs_s3_timeout: Duration,

    /// `true` addresses the bucket in the path (`endpoint/bucket/key`) rather than the host name,
    /// for S3-compatible endpoints set with AWS_ENDPOINT_URL (MinIO, LocalStack)
    #[arg(long, env = "DOCS_S3_PATH_STYLE", value_name = "DOCS_S3_PATH_STYLE", default_value = "false",
          action = clap::ArgAction::Set, value_parser = Setting(clap::builder::BoolValueParser::new()),
          help_heading = "Documentation")]
    pub docs_s3_path_style: bool,

    /// Pages served at most; past it, pages are skipped (with a warning) in path order
    #[arg(long, env = "DOCS_MAX_PAGES", value_name = "DOCS_MAX_PAGES", default_value = "10000",
          value_parser = Setting(values::positive), help_heading = "Documentation")]
    pub docs_max_pages: usize,

    /// Bytes one page may have; a larger file or object is skipped (with a warning), never read
    #[arg(long, env = "DOCS_MAX_PAGE_BYTES", value_name = "DOCS_MAX_PAGE_BYTES", default_value = "8388608",
          value_parser = Setting(values::positive_u64), help_heading = "Documentation")]
    pub docs_max_page_bytes: u64,

    /// Bytes all pages together may have; past it, pages are skipped (with a warning) in path order
    #[arg(long, env = "DOCS_MAX_TOTAL_BYTES", value_name = "DOCS_MAX_TOTAL_BYTES", default_value = "134217728",
          value_parser = Setting(values::positive_u64), help_heading = "Documentation")]
    pub docs_max_total_bytes: u64,

    /// The language search_docs and list_docs use when a call names none; pages whose path has
    /// no language are in every language
    #[arg(long, env = "DOCS_LANGUAGE", value_name = "DOCS_LANGUAGE", default_value = "en",
          value_parser = Setting(NonEmptyStringValueParser::new()), help_heading = "Documentation")]
    pub docs_language: String,

    /// The version search_docs and list_docs use when a call names none; empty means the newest
    /// released one
    #[arg(long, env = "DOCS_VERSION", value_name = "DOCS_VERSION", default_value = "", hide_default_value = true,
          value_parser = Setting(Optional(NonEmptyStringValueParser::new())), help_heading = "Documentation")]
    pub docs_version: Maybe<String>,

    /// Regex a whole folder name in a page's path matches when it names a version (v1.2, 1.2.3,
    /// v2.0-rc1, 2025-06-18, draft, latest, main, ...)
    #[arg(long, env = "DOCS_VERSION_PATTERN", value_name = "DOCS_VERSION_PATTERN",
          default_value = crate::docs::variants::DEFAULT_VERSION_PATTERN, hide_default_value = true,
          value_parser = Setting(values::regex), help_heading = "Documentation")]
    pub docs_version_pattern: String,

    /// Regex over a page's path whose first group is its language (by default the `ja` of
    /// `page.ja.md`)
    #[arg(long, env = "DOCS_LANGUAGE_PATTERN", value_name = "DOCS_LANGUAGE_PATTERN",
          default_value = crate::docs::variants::DEFAULT_LANGUAGE_PATTERN, hide_default_value = true,
          value_parser = Setting(values::regex_with_group), help_heading = "Documentation")]
    pub docs_language_pattern: String,

    /// `none` (anyone who reaches the server may call /mcp), `api-key` (callers send a key as
    /// `Authorization: Bearer` or `X-Api-Key`) or `oauth` (callers send an OAuth access token
    /// from AUTH_ISSUER as `Authorization: Bearer`); /health and CORS preflights stay open
    #[arg(long, env = "AUTH", value_name = "AUTH", default_value = "none",
          value_parser = Setting(EnumValueParser::<AuthMode>::new()), help_heading = "Access")]
    pub auth: AuthMode,

    /// With AUTH=api-key: the SHA-256 (64 hex digits) of each key that may call, separated by
    /// commas; the keys themselves are never configured
    #[arg(long, env = "AUTH_API_KEY_HASHES", value_name = "AUTH_API_KEY_HASHES", default_value = "",
          hide_default_value = true, hide_env_values = true,
          value_parser = Setting(clap::builder::StringValueParser::new()), help_heading = "Access")]
    auth_api_key_hashes: String,

    /// With AUTH=api-key: a file of more key hashes, one per line (`#` starts a comment), read
    /// at start-up
    #[arg(long, env = "AUTH_API_KEY_FILE", value_name = "AUTH_API_KEY_FILE", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(PathBufValueParser::new())),
          help_heading = "Access")]
    auth_api_key_file: Maybe<PathBuf>,

    /// The hashes of AUTH_API_KEY_HASHES and AUTH_API_KEY_FILE, read.
    #[arg(skip)]
    pub api_keys: crate::access::auth::ApiKeys,

    /// With AUTH=oauth: the OpenID issuer whose access tokens are accepted, e.g.
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`; its discovery document and keys
    /// are fetched at start-up (https, or http on a loopback host)
    #[arg(long, env = "AUTH_ISSUER", value_name = "AUTH_ISSUER", default_value = "",
          hide_default_value = true, value_parser = Setting(clap::builder::StringValueParser::new()),
          help_heading = "Access")]
    auth_issuer: String,

    /// With AUTH=oauth: this server's resource identifier, the public URL of its /mcp (e.g.
    /// `https://docs.example.com/mcp`); tokens must carry it in `aud`
    #[arg(long, env = "AUTH_AUDIENCE", value_name = "AUTH_AUDIENCE", default_value = "",
          hide_default_value = true, value_parser = Setting(clap::builder::StringValueParser::new()),
          help_heading = "Access")]
    auth_audience: String,

    /// With AUTH=oauth: other `aud` values that also name this server, separated by spaces or
    /// commas (Entra ID v2 tokens carry the application's client id)
    #[arg(long, env = "AUTH_AUDIENCE_ALIASES", value_name = "AUTH_AUDIENCE_ALIASES", default_value = "",
          hide_default_value = true, value_parser = Setting(clap::builder::StringValueParser::new()),
          help_heading = "Access")]
    auth_audience_aliases: String,

    /// With AUTH=oauth: scopes every token must carry, separated by spaces or commas (empty:
    /// none); a token without one gets 403 insufficient_scope
    #[arg(long, env = "AUTH_SCOPES", value_name = "AUTH_SCOPES", default_value = "",
          hide_default_value = true, value_parser = Setting(clap::builder::StringValueParser::new()),
          help_heading = "Access")]
    auth_scopes: String,

    /// With AUTH=oauth: `true` accepts a token without `aud` when one of its scopes is
    /// `<AUTH_AUDIENCE>/<name>` (Amazon Cognito's access tokens carry no `aud`)
    #[arg(long, env = "AUTH_AUDIENCE_IN_SCOPE", value_name = "AUTH_AUDIENCE_IN_SCOPE",
          default_value = "false", action = clap::ArgAction::Set,
          value_parser = Setting(clap::builder::BoolValueParser::new()), help_heading = "Access")]
    auth_audience_in_scope: bool,

    /// AUTH_ISSUER, AUTH_AUDIENCE, AUTH_SCOPES and AUTH_AUDIENCE_IN_SCOPE, checked (with
    /// AUTH=oauth).
    #[arg(skip)]
    pub oauth: Option<crate::access::oauth::Settings>,

    /// Comma-separated browser origins allowed to call /mcp, e.g.
    /// `https://app.example.com,https://*.example.com`; requests without Origin always pass;
    /// empty refuses every Origin
    #[arg(long = "allowed-origins", env = "ALLOWED_ORIGINS", value_name = "ALLOWED_ORIGINS",
          default_value = "", hide_default_value = true,
          value_parser = Setting(values::origin_list), help_heading = "Access")]
    pub origins: OriginPolicy,

    /// Comma-separated Host values accepted on /mcp (`name`, `name:port`, `*.example.com`, or
    /// `*`); empty means loopback names when HOST is loopback, any host otherwise
    #[arg(long, env = "ALLOWED_HOSTS", value_name = "ALLOWED_HOSTS", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(values::host_list)),
          help_heading = "Access")]
    allowed_hosts: Maybe<HostPolicy>,

    /// The `Host` values `/mcp` answers: `ALLOWED_HOSTS`, or its default for `HOST`.
    #[arg(skip = HostPolicy::default_for_bind(IpAddr::V4(Ipv4Addr::LOCALHOST)))]
    pub hosts: HostPolicy,

    /// Milliseconds between keep-alive comments on every SSE stream; keep it below the smallest
    /// idle timeout on the path (ALB: 60 s by default)
    #[arg(long = "sse-keepalive-interval", env = "SSE_KEEPALIVE_INTERVAL",
          value_name = "SSE_KEEPALIVE_INTERVAL", default_value = "30000",
          value_parser = Setting(values::millis), help_heading = "Streams")]
    pub sse_keepalive: Duration,

    /// Milliseconds sent as the SSE `retry:` field: how long clients wait before reconnecting a
    /// stream the server ended
    #[arg(long = "sse-retry-interval", env = "SSE_RETRY_INTERVAL", value_name = "SSE_RETRY_INTERVAL",
          default_value = "3000", value_parser = Setting(values::millis), help_heading = "Streams")]
    pub sse_retry: Duration,

    /// Milliseconds a request may run (then it gets a JSON-RPC error) and a stream may stay open
    /// (then it ends after a `retry:` field)
    #[arg(long, env = "REQUEST_TIMEOUT", value_name = "REQUEST_TIMEOUT", default_value = "300000",
          value_parser = Setting(values::millis), help_heading = "Timeouts")]
    pub request_timeout: Duration,

    /// Milliseconds an idle keep-alive connection is kept; must exceed the load balancer's idle
    /// timeout (ALB addon: 600 s) or the ALB reuses a closing connection (502)
    #[arg(long, env = "HTTP_IDLE_TIMEOUT", value_name = "HTTP_IDLE_TIMEOUT", default_value = "620000",
          value_parser = Setting(values::millis), help_heading = "Timeouts")]
    pub http_idle_timeout: Duration,

    /// Milliseconds a client has to send all of a request's headers, from its first byte, or
    /// from the connection's start for its first request
    #[arg(long, env = "HEADER_READ_TIMEOUT", value_name = "HEADER_READ_TIMEOUT",
          default_value = "30000", value_parser = Setting(values::millis), help_heading = "Timeouts")]
    pub header_read_timeout: Duration,

    /// Milliseconds a client has, once its headers are in, to send the whole request body; a
    /// body that stalls gets 408 and the connection is closed
    #[arg(long, env = "BODY_READ_TIMEOUT", value_name = "BODY_READ_TIMEOUT",
          default_value = "30000", value_parser = Setting(values::millis), help_heading = "Timeouts")]
    pub body_read_timeout: Duration,

    /// Milliseconds a response may wait on a client that reads nothing (the socket takes no
    /// byte) before the connection is closed
    #[arg(long, env = "WRITE_TIMEOUT", value_name = "WRITE_TIMEOUT",
          default_value = "30000", value_parser = Setting(values::millis), help_heading = "Timeouts")]
    pub write_timeout: Duration,

    /// Milliseconds in-flight requests get to finish after SIGTERM/SIGINT before the process
    /// exits; keep it below the task's stop timeout
    #[arg(long, env = "SHUTDOWN_TIMEOUT", value_name = "SHUTDOWN_TIMEOUT", default_value = "25000",
          value_parser = Setting(values::millis), help_heading = "Timeouts")]
    pub shutdown_timeout: Duration,

    /// Milliseconds without any request (health checks included) after which the server assumes
    /// the load balancer has let it go and drains
    #[arg(long, env = "DRAIN_IDLE_TIMEOUT", value_name = "DRAIN_IDLE_TIMEOUT", default_value = "60000",
          value_parser = Setting(values::millis), help_heading = "Draining")]
    pub drain_idle_timeout: Duration,

    /// `auto` arms that guess only on ECS (task metadata present), once a load-balancer health
    /// check (User-Agent ELB-HealthChecker/, no X-Forwarded-For) is seen; `on` arms it from the
    /// start; `off` never guesses
    #[arg(long, env = "DRAIN_IDLE_GUESS", value_name = "DRAIN_IDLE_GUESS", default_value = "auto",
          value_parser = Setting(values::idle_guess()), help_heading = "Draining")]
    pub drain_idle_guess: IdleGuess,

    /// Set by ECS: when present, the task metadata is polled and DesiredStatus STOPPED starts a
    /// drain
    #[arg(long = "ecs-container-metadata-uri-v4", env = "ECS_CONTAINER_METADATA_URI_V4",
          value_name = "ECS_CONTAINER_METADATA_URI_V4", default_value = "", hide_default_value = true,
          value_parser = Setting(Optional(NonEmptyStringValueParser::new())), help_heading = "Draining")]
    pub ecs_metadata_uri: Maybe<String>,

    /// Milliseconds between polls of the ECS task metadata
    #[arg(long, env = "ECS_METADATA_POLL_INTERVAL", value_name = "ECS_METADATA_POLL_INTERVAL",
          default_value = "5000", value_parser = Setting(values::millis), help_heading = "Draining")]
    pub ecs_metadata_poll_interval: Duration,

    /// Long-lived SSE streams (GET and subscriptions/listen) one process holds; beyond it a new
    /// one gets 503 with Retry-After
    #[arg(long, env = "MAX_SSE_CONNECTIONS", value_name = "MAX_SSE_CONNECTIONS", default_value_t = DEFAULT_STREAMS,
          value_parser = Setting(values::positive), help_heading = "Limits")]
    pub max_sse_connections: usize,

    /// Milliseconds a legacy (pre-2026-07-28) session may go without traffic before it is closed;
    /// keep it above REQUEST_TIMEOUT so a client holding a GET stream stays alive
    #[arg(long, env = "LEGACY_SESSION_IDLE_TIMEOUT", value_name = "LEGACY_SESSION_IDLE_TIMEOUT",
          default_value = "1800000", value_parser = Setting(values::millis), help_heading = "Limits")]
    pub legacy_session_idle_timeout: Duration,

    /// Where legacy sessions live: `memory` (this process only; they end with it) or a Redis or
    /// Valkey URL (`redis://host:6379/0`, `rediss://` for TLS as ElastiCache requires), shared by
    /// every task so that any task serves any session and a session survives a deploy
    #[arg(long = "session-store", env = "SESSION_STORE", value_name = "SESSION_STORE", default_value = "memory",
          hide_env_values = true, value_parser = Setting(clap::builder::StringValueParser::new()), help_heading = "Sessions")]
    session_store_text: String,

    /// `SESSION_STORE`, read: checked after clap, so that a refused value (which may carry a
    /// password) is never echoed whole in the error.
    #[arg(skip)]
    pub session_store: StoreSetting,

    /// The password for SESSION_STORE, replacing any in its URL: set it from a secret (on ECS,
    /// the task definition's `secrets`) so the URL can stay in plain configuration
    #[arg(long, env = "SESSION_STORE_PASSWORD", value_name = "SESSION_STORE_PASSWORD", default_value = "",
          hide_default_value = true, hide_env_values = true,
          value_parser = Setting(Optional(NonEmptyStringValueParser::new())), help_heading = "Sessions")]
    pub session_store_password: Maybe<String>,

    /// Put in front of every key this server writes in SESSION_STORE, so that several services
    /// can share one cache
    #[arg(long, env = "SESSION_STORE_PREFIX", value_name = "SESSION_STORE_PREFIX", default_value = "docs-mcp:",
          value_parser = Setting(NonEmptyStringValueParser::new()), help_heading = "Sessions")]
    pub session_store_prefix: String,

    /// Milliseconds every SESSION_STORE call may take; past it the call fails and a legacy
    /// request that needed it gets 503 with Retry-After
    #[arg(long, env = "SESSION_STORE_TIMEOUT", value_name = "SESSION_STORE_TIMEOUT", default_value = "1000",
          value_parser = Setting(values::millis), help_heading = "Sessions")]
    pub session_store_timeout: Duration,

    /// With SESSION_STORE: milliseconds a legacy session may sit idle in this process (no
    /// request, no open GET stream) before it is dropped from memory; it stays in the store and
    /// is restored on its next request
    #[arg(long, env = "LEGACY_SESSION_MEMORY_IDLE_TIMEOUT", value_name = "LEGACY_SESSION_MEMORY_IDLE_TIMEOUT",
          default_value = "60000", value_parser = Setting(values::millis), help_heading = "Sessions")]
    pub legacy_session_memory_idle_timeout: Duration,

    /// Connections one process holds open at most, streams and keep-alive connections included;
    /// one more is answered 503 with Retry-After and closed
    #[arg(long, env = "MAX_CONNECTIONS", value_name = "MAX_CONNECTIONS", default_value_t = DEFAULT_CONNECTIONS,
          value_parser = Setting(values::positive), help_heading = "Limits")]
    pub max_connections: usize,

    /// Bytes of POST bodies all requests together may be receiving at once; a body that would
    /// pass it gets 503 with Retry-After
    #[arg(long, env = "MAX_BODY_BYTES_IN_FLIGHT", value_name = "MAX_BODY_BYTES_IN_FLIGHT",
          default_value_t = DEFAULT_BODY_BYTES, value_parser = Setting(values::positive), help_heading = "Limits")]
    pub max_body_bytes_in_flight: usize,

    /// Bytes of POST bodies one client may hold at once (being received, or read and not yet
    /// answered); a body that would pass it gets 429 with Retry-After
    #[arg(long, env = "MAX_BODY_BYTES_PER_CLIENT", value_name = "MAX_BODY_BYTES_PER_CLIENT",
          default_value = "16777216", value_parser = Setting(values::positive), help_heading = "Limits")]
    pub max_body_bytes_per_client: usize,

    /// Legacy sessions one process holds at most; beyond it `initialize` gets 503 with
    /// Retry-After
    #[arg(long, env = "MAX_LEGACY_SESSIONS", value_name = "MAX_LEGACY_SESSIONS", default_value_t = DEFAULT_SESSIONS,
          value_parser = Setting(values::positive), help_heading = "Limits")]
    pub max_legacy_sessions: usize,

    /// Requests per second one client may send to /mcp, sustained (a token bucket per client);
    /// beyond it 429 with Retry-After; 0 turns the rate limit off
    #[arg(long, env = "CLIENT_REQUEST_RATE", value_name = "CLIENT_REQUEST_RATE", default_value = "100",
          value_parser = Setting(values::whole), help_heading = "Limits")]
    pub client_request_rate: u32,

    /// Requests one client may send at once above CLIENT_REQUEST_RATE
    #[arg(long, env = "CLIENT_REQUEST_BURST", value_name = "CLIENT_REQUEST_BURST", default_value = "200",
          value_parser = Setting(values::positive_u32), help_heading = "Limits")]
    pub client_request_burst: u32,

    /// Legacy sessions one client may hold; beyond it `initialize` gets 429 with Retry-After
    #[arg(long, env = "MAX_SESSIONS_PER_CLIENT", value_name = "MAX_SESSIONS_PER_CLIENT",
          default_value = "200", value_parser = Setting(values::positive), help_heading = "Limits")]
    pub max_sessions_per_client: usize,

    /// Long-lived SSE streams one client may hold; beyond it a new one gets 429 with Retry-After
    #[arg(long, env = "MAX_STREAMS_PER_CLIENT", value_name = "MAX_STREAMS_PER_CLIENT",
          default_value = "200", value_parser = Setting(values::positive), help_heading = "Limits")]
    pub max_streams_per_client: usize,

    /// Proxies in front of the server whose X-Forwarded-For entry is believed: the client is the
    /// entry this many places from the right (1 behind an ALB); 0 uses the peer address
    #[arg(long, env = "TRUSTED_PROXY_HOPS", value_name = "TRUSTED_PROXY_HOPS", default_value = "0",
          value_parser = Setting(values::whole_usize), help_heading = "Limits")]
    pub trusted_proxy_hops: usize,

    /// The memory limit in bytes; empty takes the smaller of the cgroup's (Docker, ECS) and, on
    /// ECS, the container's or task's limit from task metadata (Fargate). When known,
    /// MAX_LEGACY_SESSIONS, MAX_SSE_CONNECTIONS, MAX_CONNECTIONS and MAX_BODY_BYTES_IN_FLIGHT
    /// left at their defaults are lowered so that all of them reached at once stay under 80% of it
    #[arg(long, env = "MEMORY_LIMIT", value_name = "MEMORY_LIMIT", default_value = "", hide_default_value = true,
          value_parser = Setting(Optional(values::positive_u64)), help_heading = "Limits")]
    memory_limit: Maybe<u64>,

    /// The memory limit in force and where it came from, when one is known.
    #[arg(skip)]
    pub memory: Option<MemoryLimit>,

    /// Which of the caps the memory budget sets were left at their defaults (and so follow the
    /// memory limit): sessions, streams, connections, body bytes.
    #[arg(skip)]
    caps_defaulted: [bool; 4],

    /// Bytes of the memory limit set aside for the documentation (see `reserve_docs_memory`).
    #[arg(skip)]
    docs_memory: u64,

    /// Bytes a POST body may have; larger bodies get 413
    #[arg(long, env = "MAX_REQUEST_BODY", value_name = "MAX_REQUEST_BODY", default_value = "4194304",
          value_parser = Setting(values::positive), help_heading = "Limits")]
    pub max_request_body: usize,

    /// Milliseconds between CloudWatch Embedded Metric Format lines on stdout (connections,
    /// sessions, tool calls, errors and latency; the awslogs driver makes them metrics); empty
    /// means 60000 on ECS (task metadata present) and off elsewhere; 0 turns them off
    #[arg(long, env = "METRICS_EMF_INTERVAL", value_name = "METRICS_EMF_INTERVAL", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(values::emf_interval)),
          help_heading = "Metrics")]
    metrics_emf_interval: Maybe<Option<Duration>>,

    /// The CloudWatch namespace of the EMF metrics
    #[arg(long, env = "METRICS_NAMESPACE", value_name = "METRICS_NAMESPACE", default_value = "DocsMcp",
          value_parser = Setting(values::metric_dimension), help_heading = "Metrics")]
    pub metrics_namespace: String,

    /// The `Service` dimension of the EMF metrics; empty means COPILOT_SERVICE_NAME when Copilot
    /// set it, else `docs-mcp`
    #[arg(long, env = "METRICS_SERVICE", value_name = "METRICS_SERVICE", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(values::metric_dimension)),
          help_heading = "Metrics")]
    metrics_service: Maybe<String>,

    /// The `Task` dimension of the EMF metrics; empty means the ECS task id (from task metadata),
    /// else the host name
    #[arg(long, env = "METRICS_TASK", value_name = "METRICS_TASK", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(values::metric_dimension)),
          help_heading = "Metrics")]
    pub metrics_task: Maybe<String>,

    /// Set by Copilot in its services: with COPILOT_APPLICATION_NAME and
    /// COPILOT_ENVIRONMENT_NAME, the default of METRICS_SERVICE (`app-env-service`)
    #[arg(long, env = "COPILOT_SERVICE_NAME", value_name = "COPILOT_SERVICE_NAME", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(values::metric_dimension)),
          help_heading = "Metrics")]
    copilot_service_name: Maybe<String>,

    /// Set by Copilot in its services: the application part of METRICS_SERVICE's default
    #[arg(long, env = "COPILOT_APPLICATION_NAME", value_name = "COPILOT_APPLICATION_NAME", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(values::metric_dimension)),
          help_heading = "Metrics")]
    copilot_application_name: Maybe<String>,

    /// Set by Copilot in its services: the environment part of METRICS_SERVICE's default
    #[arg(long, env = "COPILOT_ENVIRONMENT_NAME", value_name = "COPILOT_ENVIRONMENT_NAME", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(values::metric_dimension)),
          help_heading = "Metrics")]
    copilot_environment_name: Maybe<String>,

    /// TCP port of a second listener that serves Prometheus metrics on /metrics, never on PORT;
    /// empty turns it off (0 picks a free port and logs it)
    #[arg(long, env = "METRICS_PORT", value_name = "METRICS_PORT", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(values::port)),
          help_heading = "Metrics")]
    pub metrics_port: Maybe<u16>,

    /// Address the METRICS_PORT listener binds; empty means HOST's
    #[arg(long, env = "METRICS_HOST", value_name = "METRICS_HOST", default_value = "",
          hide_default_value = true, value_parser = Setting(Optional(values::ip_address)),
          help_heading = "Metrics")]
    metrics_host: Maybe<IpAddr>,

    /// `error`, `warn`, `info`, `debug` or `trace`, or a tracing filter such as
    /// `info,mcp_server=debug`; at every level the SDK's own lines (which carry session ids) are
    /// held to warn, with ids redacted
    #[arg(long, env = "LOG_LEVEL", value_name = "LOG_LEVEL", default_value = "info",
          value_parser = Setting(NonEmptyStringValueParser::new()), help_heading = "Logging")]
    pub log_level: String,

    /// `json` (one object per line, for CloudWatch) or `text`; empty means json when
    /// NODE_ENV=production, text otherwise
    #[arg(long, env = "LOG_FORMAT", value_name = "LOG_FORMAT", default_value = "", hide_default_value = true,
          value_parser = Setting(Optional(EnumValueParser::<LogFormat>::new())), help_heading = "Logging")]
    log_format: Maybe<LogFormat>,

    /// Kept from the Node.js seed: `production` makes JSON the default log format; nothing else
    /// reads it
    #[arg(long, env = "NODE_ENV", value_name = "NODE_ENV", default_value = "", hide_default_value = true,
          value_parser = Setting(clap::builder::StringValueParser::new()), help_heading = "Logging")]
    node_env: String,
}

impl Config {
    /// How pages are recognised as versions and languages of each other, and which one a
    /// search shows by default.
    pub fn variant_rules(&self) -> crate::docs::variants::VariantRules {
        crate::docs::variants::VariantRules::new(
            &self.docs_version_pattern,
            &self.docs_language_pattern,
            &self.docs_language,
            self.docs_version.as_deref(),
        )
        .expect("the patterns were checked when read")
    }

    /// How often the documentation source is checked for changes; `None` when never.
    pub fn docs_reload_interval(&self) -> Option<Duration> {
        match (self.docs_reload_interval, &self.docs_dir) {
            (Some(given), _) => given,
            (None, Some(DocsSource::S3(_))) => Some(Duration::from_secs(30)),
            (None, _) => Some(Duration::from_secs(2)),
        }
    }

    /// How much of the documentation source is read.
    pub fn docs_limits(&self) -> Limits {
        Limits {
            pages: self.docs_max_pages,
            page_bytes: self.docs_max_page_bytes,
            total_bytes: self.docs_max_total_bytes,
        }
    }

    /// Where to listen in HTTP mode.
    pub fn bind(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// Whether `ALLOWED_HOSTS` was given (an explicit `*` is a choice, not an oversight).
    pub fn hosts_configured(&self) -> bool {
        self.allowed_hosts.is_some()
    }

    /// The log line format: `LOG_FORMAT`, or JSON in production.
    pub fn log_format(&self) -> LogFormat {
        match self.log_format {
            Some(format) => format,
            None if self.node_env == "production" => LogFormat::Json,
            None => LogFormat::Text,
        }
    }
}

#[cfg(test)]
mod tests;
