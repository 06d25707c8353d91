//! Origin and Host policy: who may call `/mcp`.
//!
//! Browsers send `Origin`; a page on an origin we do not trust must not drive the server
//! (MCP requires servers to validate it). `Host` protects a server bound to loopback from DNS
//! rebinding: a hostile page that makes `evil.example` resolve to 127.0.0.1 still sends
//! `Host: evil.example`. rmcp has both checks, but its origin list has no subdomain wildcards and
//! its host list defaults to loopback only, which refuses an ALB's public host name; so the
//! policy lives here and rmcp's own checks are switched off.

use std::net::IpAddr;

/// A browser origin, normalised: lower-case scheme and host, explicit port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// Exactly this host.
    Exact(String),
    /// Any host ending in `.` + this suffix, at any depth (`*.example.com` matches
    /// `a.example.com` and `a.b.example.com`, not `example.com` or `badexample.com`).
    Subdomains(String),
}

impl HostPattern {
    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(exact) => exact == host,
            HostPattern::Subdomains(suffix) => host
                .strip_suffix(suffix.as_str())
                .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
        }
    }

    fn parse(host: &str) -> Result<Self, String> {
        let host = host.to_ascii_lowercase();
        if let Some(suffix) = host.strip_prefix("*.") {
            validate_host(suffix)?;
            Ok(HostPattern::Subdomains(suffix.to_string()))
        } else {
            validate_host(&host)?;
            Ok(HostPattern::Exact(host))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OriginPattern {
    scheme: String,
    host: HostPattern,
    port: u16,
}

/// The browser origins allowed to call `/mcp` (`ALLOWED_ORIGINS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginPolicy {
    patterns: Vec<OriginPattern>,
}

/// Why an `Origin` header was refused; its text goes into the 403 body and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginRefusal {
    /// `Origin` is `null`, empty, not UTF-8, or not `scheme://host[:port]`.
    Malformed,
    /// A well-formed origin that no entry allows.
    NotAllowed,
}

impl OriginPolicy {
    /// Parses a comma-separated list; blank entries are ignored.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut patterns = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let entry_without_slash = entry.strip_suffix('/').unwrap_or(entry);
            let (scheme, host, port) = split_origin(entry_without_slash)
                .ok_or_else(|| format!("`{entry}` is not scheme://host[:port]"))?;
            patterns.push(OriginPattern {
                scheme,
                host: HostPattern::parse(&host).map_err(|why| format!("`{entry}`: {why}"))?,
                port,
            });
        }
        Ok(OriginPolicy { patterns })
    }

    /// Whether the list is empty (every present Origin is refused).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Checks a request's `Origin` header value. `own` is the server's own origin as this
    /// request reached it, given when its `Host` was checked against an explicit host list: a
    /// page served from that very scheme, host and port is the server's own origin and is
    /// allowed (with an allow-everything host policy it could be an attacker's rebound name, so
    /// then it is not passed).
    pub fn check(
        &self,
        origin: &[u8],
        own: Option<OwnOrigin<'_>>,
    ) -> Result<Origin, OriginRefusal> {
        let origin = std::str::from_utf8(origin).map_err(|_| OriginRefusal::Malformed)?;
        let (scheme, host, port) = split_origin(origin).ok_or(OriginRefusal::Malformed)?;
        if validate_host(&host).is_err() {
            return Err(OriginRefusal::Malformed);
        }
        let same_origin = own.is_some_and(|own| own.is(&scheme, &host, port));
        let allowed = same_origin
            || self
                .patterns
                .iter()
                .any(|p| p.scheme == scheme && p.port == port && p.host.matches(&host));
        if allowed {
            Ok(Origin { scheme, host, port })
        } else {
            Err(OriginRefusal::NotAllowed)
        }
    }
}

/// The server's own origin as one request reached it: the scheme the client used (`https` when
/// a TLS-terminating load balancer says so in `X-Forwarded-Proto`, else `http`) and the `Host`.
#[derive(Debug, Clone, Copy)]
pub struct OwnOrigin<'a> {
    /// `http` or `https`.
    pub scheme: &'a str,
    /// The `Host` header value: `host[:port]`.
    pub authority: &'a str,
}

impl OwnOrigin<'_> {
    /// Whether `scheme://host:port` is this origin; a `Host` without a port means the scheme's
    /// default port.
    fn is(&self, scheme: &str, host: &str, port: u16) -> bool {
        let own_scheme = self.scheme.to_ascii_lowercase();
        let default_port = match own_scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return false,
        };
        split_authority(self.authority).is_some_and(|(own_host, own_port)| {
            own_scheme == scheme && own_host == host && own_port.unwrap_or(default_port) == port
        })
    }
}

/// Splits `scheme://host[:port]` (nothing after the authority) into normalised parts.
fn split_origin(origin: &str) -> Option<(String, String, u16)> {
    let (scheme, authority) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let (host, port) = split_authority(authority)?;
    Some((scheme, host, port.unwrap_or(default_port)))
}

/// Splits `host[:port]`, with IPv6 literals in brackets; the host comes back lower-case.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        inside.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (format!("[{}]", inside.to_ascii_lowercase()), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_ascii_lowercase(), Some(port)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
    };
    Some((host, port))
}

/// Accepts DNS names (letters, digits, `-`, `.`, `_`), IPv4, and bracketed IPv6.
fn validate_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("empty host".into());
    }
    if host.starts_with('[') {
        return Ok(());
    }
    let ok = host.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if ok {
        Ok(())
    } else {
        Err(format!("`{host}` is not a host name"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct HostEntry {
    host: HostPattern,
    /// `None` accepts any port.
    port: Option<u16>,
}

/// The `Host` values `/mcp` answers (`ALLOWED_HOSTS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPolicy {
    /// `None` accepts every host.
    entries: Option<Vec<HostEntry>>,
}

impl HostPolicy {
    /// Loopback names when bound to loopback (DNS-rebinding protection for local use); any host
    /// otherwise, since a server bound to a routable address sits behind a load balancer whose
    /// public name we do not know (the operator narrows it with `ALLOWED_HOSTS`).
    pub fn default_for_bind(bind: IpAddr) -> Self {
        if bind.is_loopback() {
            Self::parse("localhost,127.0.0.1,[::1]").expect("static list parses")
        } else {
            HostPolicy { entries: None }
        }
    }

    /// Parses a comma-separated list of `host`, `host:port`, `*.suffix`, or `*`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                return Ok(HostPolicy { entries: None });
            }
            let (host, port) =
                split_authority(entry).ok_or_else(|| format!("`{entry}` is not host[:port]"))?;
            entries.push(HostEntry {
                host: HostPattern::parse(&host).map_err(|why| format!("`{entry}`: {why}"))?,
                port,
            });
        }
        if entries.is_empty() {
            return Err("no entries".into());
        }
        Ok(HostPolicy {
            entries: Some(entries),
        })
    }

    /// Whether every host is accepted.
    pub fn allows_any(&self) -> bool {
        self.entries.is_none()
    }

    /// Checks a request's `Host` header value (or the URI authority).
    pub fn allows(&self, authority: &str) -> bool {
        let Some(entries) = &self.entries else {
            return true;
        };
        let Some((host, port)) = split_authority(authority) else {
            return false;
        };
        entries
            .iter()
            .any(|e| e.host.matches(&host) && (e.port.is_none() || e.port == port))
    }
}

#[cfg(test)]
mod tests;
