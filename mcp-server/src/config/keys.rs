//! `AUTH_API_KEY_HASHES` and `AUTH_API_KEY_FILE`, read into the hashes `AUTH=api-key` checks;
//! `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_SCOPES` and `AUTH_AUDIENCE_IN_SCOPE`, checked for
//! `AUTH=oauth`.

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

impl Config {
    /// With `AUTH=oauth`, its settings: an issuer and an audience are required, both absolute
    /// http(s) URLs (the issuer https unless on a loopback host), and scopes are RFC 6749 scope
    /// tokens. `None` otherwise.
    pub(super) fn read_oauth(&self) -> Result<Option<crate::access::oauth::Settings>, String> {
        use crate::access::oauth::{Settings, secure_url};
        if self.auth != AuthMode::OAuth {
            return Ok(None);
        }
        let issuer = self.auth_issuer.trim();
        if issuer.is_empty() {
            return Err(
                "invalid value 'oauth' for '--auth <AUTH>': set AUTH_ISSUER to the \
                        OpenID issuer whose tokens are accepted\n"
                    .into(),
            );
        }
        secure_url(issuer)
            .map_err(|why| format!("invalid value for '--auth-issuer <AUTH_ISSUER>': {why}\n"))?;
        let audience = self.auth_audience.trim();
        if audience.is_empty() {
            return Err(
                "invalid value 'oauth' for '--auth <AUTH>': set AUTH_AUDIENCE to this \
                        server's public /mcp URL (the audience its tokens are issued for)\n"
                    .into(),
            );
        }
        // RFC 3986 characters only (it is quoted in WWW-Authenticate), no fragment (RFC 8707),
        // no user or password (it is published).
        let uri_chars = audience
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?[]@!$&'()*+,;=%".contains(&b));
        match audience.parse::<http::Uri>() {
            Ok(uri)
                if uri_chars
                    && matches!(uri.scheme_str(), Some("https" | "http"))
                    && uri.authority().is_some_and(|a| !a.as_str().contains('@')) => {}
            _ => {
                return Err(format!(
                    "invalid value '{audience}' for '--auth-audience <AUTH_AUDIENCE>': expected \
                     the absolute http(s) URL clients use for /mcp, e.g. \
                     https://docs.example.com/mcp (no fragment, user or password, quotes or \
                     spaces)\n"
                ));
            }
        }
        let mut scopes: Vec<String> = Vec::new();
        for scope in self
            .auth_scopes
            .split([',', ' ', '\t'])
            .filter(|s| !s.is_empty())
        {
            // RFC 6749 §3.3: scope tokens are printable ASCII without space, `"` and `\`.
            if !scope
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) && b != b'\\')
            {
                return Err(format!(
                    "invalid value for '--auth-scopes <AUTH_SCOPES>': {scope:?} is not a scope \
                     (printable ASCII without spaces, quotes or backslashes)\n"
                ));
            }
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_string());
            }
        }
        let aliases = self
            .auth_audience_aliases
            .split([',', ' ', '\t'])
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        Ok(Some(Settings {
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            aliases,
            scopes,
            audience_in_scope: self.auth_audience_in_scope,
        }))
    }
}
