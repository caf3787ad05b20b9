//! The story replay's feeds, every week, read as the poller reads them: each entry must be an
//! item of the answer key (identity = the feed's guid/id, else its link), with the answer key's
//! title, date and link.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use storyline::parse::{parse_feed, Format};
use url::Url;

const REPLAY_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/story-replay"
);

/// The feed sources: id, path served at, and the format they must be recognised as.
const FEEDS: &[(&str, &str, Format)] = &[
    ("meta-ai-blog", "feeds/meta-ai-blog.xml", Format::Rss),
    ("reddit-localllama", "r/LocalLLaMA/new.rss", Format::Atom),
    ("hn-llama", "hn/newest-llama.xml", Format::Rss),
    ("gnews-llama4", "gnews/llama4.xml", Format::Rss),
    ("techwire", "techwire/feed/index.html", Format::Rss),
    ("aim", "aim/feed/index.html", Format::Rss),
    (
        "gh-llama-models",
        "gh/llama-models/releases.atom",
        Format::Atom,
    ),
    ("aiweekly-json", "aiweekly/feed.json", Format::JsonFeed),
    ("mlpapers-rdf", "papers/rdf.xml", Format::Rdf),
];

#[derive(Deserialize)]
struct AnswerKey {
    weeks: Vec<String>,
    items: HashMap<String, AnswerItem>,
}

#[derive(Deserialize)]
struct AnswerItem {
    title: String,
    link: String,
    published: Option<String>,
}

fn answer_key() -> AnswerKey {
    let text = std::fs::read_to_string(Path::new(REPLAY_DIR).join("answer_key.json"))
        .expect("answer key is readable");
    serde_json::from_str(&text).expect("answer key is JSON")
}

/// Every week's snapshot of every feed parses, in the right format, into exactly the answer
/// key's items (served as a static server serves them: `index.html` files as text/html).
#[test]
fn every_replay_feed_reads_as_the_answer_key_says() {
    let key = answer_key();
    let mut checked = 0;
    for week in &key.weeks {
        for (source, path, format) in FEEDS {
            let file = Path::new(REPLAY_DIR).join("weeks").join(week).join(path);
            let body = std::fs::read(&file).expect("snapshot is readable");
            let content_type = path.ends_with(".html").then_some("text/html");
            let base = Url::parse(&format!("http://127.0.0.1:8080/{path}")).unwrap();
            let doc = parse_feed(&body, content_type, Some(&base))
                .unwrap_or_else(|e| panic!("{week}/{path}: {e}"));
            assert_eq!(doc.format, Some(*format), "{week}/{path}");
            assert!(!doc.entries.is_empty(), "{week}/{path} has entries");
            for entry in &doc.entries {
                let item = key
                    .items
                    .get(&format!("{source}::{}", entry.id))
                    .unwrap_or_else(|| panic!("{week}/{path}: unknown id {}", entry.id));
                assert_eq!(
                    entry.title.as_deref(),
                    Some(item.title.as_str()),
                    "{week}/{path}"
                );
                let published = entry
                    .published
                    .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                assert_eq!(published, item.published, "{week}/{path} {}", entry.id);
                let link = base.join(&item.link).unwrap().to_string();
                assert_eq!(entry.link.as_deref(), Some(link.as_str()), "{week}/{path}");
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "checked {checked} entries");
}
