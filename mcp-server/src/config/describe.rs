//! What clap says of the settings: the error that stops start-up, and the list of every
//! setting (for the documentation check and the deployment tests).

use clap::CommandFactory;

use super::Config;

/// A setting with a value the server cannot use, or a request for `--help` or `--version`
/// (which clap answers the same way: [`ConfigError::exit`] prints it where it belongs).
#[derive(Debug)]
pub struct ConfigError(pub(super) clap::Error);

impl ConfigError {
    /// The environment variable of the setting that was refused, when one was.
    pub fn variable(&self) -> Option<String> {
        let shown = match self.0.get(clap::error::ContextKind::InvalidArg) {
            Some(clap::error::ContextValue::String(shown)) => shown.clone(),
            _ => return None,
        };
        // An argument only renders as `--flag <NAME>` once its command is built.
        let mut command = Config::command();
        command.build();
        command.get_arguments().find_map(|arg| {
            let env = arg.get_env()?.to_str()?;
            (shown == arg.to_string()).then(|| env.to_string())
        })
    }

    /// Prints the message (help and version on stdout, errors on stderr) and exits: 0 for help
    /// and version, 2 for an invalid setting.
    pub fn exit(&self) -> ! {
        self.0.exit()
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ConfigError {}

/// One setting as clap declares it, for documentation checks and tools.
#[derive(Debug, Clone)]
pub struct Variable {
    /// clap's id of the argument (the field name).
    pub id: String,
    /// The environment variable's name.
    pub name: String,
    /// The flag, with its dashes (`--port`).
    pub flag: String,
    /// The default as the user would type it; empty when unset means something specific.
    pub default: String,
    /// The help text.
    pub help: String,
}

/// Every setting, in declaration order, read from clap's own command description.
pub fn variables() -> Vec<Variable> {
    Config::command()
        .get_arguments()
        .filter_map(|arg| {
            Some(Variable {
                id: arg.get_id().to_string(),
                name: arg.get_env()?.to_str()?.to_string(),
                flag: format!("--{}", arg.get_long()?),
                default: arg
                    .get_default_values()
                    .first()
                    .and_then(|d| d.to_str())
                    .unwrap_or("")
                    .to_string(),
                help: arg.get_help().map(|h| h.to_string()).unwrap_or_default(),
            })
        })
        .collect()
}
