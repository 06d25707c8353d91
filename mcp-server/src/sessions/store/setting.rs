//! `SESSION_STORE` as a setting: `memory` or a Redis-protocol URL, and a URL that never shows
//! its password (in logs, errors and `Debug`).

/// Where legacy sessions live: this process's memory, or a Redis-protocol server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StoreSetting {
    /// Today's behaviour: sessions live and die with this process.
    #[default]
    Memory,
    /// A Redis or Valkey server, as a URL (`redis://`, `rediss://` for TLS, `valkey://`,
    /// `valkeys://`); the text is kept (it may carry a password) and only its safe part shown.
    Redis(StoreUrl),
}

/// A store URL that never shows its password.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl(String);

impl StoreUrl {
    /// The URL as given, password included: for the client library only.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn shown(&self) -> String {
        shown_url(&self.0)
    }
}

/// `text` (a URL, or anything given as one) with whatever stands between `://` and the last `@`
/// after the user name replaced by `***`: the password never shows.
pub fn shown_url(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &text[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &text[..scheme], &text[at + 1..])
        }
        // No scheme: an `@` may still follow a password.
        (None, Some(at)) => format!("***@{}", &text[at + 1..]),
        _ => text.to_string(),
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl StoreSetting {
    /// Reads `SESSION_STORE`: `memory`, or a URL the Redis client accepts.
    pub fn parse(text: &str) -> Result<StoreSetting, String> {
        if text.eq_ignore_ascii_case("memory") {
            return Ok(StoreSetting::Memory);
        }
        let scheme = text.split("://").next().unwrap_or("").to_ascii_lowercase();
        if !["redis", "rediss", "valkey", "valkeys"].contains(&scheme.as_str())
            || !text.contains("://")
        {
            return Err("expected `memory`, or a URL such as redis://host:6379/0 or rediss://host:6379 (TLS, as ElastiCache uses)".into());
        }
        redis::Client::open(text)
            .map(|_| StoreSetting::Redis(StoreUrl(text.to_string())))
            .map_err(|e| format!("expected a Redis URL such as redis://host:6379/0 ({e})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_takes_memory_and_redis_urls_only() {
        assert_eq!(StoreSetting::parse("memory"), Ok(StoreSetting::Memory));
        assert_eq!(StoreSetting::parse("MEMORY"), Ok(StoreSetting::Memory));
        for good in [
            "redis://127.0.0.1:6379/0",
            "rediss://cache.example.com:6379",
            "valkey://host",
            "redis://user:secret@host:6379/2",
        ] {
            assert!(
                matches!(StoreSetting::parse(good), Ok(StoreSetting::Redis(_))),
                "{good}"
            );
        }
        for bad in [
            "",
            "redis",
            "http://host",
            "host:6379",
            "redis://",
            "memcached://h",
        ] {
            assert!(StoreSetting::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_store_url_never_shows_its_password() {
        let Ok(StoreSetting::Redis(url)) = StoreSetting::parse("rediss://app:s3cr%40t@host:6379/1")
        else {
            panic!("parses");
        };
        assert_eq!(url.shown(), "rediss://app:***@host:6379/1");
        assert!(!format!("{url:?}").contains("s3cr"));
        let Ok(StoreSetting::Redis(plain)) = StoreSetting::parse("redis://host:6379") else {
            panic!("parses");
        };
        assert_eq!(plain.shown(), "redis://host:6379");
    }
}
