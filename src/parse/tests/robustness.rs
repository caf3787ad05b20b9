//! Robustness sweeps over real feeds: truncations, corrupted bytes and structural damage never
//! panic, and the direct and repaired routes to feed-rs read well-formed feeds alike.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use url::Url;

use super::super::feed::{parse_unguarded, takes_direct_route, Route};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures");

/// Feed documents among the shared fixtures: the real captures and one replay week.
fn fixture_feeds() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let real = Path::new(FIXTURES).join("real");
    for entry in std::fs::read_dir(&real).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "xml") {
            files.push(path);
        }
    }
    let week = Path::new(FIXTURES).join("story-replay/weeks/2025-W15");
    for rel in [
        "feeds/meta-ai-blog.xml",
        "r/LocalLLaMA/new.rss",
        "hn/newest-llama.xml",
        "gnews/llama4.xml",
        "techwire/feed/index.html",
        "aim/feed/index.html",
        "gh/llama-models/releases.atom",
        "aiweekly/feed.json",
        "papers/rdf.xml",
    ] {
        files.push(week.join(rel));
    }
    files.sort();
    files
}

fn assert_no_panic(body: &[u8], what: &str) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        parse_unguarded(body, None, None, Route::Fastest)
    }));
    assert!(outcome.is_ok(), "panicked on {what}");
}

/// Every prefix of real feeds (all short ones, then evenly spaced cuts) parses or fails
/// cleanly, with no panic even inside the guard.
#[test]
fn truncated_feeds_never_panic() {
    for path in fixture_feeds() {
        let body = std::fs::read(&path).unwrap();
        let step = (body.len() / 80).max(1);
        let cuts = (0..body.len().min(64)).chain((64..body.len()).step_by(step));
        for cut in cuts {
            assert_no_panic(&body[..cut], &format!("{} cut at {cut}", path.display()));
        }
    }
}

/// Corrupted bytes, garbage, and hostile shapes never panic.
#[test]
fn garbage_never_panics() {
    let mut seed: u64 = 0x5EED;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for path in fixture_feeds() {
        let body = std::fs::read(&path).unwrap();
        for round in 0..12 {
            let mut bytes = body.clone();
            for _ in 0..8 {
                let at = next() % bytes.len().max(1);
                if let Some(b) = bytes.get_mut(at) {
                    *b = (next() % 256) as u8;
                }
            }
            assert_no_panic(
                &bytes,
                &format!("{} corrupted, round {round}", path.display()),
            );
        }
    }
    for len in [1, 2, 3, 4, 5, 7, 64, 1000] {
        let random: Vec<u8> = (0..len).map(|_| (next() % 256) as u8).collect();
        assert_no_panic(&random, "random bytes");
    }
    let hostile = [
        "<rss>".to_string() + &"<item>".repeat(50_000),
        "<feed>".to_string() + &"<entry><title type=\"xhtml\">".repeat(20_000),
        format!("<rss a=\"{}\"><channel>", "x".repeat(100_000)),
        "<rss><![CDATA[".to_string(),
        "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"/>".to_string(),
        "<!-- <?xml version=\"1.0\" encoding=\"utf-16\"?> --><rss version=\"2.0\"/>".to_string(),
        "<!DOCTYPE rss [<!ENTITY a \"&a;&a;\">]><rss><channel><title>&a;</title></channel></rss>"
            .to_string(),
        "{\"version\": \"https://jsonfeed.org/version/1\", \"items\": ".to_string()
            + &"[".repeat(10_000),
        "\u{feff}\u{feff}<rss>\u{0}\u{1}</rss>".to_string(),
    ];
    for doc in &hostile {
        assert_no_panic(doc.as_bytes(), &doc.chars().take(60).collect::<String>());
    }
    let utf16_be_declared: Vec<u8> = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><item><title>x</title></item></channel></rss>"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    assert_no_panic(&utf16_be_declared, "UTF-16BE declared utf-16");
}

/// Structural damage (markup fragments spliced in, spans cut out) to feedparser's edge-case
/// feeds never panics.
#[test]
fn damaged_edge_case_feeds_never_panic() {
    let splices: &[&str] = &[
        "<",
        ">",
        "&",
        "]]>",
        "<![CDATA[",
        "<!--",
        "\"",
        "</",
        "<item>",
        "<entry>",
        "&hellip;",
        "&#x",
        "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
        "mode=\"base64\"",
        "\u{201c}",
        "xmlns=\"http://purl.org/atom/ns#\"",
        "<title type=\"xhtml\"><div>",
    ];
    let mut seed: u64 = 0xFEED;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let dir = Path::new(FIXTURES).join("feedparser-sample/feeds/wellformed/atom");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.extend(fixture_feeds());
    for path in files.iter().step_by(3) {
        let body = std::fs::read(path).unwrap();
        for _ in 0..12 {
            let mut bytes = body.clone();
            let at = next() % (bytes.len() + 1);
            if next() % 2 == 0 {
                let splice = splices[next() % splices.len()].bytes();
                bytes.splice(at..at, splice);
            } else {
                let end = (at + next() % 24).min(bytes.len());
                bytes.drain(at..end);
            }
            assert_no_panic(&bytes, &String::from_utf8_lossy(&bytes));
        }
    }
}

/// Well-formed feeds read the same whether they go straight to feed-rs or through the repair
/// pass, so an entry keeps its identity and fields when a feed flips between the two routes.
#[test]
fn both_routes_read_well_formed_feeds_alike() {
    let mut direct_count = 0;
    for path in fixture_feeds() {
        let body = std::fs::read(&path).unwrap();
        direct_count += usize::from(takes_direct_route(&body));
        let base = Url::parse("http://127.0.0.1:8080/feed/").unwrap();
        let direct = parse_unguarded(&body, None, Some(&base), Route::Fastest).unwrap();
        let repaired = parse_unguarded(&body, None, Some(&base), Route::Repair).unwrap();
        assert_eq!(direct.format, repaired.format, "{}", path.display());
        assert_eq!(direct.title, repaired.title, "{}", path.display());
        assert_eq!(
            direct.entries.len(),
            repaired.entries.len(),
            "{}",
            path.display()
        );
        for (d, r) in direct.entries.iter().zip(&repaired.entries) {
            let what = format!("{} {}", path.display(), d.id);
            assert_eq!(d.id, r.id, "{what}");
            assert_eq!(d.title, r.title, "{what}");
            assert_eq!(d.link, r.link, "{what}");
            assert_eq!(d.published, r.published, "{what}");
            assert_eq!(d.updated, r.updated, "{what}");
            assert_eq!(d.author, r.author, "{what}");
            assert_eq!(d.summary.is_some(), r.summary.is_some(), "{what}");
            assert_eq!(d.content.is_some(), r.content.is_some(), "{what}");
        }
    }
    // Plain RSS 2.0 and Atom 1.0 (all but the RDF and JSON feeds) skip the repair pass.
    assert!(
        direct_count >= 12,
        "{direct_count} fixtures took the direct route"
    );
}
