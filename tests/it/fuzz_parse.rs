//! Property tests for the parse front ends (`parse::parse_feed`, `page::read_page`): generated
//! feed-like documents, real feeds with random damage, and random bytes.
//!
//! What must hold for every input: the call returns within `SLOW` (a watchdog thread enforces
//! it while the call runs, so a hang fails at once instead of stalling CI), the same input gives
//! the same result, every entry has an identity, no entry title runs away, and `read_page`
//! (which has no `catch_unwind` of its own) never panics. Panics the feed parser catches
//! itself are counted and printed, for the parse module's owners.
//!
//! CI runs `PROPTEST_CASES` cases per property (256 by default, a few seconds); the
//! coverage-guided fuzz targets in fuzz/ run the same checks for hours. docs/RELIABILITY.md
//! records both.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::collections::BTreeMap;
use std::sync::{mpsc, Mutex, Once};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use storyline::parse::{parse_feed, Document};
use url::Url;

/// Longest any single parse may take in a debug build before it counts as a hang.
const SLOW: Duration = Duration::from_secs(5);

/// Run `work` on its own thread and wait at most `limit` for it: `None` when it is still
/// running then (it is left to run; the caller stops the process). A panic in `work` is
/// passed on to the caller, so proptest sees it as it would a panic in the test itself.
fn watched<T: Send + 'static>(
    limit: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("watched parse".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .expect("spawn a parse thread");
    match rx.recv_timeout(limit) {
        Ok(v) => Some(v),
        Err(mpsc::RecvTimeoutError::Timeout) => None,
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it ends"),
        },
    }
}

/// A parse that did not return within `SLOW`: print the input (to replay it) and stop the
/// test binary now. Failing the case instead would have proptest shrink it, re-running the
/// hang again and again.
fn hung(what: &str, body: &[u8]) -> ! {
    let shown: Vec<u8> = body.iter().copied().take(64 * 1024).collect();
    eprintln!(
        "{what} still running after {SLOW:?}: a hang on {} bytes:\nb\"{}\"",
        body.len(),
        shown.escape_ascii()
    );
    std::process::exit(101);
}

static CAUGHT: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
static HOOK: Once = Once::new();

/// Count panics by location (the feed parser catches its own; they are still worth a look).
fn count_panics() {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info
                .location()
                .map_or("unknown".into(), |l| format!("{}:{}", l.file(), l.line()));
            *CAUGHT
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(at)
                .or_default() += 1;
            if std::env::var_os("STORYLINE_SHOW_PANICS").is_some() {
                default(info);
            }
        }));
    });
}

fn report_caught(what: &str) {
    let caught = CAUGHT.lock().unwrap_or_else(|e| e.into_inner());
    if !caught.is_empty() {
        eprintln!("{what}: panics caught inside the parser, by location: {caught:?}");
    }
}

/// Pieces feeds are made of, hostile ones included.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<?xml version=\"1.0\" encoding=\"utf-8\"?>".to_string()),
        Just("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>".to_string()),
        Just("<?xml version=\"1.0\" encoding=\"utf-16\"?>".to_string()),
        Just("<rss version=\"2.0\">".to_string()),
        Just("<rss>".to_string()),
        Just("<channel>".to_string()),
        Just("</channel></rss>".to_string()),
        Just("<feed xmlns=\"http://www.w3.org/2005/Atom\">".to_string()),
        Just("</feed>".to_string()),
        Just("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\">".to_string()),
        Just("<item>".to_string()),
        Just("</item>".to_string()),
        Just("<entry>".to_string()),
        Just("</entry>".to_string()),
        Just("<title>".to_string()),
        Just("</title>".to_string()),
        Just("<title type=\"html\">".to_string()),
        Just("<guid isPermaLink=\"false\">".to_string()),
        Just("</guid>".to_string()),
        Just("<id>".to_string()),
        Just("</id>".to_string()),
        Just("<link>".to_string()),
        Just("</link>".to_string()),
        Just("<link rel=\"alternate\" href=\"/a/b\"/>".to_string()),
        Just("<description>".to_string()),
        Just("</description>".to_string()),
        Just("<content:encoded xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">".to_string()),
        Just("<pubDate>Mon, 07 Apr 2025 09:00:00 GMT</pubDate>".to_string()),
        Just("<pubDate>not a date</pubDate>".to_string()),
        Just("<updated>2025-04-07T09:00:00Z</updated>".to_string()),
        Just("<dc:date xmlns:dc=\"http://purl.org/dc/elements/1.1/\">2025-13-45</dc:date>".to_string()),
        Just("<![CDATA[".to_string()),
        Just("]]>".to_string()),
        Just("<!-- comment -->".to_string()),
        Just("<!DOCTYPE rss [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>".to_string()),
        Just("<!ENTITY x SYSTEM \"file:///etc/passwd\">".to_string()),
        Just("&a;&b;&x;".to_string()),
        Just("&amp;&lt;&gt;&nbsp;&eacute;&#0;&#x110000;&#xD800;&bogus;".to_string()),
        Just("<script>alert(1)</script>".to_string()),
        Just("<img src=x onerror=alert(1)>".to_string()),
        Just("xml:base=\"../up/\"".to_string()),
        Just("{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[".to_string()),
        Just("{\"id\":\"1\",\"title\":\"t\",\"url\":\"u\"},".to_string()),
        Just("]}".to_string()),
        Just("<html><head><title>page</title></head><body>".to_string()),
        Just("\u{feff}".to_string()),
        Just("\u{0}\u{1}\u{fffe}".to_string()),
        "[a-zA-Z0-9 <>/=\"'&;:#.?-]{0,40}",
        "\\PC{0,20}",
    ]
}

fn generated_document() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(fragment(), 0..60).prop_map(|parts| parts.concat().into_bytes())
}

/// Real feeds from the shared fixtures, to damage.
fn real_feeds() -> Vec<Vec<u8>> {
    [
        "meta_ai_blog_rss2_olshansk.xml",
        "github_releases_atom_vscode_2018.xml",
        "google_news_search_rss_2items.xml",
        "hnrss_newest_q_AI_4items_trimmed.xml",
        "reddit_r_LocalLLaMA_new_atom_3entries.xml",
        "wordpress_rss2_mgpyh_2013_3items_trimmed.xml",
    ]
    .iter()
    .map(|n| support::real_fixture(n))
    .collect()
}

/// One kind of damage at a position (a fraction of the length).
#[derive(Debug, Clone)]
enum Damage {
    Truncate(f64),
    FlipBit(f64, u8),
    Insert(f64, Vec<u8>),
    Delete(f64, usize),
    Duplicate(f64, f64),
}

fn damage() -> impl Strategy<Value = Damage> {
    let at = 0.0..1.0f64;
    prop_oneof![
        at.clone().prop_map(Damage::Truncate),
        (at.clone(), 0..8u8).prop_map(|(a, b)| Damage::FlipBit(a, b)),
        (at.clone(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(a, b)| Damage::Insert(a, b)),
        (at.clone(), 1..200usize).prop_map(|(a, n)| Damage::Delete(a, n)),
        (at.clone(), at).prop_map(|(a, b)| Damage::Duplicate(a, b)),
    ]
}

fn apply(mut body: Vec<u8>, damages: &[Damage]) -> Vec<u8> {
    let pos = |len: usize, f: f64| ((len as f64) * f) as usize;
    for d in damages {
        let len = body.len();
        match d {
            Damage::Truncate(f) => body.truncate(pos(len, *f)),
            Damage::FlipBit(f, bit) if len > 0 => body[pos(len, *f).min(len - 1)] ^= 1 << bit,
            Damage::Insert(f, bytes) => {
                let at = pos(len, *f);
                body.splice(at..at, bytes.iter().copied());
            }
            Damage::Delete(f, n) => {
                let at = pos(len, *f);
                body.drain(at..(at + n).min(len));
            }
            Damage::Duplicate(a, b) => {
                let (x, y) = (pos(len, *a), pos(len, *b));
                let (x, y) = (x.min(y), x.max(y).min(x + 4096));
                let copy = body[x..y].to_vec();
                body.splice(y..y, copy);
            }
            Damage::FlipBit(..) => {}
        }
    }
    body
}

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/rss+xml"),
    Some("application/atom+xml; charset=iso-8859-1"),
    Some("text/xml; charset=utf-16"),
    Some("application/feed+json"),
    Some("text/html"),
];

/// The properties every parse must have.
fn check(body: &[u8], content_type: Option<&str>) -> Result<(), TestCaseError> {
    let base = Url::parse("https://news.example/feeds/").unwrap();
    let (owned, ct) = (body.to_vec(), content_type.map(str::to_string));
    let Some((first, again)) = watched(SLOW, move || {
        let parse = || parse_feed(&owned, ct.as_deref(), Some(&base));
        (parse(), parse())
    }) else {
        hung("parse_feed", body)
    };
    prop_assert_eq!(
        format!("{first:?}"),
        format!("{again:?}"),
        "the same bytes parsed differently"
    );
    if let Ok(Document { entries, .. }) = &first {
        for e in entries {
            prop_assert!(!e.id.is_empty(), "an entry without identity: {e:?}");
            let title = e.title.as_deref().unwrap_or_default();
            prop_assert!(title.len() <= 64 * 1024, "a {} byte title", title.len());
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Run `test` on `cases` of `strategy`; print the panics the parser caught on the way, and
/// fail with the smallest failing input when a property breaks.
fn run<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    count_panics();
    let started = Instant::now();
    let mut runner = proptest::test_runner::TestRunner::new(config());
    let result = runner.run(&strategy, test);
    eprintln!(
        "{name}: {} cases in {:.1}s",
        config().cases,
        started.elapsed().as_secs_f64()
    );
    report_caught(name);
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// Documents built from feed fragments, in any order and nesting.
#[test]
fn generated_feed_documents_parse_cleanly() {
    run(
        "generated documents",
        (generated_document(), 0..CONTENT_TYPES.len()),
        |(body, ct)| check(&body, CONTENT_TYPES[ct]),
    );
}

/// Real feeds with up to eight random truncations, bit flips, insertions, deletions and
/// duplications.
#[test]
fn damaged_real_feeds_parse_cleanly() {
    let feeds = real_feeds();
    run(
        "damaged real feeds",
        (
            0..feeds.len(),
            prop::collection::vec(damage(), 1..8),
            0..CONTENT_TYPES.len(),
        ),
        |(which, damages, ct)| check(&apply(feeds[which].clone(), &damages), CONTENT_TYPES[ct]),
    );
}

/// Arbitrary bytes.
#[test]
fn random_bytes_parse_cleanly() {
    run(
        "random bytes",
        prop::collection::vec(any::<u8>(), 0..4096),
        |body| check(&body, None),
    );
}

/// Article pages: generated markup and damaged real pages never panic (a panic here is not
/// caught by the page reader itself, so proptest reports it as a failure).
#[test]
fn pages_never_panic() {
    let url = Url::parse("https://news.example/2025/04/story.html").unwrap();
    let real = support::real_fixture("article_theverge_og_jsonld_2019.html");
    run(
        "pages",
        (
            prop::collection::vec(fragment(), 0..60),
            prop::collection::vec(damage(), 0..6),
            any::<bool>(),
        ),
        |(fragments, damages, use_real)| {
            let body = if use_real {
                apply(real.clone(), &damages)
            } else {
                fragments.concat().into_bytes()
            };
            let (owned, at) = (body.clone(), url.clone());
            let Some((first, again)) = watched(SLOW, move || {
                let read = || storyline::page::read_page(&owned, Some("text/html"), &at);
                (read(), read())
            }) else {
                hung("read_page", &body)
            };
            prop_assert_eq!(format!("{first:?}"), format!("{again:?}"));
            Ok(())
        },
    );
}

/// The watchdog returns while the work still runs, and passes a panic on.
#[test]
fn the_watchdog_catches_a_hang_while_it_hangs() {
    let started = Instant::now();
    let hang = watched(Duration::from_millis(100), || {
        std::thread::sleep(Duration::from_secs(120));
    });
    assert!(hang.is_none());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "waited for the work to end"
    );
    assert_eq!(watched(SLOW, || 7), Some(7));
    let panicked = std::panic::catch_unwind(|| watched(SLOW, || panic!("inside")));
    assert!(panicked.is_err());
}
