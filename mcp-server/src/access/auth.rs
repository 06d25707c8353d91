//! `AUTH=api-key`: callers of `/mcp` present a key, as `Authorization: Bearer <key>` or
//! `X-Api-Key: <key>`; the server holds only the keys' SHA-256 hashes (`AUTH_API_KEY_HASHES`,
//! `AUTH_API_KEY_FILE`), so a leaked configuration or task definition gives no key away.
//!
//! A presented key is hashed and compared with every known hash in constant time (the `subtle`
//! crate), all of them every time, so the time taken says nothing about how close a guess
//! came. A key is named in logs and limits by its id: the first 12 hex digits of its hash,
//! never the key.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A key's name in logs and per-client limits: the first 6 bytes of its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 6]);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl KeyId {
    /// The id made of a digest's first 6 bytes (a key's SHA-256, or a token subject's).
    pub fn from_digest(digest: &[u8]) -> KeyId {
        let mut id = [0u8; 6];
        id.copy_from_slice(&digest[..6]);
        KeyId(id)
    }
}

/// The hashes of the keys that may call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeys {
    hashes: Vec<[u8; 32]>,
}

/// Why a request was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No key was presented.
    Missing,
    /// A key was presented and is not one of ours.
    Invalid,
}

impl ApiKeys {
    /// Reads hashes: 64 hex digits each, separated by commas, spaces or new lines; lines
    /// starting with `#` are comments (for a file of keys).
    pub fn parse(text: &str) -> Result<ApiKeys, String> {
        let mut hashes = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            for item in line.split([',', ' ', '\t']).filter(|i| !i.is_empty()) {
                hashes.push(parse_hash(item).ok_or_else(|| {
                    format!(
                        "expected SHA-256 hashes of the keys (64 hex digits each, e.g. from \
                         `printf %s \"$KEY\" | sha256sum`), got an item of {} characters",
                        item.len()
                    )
                })?);
            }
        }
        hashes.sort_unstable();
        hashes.dedup();
        Ok(ApiKeys { hashes })
    }

    /// Adds the hashes of `other`.
    pub fn extend(&mut self, other: ApiKeys) {
        self.hashes.extend(other.hashes);
        self.hashes.sort_unstable();
        self.hashes.dedup();
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The id of the key a request presents, or why it is refused. `Authorization: Bearer`
    /// first (the standard header, where tokens go), then `X-Api-Key`; an empty value counts as
    /// absent (a client configured with a variable that is unset). A value longer than
    /// [`MAX_KEY_BYTES`] is refused without hashing.
    pub fn check(
        &self,
        authorization: Option<&[u8]>,
        api_key: Option<&[u8]>,
    ) -> Result<KeyId, Denied> {
        let present = |value: &&[u8]| !value.is_empty();
        let presented = authorization
            .and_then(bearer)
            .filter(present)
            .or_else(|| api_key.map(<[u8]>::trim_ascii).filter(present))
            .ok_or(Denied::Missing)?;
        if presented.len() > MAX_KEY_BYTES {
            return Err(Denied::Invalid);
        }
        let hash: [u8; 32] = Sha256::digest(presented).into();
        let mut found = subtle::Choice::from(0);
        for known in &self.hashes {
            found |= known.ct_eq(&hash);
        }
        if bool::from(found) {
            Ok(KeyId::from_digest(&hash))
        } else {
            Err(Denied::Invalid)
        }
    }
}

/// The longest key looked at: a key is a few dozen characters; longer values are not hashed.
pub const MAX_KEY_BYTES: usize = 1024;

/// The credentials of an `Authorization: Bearer <token>` value (the scheme in any case).
pub fn bearer(value: &[u8]) -> Option<&[u8]> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let (scheme, token) = text.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().as_bytes())
}

fn parse_hash(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        hash[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hash_of(key: &str) -> String {
        Sha256::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn a_key_is_let_in_by_its_hash_from_either_header() {
        let keys = ApiKeys::parse(&format!(
            "# team keys\n{}, {}\n",
            hash_of("alpha-key"),
            hash_of("beta-key").to_uppercase()
        ))
        .unwrap();
        assert_eq!(keys.len(), 2);
        let id = keys.check(Some(b"Bearer alpha-key"), None).unwrap();
        assert_eq!(id.to_string(), hash_of("alpha-key")[..12]);
        assert_eq!(keys.check(Some(b"bearer   alpha-key "), None), Ok(id));
        assert!(keys.check(None, Some(b"beta-key")).is_ok());
        assert!(
            keys.check(Some(b"Bearer alpha-key"), Some(b"")).is_ok(),
            "an empty X-Api-Key is no key"
        );
        assert!(
            keys.check(Some(b"Bearer alpha-key"), Some(b"proxy-key"))
                .is_ok(),
            "Bearer first: a proxy's own X-Api-Key does not shadow it"
        );
        assert_eq!(
            keys.check(Some(b"Bearer nope"), Some(b"beta-key")),
            Err(Denied::Invalid),
            "a Bearer value is the one looked at"
        );
        assert!(keys.check(Some(b"Bearer "), Some(b"beta-key")).is_ok());
        let long = vec![b'a'; MAX_KEY_BYTES + 1];
        assert_eq!(keys.check(None, Some(&long)), Err(Denied::Invalid));
        assert_eq!(keys.check(None, None), Err(Denied::Missing));
        assert_eq!(keys.check(Some(b"Bearer "), None), Err(Denied::Missing));
        assert_eq!(
            keys.check(Some(b"Basic YWxwaGE6"), None),
            Err(Denied::Missing)
        );
        assert_eq!(
            keys.check(Some(b"Bearer alpha-kez"), None),
            Err(Denied::Invalid)
        );
        assert_eq!(
            keys.check(Some(hash_of("alpha-key").as_bytes()), None),
            Err(Denied::Missing),
            "the hash is not the key"
        );
        assert_eq!(
            keys.check(None, Some(hash_of("alpha-key").as_bytes())),
            Err(Denied::Invalid),
            "the hash is not the key"
        );
    }

    #[test]
    fn anything_but_hashes_is_refused() {
        for bad in [
            "alpha-key",
            &hash_of("x")[..63],
            &format!("{}0", hash_of("x")),
            &"g".repeat(64),
        ] {
            assert!(ApiKeys::parse(bad).is_err(), "{bad}");
        }
        assert!(ApiKeys::parse("").unwrap().is_empty());
    }

    proptest! {
        #[test]
        fn only_the_listed_keys_get_in(keys in proptest::collection::vec("[ -~]{1,40}", 1..5), other in "[ -~]{1,40}") {
            let list: Vec<String> = keys.iter().map(|k| hash_of(k.trim())).collect();
            let allowed = ApiKeys::parse(&list.join(",")).unwrap();
            for key in &keys {
                let trimmed = key.trim();
                if !trimmed.is_empty() {
                    prop_assert!(allowed.check(None, Some(trimmed.as_bytes())).is_ok());
                }
            }
            let listed = keys.iter().any(|k| !k.trim().is_empty() && k.trim() == other);
            prop_assert_eq!(allowed.check(None, Some(other.as_bytes())).is_ok(), listed);
        }
    }
}
