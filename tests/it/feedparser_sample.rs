//! Storyline's feed parser measured against feedparser's own test suite.
//!
//! `../shared/fixtures/feedparser-sample/` holds 650 small edge-case feeds and, in
//! `reference.jsonl`, what Python's feedparser 6.0.14 extracts from each file's raw bytes. Among
//! the files where feedparser finds at least one entry, we require Storyline to find the same
//! number of entries on at least 99% of them, and the same first-entry title on at least 99%;
//! no input may make the parser panic.
//!
//! Titles are compared as plain text, the way a reader sees them. Storyline reports decoded
//! text; feedparser reports text for text-typed titles and (sanitised) markup for HTML-typed
//! ones, and the reference does not record which. So Storyline's title (whitespace runs
//! collapsed, ends trimmed) must equal feedparser's read either as text (whitespace collapsed)
//! or as HTML (tags removed, character and entity references decoded, whitespace collapsed).
//! A missing title and an empty one are the same. The files are parsed from their raw bytes
//! with no HTTP headers and no base URL, as the reference was made.
//!
//! Set `FEEDPARSER_SAMPLE_VERBOSE=1` to list every mismatch.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use serde::Deserialize;
use storyline::parse::parse_feed;

const SAMPLE_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/feedparser-sample"
);

#[derive(Deserialize)]
struct Reference {
    path: String,
    n_entries: usize,
    entry0_title: Option<String>,
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// feedparser's title read as HTML: tags removed, references decoded, whitespace collapsed.
fn plain_text(title: Option<&str>) -> String {
    let Some(title) = title else {
        return String::new();
    };
    squash(&decode_references(&strip_tags(title)))
}

/// Whether Storyline's title matches feedparser's (see the module docs for the rule).
fn titles_match(ours: Option<&str>, theirs: Option<&str>) -> bool {
    let ours = squash(ours.unwrap_or_default());
    ours == squash(theirs.unwrap_or_default()) || ours == plain_text(theirs)
}

/// Remove `<tag ...>`, `</tag>`, `<!...>` and `<?...?>`; a `<` that opens no tag stays text.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('<') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let opens_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        match after.find('>') {
            Some(end) if opens_tag => rest = &after[end + 1..],
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decode `&name;`, `&#N;` and `&#xN;`; anything unrecognised stays as written.
fn decode_references(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let decoded = after.find(';').filter(|&end| end <= 32).and_then(|end| {
            let name = &after[..end];
            let ch = if let Some(num) = name.strip_prefix('#') {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse::<u32>().ok(),
                };
                code.and_then(char::from_u32).map(String::from)
            } else {
                let key = format!("{name};");
                markup5ever::data::NAMED_ENTITIES
                    .get(key.as_str())
                    .filter(|(first, _)| *first != 0)
                    .map(|&(first, second)| {
                        [first, second]
                            .into_iter()
                            .filter(|&c| c != 0)
                            .filter_map(char::from_u32)
                            .collect()
                    })
            };
            ch.map(|c| (c, end))
        });
        match decoded {
            Some((text, end)) => {
                out.push_str(&text);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(Default)]
struct Tally {
    considered: usize,
    count_ok: usize,
    title_ok: usize,
    panics: usize,
    mismatches: Vec<String>,
}

fn percent(n: usize, total: usize) -> f64 {
    if total == 0 {
        100.0
    } else {
        n as f64 * 100.0 / total as f64
    }
}

fn run_sample() -> Tally {
    let reference = std::fs::read_to_string(Path::new(SAMPLE_DIR).join("reference.jsonl"))
        .expect("reference.jsonl is readable");
    let mut tally = Tally::default();
    for line in reference.lines().filter(|l| !l.trim().is_empty()) {
        let r: Reference = serde_json::from_str(line).expect("reference line is JSON");
        let body = std::fs::read(Path::new(SAMPLE_DIR).join("feeds").join(&r.path))
            .expect("sample feed is readable");
        let outcome = catch_unwind(AssertUnwindSafe(|| parse_feed(&body, None, None)));
        let Ok(result) = outcome else {
            tally.panics += 1;
            tally.mismatches.push(format!("{}: PANIC", r.path));
            continue;
        };
        if r.n_entries == 0 {
            continue;
        }
        tally.considered += 1;
        let (count, first_title) = match &result {
            Ok(doc) => (
                doc.entries.len(),
                doc.entries.first().and_then(|e| e.title.clone()),
            ),
            Err(_) => (0, None),
        };
        if count == r.n_entries {
            tally.count_ok += 1;
        } else {
            let why = match &result {
                Err(e) => format!(" ({e})"),
                Ok(_) => String::new(),
            };
            tally.mismatches.push(format!(
                "{}: entries {count}, feedparser {}{why}",
                r.path, r.n_entries
            ));
        }
        if titles_match(first_title.as_deref(), r.entry0_title.as_deref()) {
            tally.title_ok += 1;
        } else {
            tally.mismatches.push(format!(
                "{}: title {:?}, feedparser {:?}",
                r.path, first_title, r.entry0_title
            ));
        }
    }
    tally
}

/// The whole sample: entry counts and first titles agree with feedparser on at least 99% of
/// the files where feedparser finds entries, and nothing panics.
#[test]
fn feedparser_sample_matches_reference() {
    let t = run_sample();
    let count_pct = percent(t.count_ok, t.considered);
    let title_pct = percent(t.title_ok, t.considered);
    println!(
        "feedparser-sample: entry-count match {count_pct:.1}% ({}/{}), first-title match \
         {title_pct:.1}% ({}/{}), panics {}",
        t.count_ok, t.considered, t.title_ok, t.considered, t.panics
    );
    if std::env::var_os("FEEDPARSER_SAMPLE_VERBOSE").is_some() {
        for m in &t.mismatches {
            println!("  {m}");
        }
    }
    assert!(t.considered > 0, "the sample has files with entries");
    assert_eq!(t.panics, 0, "no input may panic the parser");
    assert!(count_pct >= 99.0, "entry-count match {count_pct:.1}% < 99%");
    assert!(title_pct >= 99.0, "first-title match {title_pct:.1}% < 99%");
}

/// The comparison rule itself: text or markup on feedparser's side, text on ours.
#[test]
fn title_comparison_reads_feedparser_as_text_or_html() {
    assert!(titles_match(Some("&"), Some("<b>&#x26;</b>")));
    assert!(titles_match(
        Some("Tom &amp; Jerry"),
        Some("  Tom &amp;amp;\n Jerry ")
    ));
    assert!(titles_match(Some("a < b & c"), Some("a < b & c")));
    assert!(titles_match(Some("café…"), Some("caf&eacute;&hellip;")));
    assert!(titles_match(
        Some("Example <b>Atom</b>"),
        Some("Example <b>Atom</b>")
    ));
    assert!(titles_match(
        Some("History of the <blink> tag"),
        Some("History of the &lt;blink&gt; tag")
    ));
    assert!(titles_match(None, Some("")));
    assert!(!titles_match(Some("First"), Some("Second")));
    assert!(!titles_match(None, Some("Title")));
    assert!(!titles_match(Some("Example"), Some("Example <b>Atom</b>")));
}
