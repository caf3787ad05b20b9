//! The SSRF guard end to end, without a packet leaving the machine.
//!
//! Every address a test lets the client reach is on this machine: the allowed ones are
//! 127.0.0.1, and the refused ones are 0.0.0.0 (which Linux connects to the local host, the
//! "0.0.0.0 day" trick) or loopback under a public-only policy. So a broken guard shows up as
//! a request our own loopback server answers (and the test fails), never as traffic to another
//! address. Off-machine addresses (10/8, 169.254.169.254, the IPv6 forms that carry them) are
//! fetched for real in tests/it/ssrf_addresses.rs, with the client bound to the loopback device;
//! every other spelling is checked as a decision in the unit tests in src/fetch/.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use storyline::fetch::guard::Lookup;
use storyline::fetch::{AddressPolicy, FetchError, FetchOutcome, Fetcher, Validators};
use support::feed_server::{FeedServer, Route};
use url::Url;

const RSS: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
                   <item><guid>a</guid><title>A</title></item></channel></rss>";

/// A feed the server sends with `Connection: close`, so every fetch opens a new connection
/// and asks the resolver again.
fn closing_feed() -> Route {
    Route::Status {
        code: 200,
        headers: vec![
            ("content-type", "application/rss+xml".into()),
            ("connection", "close".into()),
        ],
        body: RSS.into(),
    }
}

/// Answers `answers[n]` to the n-th lookup (the last one from then on), and counts lookups.
fn changing_dns(answers: Vec<&'static str>, port: u16) -> (Lookup, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let lookup: Lookup = Arc::new(move |_host: String| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let ip = answers[n.min(answers.len() - 1)].parse().unwrap();
        Box::pin(async move { Ok(vec![SocketAddr::new(ip, port)]) })
    });
    (lookup, calls)
}

fn fetcher(policy: AddressPolicy, lookup: Lookup) -> Fetcher {
    let dir = tempfile::tempdir().unwrap();
    let cfg = support::config(dir.path(), "timeout = \"5s\"\nconnect_timeout = \"1s\"\n");
    Fetcher::with_lookup(&cfg.fetch, policy, lookup).unwrap()
}

fn refusal(r: Result<FetchOutcome, FetchError>) -> String {
    match r {
        Err(FetchError::Refused(m)) => m,
        Err(e) => panic!("expected a refusal, got the error {e:?}"),
        Ok(o) => panic!("expected a refusal, got {o:?}"),
    }
}

/// A name that resolved to an allowed address, then to a refused one (DNS rebinding), is
/// refused the second time: the guard judges every answer, not the first.
#[tokio::test]
async fn a_dns_answer_that_changes_to_a_refused_address_is_refused() {
    let server = FeedServer::start().await;
    server.route("/feed", closing_feed());
    let (lookup, calls) = changing_dns(vec!["127.0.0.1", "0.0.0.0"], server.addr.port());
    let f = fetcher(AddressPolicy::LoopbackOnly, lookup);
    let url = Url::parse(&format!("http://feed.test:{}/feed", server.addr.port())).unwrap();

    let first = f.fetch(&url, &Validators::default()).await.unwrap();
    let second = f.fetch(&url, &Validators::default()).await;

    assert!(matches!(first, FetchOutcome::Fetched(_)), "{first:?}");
    let why = refusal(second);
    assert!(why.contains("refused to connect to 0.0.0.0"), "{why}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "asked again for the new connection"
    );
    assert_eq!(
        server.hits_on("/feed").len(),
        1,
        "the second fetch reached nobody"
    );
}

/// Under the default policy a name resolving to loopback is refused before any connection.
#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_by_default() {
    let server = FeedServer::start().await;
    server.route("/feed", closing_feed());
    let (lookup, _) = changing_dns(vec!["127.0.0.1"], server.addr.port());
    let f = fetcher(AddressPolicy::PublicOnly, lookup);
    let url = Url::parse(&format!("http://intranet.test:{}/feed", server.addr.port())).unwrap();

    let why = refusal(f.fetch(&url, &Validators::default()).await);

    assert!(why.contains("refused to connect to 127.0.0.1"), "{why}");
    assert!(why.contains("allow_private_addresses"), "{why}");
    assert!(server.hits().is_empty());
}

/// A redirect from an allowed source to a refused address is refused at that hop, before
/// connecting: whether the target is written as an address or as a name.
#[tokio::test]
async fn a_redirect_to_a_refused_address_is_refused_at_the_hop() {
    let server = FeedServer::start().await;
    let port = server.addr.port();
    server.route("/target", closing_feed());
    server.route(
        "/to-literal",
        Route::redirect(302, &format!("http://0.0.0.0:{port}/target")),
    );
    server.route(
        "/to-name",
        Route::redirect(301, &format!("http://rebound.test:{port}/target")),
    );
    server.route("/to-file", Route::redirect(302, "file:///etc/passwd"));
    // The source's own name answers loopback; the redirect's name answers 0.0.0.0.
    let lookup: Lookup = Arc::new(move |host: String| {
        let ip = if host == "rebound.test" {
            "0.0.0.0"
        } else {
            "127.0.0.1"
        };
        Box::pin(async move { Ok(vec![SocketAddr::new(ip.parse().unwrap(), port)]) })
    });
    let f = fetcher(AddressPolicy::LoopbackOnly, lookup);

    for (path, expect) in [
        ("/to-literal", "refused to connect to 0.0.0.0"),
        ("/to-name", "refused to connect to 0.0.0.0"),
        ("/to-file", "refused file: URL"),
    ] {
        let url = Url::parse(&format!("http://source.test:{port}{path}")).unwrap();
        let why = refusal(f.fetch(&url, &Validators::default()).await);
        assert!(why.contains(expect), "{path}: {why}");
    }
    assert_eq!(
        server.hits_on("/target").len(),
        0,
        "no hop reached the target"
    );
    assert_eq!(server.hits().len(), 3, "only the three sources were asked");
}

/// The real binary ignores proxy variables: a proxy would resolve and connect out of the
/// guard's sight (here it would fetch a loopback feed for us). The source is refused, the
/// "proxy" sees nothing; with `allow_private_addresses = true` the same source is fetched.
#[test]
fn the_binary_ignores_proxy_variables_and_refuses_private_sources_unless_allowed() {
    let feed = support::Server::start();
    feed.serve("/feed.xml", "application/rss+xml", RSS);
    let proxy = support::Server::start();
    let port = feed.base.rsplit(':').next().unwrap().to_string();
    // "localhost" is answered by /etc/hosts: no DNS query leaves the machine.
    let source =
        format!("[[source]]\nid = \"internal\"\nurl = \"http://localhost:{port}/feed.xml\"\n");
    let run = |allow: bool| {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("storyline.toml");
        std::fs::write(
            &config,
            format!(
                "database = \"{}\"\n[fetch]\nallow_private_addresses = {allow}\n{source}",
                dir.path().join("s.db").display()
            ),
        )
        .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
            .arg("--config")
            .arg(&config)
            .args(["poll", "--all"])
            .env_remove("STORYLINE_CONFIG")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .env("HTTP_PROXY", &proxy.base)
            .env("http_proxy", &proxy.base)
            .env("ALL_PROXY", &proxy.base)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let refused = run(false);
    assert!(
        refused.contains("refused to connect to 127.0.0.1"),
        "{refused}"
    );
    assert_eq!(proxy.hits(), 0, "nothing went through the proxy");
    assert_eq!(feed.hits(), 0, "the private source was not fetched");

    let allowed = run(true);
    assert!(allowed.contains("1 new"), "{allowed}");
    assert_eq!(proxy.hits(), 0, "nothing went through the proxy");
    assert_eq!(feed.hits_for("/feed.xml"), 1);
}
