//! What can be checked of the store without a server: keys, and a store that is not there
//! (the behaviour against a real redis-server is tested in `tests/tests/session_store.rs`).

use std::time::Duration;

use super::*;

/// A store on loopback port 1, where nothing listens (connections are refused).
pub(crate) fn store_nowhere(prefix: &str, timeout: Duration) -> SharedStore {
    let Ok(StoreSetting::Redis(url)) = StoreSetting::parse("redis://127.0.0.1:1") else {
        panic!("parses");
    };
    SharedStore::open(
        &url,
        StoreOptions {
            prefix: prefix.into(),
            ttl: Duration::from_secs(60),
            timeout,
            password: None,
        },
    )
    .expect("opens lazily")
}

#[tokio::test]
async fn keys_carry_the_prefix_and_a_hash_never_the_id() {
    let store = store_nowhere("docs-mcp:", Duration::from_millis(200));
    let key = store.key("0b7c6c1e-secret-session-id");
    assert!(key.starts_with("docs-mcp:session:"), "{key}");
    assert_eq!(key.len(), "docs-mcp:session:".len() + 64);
    assert!(!key.contains("secret"));
    assert_eq!(key, store.key("0b7c6c1e-secret-session-id"));
    assert_ne!(key, store.key("another"));
}

#[tokio::test]
async fn a_store_that_is_not_there_fails_within_its_deadline_and_says_so() {
    let store = store_nowhere("t:", Duration::from_millis(300));
    assert!(store.reachable(), "innocent until a call fails");
    let started = std::time::Instant::now();
    assert!(store.read("id").await.is_err());
    assert!(started.elapsed() < Duration::from_secs(2));
    let health = store.health();
    assert!(!health.reachable);
    assert!(health.last_error.is_some() && health.last_error_at.is_some());
}
