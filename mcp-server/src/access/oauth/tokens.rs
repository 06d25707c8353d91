//! What `AUTH=oauth` checks of a bearer token, without any I/O: the issuer's keys
//! ([`KeySet`], parsed from its JWKS) and the rules ([`Settings`]) are given.
//!
//! A token is let in only if it is a JWS signed with RS256 or ES256 by a key the issuer
//! publishes for that algorithm (the key's own `alg`, or its type and curve, decide: a token
//! cannot pick HMAC with a public key as the secret, or `none`), is within `exp`/`nbf` (with
//! [`LEEWAY_SECONDS`] for clocks), names the issuer in `iss` and this server in `aud`, is not an
//! ID token (`token_use: id`, Amazon Cognito's), and carries every required scope.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::access::auth::KeyId;

/// Clock difference tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;

/// The longest token looked at; real access tokens are one to a few KiB.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The most keys taken from one JWKS (issuers publish two or three).
pub const MAX_KEYS: usize = 64;

/// What a token must show: `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_AUDIENCE_ALIASES`,
/// `AUTH_SCOPES` and `AUTH_AUDIENCE_IN_SCOPE`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The `iss` every token must carry (`https://`, or `http://` on a loopback host); once
    /// the issuer's discovery document is read, its own spelling.
    pub issuer: String,
    /// This server's resource identifier (`AUTH_AUDIENCE`), which `aud` must contain.
    pub audience: String,
    /// Other `aud` values that name this server (`AUTH_AUDIENCE_ALIASES`: Entra ID v2 tokens
    /// carry the application's client id).
    pub aliases: Vec<String>,
    /// Scopes every token must carry (`AUTH_SCOPES`).
    pub scopes: Vec<String>,
    /// `AUTH_AUDIENCE_IN_SCOPE`: a token without `aud` names this server by a scope
    /// `<audience>/<name>` (Amazon Cognito's access tokens carry no `aud`).
    pub audience_in_scope: bool,
}

/// A token that was let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// Its `sub`, if any: may be logged, as a field.
    pub subject: Option<String>,
    /// Who the token is, for per-client limits: the first bytes of SHA-256 over `iss` and
    /// `sub` (or the client id when there is no subject).
    pub id: KeyId,
    /// Its `exp`, in seconds since the epoch: long-lived streams opened with it end then.
    pub expires: u64,
}

/// Why a token was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No bearer token in the request.
    Missing,
    /// The token is not valid here; the text says why, for `error_description` (never the
    /// token's contents).
    Invalid(&'static str),
    /// Signed by a key this server does not hold (yet: the issuer may have rotated keys).
    UnknownKey,
    /// Valid, but without a required scope.
    Scope,
    /// Signed by an unknown key, and the issuer's keys could not be fetched to look for it:
    /// the token cannot be checked now (never returned by [`check`]).
    Unavailable,
}

/// One signing key of the issuer, with the one algorithm it verifies.
pub struct Key {
    alg: Algorithm,
    key: DecodingKey,
}

/// The issuer's signing keys, by `kid`.
#[derive(Default)]
pub struct KeySet {
    by_kid: HashMap<String, Arc<Key>>,
    /// Keys published without a `kid`: used only for a token without one, when the set holds
    /// exactly one key of its algorithm.
    unnamed: Vec<Arc<Key>>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.by_kid.keys().collect::<Vec<_>>())
            .field("unnamed", &self.unnamed.len())
            .finish()
    }
}

impl KeySet {
    /// The RS256 and ES256 signing keys of a JWKS document; other keys (encryption keys, other
    /// algorithms and curves, symmetric keys, entries this parser does not know) are skipped.
    /// An error if none is left.
    pub fn parse(jwks: &[u8]) -> Result<KeySet, String> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document = serde_json::from_slice(jwks)
            .map_err(|error| format!("the JWKS is not a JSON key set: {error}"))?;
        let mut set = KeySet::default();
        for entry in document.keys.into_iter().take(MAX_KEYS) {
            let Ok(jwk) = serde_json::from_value::<Jwk>(entry) else {
                continue;
            };
            let Some((alg, key)) = usable(&jwk) else {
                continue;
            };
            let key = Arc::new(Key { alg, key });
            match jwk.common.key_id {
                Some(kid) => {
                    set.by_kid.insert(kid, key);
                }
                None => set.unnamed.push(key),
            }
        }
        if set.is_empty() {
            return Err("the JWKS holds no RS256 or ES256 signing key".into());
        }
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.by_kid.len() + self.unnamed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn knows(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<&Key> {
        match kid {
            Some(kid) => self.by_kid.get(kid).map(Arc::as_ref),
            None => {
                let mut of_alg = self
                    .unnamed
                    .iter()
                    .chain(self.by_kid.values())
                    .filter(|k| k.alg == alg);
                match (of_alg.next(), of_alg.next()) {
                    (Some(only), None) => Some(only),
                    _ => None,
                }
            }
        }
    }
}

/// The algorithm a JWK verifies, if it is an RS256 or ES256 signing key.
fn usable(jwk: &Jwk) -> Option<(Algorithm, DecodingKey)> {
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature)
        || matches!(&jwk.common.key_operations, Some(ops) if !ops.contains(&KeyOperations::Verify))
    {
        return None;
    }
    let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
            if ec.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        _ => return None,
    };
    DecodingKey::from_jwk(jwk).ok().map(|key| (alg, key))
}

/// The claims looked at beyond those `jsonwebtoken` validates (`exp`, `nbf`, and `iss`, which
/// must be one string here: `jsonwebtoken` would take a list that contains the issuer).
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    iss: Option<serde_json::Value>,
    /// Checked by `jsonwebtoken` (required, a number); read again for [`Granted::expires`].
    #[serde(default)]
    exp: Option<serde_json::Value>,
    /// One string is one audience (RFC 7519), never split; or a list.
    #[serde(default)]
    aud: Option<OneOrMany>,
    #[serde(default)]
    sub: Option<String>,
    /// RFC 9068 and most issuers: space-separated (some send a list).
    #[serde(default)]
    scope: Option<OneOrMany>,
    /// Okta and Entra ID: a list (or a space-separated string).
    #[serde(default)]
    scp: Option<OneOrMany>,
    #[serde(default)]
    client_id: Option<String>,
    /// Amazon Cognito: `access` or `id`.
    #[serde(default)]
    token_use: Option<String>,
    /// Claims only OpenID Connect ID tokens carry: such a token is not an access token, even
    /// when its `aud` (a client id) is one of `AUTH_AUDIENCE_ALIASES`.
    #[serde(default)]
    nonce: Option<serde_json::Value>,
    #[serde(default)]
    at_hash: Option<serde_json::Value>,
    #[serde(default)]
    c_hash: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values, a string taken whole (as `aud` is).
    fn values(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(one) => vec![one.as_str()],
            OneOrMany::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }

    /// The scopes: a string is split on spaces (RFC 6749 §3.3), each item of a list too.
    fn scopes(&self) -> Vec<&str> {
        self.values()
            .into_iter()
            .flat_map(str::split_ascii_whitespace)
            .collect()
    }
}

/// Checks `token` (the credentials of `Authorization: Bearer`) against the keys and the rules.
pub fn check(token: &str, keys: &KeySet, policy: &Settings) -> Result<Granted, Refused> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refused::Invalid("the token is too long"));
    }
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| Refused::Invalid("the token is not a signed JWT this server accepts"))?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
        return Err(Refused::Invalid(
            "the token's algorithm is not accepted (RS256 and ES256 are)",
        ));
    }
    let key = keys
        .find(header.kid.as_deref(), header.alg)
        .ok_or(Refused::UnknownKey)?;
    if key.alg != header.alg {
        return Err(Refused::Invalid(
            "the token's algorithm does not match its key",
        ));
    }
    let mut validation = Validation::new(key.alg);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss"]);
    validation.set_issuer(&[&policy.issuer]);
    let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
        .map_err(|error| {
            Refused::Invalid(match error.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
                ErrorKind::InvalidIssuer => "the token is from another issuer",
                ErrorKind::InvalidSignature => "the token's signature does not verify",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks exp or iss",
                _ => "the token is not a signed JWT this server accepts",
            })
        })?
        .claims;
    if !claims
        .iss
        .as_ref()
        .is_some_and(serde_json::Value::is_string)
    {
        return Err(Refused::Invalid("the token is from another issuer"));
    }
    if claims.token_use.as_deref().is_some_and(|u| u != "access")
        || claims.nonce.is_some()
        || claims.at_hash.is_some()
        || claims.c_hash.is_some()
    {
        return Err(Refused::Invalid("the token is not an access token"));
    }
    let mut scopes: Vec<&str> = claims
        .scope
        .as_ref()
        .map(OneOrMany::scopes)
        .unwrap_or_default();
    if let Some(scp) = &claims.scp {
        scopes.extend(scp.scopes());
    }
    let for_us = match &claims.aud {
        Some(aud) => aud
            .values()
            .iter()
            .any(|a| *a == policy.audience || policy.aliases.iter().any(|alias| alias == a)),
        None => policy.audience_in_scope && scopes.iter().any(|s| names(&policy.audience, s)),
    };
    if !for_us {
        return Err(Refused::Invalid("the token is not for this server (aud)"));
    }
    if !policy.scopes.iter().all(|s| scopes.contains(&s.as_str())) {
        return Err(Refused::Scope);
    }
    let who = claims
        .sub
        .as_deref()
        .or(claims.client_id.as_deref())
        .unwrap_or("");
    let digest = Sha256::new()
        .chain_update(policy.issuer.as_bytes())
        .chain_update([0])
        .chain_update(who.as_bytes())
        .finalize();
    Ok(Granted {
        subject: claims.sub,
        id: KeyId::from_digest(&digest),
        expires: claims
            .exp
            .as_ref()
            .and_then(|exp| exp.as_u64().or_else(|| exp.as_f64().map(|f| f as u64)))
            .unwrap_or(0),
    })
}

/// Whether `scope` is one of the resource server `audience`'s: `<audience>/<name>`, `name` a
/// single segment (so the scopes of a resource server whose identifier merely starts with ours
/// do not count).
fn names(audience: &str, scope: &str) -> bool {
    scope
        .strip_prefix(audience)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;
