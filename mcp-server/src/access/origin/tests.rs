use super::*;

fn policy(list: &str) -> OriginPolicy {
    OriginPolicy::parse(list).unwrap()
}

#[test]
fn exact_origins_match_scheme_host_and_port() {
    let p = policy("https://app.example.com, http://localhost:6274");
    assert!(p.check(b"https://app.example.com", None).is_ok());
    assert!(p.check(b"https://APP.example.com", None).is_ok());
    assert!(p.check(b"https://app.example.com:443", None).is_ok());
    assert!(p.check(b"http://localhost:6274", None).is_ok());
    assert_eq!(
        p.check(b"http://app.example.com", None),
        Err(OriginRefusal::NotAllowed)
    );
    assert_eq!(
        p.check(b"https://app.example.com:8443", None),
        Err(OriginRefusal::NotAllowed)
    );
    assert_eq!(
        p.check(b"http://localhost:6275", None),
        Err(OriginRefusal::NotAllowed)
    );
    assert_eq!(
        p.check(b"http://localhost", None),
        Err(OriginRefusal::NotAllowed)
    );
}

#[test]
fn wildcards_match_subdomains_at_a_label_boundary_only() {
    let p = policy("https://*.journium.app");
    assert!(p.check(b"https://docs.journium.app", None).is_ok());
    assert!(p.check(b"https://a.b.journium.app", None).is_ok());
    for refused in [
        "https://journium.app",
        "https://evil-journium.app",
        "https://eviljournium.app",
        "https://docs.journium.app.evil.com",
        "http://docs.journium.app",
        "https://docs.journium.app:8443",
        "https://.journium.app",
    ] {
        assert!(
            p.check(refused.as_bytes(), None).is_err(),
            "{refused} passed"
        );
    }
}

#[test]
fn null_empty_and_malformed_origins_are_refused() {
    let p = policy("https://app.example.com");
    for bad in [
        "null",
        "",
        " ",
        "app.example.com",
        "https://",
        "https://app.example.com/",
        "https://app.example.com/path",
        "https://user@app.example.com",
        "ftp://app.example.com",
        "https://app.example.com:99999",
        "https://app.example.com:",
        "https://app..example.com",
    ] {
        assert_eq!(
            p.check(bad.as_bytes(), None),
            Err(OriginRefusal::Malformed),
            "{bad:?}"
        );
    }
    assert_eq!(p.check(&[0xff, 0xfe], None), Err(OriginRefusal::Malformed));
}

#[test]
fn an_empty_list_refuses_every_origin() {
    let p = policy("");
    assert!(p.is_empty());
    assert_eq!(
        p.check(b"http://localhost:3000", None),
        Err(OriginRefusal::NotAllowed)
    );
}

#[test]
fn bad_entries_are_configuration_errors() {
    for bad in [
        "journium.app",
        "https://*",
        "https://*.",
        "ws://x.com",
        "https://a/b",
    ] {
        assert!(OriginPolicy::parse(bad).is_err(), "{bad} parsed");
    }
    assert!(OriginPolicy::parse("https://app.example.com/").is_ok());
}

fn own<'a>(scheme: &'a str, authority: &'a str) -> Option<OwnOrigin<'a>> {
    Some(OwnOrigin { scheme, authority })
}

#[test]
fn the_servers_own_origin_passes_only_when_its_host_was_checked() {
    let p = policy("");
    assert!(
        p.check(b"http://127.0.0.1:3100", own("http", "127.0.0.1:3100"))
            .is_ok()
    );
    assert!(
        p.check(b"http://localhost:3100", own("http", "localhost:3100"))
            .is_ok()
    );
    assert!(
        p.check(
            b"https://docs.example.com",
            own("https", "docs.example.com")
        )
        .is_ok()
    );
    assert!(
        p.check(
            b"https://docs.example.com:443",
            own("https", "docs.example.com")
        )
        .is_ok()
    );
    assert!(
        p.check(b"http://localhost:3101", own("http", "localhost:3100"))
            .is_err()
    );
    assert!(
        p.check(b"http://evil.example:3100", own("http", "localhost:3100"))
            .is_err()
    );
    assert!(p.check(b"http://127.0.0.1:3100", None).is_err());
}

#[test]
fn same_origin_compares_scheme_host_and_port() {
    let p = policy("");
    // Behind a TLS-terminating ALB the page is https; a plain-http page on the same name is
    // another origin.
    assert!(
        p.check(b"http://docs.example.com", own("https", "docs.example.com"))
            .is_err()
    );
    // A Host without a port means the scheme's default port, not any port.
    assert!(
        p.check(
            b"https://docs.example.com:8443",
            own("https", "docs.example.com")
        )
        .is_err()
    );
    assert!(
        p.check(
            b"http://docs.example.com:8080",
            own("http", "docs.example.com")
        )
        .is_err()
    );
    assert!(
        p.check(
            b"http://docs.example.com",
            own("http", "docs.example.com:80")
        )
        .is_ok()
    );
    assert!(
        p.check(
            b"https://docs.example.com",
            own("gopher", "docs.example.com")
        )
        .is_err()
    );
}

#[test]
fn ipv6_origins_work() {
    let p = policy("http://[::1]:3000");
    assert!(p.check(b"http://[::1]:3000", None).is_ok());
    assert!(p.check(b"http://[::1]:3001", None).is_err());
}

#[test]
fn loopback_host_policy_refuses_rebinding_names() {
    let hosts = HostPolicy::default_for_bind("127.0.0.1".parse().unwrap());
    assert!(hosts.allows("localhost:3100"));
    assert!(hosts.allows("127.0.0.1:3100"));
    assert!(hosts.allows("[::1]:3100"));
    assert!(hosts.allows("LOCALHOST"));
    assert!(!hosts.allows("evil.example:3100"));
    assert!(!hosts.allows("localhost.evil.example"));
    assert!(!hosts.allows(""));
}

#[test]
fn host_lists_take_ports_wildcards_and_star() {
    let hosts = HostPolicy::parse("docs.example.com, *.internal.example, localhost:3100").unwrap();
    assert!(hosts.allows("docs.example.com"));
    assert!(hosts.allows("docs.example.com:443"));
    assert!(hosts.allows("a.internal.example:8080"));
    assert!(!hosts.allows("internal.example"));
    assert!(hosts.allows("localhost:3100"));
    assert!(!hosts.allows("localhost:3101"));
    assert!(!hosts.allows("other.example.com"));
    assert!(HostPolicy::parse("*").unwrap().allows("anything:1"));
    assert!(HostPolicy::parse("bad host").is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_origin_or_host_bytes_are_judged_without_panicking(
            origin in proptest::collection::vec(any::<u8>(), 0..80),
            host in "\\PC{0,60}",
        ) {
            let p = policy("https://*.example.com, http://localhost:3000");
            let _ = p.check(&origin, own("https", &host));
            let _ = HostPolicy::parse("docs.example.com, *.example.org").unwrap().allows(&host);
            let _ = OriginPolicy::parse(&host);
            let _ = HostPolicy::parse(&host);
        }

        #[test]
        fn an_allowed_origin_passes_and_any_other_port_or_scheme_is_refused(
            labels in proptest::collection::vec("[a-z0-9]{1,10}", 1..4),
            port in 1u16..65535,
            secure in any::<bool>(),
        ) {
            let scheme = if secure { "https" } else { "http" };
            let host = labels.join(".");
            let p = policy(&format!("{scheme}://{host}:{port}"));
            let same = format!("{scheme}://{host}:{port}");
            prop_assert!(p.check(same.as_bytes(), None).is_ok());
            let other = if port == 65534 { 1 } else { port + 1 };
            let other_port = format!("{scheme}://{host}:{other}");
            prop_assert!(p.check(other_port.as_bytes(), None).is_err());
            let other_scheme = if secure { "http" } else { "https" };
            let other_scheme = format!("{other_scheme}://{host}:{port}");
            prop_assert!(p.check(other_scheme.as_bytes(), None).is_err());
        }
    }
}
