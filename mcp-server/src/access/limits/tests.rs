use super::*;

fn limits(rate: Option<u32>, burst: u32, sessions: usize, streams: usize) -> Arc<ClientLimits> {
    ClientLimits::new(PerClient {
        rate: rate.and_then(NonZeroU32::new),
        burst: NonZeroU32::new(burst).unwrap(),
        sessions,
        streams,
        body_bytes: 1000,
    })
}

fn key(address: &str) -> ClientKey {
    ClientKey::of(address.parse().unwrap())
}

#[test]
fn the_client_is_the_entry_the_trusted_proxy_added() {
    let peer: IpAddr = "10.0.0.5".parse().unwrap();
    // No trusted proxy: the peer, whatever the header says.
    assert_eq!(
        ClientKey::from_request(peer, Some("1.2.3.4"), 0),
        key("10.0.0.5")
    );
    // Behind the ALB: its entry, the rightmost; what the client wrote before it is ignored.
    assert_eq!(
        ClientKey::from_request(peer, Some("6.6.6.6, 203.0.113.7"), 1),
        key("203.0.113.7")
    );
    assert_eq!(
        ClientKey::from_request(peer, Some("6.6.6.6, 203.0.113.7, 10.0.0.9"), 2),
        key("203.0.113.7")
    );
    // Not through the proxies, or garbage: the peer.
    assert_eq!(ClientKey::from_request(peer, None, 1), key("10.0.0.5"));
    assert_eq!(
        ClientKey::from_request(peer, Some("1.2.3.4"), 2),
        key("10.0.0.5")
    );
    assert_eq!(
        ClientKey::from_request(peer, Some("not-an-ip"), 1),
        key("10.0.0.5")
    );
}

#[test]
fn ipv6_clients_are_keyed_by_their_64_and_mapped_ipv4_as_ipv4() {
    assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
    assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
}

#[test]
fn the_rate_refuses_beyond_the_burst_with_a_wait_and_spares_other_clients() {
    let limits = self::limits(Some(1), 5, 10, 10);
    let (a, b) = (key("192.0.2.1"), key("192.0.2.2"));
    for _ in 0..5 {
        assert!(limits.check_rate(a).is_ok());
    }
    match limits.check_rate(a) {
        Err(Refusal::Rate(wait)) => {
            assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1))
        }
        other => panic!("{other:?}"),
    }
    assert!(
        limits.check_rate(b).is_ok(),
        "another client is still served"
    );
    let unlimited = self::limits(None, 1, 1, 1);
    assert!(unlimited.check_rate(a).is_ok(), "no rate set: no limit");
}

#[test]
fn sessions_count_pending_and_bound_ones_and_come_back_when_they_end() {
    let limits = limits(None, 1, 2, 10);
    let a = key("192.0.2.1");
    let first = limits.claim_session(a).unwrap();
    let second = limits.claim_session(a).unwrap();
    assert_eq!(
        limits.claim_session(a).err(),
        Some(Refusal::Sessions),
        "pending ones count"
    );
    first.bind("s1");
    drop(second); // its initialize created no session
    assert_eq!(limits.held(a).0, 1);
    limits.claim_session(a).unwrap().bind("s2");
    assert!(limits.claim_session(a).is_err());
    assert!(
        limits.claim_session(key("192.0.2.2")).is_ok(),
        "others are not affected"
    );
    limits.session_ended("s1");
    assert_eq!(limits.held(a).0, 1);
    limits.retain_sessions(|id| id != "s2");
    assert_eq!(limits.held(a).0, 0);
    assert!(limits.claim_session(a).is_ok());
}

#[test]
fn a_session_bound_twice_counts_once_and_ends_once() {
    // Two requests restoring the same session from the store both bind it.
    let limits = limits(None, 1, 10, 10);
    let (a, b) = (key("192.0.2.1"), key("192.0.2.2"));
    limits.claim_session(a).unwrap().bind("s1");
    limits.claim_session(a).unwrap().bind("s1");
    limits.claim_session(b).unwrap().bind("s1");
    assert_eq!(limits.held(a).0, 1);
    assert_eq!(limits.held(b).0, 0, "counted by its first holder only");
    limits.session_ended("s1");
    assert_eq!(limits.held(a).0, 0);
}

#[test]
fn streams_are_held_until_dropped() {
    let limits = limits(None, 1, 10, 2);
    let a = key("192.0.2.1");
    let one = limits.claim_stream(a).unwrap();
    let _two = limits.claim_stream(a).unwrap();
    assert_eq!(limits.claim_stream(a).err(), Some(Refusal::Streams));
    drop(one);
    assert!(limits.claim_stream(a).is_ok());
}

#[test]
fn body_bytes_are_counted_per_client_and_given_back() {
    let limits = limits(None, 1, 1, 1);
    let (a, b) = (key("10.0.0.1"), key("10.0.0.2"));
    let mut first = limits.body_account(a);
    assert!(first.try_take(600));
    let mut second = limits.body_account(a);
    assert!(!second.try_take(500), "a's bodies would pass 1000");
    assert!(second.try_take(400));
    // Another client has its own share.
    let mut other = limits.body_account(b);
    assert!(other.try_take(1000));
    drop(first);
    let mut third = limits.body_account(a);
    assert!(third.try_take(600), "the first body's bytes came back");
    assert!(!third.try_take(usize::MAX), "no overflow");
    drop((second, third, other));
    assert!(
        limits.body_bytes.lock().unwrap().is_empty(),
        "nothing left counted"
    );
}
