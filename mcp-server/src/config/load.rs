//! How a [`Config`] is made: the command line and the environment read through clap, then
//! what clap cannot check alone (the session store URL, API keys, OAuth settings), the memory
//! limit from the cgroup, and the host policy that follows from the bind address.

use std::ffi::OsString;
use std::path::Path;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use super::{Config, ConfigError, variables};
use crate::access::budget::memory_limit;
use crate::access::origin::HostPolicy;
use crate::sessions::store::StoreSetting;

/// A value clap accepted that a later check refused, worded as clap words its own refusals.
fn invalid(message: String) -> ConfigError {
    ConfigError(clap::Error::raw(
        clap::error::ErrorKind::ValueValidation,
        message,
    ))
}

impl Config {
    /// Reads the command line and the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        let matches = Self::command().try_get_matches_from(std::env::args_os());
        Self::from_matches(matches, Some(Path::new("/sys/fs/cgroup")))
    }

    /// Reads the settings through `lookup` instead of the process environment (the process's
    /// own variables and cgroup are ignored), so tests and tools can check a deployment's
    /// variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut command = Self::command();
        let mut args = vec![OsString::from(env!("CARGO_PKG_NAME"))];
        for variable in variables() {
            command = command.mut_arg(variable.id.as_str(), |arg| arg.env(None::<&'static str>));
            if let Some(value) = lookup(&variable.name) {
                let mut flag = OsString::from(format!("{}=", variable.flag));
                flag.push(value);
                args.push(flag);
            }
        }
        Self::from_matches(command.try_get_matches_from(args), None)
    }

    pub(super) fn from_matches(
        matches: Result<clap::ArgMatches, clap::Error>,
        cgroup: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let mut matches = matches.map_err(ConfigError)?;
        // Left at the default: not given, or given blank (which means the default too).
        let defaulted = |id: &str| {
            matches.value_source(id) == Some(ValueSource::DefaultValue)
                || matches.get_raw(id).is_some_and(|mut raw| {
                    raw.all(|v| v.to_str().is_some_and(|t| t.trim().is_empty()))
                })
        };
        let caps_defaulted = [
            defaulted("max_legacy_sessions"),
            defaulted("max_sse_connections"),
            defaulted("max_connections"),
            defaulted("max_body_bytes_in_flight"),
        ];
        let mut config = Self::from_arg_matches_mut(&mut matches).map_err(ConfigError)?;
        config.session_store = StoreSetting::parse(&config.session_store_text).map_err(|why| {
            invalid(format!(
                "invalid value '{}' for '--session-store <SESSION_STORE>': {why}\n",
                crate::sessions::store::shown_url(&config.session_store_text)
            ))
        })?;
        config.api_keys = config.read_api_keys().map_err(invalid)?;
        config.oauth = config.read_oauth().map_err(invalid)?;
        config.caps_defaulted = caps_defaulted;
        let limit = match cgroup {
            Some(root) => memory_limit(config.memory_limit, root),
            None => memory_limit(config.memory_limit, Path::new("/nonexistent")),
        };
        if let Some(limit) = limit {
            config.set_memory_limit(limit);
        }
        config.hosts = config
            .allowed_hosts
            .clone()
            .unwrap_or_else(|| HostPolicy::default_for_bind(config.host));
        Ok(config)
    }
}
