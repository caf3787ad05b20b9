//! The production address policy, end to end through the real fetch path, on the addresses
//! the SSRF guard exists for: 10.0.0.0/8, cloud metadata at 169.254.169.254, `[::1]`, other
//! loopback addresses, and the IPv6 forms that carry a private IPv4 address (IPv4-mapped,
//! IPv4-compatible, 6to4, Teredo, NAT64). Each is reached two ways: a redirect from a source,
//! and a host name whose DNS answer (an injected resolver) is that address.
//!
//! Nothing can leave the machine, even with a broken guard:
//! - the client is bound to the loopback device (`Fetcher::on_device(.., "lo")`), so a
//!   connection to 10.0.0.1 or 169.254.169.254 that the guard let through would go nowhere
//!   (and the test would see a timeout or "unreachable" instead of a refusal);
//! - names are answered by the test, never by DNS;
//! - the loopback addresses a broken guard could reach (127.0.0.2, `[::1]`, 0.0.0.0, which
//!   Linux connects to the local host) have a listener on the port the test uses, which
//!   counts every connection: the guard must refuse before connecting, so each stays at 0.
//!
//! The policy is the default one with a single exception, 127.0.0.1, where the loopback
//! source server stands in for a public site (`AddressPolicy::PublicOrExactly`).

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use storyline::fetch::guard::Lookup;
use storyline::fetch::{AddressPolicy, FetchError, FetchOutcome, Fetcher, Validators};
use support::feed_server::{FeedServer, Route};
use tokio::net::TcpListener;
use url::Url;

const RSS: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
                   <item><guid>a</guid><title>A</title></item></channel></rss>";

/// Refused destinations: (host as written in a URL, the address the refusal names, what a
/// broken guard would reach). Teredo's last 32 bits are the client's IPv4 address inverted:
/// `80ff:fffd` is 127.0.0.2. `65.54.227.120` is a public Teredo server.
const REFUSED: &[(&str, &str)] = &[
    ("10.0.0.1", "10.0.0.1"),
    ("10.255.255.254", "10.255.255.254"),
    ("169.254.169.254", "169.254.169.254"),
    ("[::1]", "::1"),
    ("127.0.0.2", "127.0.0.2"),
    ("0.0.0.0", "0.0.0.0"),
    (
        "[::ffff:127.0.0.2]",
        "::ffff:127.0.0.2 (IPv4-mapped for 127.0.0.2)",
    ),
    (
        "[::ffff:169.254.169.254]",
        "::ffff:169.254.169.254 (IPv4-mapped for 169.254.169.254)",
    ),
    ("[::127.0.0.2]", "::7f00:2 (IPv4-compatible for 127.0.0.2)"),
    ("[::10.0.0.1]", "::a00:1 (IPv4-compatible for 10.0.0.1)"),
    ("[2002:7f00:2::1]", "2002:7f00:2::1 (6to4 for 127.0.0.2)"),
    (
        "[2002:a9fe:a9fe::1]",
        "2002:a9fe:a9fe::1 (6to4 for 169.254.169.254)",
    ),
    (
        "[2001:0:4136:e378:8000:63bf:80ff:fffd]",
        "2001:0:4136:e378:8000:63bf:80ff:fffd (Teredo for 65.54.227.120 and 127.0.0.2)",
    ),
    ("[64:ff9b::a00:1]", "64:ff9b::a00:1 (NAT64 for 10.0.0.1)"),
];

/// A listener that counts the connections it accepts, and closes them.
struct Trap {
    accepted: Arc<AtomicUsize>,
}

impl Trap {
    async fn bind(addr: SocketAddr) -> Trap {
        let listener = TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("bind trap on {addr}: {e}"));
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        Trap { accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Traps on every loopback address a broken guard could reach, all on one port: 127.0.0.2
/// (also reached through `::ffff:127.0.0.2`), `[::1]`, and 127.0.0.1 (where Linux sends a
/// connection to 0.0.0.0).
async fn traps() -> (u16, Vec<(&'static str, Trap)>) {
    for _ in 0..20 {
        let first = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        let port = first.local_addr().unwrap().port();
        drop(first);
        let addrs = [
            ("127.0.0.2", SocketAddr::from(([127, 0, 0, 2], port))),
            (
                "[::1]",
                SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], port)),
            ),
            ("127.0.0.1", SocketAddr::from(([127, 0, 0, 1], port))),
        ];
        // Another process may take the port between the probe and the binds: try again.
        if addrs
            .iter()
            .all(|(_, a)| std::net::TcpListener::bind(a).is_ok())
        {
            let mut traps = Vec::new();
            for (name, a) in addrs {
                traps.push((name, Trap::bind(a).await));
            }
            return (port, traps);
        }
    }
    panic!("no port free on 127.0.0.2, [::1] and 127.0.0.1 at once");
}

/// The test's DNS: `source.test` is the loopback source server; `hN.test` answers the N-th
/// refused address. Every question is counted.
fn lookup(calls: Arc<AtomicUsize>) -> Lookup {
    Arc::new(move |host: String| {
        calls.fetch_add(1, Ordering::SeqCst);
        let ip: IpAddr = if host == "source.test" {
            IpAddr::from([127, 0, 0, 1])
        } else {
            let n: usize = host
                .strip_prefix('h')
                .and_then(|h| h.strip_suffix(".test"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected lookup of {host}"));
            REFUSED[n].0.trim_matches(['[', ']']).parse().unwrap()
        };
        Box::pin(async move { Ok(vec![SocketAddr::new(ip, 0)]) })
    })
}

fn fetcher(lookup: Lookup) -> Fetcher {
    let dir = tempfile::tempdir().unwrap();
    let cfg = support::config(dir.path(), "timeout = \"5s\"\nconnect_timeout = \"1s\"\n");
    let policy = AddressPolicy::PublicOrExactly(IpAddr::from([127, 0, 0, 1]));
    Fetcher::on_device(&cfg.fetch, policy, lookup, "lo").unwrap()
}

/// What went wrong with one fetch that had to be refused by the guard, if anything.
fn problem(what: &str, named: &str, r: Result<FetchOutcome, FetchError>) -> Option<String> {
    match r {
        Err(FetchError::Refused(m)) if m.contains(&format!("refused to connect to {named}:")) => {
            None
        }
        Err(e) => Some(format!(
            "{what}: expected a refusal naming {named}, got {e:?}"
        )),
        Ok(o) => Some(format!("{what}: expected a refusal, got {o:?}")),
    }
}

/// Every problem, and every connection a trap saw, in one failure message.
fn assert_all_refused_untouched(mut problems: Vec<String>, traps: &[(&str, Trap)]) {
    for (name, trap) in traps {
        if trap.accepted() > 0 {
            problems.push(format!(
                "{} connection(s) reached the trap on {name}",
                trap.accepted()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A source that redirects to each refused address, written as an address, is refused at
/// that hop before any connection; the same fetcher follows a redirect to the allowed
/// address, so the refusals are the guard's doing and not a broken setup.
#[tokio::test]
async fn redirects_to_private_addresses_are_refused_before_connecting() {
    let (port, traps) = traps().await;
    let server = FeedServer::start().await;
    let sport = server.addr.port();
    server.route(
        "/feed",
        Route::Status {
            code: 200,
            headers: vec![("content-type", "application/rss+xml".into())],
            body: RSS.into(),
        },
    );
    server.route(
        "/to-allowed",
        Route::redirect(302, &format!("http://127.0.0.1:{sport}/feed")),
    );
    for (i, (host, _)) in REFUSED.iter().enumerate() {
        server.route(
            &format!("/to-{i}"),
            Route::redirect(302, &format!("http://{host}:{port}/latest/meta-data/")),
        );
    }
    let f = fetcher(lookup(Arc::new(AtomicUsize::new(0))));
    let src = |path: &str| Url::parse(&format!("http://source.test:{sport}{path}")).unwrap();

    let allowed = f.fetch(&src("/to-allowed"), &Validators::default()).await;
    assert!(
        matches!(allowed, Ok(FetchOutcome::Fetched(_))),
        "{allowed:?}"
    );
    let mut problems = Vec::new();
    for (i, (host, named)) in REFUSED.iter().enumerate() {
        let r = f
            .fetch(&src(&format!("/to-{i}")), &Validators::default())
            .await;
        problems.extend(problem(&format!("redirect to {host}"), named, r));
    }

    assert_all_refused_untouched(problems, &traps);
    assert_eq!(
        server.hits().len(),
        REFUSED.len() + 2,
        "the source saw one request per redirect, and the allowed hop one more"
    );
}

/// A name whose DNS answer is a refused address is refused by the resolver, before any
/// connection: fetched directly, and reached through a redirect from a source.
#[tokio::test]
async fn names_answering_private_addresses_are_refused_before_connecting() {
    let (port, traps) = traps().await;
    let server = FeedServer::start().await;
    let sport = server.addr.port();
    for i in 0..REFUSED.len() {
        server.route(
            &format!("/to-h{i}"),
            Route::redirect(301, &format!("http://h{i}.test:{port}/feed")),
        );
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let f = fetcher(lookup(calls.clone()));

    let mut problems = Vec::new();
    for (i, (host, named)) in REFUSED.iter().enumerate() {
        let direct = Url::parse(&format!("http://h{i}.test:{port}/feed")).unwrap();
        let via = Url::parse(&format!("http://source.test:{sport}/to-h{i}")).unwrap();
        for url in [direct, via] {
            let r = f.fetch(&url, &Validators::default()).await;
            problems.extend(problem(&format!("{url} answering {host}"), named, r));
        }
    }

    assert_all_refused_untouched(problems, &traps);
    assert_eq!(
        server.hits().len(),
        REFUSED.len(),
        "one request per redirect"
    );
    // Each refused name was asked once directly and once after the redirect, and the
    // source's name once per redirect (a new connection each time is not needed; reqwest
    // may reuse it, so the source is asked at least once).
    let asked = calls.load(Ordering::SeqCst);
    assert!(
        asked > 2 * REFUSED.len(),
        "the resolver was asked {asked} times"
    );
}
