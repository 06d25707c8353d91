//! `AUTH=oauth`: `/mcp` as an OAuth 2.1 resource server (the MCP authorization spec). Callers
//! send `Authorization: Bearer <access token>`, a JWT from the issuer `AUTH_ISSUER` for this
//! server (`AUTH_AUDIENCE`) with the scopes `AUTH_SCOPES`; [`tokens`] says what is checked.
//!
//! The issuer's keys come from its OIDC discovery document and JWKS, fetched at start-up (the
//! server does not start without them, after a few tries), again every [`REFRESH_INTERVAL`],
//! and at once when a token names a key not held (a rotation), but at most once per
//! [`MIN_REFETCH`], so tokens with made-up key ids cannot make the server hammer the issuer.
//! Every fetch has a timeout and a size cap; a failed one keeps the keys held. Tokens never
//! reach the logs.

pub mod metadata;
pub mod tokens;

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use tokens::KeySet;
pub use tokens::Settings;
pub use tokens::{Granted, Refused};

/// How often the keys are fetched again when nothing asks for it sooner.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(600);
/// The shortest time between two fetches made for tokens with an unknown key id.
pub const MIN_REFETCH: Duration = Duration::from_secs(30);
/// Limits of one HTTP call to the issuer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest discovery document or JWKS read.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Start-up tries at the issuer, and the first pause between them (doubling).
pub const START_ATTEMPTS: u32 = 5;
const START_BACKOFF: Duration = Duration::from_secs(1);

/// What `/health` shows of the issuer's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysHealth {
    pub keys: usize,
    /// When the keys held were fetched, in seconds since the epoch.
    pub fetched_at: u64,
    /// The last failed fetch, if one failed since the last good one.
    pub last_error: Option<String>,
    pub last_error_at: Option<u64>,
}

/// The resource server: the settings, the issuer's keys and the client that fetches them.
pub struct OAuth {
    /// What tokens must show, with the issuer as its discovery document spells it.
    pub settings: Settings,
    jwks_uri: String,
    client: reqwest::Client,
    keys: RwLock<Arc<KeySet>>,
    /// Held while fetching, so concurrent requests for a refresh make one; the time of the last
    /// fetch and whether it succeeded.
    fetching: tokio::sync::Mutex<(Instant, bool)>,
    status: Mutex<Status>,
}

struct Status {
    fetched_at: SystemTime,
    last_error: Option<(String, SystemTime)>,
}

impl OAuth {
    /// Fetches the issuer's discovery document and keys, trying [`START_ATTEMPTS`] times with
    /// a growing pause, and starts the periodic refresh. The error names the issuer and cause.
    pub async fn start(settings: Settings) -> Result<Arc<OAuth>, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mcp-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        let mut pause = START_BACKOFF;
        let mut attempt = 1;
        let (issuer, jwks_uri, keys) = loop {
            match discover(&client, &settings.issuer).await {
                Ok(found) => break found,
                Err(error) if attempt < START_ATTEMPTS => {
                    tracing::warn!(
                        issuer = settings.issuer,
                        %error,
                        attempt,
                        "cannot fetch the issuer's keys yet; retrying"
                    );
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    attempt += 1;
                }
                Err(error) => {
                    return Err(format!(
                        "cannot fetch the signing keys of the issuer {} (AUTH_ISSUER) after \
                         {START_ATTEMPTS} tries: {error}",
                        settings.issuer
                    ));
                }
            }
        };
        tracing::info!(
            issuer,
            jwks_uri,
            keys = keys.len(),
            audience = settings.audience,
            "OAuth resource server: issuer keys fetched"
        );
        // Tokens' `iss` and the metadata use the issuer's own spelling (RFC 8414 clients
        // compare it exactly), which may differ from AUTH_ISSUER by a final slash.
        let settings = Settings { issuer, ..settings };
        let oauth = Arc::new(OAuth {
            settings,
            jwks_uri,
            client,
            keys: RwLock::new(Arc::new(keys)),
            // The first unknown key id may fetch at once: a rotation right after start-up
            // should not wait out MIN_REFETCH.
            fetching: tokio::sync::Mutex::new((
                Instant::now()
                    .checked_sub(MIN_REFETCH)
                    .unwrap_or_else(Instant::now),
                true,
            )),
            status: Mutex::new(Status {
                fetched_at: SystemTime::now(),
                last_error: None,
            }),
        });
        tokio::spawn(refresh_periodically(Arc::downgrade(&oauth)));
        Ok(oauth)
    }

    /// Checks a bearer token; a token signed by a key not held makes one fetch of the keys
    /// (unless one was made in the last [`MIN_REFETCH`]). `Refused::Unavailable` when that
    /// fetch failed: the token may be good, but cannot be checked now.
    pub async fn verify(&self, token: &str) -> Result<Granted, Refused> {
        match tokens::check(token, &self.keys(), &self.settings) {
            Err(Refused::UnknownKey) => {}
            decided => return decided,
        }
        // Not fetched (one was made in the last MIN_REFETCH, perhaps for someone's made-up key
        // id) or failed: the token may be good and cannot be checked now. A 401 would make
        // the client throw a fresh token away and authorize again.
        if !self.refetch_for_unknown_key().await {
            return Err(Refused::Unavailable);
        }
        tokens::check(token, &self.keys(), &self.settings).map_err(|refused| match refused {
            Refused::UnknownKey => {
                Refused::Invalid("the token is signed by a key the issuer does not publish")
            }
            other => other,
        })
    }

    /// The keys held, the time they were fetched and the last failure.
    pub fn health(&self) -> KeysHealth {
        let status = self.status.lock().expect("oauth status lock");
        let secs = |at: SystemTime| {
            at.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        };
        KeysHealth {
            keys: self.keys().len(),
            fetched_at: secs(status.fetched_at),
            last_error: status.last_error.as_ref().map(|(e, _)| e.clone()),
            last_error_at: status.last_error.as_ref().map(|(_, at)| secs(*at)),
        }
    }

    fn keys(&self) -> Arc<KeySet> {
        self.keys.read().expect("oauth keys lock").clone()
    }

    /// Fetches the keys for a token with an unknown key id, unless a fetch was made in the last
    /// [`MIN_REFETCH`]; whether this fetch was made and succeeded.
    async fn refetch_for_unknown_key(&self) -> bool {
        let mut last = self.fetching.lock().await;
        if last.0.elapsed() < MIN_REFETCH {
            return false;
        }
        let ok = self.fetch_keys().await;
        *last = (Instant::now(), ok);
        ok
    }

    /// One fetch of the JWKS: the keys replace those held, or the failure is logged and kept
    /// for `/health`.
    async fn fetch_keys(&self) -> bool {
        let result = get(&self.client, &self.jwks_uri)
            .await
            .and_then(|body| KeySet::parse(&body));
        let mut status = self.status.lock().expect("oauth status lock");
        match result {
            Ok(keys) => {
                tracing::debug!(keys = keys.len(), "issuer keys fetched");
                *self.keys.write().expect("oauth keys lock") = Arc::new(keys);
                status.fetched_at = SystemTime::now();
                status.last_error = None;
                true
            }
            Err(error) => {
                tracing::error!(
                    jwks_uri = self.jwks_uri,
                    %error,
                    "Error fetching the issuer's keys; the keys held are kept"
                );
                status.last_error = Some((error, SystemTime::now()));
                false
            }
        }
    }
}

/// Fetches the keys again every [`REFRESH_INTERVAL`], so keys the issuer withdrew stop
/// verifying; ends when the resource server is dropped.
async fn refresh_periodically(oauth: std::sync::Weak<OAuth>) {
    loop {
        tokio::time::sleep(REFRESH_INTERVAL).await;
        let Some(oauth) = oauth.upgrade() else {
            return;
        };
        let mut last = oauth.fetching.lock().await;
        let ok = oauth.fetch_keys().await;
        *last = (Instant::now(), ok);
    }
}

/// The issuer's own spelling of its identifier, its `jwks_uri` and the keys there.
async fn discover(
    client: &reqwest::Client,
    issuer: &str,
) -> Result<(String, String, KeySet), String> {
    #[derive(Deserialize)]
    struct Discovery {
        issuer: String,
        jwks_uri: String,
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let body = get(client, &url).await?;
    let found: Discovery = serde_json::from_slice(&body)
        .map_err(|error| format!("{url} is not an OpenID discovery document: {error}"))?;
    if found.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!(
            "{url} names the issuer {:?}, not {issuer:?}",
            found.issuer
        ));
    }
    secure_url(&found.jwks_uri).map_err(|why| format!("the jwks_uri {why}"))?;
    let keys = KeySet::parse(&get(client, &found.jwks_uri).await?)
        .map_err(|why| format!("{}: {why}", found.jwks_uri))?;
    Ok((found.issuer, found.jwks_uri, keys))
}

/// The body of a `GET` answered 200, at most [`MAX_DOCUMENT_BYTES`].
async fn get(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|error| format!("GET {url}: {}", describe(&error)))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(format!("GET {url}: HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| format!("GET {url}: {}", describe(&error)))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("GET {url}: larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A reqwest error with its causes (its own text alone often says only "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_timeout() {
        text.push_str(" (timed out)");
    }
    text
}

/// Ok for an `https` URL, or an `http` one on a loopback host (an issuer run for tests or
/// development); the error says why not.
pub fn secure_url(url: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = url.parse().map_err(|_| format!("{url:?} is not a URL"))?;
    let host = uri
        .host()
        .ok_or_else(|| format!("{url:?} is not an absolute URL"))?;
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if is_loopback(host) => Ok(uri),
        Some("http") => Err(format!(
            "{url:?} is plain http: only https is accepted, except on a loopback host"
        )),
        _ => Err(format!("{url:?} is not an http(s) URL")),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_trusted() {
        for good in [
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
            "http://127.0.0.1:4000",
            "http://localhost:8080/realms/dev",
            "http://[::1]:9000/",
        ] {
            assert!(secure_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://idp.example.com",
            "http://127.0.0.1.example.com",
            "ftp://idp.example.com",
            "/relative",
            "idp.example.com",
            "",
        ] {
            assert!(secure_url(bad).is_err(), "{bad}");
        }
    }
}
