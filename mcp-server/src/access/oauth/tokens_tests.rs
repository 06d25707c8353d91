use super::*;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use jsonwebtoken::{EncodingKey, Header};
use proptest::prelude::*;
use serde_json::{Value, json};

const ISSUER: &str = "https://issuer.example.com";
const AUDIENCE: &str = "https://docs.example.com/mcp";

struct Signer {
    key: EncodingKey,
    jwk: Value,
}

fn signer(kid: Option<&str>) -> Signer {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let key = EncodingKey::from_ec_der(pkcs8.as_ref());
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
    jwk.common.key_id = kid.map(str::to_string);
    Signer {
        key,
        jwk: serde_json::to_value(&jwk).unwrap(),
    }
}

fn set_of(keys: &[&Value]) -> KeySet {
    KeySet::parse(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "scope": "openid docs:read",
        "iat": now(),
        "exp": now() + 300,
    })
}

fn policy() -> Settings {
    Settings {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        aliases: vec![],
        scopes: vec!["docs:read".into()],
        audience_in_scope: false,
    }
}

fn sign(signer: &Signer, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &signer.key).unwrap()
}

fn with(changes: Value) -> Value {
    let mut claims = claims();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

fn b64(value: &Value) -> String {
    base64_url(value.to_string().as_bytes())
}

/// base64url without padding, as JWTs use.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn a_valid_token_is_let_in_and_named_by_its_subject() {
    let a = signer(Some("k1"));
    let keys = set_of(&[&a.jwk]);
    let granted = check(&sign(&a, Some("k1"), &claims()), &keys, &policy()).unwrap();
    assert_eq!(granted.subject.as_deref(), Some("alice"));
    let again = check(&sign(&a, Some("k1"), &claims()), &keys, &policy()).unwrap();
    assert_eq!(
        granted.id, again.id,
        "one subject, one client for the limits"
    );
    let bob = check(
        &sign(&a, Some("k1"), &with(json!({ "sub": "bob" }))),
        &keys,
        &policy(),
    )
    .unwrap();
    assert_ne!(granted.id, bob.id);
    let listed = with(json!({ "aud": ["https://other.example.com", AUDIENCE] }));
    assert!(check(&sign(&a, Some("k1"), &listed), &keys, &policy()).is_ok());
    let scp = with(json!({ "scope": null, "scp": ["docs:read"] }));
    assert!(check(&sign(&a, Some("k1"), &scp), &keys, &policy()).is_ok());
}

#[test]
fn time_is_checked_with_a_small_leeway() {
    let a = signer(Some("k1"));
    let keys = set_of(&[&a.jwk]);
    let at = |changes: Value| check(&sign(&a, Some("k1"), &with(changes)), &keys, &policy());
    assert_eq!(
        at(json!({ "exp": now() - 120 })),
        Err(Refused::Invalid("the token has expired"))
    );
    assert!(
        at(json!({ "exp": now() - 10 })).is_ok(),
        "inside the leeway"
    );
    assert_eq!(
        at(json!({ "exp": null })),
        Err(Refused::Invalid("the token lacks exp or iss"))
    );
    assert_eq!(
        at(json!({ "nbf": now() + 120 })),
        Err(Refused::Invalid("the token is not valid yet (nbf)"))
    );
    assert!(at(json!({ "nbf": now() + 10 })).is_ok());
}

#[test]
fn issuer_audience_and_kind_must_be_ours() {
    let a = signer(Some("k1"));
    let keys = set_of(&[&a.jwk]);
    let at = |changes: Value| check(&sign(&a, Some("k1"), &with(changes)), &keys, &policy());
    assert_eq!(
        at(json!({ "iss": "https://evil.example.com" })),
        Err(Refused::Invalid("the token is from another issuer"))
    );
    assert!(at(json!({ "iss": null })).is_err());
    let not_ours = Err(Refused::Invalid("the token is not for this server (aud)"));
    assert_eq!(
        at(json!({ "aud": "https://other.example.com/mcp" })),
        not_ours
    );
    assert_eq!(at(json!({ "aud": [] })), not_ours);
    assert_eq!(at(json!({ "aud": null })), not_ours);
    assert_eq!(
        at(json!({ "aud": format!("https://attacker.example/api {AUDIENCE}") })),
        not_ours,
        "one string is one audience, never split"
    );
    assert!(at(json!({ "iss": [ISSUER, "https://evil.example.com"] })).is_err());
    for id_claim in ["nonce", "at_hash", "c_hash"] {
        assert_eq!(
            at(json!({ id_claim: "abc" })),
            Err(Refused::Invalid("the token is not an access token")),
            "{id_claim} marks an ID token"
        );
    }
    assert!(
        at(json!({ "scope": ["openid", "docs:read"] })).is_ok(),
        "scope as a list"
    );
    assert_eq!(
        at(json!({ "token_use": "id" })),
        Err(Refused::Invalid("the token is not an access token"))
    );
    assert!(at(json!({ "token_use": "access" })).is_ok());
    // An alias (Entra ID v2: the application's client id) names this server too.
    let app_id = "6731de76-14a6-49ae-97bc-6eba6914391e";
    let aliased = Settings {
        aliases: vec![app_id.into()],
        ..policy()
    };
    let token = sign(&a, Some("k1"), &with(json!({ "aud": app_id })));
    assert!(check(&token, &keys, &aliased).is_ok());
    assert_eq!(check(&token, &keys, &policy()), not_ours);
}

#[test]
fn cognito_tokens_name_this_server_by_a_scope() {
    let a = signer(Some("k1"));
    let keys = set_of(&[&a.jwk]);
    let cognito = Settings {
        audience_in_scope: true,
        scopes: vec![format!("{AUDIENCE}/read")],
        ..policy()
    };
    let token = |scope: &str| {
        sign(
            &a,
            Some("k1"),
            &with(
                json!({ "aud": null, "token_use": "access", "client_id": "c1", "sub": null, "scope": scope }),
            ),
        )
    };
    let granted = check(&token(&format!("{AUDIENCE}/read")), &keys, &cognito).unwrap();
    assert_eq!(granted.subject, None, "machine tokens have no sub");
    assert!(check(&token(&format!("{AUDIENCE}/read")), &keys, &policy()).is_err());
    for other in [
        format!("{AUDIENCE}/read/extra"),
        format!("{AUDIENCE}x/read"),
        format!("{AUDIENCE}/"),
        "docs:read".to_string(),
    ] {
        assert!(check(&token(&other), &keys, &cognito).is_err(), "{other}");
    }
    let wrong_aud =
        with(json!({ "aud": "https://other.example.com", "scope": format!("{AUDIENCE}/read") }));
    assert!(
        check(&sign(&a, Some("k1"), &wrong_aud), &keys, &cognito).is_err(),
        "an aud that names another server is never overruled by a scope"
    );
}

#[test]
fn a_missing_scope_is_its_own_refusal() {
    let a = signer(Some("k1"));
    let keys = set_of(&[&a.jwk]);
    let token = sign(&a, Some("k1"), &with(json!({ "scope": "docs:write" })));
    assert_eq!(check(&token, &keys, &policy()), Err(Refused::Scope));
    let none = Settings {
        scopes: vec![],
        ..policy()
    };
    assert!(check(&token, &keys, &none).is_ok());
    let two = Settings {
        scopes: vec!["docs:read".into(), "docs:write".into()],
        ..policy()
    };
    let both = sign(
        &a,
        Some("k1"),
        &with(json!({ "scope": "docs:write docs:read" })),
    );
    assert!(check(&both, &keys, &two).is_ok());
    assert_eq!(
        check(&sign(&a, Some("k1"), &claims()), &keys, &two),
        Err(Refused::Scope)
    );
}

#[test]
fn keys_are_found_by_kid_and_forgeries_fail() {
    let a = signer(Some("k1"));
    let stranger = signer(Some("k1"));
    let keys = set_of(&[&a.jwk]);
    assert_eq!(
        check(&sign(&a, Some("k2"), &claims()), &keys, &policy()),
        Err(Refused::UnknownKey)
    );
    assert!(
        check(&sign(&a, None, &claims()), &keys, &policy()).is_ok(),
        "no kid: the one key of its algorithm"
    );
    assert_eq!(
        check(&sign(&stranger, Some("k1"), &claims()), &keys, &policy()),
        Err(Refused::Invalid("the token's signature does not verify")),
        "another key under a known kid"
    );
    // A payload swapped under a valid signature.
    let token = sign(&a, Some("k1"), &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(&with(json!({ "sub": "root" }))),
        parts[2]
    );
    assert_eq!(
        check(&forged, &keys, &policy()),
        Err(Refused::Invalid("the token's signature does not verify"))
    );
    // `alg: none`, and HMAC keyed with the published key: both refused before any key is used.
    let none = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "kid": "k1" })),
        b64(&claims())
    );
    assert!(matches!(
        check(&none, &keys, &policy()),
        Err(Refused::Invalid(_))
    ));
    let secret = EncodingKey::from_secret(a.jwk.to_string().as_bytes()).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let hmac = jsonwebtoken::encode(&header, &claims(), &secret).unwrap();
    assert_eq!(
        check(&hmac, &keys, &policy()),
        Err(Refused::Invalid(
            "the token's algorithm is not accepted (RS256 and ES256 are)"
        ))
    );
    let long = format!("{token}{}", "A".repeat(MAX_TOKEN_BYTES));
    assert_eq!(
        check(&long, &keys, &policy()),
        Err(Refused::Invalid("the token is too long"))
    );
}

#[test]
fn a_jwks_gives_only_its_signing_keys() {
    let a = signer(Some("sig"));
    let mut enc = signer(Some("enc")).jwk;
    enc["use"] = json!("enc");
    let mut p384 = signer(Some("p384")).jwk;
    p384["crv"] = json!("P-384");
    let mut rs512 = signer(Some("rs512")).jwk;
    rs512["alg"] = json!("RS512");
    let mut wraps = signer(Some("wrap")).jwk;
    wraps["key_ops"] = json!(["wrapKey"]);
    let oct = json!({ "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" });
    let unknown = json!({ "kty": "OKP", "crv": "X448", "kid": "x448", "x": "AA" });
    let keys = set_of(&[&a.jwk, &enc, &p384, &rs512, &oct, &unknown, &wraps]);
    assert_eq!(keys.len(), 1);
    assert!(keys.knows("sig"));
    assert!(!keys.knows("hmac"));
    assert!(KeySet::parse(json!({ "keys": [oct] }).to_string().as_bytes()).is_err());
    assert!(KeySet::parse(b"<html>").is_err());
    assert!(KeySet::parse(b"{}").is_err());
}

proptest! {
    #[test]
    fn no_string_is_a_valid_token(token in "[ -~]{0,400}") {
        let a = signer(Some("k1"));
        let keys = set_of(&[&a.jwk]);
        prop_assert!(check(&token, &keys, &policy()).is_err());
    }

    #[test]
    fn no_edit_of_a_valid_token_is_let_in(at in 0usize..400, byte in 0u8..128) {
        let a = signer(Some("k1"));
        let keys = set_of(&[&a.jwk]);
        let token = sign(&a, Some("k1"), &claims());
        let mut bytes = token.clone().into_bytes();
        let at = at % bytes.len();
        prop_assume!(bytes[at] != byte);
        bytes[at] = byte;
        let edited = String::from_utf8(bytes).unwrap();
        // A base64 digit's low bits past the end of the data may change nothing decoded.
        if let Ok(granted) = check(&edited, &keys, &policy()) {
            prop_assert_eq!(Some(granted), check(&token, &keys, &policy()).ok());
        }
    }
}
