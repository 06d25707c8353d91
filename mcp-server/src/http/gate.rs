//! The checks `/mcp` makes of a request before rmcp sees it: Host and Origin, who the
//! client is (its address, or with `AUTH=api-key` its key, with `AUTH=oauth` its token's
//! subject), whether a new stream may open (globally and for this client), whether a session
//! to be deleted exists, and which scheme the client used.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::access::auth::{Denied, bearer};
use crate::access::limits::{ClientKey, Refusal as Limited};
use crate::access::oauth::{Refused, metadata};
use crate::access::origin::{OriginRefusal, OwnOrigin};
use crate::app::App;
use crate::config::AuthMode;
use crate::http::replies::{INVALID_REQUEST, SERVER_ERROR, jsonrpc_error, too_many, unavailable};
use crate::lifecycle::streams::StreamSlot;

/// The scheme the client used: the load balancer that terminated TLS says so in
/// `X-Forwarded-Proto` (its first entry); otherwise this plain-HTTP server's own.
pub fn request_scheme(headers: &HeaderMap) -> &'static str {
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim);
    match forwarded {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    }
}

/// `Host` and `Origin`, checked before anything else (a refused caller costs no other work):
/// the allowed `Origin` to echo in CORS headers, or the 403.
pub fn host_and_origin(
    app: &App,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<Option<HeaderValue>, Box<Response>> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !app.config.hosts.allows(host) {
        tracing::warn!(host, peer = peer.map(|p| p.to_string()), "Host refused");
        return Err(Box::new(jsonrpc_error(
            StatusCode::FORBIDDEN,
            None,
            SERVER_ERROR,
            &format!("Forbidden: Host {host:?} is not allowed (ALLOWED_HOSTS)"),
        )));
    }
    let origin = match headers.get(header::ORIGIN) {
        None => None,
        Some(value) => match app.config.origins.check(
            value.as_bytes(),
            (!app.config.hosts.allows_any()).then(|| OwnOrigin {
                scheme: request_scheme(headers),
                authority: host,
            }),
        ) {
            Ok(_) => Some(value.clone()),
            Err(refusal) => {
                let shown = String::from_utf8_lossy(value.as_bytes()).into_owned();
                let why = match refusal {
                    OriginRefusal::Malformed => "is malformed",
                    OriginRefusal::NotAllowed => "is not allowed (ALLOWED_ORIGINS)",
                };
                tracing::warn!(
                    origin = shown.as_str(),
                    peer = peer.map(|p| p.to_string()),
                    "Origin refused"
                );
                return Err(Box::new(jsonrpc_error(
                    StatusCode::FORBIDDEN,
                    None,
                    SERVER_ERROR,
                    &format!("Forbidden: Origin {shown:?} {why}"),
                )));
            }
        },
    };
    Ok(origin)
}

/// With credentials, a session belongs to the key or token subject that started it: the 404
/// for another credential holding the id of a session held here, as if it did not exist.
pub fn foreign_session(app: &App, headers: &HeaderMap, client: ClientKey) -> Option<Response> {
    if app.config.auth == AuthMode::None {
        return None;
    }
    let id = headers.get("mcp-session-id")?.to_str().ok()?;
    if app.limits.owner_of(id).is_some_and(|owner| owner != client) {
        tracing::warn!(%client, "session used with another credential than its own; 404");
        return Some(session_not_found());
    }
    None
}

/// A slot for a new long-lived stream (GET or `subscriptions/listen`), or a 503 while draining
/// or at `MAX_SSE_CONNECTIONS`.
pub fn reserve_stream(app: &Arc<App>, credential: Credential) -> Result<StreamSlot, Box<Response>> {
    let client = credential.client;
    if app.drain.is_draining() {
        return Err(Box::new(unavailable(
            None,
            "This server is draining: reconnect and the load balancer will route you to another one",
            app.config.sse_retry,
        )));
    }
    let mine = app.limits.claim_stream(client).map_err(|_| {
        tracing::warn!(%client, limit = app.config.max_streams_per_client, "client stream limit reached; new stream refused");
        Box::new(too_many(
            None,
            "Too many open streams from this client (MAX_STREAMS_PER_CLIENT); close some or retry later",
            app.config.sse_retry,
        ))
    })?;
    app.streams
        .reserve_long_lived(app.config.max_sse_connections)
        .map(|slot| slot.hold(mine).ending_within(credential.lifetime))
        .ok_or_else(|| {
            tracing::warn!(
                limit = app.config.max_sse_connections,
                "stream limit reached; new stream refused"
            );
            Box::new(unavailable(
                None,
                "Too many open streams on this server (MAX_SSE_CONNECTIONS); retry later",
                app.config.sse_retry,
            ))
        })
}

/// The client a request counts against (see `access::limits`).
pub fn client_of(app: &App, headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientKey {
    let peer = peer.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |p| p.ip());
    // Every X-Forwarded-For line, in order: a proxy may add its own line instead of extending
    // the client's, and the entries it added must be the ones counted from the right.
    let lines: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().unwrap_or("unreadable"))
        .collect();
    let forwarded = (!lines.is_empty()).then(|| lines.join(","));
    ClientKey::from_request(peer, forwarded.as_deref(), app.config.trusted_proxy_hops)
}

/// A 404 for `DELETE` of a session this server does not hold (rmcp answers 202 whatever the id);
/// `None` when the session exists or no id was sent (rmcp then answers 400).
pub async fn unknown_session(app: &App, headers: &HeaderMap) -> Option<Response> {
    let id = headers.get("mcp-session-id")?.to_str().unwrap_or("");
    if app.holds_session(id).await {
        return None;
    }
    Some(session_not_found())
}

/// The 404 for a session that ended or never existed.
pub fn session_not_found() -> Response {
    jsonrpc_error(
        StatusCode::NOT_FOUND,
        None,
        INVALID_REQUEST,
        "Session not found: it ended or never existed; start a new one with initialize",
    )
}

/// With `AUTH=api-key` or `AUTH=oauth`: the client as its key or token subject, or the answer
/// for a request without a good credential. `address` is the client by its address (behind an
/// ALB, from `X-Forwarded-For`): a refused request counts against that address's rate, so
/// nobody can guess keys or try tokens faster than `CLIENT_REQUEST_RATE` (429 once it is
/// spent, before any 401).
pub async fn authenticate(
    app: &App,
    headers: &HeaderMap,
    address: ClientKey,
    peer: Option<SocketAddr>,
) -> Result<Credential, Box<Response>> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let refusal = match (&app.config.auth, &app.oauth) {
        (AuthMode::None, _) => return Ok(Credential::of(address)),
        (AuthMode::ApiKey, _) => match app.config.api_keys.check(
            authorization,
            headers.get("x-api-key").map(HeaderValue::as_bytes),
        ) {
            Ok(key) => return Ok(Credential::of(ClientKey::ApiKey(key))),
            Err(denied) => Refusal::Key(denied),
        },
        (AuthMode::OAuth, Some(oauth)) => {
            let token = authorization
                .and_then(bearer)
                .filter(|t| !t.is_empty())
                .and_then(|t| std::str::from_utf8(t).ok());
            let verdict = match token {
                None => Err(Refused::Missing),
                Some(token) => oauth.verify(token).await,
            };
            match verdict {
                Ok(granted) => {
                    tracing::debug!(
                        subject = granted.subject.as_deref(),
                        "access token accepted"
                    );
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    return Ok(Credential {
                        client: ClientKey::Subject(granted.id),
                        lifetime: Some(std::time::Duration::from_secs(
                            granted.expires.saturating_sub(now),
                        )),
                    });
                }
                Err(refused) => Refusal::Token(refused),
            }
        }
        (AuthMode::OAuth, None) => Refusal::Token(Refused::Unavailable),
    };
    if let Err(Limited::Rate(wait)) = app.limits.check_rate(address) {
        tracing::warn!(client = %address, "client request rate exceeded by refused credentials; 429");
        return Err(Box::new(too_many(
            None,
            "Too many requests from this client (CLIENT_REQUEST_RATE); retry later",
            wait,
        )));
    }
    let (reason, status) = match refusal {
        Refusal::Key(Denied::Missing) => ("no key", "API key refused; 401"),
        Refusal::Key(Denied::Invalid) => ("unknown key", "API key refused; 401"),
        Refusal::Token(Refused::Missing) => ("no token", "access token refused; 401"),
        Refusal::Token(Refused::Invalid(why)) => (why, "access token refused; 401"),
        Refusal::Token(Refused::UnknownKey) => ("unknown key id", "access token refused; 401"),
        Refusal::Token(Refused::Scope) => ("missing scope", "access token refused; 403"),
        Refusal::Token(Refused::Unavailable) => (
            "its key is not held and the issuer's keys cannot be fetched now",
            "access token not checked; 503",
        ),
    };
    tracing::warn!(
        client = %address,
        peer = peer.map(|p| p.to_string()),
        reason,
        "{status}"
    );
    Err(Box::new(match refusal {
        Refusal::Key(denied) => unauthorized(denied),
        Refusal::Token(refused) => token_refused(app, refused),
    }))
}

/// Who a request is, and for how long its credential is good (an access token's `exp`):
/// long-lived streams it opens end by then, so the client comes back with a fresh token.
#[derive(Debug, Clone, Copy)]
pub struct Credential {
    pub client: ClientKey,
    pub lifetime: Option<std::time::Duration>,
}

impl Credential {
    /// A client whose credential does not expire (an address, an API key).
    pub fn of(client: ClientKey) -> Credential {
        Credential {
            client,
            lifetime: None,
        }
    }
}

/// Why a credential was refused.
enum Refusal {
    Key(Denied),
    Token(Refused),
}

/// The 401 for a request without a known API key: `WWW-Authenticate` says how to present one
/// (RFC 6750; `invalid_token` when a key was sent and is not known).
fn unauthorized(denied: Denied) -> Response {
    let (challenge, message) = match denied {
        Denied::Missing => (
            r#"Bearer realm="mcp""#,
            "Unauthorized: send an API key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'",
        ),
        Denied::Invalid => (
            r#"Bearer realm="mcp", error="invalid_token""#,
            "Unauthorized: the API key is not known",
        ),
    };
    let mut response = jsonrpc_error(StatusCode::UNAUTHORIZED, None, SERVER_ERROR, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// The answer to a refused access token: 401 (none, or not valid here) or 403 (a scope is
/// missing) with the challenge that points at the resource metadata, or 503 when the token
/// cannot be checked now.
fn token_refused(app: &App, refused: Refused) -> Response {
    let Some(settings) = app.oauth.as_ref().map(|oauth| &oauth.settings) else {
        return unavailable(
            None,
            "Cannot check access tokens: OAuth is not set up",
            app.config.sse_retry,
        );
    };
    let (status, message) = match refused {
        Refused::Missing => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized: send an OAuth access token as 'Authorization: Bearer <token>'; \
             WWW-Authenticate names the metadata that says where to get one"
                .to_string(),
        ),
        Refused::Invalid(why) => (StatusCode::UNAUTHORIZED, format!("Unauthorized: {why}")),
        Refused::UnknownKey => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized: the token is signed by a key the issuer does not publish".to_string(),
        ),
        Refused::Scope => (
            StatusCode::FORBIDDEN,
            format!(
                "Forbidden: the token lacks a required scope ({})",
                settings.scopes.join(" ")
            ),
        ),
        Refused::Unavailable => {
            return unavailable(
                None,
                "Cannot check the token now: its signing key is not among the issuer's keys held, which cannot be fetched again yet; retry later",
                ISSUER_RETRY,
            );
        }
    };
    let mut response = jsonrpc_error(status, None, SERVER_ERROR, &message);
    if let Some(value) = metadata::challenge(refused, settings)
        .and_then(|challenge| HeaderValue::from_str(&challenge).ok())
    {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// `Retry-After` when the issuer's keys cannot be fetched: the next fetch may be made then.
const ISSUER_RETRY: std::time::Duration = crate::access::oauth::MIN_REFETCH;
