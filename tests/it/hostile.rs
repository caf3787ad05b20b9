//! Hostile feed servers: whatever a server sends, the round completes, the other sources'
//! items land, the failing source records a clear error and backs off, memory stays bounded
//! and nothing panics. Each case is listed in docs/RELIABILITY.md.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::io::Write as _;

use storyline::refresh::{run_cycle, CycleReport, Quiet, Selection, SourceResult};
use support::feed_server::{FeedServer, Route};
use support::raw_server::{self, Misbehaviour};
use support::{at, config, fixture, open};

const NOW: &str = "2025-04-07T09:00:00Z";

fn source(id: &str, url: &str) -> String {
    format!("[[source]]\nid = \"{id}\"\nurl = \"{url}\"\n")
}

fn rss_items(n: usize, prefix: &str) -> String {
    let items: String = (0..n)
        .map(|i| format!("<item><guid>{prefix}-{i}</guid><title>Item {i}</title></item>"))
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>")
}

/// Peak resident memory of this process (nextest runs each test in its own process).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn error_of(report: &CycleReport, id: &str) -> String {
    match &report
        .sources
        .iter()
        .find(|s| s.source == id)
        .expect("source in report")
        .result
    {
        SourceResult::Failed { error, .. } => error.clone(),
        other => panic!("{id}: expected a failure, got {other:?}"),
    }
}

/// One round over every hostile server at once, beside two good feeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_of_hostile_servers_completes_and_good_feeds_land() {
    let server = FeedServer::start().await;
    let good = std::fs::read(fixture("real/meta_ai_blog_rss2_olshansk.xml")).unwrap();
    server.route("/good1.xml", Route::feed(good));
    server.route("/good2.xml", Route::feed(rss_items(3, "g2")));
    server.route(
        "/garbage",
        Route::feed(
            (0..4096u32)
                .map(|i| (i * 7919 % 251) as u8)
                .collect::<Vec<u8>>(),
        ),
    );
    server.route(
        "/laughs",
        Route::feed(
            "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \"aaaaaaaaaa\">\
             <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\
             <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\
             <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\
             <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\"><!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>\
             <rss version=\"2.0\"><channel><title>&i;</title><item><guid>l1</guid><title>&i;</title></item></channel></rss>",
        ),
    );
    server.route(
        "/xxe",
        Route::feed(
            "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\
             <rss version=\"2.0\"><channel><title>x</title><item><guid>x1</guid><title>leak &xxe; end</title></item></channel></rss>",
        ),
    );
    server.route("/huge", Route::feed(vec![b' '; 50 * 1024 * 1024]));
    server.route("/bomb", gzip_bomb(200 * 1024 * 1024));
    server.route("/a", Route::redirect(302, "/b"));
    server.route("/b", Route::redirect(302, "/a"));
    server.route("/429", Route::status(429).with_header("retry-after", "120"));
    server.route(
        "/503",
        Route::status(503).with_header("retry-after", "Mon, 07 Apr 2025 12:00:00 GMT"),
    );
    server.route("/410", Route::status(410));
    server.route("/500", Route::status(500));
    server.route(
        "/html",
        Route::feed(
            std::fs::read(fixture("real/article_reuters_legacy_og_jsonld_2020.html")).unwrap(),
        ),
    );
    server.route("/empty-body", Route::feed(Vec::new()));
    server.route("/empty-feed", Route::feed(rss_items(0, "none")));
    server.route(
        "/dups",
        Route::feed(
            "<rss version=\"2.0\"><channel><title>d</title>\
             <item><guid>same</guid><title>First</title></item>\
             <item><guid>same</guid><title>Second</title></item></channel></rss>",
        ),
    );
    let drip = raw_server::start(Misbehaviour::Drip).await;
    let reset = raw_server::start(Misbehaviour::ResetMidBody).await;

    let mut extra = String::from("timeout = \"3s\"\n");
    for (id, path) in [
        ("good1", "/good1.xml"),
        ("good2", "/good2.xml"),
        ("garbage", "/garbage"),
        ("laughs", "/laughs"),
        ("xxe", "/xxe"),
        ("huge", "/huge"),
        ("bomb", "/bomb"),
        ("loop", "/a"),
        ("r429", "/429"),
        ("r503", "/503"),
        ("r410", "/410"),
        ("r500", "/500"),
        ("html", "/html"),
        ("empty-body", "/empty-body"),
        ("empty-feed", "/empty-feed"),
        ("dups", "/dups"),
    ] {
        extra.push_str(&source(id, &server.url(path)));
    }
    extra.push_str(&source("drip", &format!("http://{drip}/feed")));
    extra.push_str(&source("reset", &format!("http://{reset}/feed")));
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(config(dir.path(), &extra), at(NOW)).await;
    let before = peak_rss_mb();

    let started = std::time::Instant::now();
    let report = run_cycle(&ctx, at(NOW), &Selection::All, &Quiet)
        .await
        .unwrap();
    let elapsed = started.elapsed();

    assert_eq!(report.sources.len(), 18, "every source has a result");
    assert!(elapsed.as_secs() < 20, "round took {elapsed:?}");
    assert_eq!(ctx.store.items_of_source("good1").await.unwrap().len(), 88);
    assert_eq!(ctx.store.items_of_source("good2").await.unwrap().len(), 3);

    assert!(
        error_of(&report, "garbage").starts_with("not a feed")
            || error_of(&report, "garbage").starts_with("malformed")
    );
    assert!(error_of(&report, "huge").contains("byte limit"));
    assert!(error_of(&report, "bomb").contains("byte limit"));
    assert!(error_of(&report, "loop").contains("redirects"));
    assert!(error_of(&report, "r500").contains("500"));
    assert_eq!(error_of(&report, "html"), "not a feed: got an HTML page");
    assert!(
        error_of(&report, "drip").contains("timed out"),
        "{}",
        error_of(&report, "drip")
    );
    assert!(!error_of(&report, "reset").is_empty());
    assert!(error_of(&report, "empty-body").contains("empty"));
    for id in ["r429", "r503"] {
        let r = &report
            .sources
            .iter()
            .find(|s| s.source == id)
            .unwrap()
            .result;
        assert!(matches!(r, SourceResult::RateLimited { .. }), "{id}: {r:?}");
    }
    assert_eq!(
        report
            .sources
            .iter()
            .find(|s| s.source == "r410")
            .unwrap()
            .result,
        SourceResult::Gone
    );

    // Entity tricks are never expanded into stored text.
    for id in ["laughs", "xxe"] {
        for item in ctx.store.items_of_source(id).await.unwrap() {
            let t = item.title.unwrap_or_default();
            assert!(t.len() < 1000, "{id}: entity expanded to {} bytes", t.len());
            assert!(!t.contains("root:"), "{id}: external entity resolved");
        }
    }
    // An empty feed is fine; duplicate guids store one item.
    assert_eq!(
        report
            .sources
            .iter()
            .find(|s| s.source == "empty-feed")
            .unwrap()
            .result,
        SourceResult::Stored {
            new: 0,
            updated: 0,
            over_cap: 0
        }
    );
    assert_eq!(ctx.store.items_of_source("dups").await.unwrap().len(), 1);

    // Every failing source recorded its error and will come back later, not now.
    for s in ctx.store.sources().await.unwrap() {
        if s.last_status.as_deref() == Some("error") {
            assert!(s.last_error.is_some(), "{}", s.id);
            assert!(s.next_due() > at(NOW), "{} backs off", s.id);
            assert_eq!(s.consecutive_failures, 1, "{}", s.id);
        }
    }
    let grown = peak_rss_mb() - before;
    eprintln!("one round of 18 sources: {elapsed:?}, peak RSS growth {grown:.1} MB");
    assert!(grown < 150.0, "peak memory grew by {grown:.0} MB");
    assert_eq!(ctx.store.integrity_check().await.unwrap(), "ok");
}

/// A body that claims one charset and carries another is still read, never dropped.
#[tokio::test]
async fn wrong_declared_charset_and_utf16_without_bom_are_read() {
    let server = FeedServer::start().await;
    // Declared UTF-8, encoded Latin-1: "Café" with a lone 0xE9 byte.
    let mut latin1 = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>c</title><item><guid>c1</guid><title>Caf".to_vec();
    latin1.push(0xE9);
    latin1.extend_from_slice(b" news</title></item></channel></rss>");
    server.route("/latin1", Route::feed(latin1));
    let utf16: Vec<u8> = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>u</title><item><guid>u1</guid><title>Wide title</title></item></channel></rss>"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    server.route("/utf16", Route::feed(utf16));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}{}",
        source("latin1", &server.url("/latin1")),
        source("utf16", &server.url("/utf16"))
    );
    let ctx = open(config(dir.path(), &extra), at(NOW)).await;

    run_cycle(&ctx, at(NOW), &Selection::All, &Quiet)
        .await
        .unwrap();
    let l = ctx.store.items_of_source("latin1").await.unwrap();
    assert_eq!(
        l.len(),
        1,
        "{:?}",
        ctx.store.source("latin1").await.unwrap().last_error
    );
    assert_eq!(l[0].title.as_deref(), Some("Café news"));
    let u = ctx.store.items_of_source("utf16").await.unwrap();
    assert_eq!(
        u.len(),
        1,
        "{:?}",
        ctx.store.source("utf16").await.unwrap().last_error
    );
    assert_eq!(u[0].title.as_deref(), Some("Wide title"));
}

/// A feed whose every id changes on each poll cannot flood the store: 500 new items a poll
/// at most, and the source is flagged.
#[tokio::test]
async fn guid_churn_is_capped_per_poll_and_flagged() {
    let server = FeedServer::start().await;
    server.route("/churn", Route::feed(rss_items(600, "round1")));
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(
        config(dir.path(), &source("churn", &server.url("/churn"))),
        at(NOW),
    )
    .await;

    let r1 = run_cycle(&ctx, at(NOW), &Selection::All, &Quiet)
        .await
        .unwrap();
    server.route("/churn", Route::feed(rss_items(600, "round2")));
    let r2 = run_cycle(&ctx, at("2025-04-07T10:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();

    for r in [&r1, &r2] {
        assert_eq!(
            r.sources[0].result,
            SourceResult::Stored {
                new: 500,
                updated: 0,
                over_cap: 100
            }
        );
    }
    assert_eq!(ctx.store.count_items().await.unwrap(), 1000);
    let s = ctx.store.source("churn").await.unwrap();
    assert!(s.flagged.unwrap_or_default().contains("change its ids"));
}

/// 200 MB of zeros, gzip-compressed to a few hundred KB.
fn gzip_bomb(inflated: usize) -> Route {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..inflated / chunk.len() {
        enc.write_all(&chunk).unwrap();
    }
    let body = enc.finish().unwrap();
    Route::Status {
        code: 200,
        headers: vec![
            ("content-type", "application/rss+xml".into()),
            ("content-encoding", "gzip".into()),
        ],
        body: body.into(),
    }
}

/// Reset this process's peak-RSS mark to its current RSS (Linux: `clear_refs` 5), so the
/// next reading of `VmHWM` is the peak of what follows.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn current_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// What one hostile case must end in.
enum Expect {
    /// A failure whose message contains one of these.
    Fails(&'static [&'static str]),
    /// Rate limited until exactly this time.
    RateLimitedUntil(&'static str),
    Gone,
    /// Stored, with this many items.
    Stored(usize),
}

/// Each hostile server alone in a round beside a good feed, with the round's time and the
/// peak memory growth measured. The table printed here is the one in docs/RELIABILITY.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_hostile_case_alone_completes_with_bounded_time_and_memory() {
    let server = FeedServer::start().await;
    server.route("/good.xml", Route::feed(rss_items(3, "good")));
    let drip = raw_server::start(Misbehaviour::Drip).await;
    let reset = raw_server::start(Misbehaviour::ResetMidBody).await;
    let chunked = raw_server::start(Misbehaviour::Chunked50Mb).await;
    let utf16be: Vec<u8> = rss_items(2, "be")
        .replace("<?xml version=\"1.0\"?>", "")
        .encode_utf16()
        .flat_map(|u| u.to_be_bytes())
        .collect();
    let routes: Vec<(&str, Route)> = vec![
        ("/malformed", Route::feed("<rss version=\"2.0\"><channel><title>x<item><guid>m1</guid><title>Broken & unclosed<description><b>never closed")),
        ("/garbage", Route::feed((0..4096u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<u8>>())),
        ("/laughs", Route::feed(billion_laughs())),
        ("/xxe", Route::feed("<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><rss version=\"2.0\"><channel><title>x</title><item><guid>x1</guid><title>leak &xxe; end</title></item></channel></rss>")),
        ("/huge", Route::feed(vec![b' '; 50 * 1024 * 1024])),
        ("/bomb", gzip_bomb(200 * 1024 * 1024)),
        ("/loop-a", Route::redirect(302, "/loop-b")),
        ("/loop-b", Route::redirect(302, "/loop-a")),
        ("/429s", Route::status(429).with_header("retry-after", "7200")),
        ("/429d", Route::status(429).with_header("retry-after", "Mon, 07 Apr 2025 15:00:00 GMT")),
        ("/503s", Route::status(503).with_header("retry-after", "10800")),
        ("/503d", Route::status(503).with_header("retry-after", "Tue, 08 Apr 2025 09:00:00 GMT")),
        ("/410", Route::status(410)),
        ("/500", Route::status(500)),
        ("/html", Route::feed(std::fs::read(fixture("real/article_reuters_legacy_og_jsonld_2020.html")).unwrap())),
        ("/utf16be", Route::feed(utf16be)),
        ("/empty-feed", Route::feed(rss_items(0, "none"))),
        ("/empty-body", Route::feed(Vec::new())),
        ("/dups", Route::feed("<rss version=\"2.0\"><channel><title>d</title><item><guid>same</guid><title>First</title></item><item><guid>same</guid><title>Second</title></item></channel></rss>")),
        ("/churn", Route::feed(rss_items(600, "churn"))),
    ];
    for (path, route) in routes {
        server.route(path, route);
    }
    let cases: Vec<(&str, String, Expect)> = vec![
        ("malformed XML", server.url("/malformed"), Expect::Stored(1)),
        (
            "random bytes",
            server.url("/garbage"),
            Expect::Fails(&["not a feed", "malformed"]),
        ),
        ("billion laughs", server.url("/laughs"), Expect::Stored(1)),
        (
            "external entity (XXE)",
            server.url("/xxe"),
            Expect::Stored(1),
        ),
        (
            "50 MB body (Content-Length)",
            server.url("/huge"),
            Expect::Fails(&["byte limit"]),
        ),
        (
            "50 MB body (chunked, no length)",
            format!("http://{chunked}/feed"),
            Expect::Fails(&["byte limit"]),
        ),
        (
            "gzip bomb (200 MB inflated)",
            server.url("/bomb"),
            Expect::Fails(&["byte limit"]),
        ),
        (
            "drip, 1 byte/s",
            format!("http://{drip}/feed"),
            Expect::Fails(&["timed out after 3s"]),
        ),
        (
            "redirect loop",
            server.url("/loop-a"),
            Expect::Fails(&["more than 5 redirects"]),
        ),
        (
            "429 Retry-After seconds",
            server.url("/429s"),
            Expect::RateLimitedUntil("2025-04-07T11:00:00Z"),
        ),
        (
            "429 Retry-After date",
            server.url("/429d"),
            Expect::RateLimitedUntil("2025-04-07T15:00:00Z"),
        ),
        (
            "503 Retry-After seconds",
            server.url("/503s"),
            Expect::RateLimitedUntil("2025-04-07T12:00:00Z"),
        ),
        (
            "503 Retry-After date",
            server.url("/503d"),
            Expect::RateLimitedUntil("2025-04-08T09:00:00Z"),
        ),
        ("410 Gone", server.url("/410"), Expect::Gone),
        (
            "500",
            server.url("/500"),
            Expect::Fails(&["server answered 500 Internal Server Error"]),
        ),
        (
            "HTML page instead of a feed",
            server.url("/html"),
            Expect::Fails(&["not a feed: got an HTML page"]),
        ),
        (
            "UTF-16BE, no BOM, no declaration",
            server.url("/utf16be"),
            Expect::Stored(2),
        ),
        ("empty feed", server.url("/empty-feed"), Expect::Stored(0)),
        (
            "empty body",
            server.url("/empty-body"),
            Expect::Fails(&["empty"]),
        ),
        ("duplicate guids", server.url("/dups"), Expect::Stored(1)),
        (
            "connection reset mid-body",
            format!("http://{reset}/feed"),
            Expect::Fails(&["connection broke while reading the body"]),
        ),
        (
            "600 new ids in one poll",
            server.url("/churn"),
            Expect::Stored(500),
        ),
    ];

    let mut table = vec![
        "| case | outcome | round time | peak RSS growth |".to_string(),
        "|---|---|---|---|".to_string(),
    ];
    for (name, url, expect) in cases {
        let dir = tempfile::tempdir().unwrap();
        let extra = format!(
            "timeout = \"3s\"\n{}{}",
            source("good", &server.url("/good.xml")),
            source("case", &url)
        );
        let ctx = open(config(dir.path(), &extra), at(NOW)).await;
        reset_peak_rss();
        let base = current_rss_mb();
        let started = std::time::Instant::now();

        let report = run_cycle(&ctx, at(NOW), &Selection::All, &Quiet)
            .await
            .unwrap();

        let took = started.elapsed();
        let grown = peak_rss_mb() - base;
        assert_eq!(report.sources.len(), 2, "{name}");
        assert_eq!(
            ctx.store.items_of_source("good").await.unwrap().len(),
            3,
            "{name}"
        );
        let row = ctx.store.source("case").await.unwrap();
        let result = &report
            .sources
            .iter()
            .find(|s| s.source == "case")
            .unwrap()
            .result;
        let outcome = match expect {
            Expect::Fails(any) => {
                let e = error_of(&report, "case");
                assert!(any.iter().any(|w| e.contains(w)), "{name}: {e}");
                assert_eq!(row.last_error.as_deref(), Some(e.as_str()), "{name}");
                assert_eq!(row.consecutive_failures, 1, "{name}");
                assert!(row.next_due() > at(NOW), "{name} backs off");
                format!("fails: {e}")
            }
            Expect::RateLimitedUntil(t) => {
                assert_eq!(
                    result,
                    &SourceResult::RateLimited { until: at(t) },
                    "{name}"
                );
                assert_eq!(row.next_due(), at(t), "{name}");
                format!("rate limited until {t}")
            }
            Expect::Gone => {
                assert_eq!(result, &SourceResult::Gone, "{name}");
                assert_eq!(row.disabled_reason.as_deref(), Some("410 Gone"));
                "disabled: 410 Gone".to_string()
            }
            Expect::Stored(n) => {
                let items = ctx.store.items_of_source("case").await.unwrap();
                assert_eq!(items.len(), n, "{name}: {:?}", row.last_error);
                for it in &items {
                    let t = it.title.clone().unwrap_or_default();
                    assert!(t.len() < 1000 && !t.contains("root:"), "{name}: {t:.80}");
                }
                match row.flagged {
                    Some(f) => format!("{n} items stored; flagged: {f}"),
                    None => format!("{n} items stored"),
                }
            }
        };
        assert!(took.as_secs_f64() < 10.0, "{name}: round took {took:?}");
        assert!(grown < 120.0, "{name}: peak memory grew by {grown:.0} MB");
        assert_eq!(ctx.store.integrity_check().await.unwrap(), "ok");
        table.push(format!(
            "| {name} | {} | {} ms | {grown:.1} MB |",
            outcome.replace('|', "/"),
            took.as_millis()
        ));
    }
    eprintln!("{}", table.join("\n"));
}

/// A source that keeps failing backs off 1x, 2x, 4x, 8x its interval, is polled again only
/// when due, and recovers at once when the server does.
#[tokio::test]
async fn repeated_failures_back_off_exponentially_and_recovery_resets() {
    let server = FeedServer::start().await;
    server.route("/flaky", Route::status(500));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[[source]]\nid = \"flaky\"\nurl = \"{}\"\ninterval = \"1h\"\n",
        server.url("/flaky")
    );
    let ctx = open(config(dir.path(), &extra), at(NOW)).await;
    let hour = std::time::Duration::from_secs(3600);

    let mut now = at(NOW);
    let mut gaps = Vec::new();
    for failures in 1..=4u32 {
        run_cycle(&ctx, now, &Selection::Due, &Quiet).await.unwrap();
        let row = ctx.store.source("flaky").await.unwrap();
        assert_eq!(row.consecutive_failures, i64::from(failures));
        assert_eq!(
            row.next_due() - now,
            storyline::refresh::backoff(hour, failures)
        );
        // Not due a minute before: the round leaves it alone.
        let early = row.next_due() - chrono::Duration::minutes(1);
        let r = run_cycle(&ctx, early, &Selection::Due, &Quiet)
            .await
            .unwrap();
        assert!(r.sources.is_empty(), "polled before it was due");
        gaps.push((row.next_due() - now).num_hours());
        now = row.next_due();
    }
    assert_eq!(gaps, [1, 2, 4, 8]);
    assert_eq!(
        server.hits_on("/flaky").len(),
        4,
        "one request per due round"
    );

    server.route("/flaky", Route::feed(rss_items(2, "back")));
    run_cycle(&ctx, now, &Selection::Due, &Quiet).await.unwrap();
    let row = ctx.store.source("flaky").await.unwrap();
    assert_eq!(row.consecutive_failures, 0);
    assert!(row.last_error.is_none(), "{:?}", row.last_error);
    assert_eq!(ctx.store.items_of_source("flaky").await.unwrap().len(), 2);
    let next = row.next_due() - now;
    assert!(next >= chrono::Duration::hours(1) && next <= chrono::Duration::minutes(66));
}

fn billion_laughs() -> &'static str {
    "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \"aaaaaaaaaa\">\
     <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\
     <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\
     <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\
     <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\"><!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>\
     <rss version=\"2.0\"><channel><title>&i;</title><item><guid>l1</guid><title>&i;</title></item></channel></rss>"
}
