use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

#[test]
fn non_public_ranges_are_refused_by_default() {
    for a in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
    ] {
        assert!(
            !AddressPolicy::PublicOnly.allows(ip(a)),
            "{a} must be refused"
        );
    }
    for a in ["93.184.216.34", "2606:2800:220:1::1", "1.1.1.1"] {
        assert!(AddressPolicy::PublicOnly.allows(ip(a)), "{a} is public");
    }
}

/// IPv6 forms that carry an IPv4 address are judged by what they carry: refused when it
/// is private, allowed when it is public.
#[test]
fn ipv6_forms_carrying_an_ipv4_address_are_judged_by_it() {
    for (a, carries) in [
        ("::127.0.0.1", "IPv4-compatible for 127.0.0.1"),
        ("::10.0.0.1", "IPv4-compatible for 10.0.0.1"),
        ("::169.254.169.254", "IPv4-compatible for 169.254.169.254"),
        ("::ffff:0:7f00:1", "IPv4-translated for 127.0.0.1"),
        ("2002:7f00:1::1", "6to4 for 127.0.0.1"),
        ("2002:a00:1::", "6to4 for 10.0.0.1"),
        ("2002:a9fe:a9fe::1", "6to4 for 169.254.169.254"),
        ("2002:c0a8:101:1::1", "6to4 for 192.168.1.1"),
        // Teredo: public server 65.54.227.120; the client (bits inverted) is private.
        (
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "Teredo for 65.54.227.120 and 127.0.0.1",
        ),
        (
            "2001:0:4136:e378:8000:63bf:f5ff:fffe",
            "Teredo for 65.54.227.120 and 10.0.0.1",
        ),
        // Teredo with a public client (1.2.3.4) behind a private server (10.0.0.1).
        (
            "2001:0:a00:1:8000:63bf:fefd:fcfb",
            "Teredo for 10.0.0.1 and 1.2.3.4",
        ),
        ("64:ff9b::a00:1", "NAT64 for 10.0.0.1"),
        ("64:ff9b::7f00:1", "NAT64 for 127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "NAT64 for 169.254.169.254"),
    ] {
        let msg = AddressPolicy::PublicOnly
            .check(ip(a))
            .expect_err(&format!("{a} must be refused"));
        // Displayed as Rust spells it ("::127.0.0.1" is "::7f00:1").
        assert!(msg.contains(&format!("{} ({carries})", ip(a))), "{msg}");
    }
    for a in [
        "::1.1.1.1",
        "2002:5db8:d822::1",                    // 6to4 for 93.184.216.34
        "2001:0:4136:e378:8000:63bf:fefd:fcfb", // Teredo, both ends public
        "64:ff9b::5db8:d822",                   // NAT64 (DNS64 networks) for 93.184.216.34
    ] {
        assert!(AddressPolicy::PublicOnly.allows(ip(a)), "{a} is public");
    }
    // IPv6's own loopback and unspecified addresses are not IPv4-compatible forms.
    assert_eq!(carried_v4("::1".parse().expect("v6")), None);
    assert_eq!(carried_v4("::".parse().expect("v6")), None);
}

#[test]
fn other_special_ipv6_ranges_are_refused() {
    for a in [
        "64:ff9b:1::a00:1",
        "100::1",
        "2001:2::1",
        "3fff::1",
        "5f00::1",
    ] {
        assert!(
            !AddressPolicy::PublicOnly.allows(ip(a)),
            "{a} must be refused"
        );
    }
}

#[test]
fn public_or_exactly_allows_one_private_address_and_judges_the_rest() {
    let policy = AddressPolicy::PublicOrExactly(ip("127.0.0.1"));
    assert!(policy.allows(ip("127.0.0.1")));
    assert!(policy.allows(ip("93.184.216.34")));
    for a in [
        "127.0.0.2",
        "::1",
        "::ffff:127.0.0.1",
        "10.0.0.1",
        "::127.0.0.1",
    ] {
        assert!(!policy.allows(ip(a)), "{a} must be refused");
    }
}

#[test]
fn loopback_only_refuses_everything_else() {
    assert!(AddressPolicy::LoopbackOnly.allows(ip("127.0.0.1")));
    assert!(AddressPolicy::LoopbackOnly.allows(ip("::1")));
    assert!(!AddressPolicy::LoopbackOnly.allows(ip("10.0.0.1")));
    assert!(!AddressPolicy::LoopbackOnly.allows(ip("93.184.216.34")));
}

/// A lookup that gives `answers[n]` on the n-th call (the last one from then on): a DNS
/// answer that changes between connections.
fn changing(answers: Vec<Vec<&'static str>>) -> Lookup {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Arc::new(move |_host: String| {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let pick = &answers[n.min(answers.len() - 1)];
        let addrs: Vec<SocketAddr> = pick.iter().map(|a| SocketAddr::new(ip(a), 0)).collect();
        Box::pin(async move { Ok(addrs) })
    })
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

#[test]
fn every_answer_is_judged_and_a_changed_answer_is_refused() {
    let r = GuardedResolver::with_lookup(
        AddressPolicy::PublicOnly,
        changing(vec![
            vec!["93.184.216.34"],
            vec!["169.254.169.254"],
            vec!["10.0.0.1", "::ffff:192.168.0.1"],
            vec!["0.0.0.0"],
        ]),
    );
    block_on(async {
        assert_eq!(
            r.resolve_allowed("feed.example").await,
            Ok(vec![SocketAddr::new(ip("93.184.216.34"), 0)])
        );
        for refused in ["169.254.169.254", "10.0.0.1", "0.0.0.0"] {
            let err = r.resolve_allowed("feed.example").await.expect_err(refused);
            assert!(
                err.contains(&format!("refused to connect to {refused}")),
                "{err}"
            );
        }
    });
}

#[test]
fn refused_answers_are_dropped_from_a_mixed_answer() {
    let r = GuardedResolver::with_lookup(
        AddressPolicy::PublicOnly,
        changing(vec![vec![
            "127.0.0.1",
            "1.1.1.1",
            "fd00::1",
            "2606:4700::1111",
        ]]),
    );
    let got = block_on(r.resolve_allowed("mixed.example")).expect("public answers left");
    let ips: Vec<IpAddr> = got.iter().map(SocketAddr::ip).collect();
    assert_eq!(ips, [ip("1.1.1.1"), ip("2606:4700::1111")]);
}

#[test]
fn loopback_only_refuses_any_answer_off_the_machine() {
    let r = GuardedResolver::with_lookup(
        AddressPolicy::LoopbackOnly,
        changing(vec![vec!["127.0.0.1"], vec!["93.184.216.34"], vec![]]),
    );
    block_on(async {
        assert!(r.resolve_allowed("t.test").await.is_ok());
        assert!(r.resolve_allowed("t.test").await.is_err());
        assert_eq!(
            r.resolve_allowed("t.test").await,
            Err("t.test has no address".to_string())
        );
    });
}

#[test]
fn metadata_and_every_special_range_is_refused_by_default() {
    for a in [
        "169.254.169.254", // AWS, GCP, Azure, OpenStack metadata
        "169.254.170.2",   // ECS task metadata
        "100.100.100.200", // Alibaba metadata (CGNAT range)
        "fd00:ec2::254",   // AWS metadata over IPv6
        "192.0.0.192",     // Oracle metadata (IETF protocol assignments)
        "127.1.2.3",
        "0.1.2.3",
        "198.18.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "240.0.0.1",
        "::",
        "fec0::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "::ffff:0.0.0.0",
    ] {
        assert!(
            !AddressPolicy::PublicOnly.allows(ip(a)),
            "{a} must be refused"
        );
    }
}

#[test]
fn refusal_says_how_to_allow() {
    let msg = AddressPolicy::PublicOnly
        .check(ip("10.0.0.1"))
        .expect_err("private");
    assert!(msg.contains("allow_private_addresses"));
}
