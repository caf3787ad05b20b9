use super::*;

#[test]
fn a_failing_status_keeps_its_code_and_reads_as_before() {
    assert_eq!(
        FetchError::Status(404).to_string(),
        "server answered 404 Not Found"
    );
    assert_eq!(FetchError::Status(599).to_string(), "server answered 599");
}

#[test]
fn retry_after_takes_seconds_and_http_dates() {
    let now = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(
        RetryAfter::parse("120").unwrap().resolve(now),
        now + chrono::Duration::seconds(120)
    );
    let at = RetryAfter::parse("Wed, 01 Jan 2025 01:00:00 GMT").unwrap();
    assert_eq!(at.resolve(now), now + chrono::Duration::hours(1));
    assert!(RetryAfter::parse("soon").is_none());
}

/// The check every hop gets: a redirect to any of these is refused before a connection.
#[test]
fn address_hosts_are_judged_in_every_spelling() {
    let refused = [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00::1]:8080/x",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0:80/",
        "http://2130706433/",          // 127.0.0.1 in decimal
        "http://0x7f.1/",              // 127.0.0.1, hex and short form
        "http://017700000001/",        // 127.0.0.1 in octal
        "http://0251.0376.0251.0376/", // 169.254.169.254 in octal
        "https://[0:0:0:0:0:ffff:7f00:1]/",
        "http://[::127.0.0.1]/",                          // IPv4-compatible
        "http://[::a9fe:a9fe]/",                          // IPv4-compatible 169.254.169.254
        "http://[2002:7f00:1::1]/",                       // 6to4 for 127.0.0.1
        "http://[2002:a00:1::1]:8080/",                   // 6to4 for 10.0.0.1
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", // Teredo client 127.0.0.1
        "http://[64:ff9b::a00:1]/",                       // NAT64 for 10.0.0.1
    ];
    for u in refused {
        let url = Url::parse(u).unwrap();
        match check_url(AddressPolicy::PublicOnly, &url) {
            Err(FetchError::Refused(m)) => assert!(m.contains("refused to connect"), "{m}"),
            other => panic!("{u}: {other:?}"),
        }
    }
    for u in [
        "file:///etc/passwd",
        "gopher://127.0.0.1:25/",
        "ftp://x.org/",
    ] {
        assert!(
            matches!(
                check_url(AddressPolicy::Any, &Url::parse(u).unwrap()),
                Err(FetchError::Refused(_))
            ),
            "{u}"
        );
    }
    for u in ["http://93.184.216.34/", "https://feeds.example.org/a.xml"] {
        assert!(check_url(AddressPolicy::PublicOnly, &Url::parse(u).unwrap()).is_ok());
    }
    let loopback = Url::parse("http://127.0.0.1:9/").unwrap();
    assert!(check_url(AddressPolicy::LoopbackOnly, &loopback).is_ok());
    assert!(check_url(AddressPolicy::Any, &loopback).is_ok());
}
