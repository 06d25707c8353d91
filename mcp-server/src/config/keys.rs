//! `AUTH_API_KEY_HASHES` and `AUTH_API_KEY_FILE`, read into the hashes `AUTH=api-key` checks.

use super::{AuthMode, Config};

impl Config {
    /// The key hashes of `AUTH_API_KEY_HASHES` and `AUTH_API_KEY_FILE`; with `AUTH=api-key`,
    /// at least one.
    pub(super) fn read_api_keys(&self) -> Result<crate::access::auth::ApiKeys, String> {
        use crate::access::auth::ApiKeys;
        let mut keys = ApiKeys::parse(&self.auth_api_key_hashes).map_err(|why| {
            format!("invalid value for '--auth-api-key-hashes <AUTH_API_KEY_HASHES>': {why}\n")
        })?;
        if let Some(path) = &self.auth_api_key_file {
            // A path has a `/`; anything else may be a key pasted into the wrong setting, and is
            // not shown.
            let shown = match path.to_str() {
                Some(text) if text.contains('/') => format!("'{text}'"),
                _ => format!("of {} characters", path.as_os_str().len()),
            };
            let setting = "'--auth-api-key-file <AUTH_API_KEY_FILE>'";
            let text = std::fs::read_to_string(path).map_err(|error| {
                format!("invalid value {shown} for {setting}: cannot read it: {error}\n")
            })?;
            keys.extend(
                ApiKeys::parse(&text)
                    .map_err(|why| format!("invalid value {shown} for {setting}: {why}\n"))?,
            );
        }
        if self.auth == AuthMode::ApiKey && keys.is_empty() {
            return Err(
                "invalid value 'api-key' for '--auth <AUTH>': no key hash given; set \
                        AUTH_API_KEY_HASHES or AUTH_API_KEY_FILE\n"
                    .into(),
            );
        }
        Ok(keys)
    }
}
