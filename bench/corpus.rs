//! The synthetic corpus: N feeds, RSS 2.0 (even numbers) and Atom 1.0 (odd), 20–50 items each
//! with 1–2 KB HTML descriptions, all drawn from a seeded PRNG so every run serves the same
//! bytes. Feed `i` after `added` new items shows its newest `base_len(i)` items: the `added`
//! oldest fall off the end, as a real feed's window slides.

use chrono::{DateTime, Duration, TimeZone as _, Utc};

/// Monday 2025-04-07 00:00 UTC: every item is published in ISO week 2025-W15.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 4, 7, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// The ISO week every item of every round falls in (see [`item_time`]).
pub const WEEK: &str = "2025-W15";

/// One version of one feed, ready to serve.
pub struct FeedVersion {
    pub body: Vec<u8>,
    pub etag: String,
    /// When the newest item was published; served as `Last-Modified`.
    pub modified: DateTime<Utc>,
    pub items: usize,
}

/// splitmix64: tiny, fast and good enough to vary text; the seed fixes the output.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_5EED)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }
}

const WORDS: &[&str] = &[
    "council",
    "budget",
    "river",
    "election",
    "report",
    "minister",
    "harbour",
    "court",
    "union",
    "strike",
    "bridge",
    "vaccine",
    "climate",
    "market",
    "energy",
    "school",
    "railway",
    "airport",
    "festival",
    "museum",
    "storm",
    "drought",
    "harvest",
    "factory",
    "startup",
    "satellite",
    "launch",
    "treaty",
    "summit",
    "protest",
    "inquiry",
    "verdict",
    "contract",
    "tender",
    "grid",
    "reactor",
    "pipeline",
    "wildfire",
    "flood",
    "housing",
    "rent",
    "wages",
    "inflation",
    "tariff",
    "export",
    "shipping",
    "port",
    "border",
    "refugee",
    "hospital",
    "nurses",
    "doctors",
    "patients",
    "research",
    "study",
    "data",
    "model",
    "release",
    "open",
    "source",
    "security",
    "breach",
    "outage",
    "network",
    "cloud",
    "chip",
    "battery",
    "vehicle",
    "charging",
    "transit",
    "bus",
    "cycle",
    "lane",
    "mayor",
    "senate",
    "vote",
    "bill",
    "amendment",
    "ruling",
    "appeal",
    "police",
    "fire",
    "coast",
    "island",
    "mountain",
    "valley",
    "forest",
    "park",
    "wildlife",
    "species",
    "fisheries",
    "quota",
    "farmers",
    "water",
    "supply",
    "prices",
    "shares",
    "investors",
    "bank",
    "rates",
    "loan",
    "deficit",
    "surplus",
    "forecast",
    "quarter",
    "growth",
    "jobs",
    "hiring",
    "layoffs",
    "merger",
    "acquisition",
    "regulator",
    "fine",
    "license",
    "spectrum",
    "broadband",
    "library",
    "archive",
    "exhibition",
    "concert",
    "team",
    "season",
    "final",
    "record",
    "coach",
    "league",
    "stadium",
    "weather",
    "heat",
    "snow",
    "wind",
    "solar",
    "offshore",
    "turbine",
    "the",
    "a",
    "of",
    "and",
    "in",
    "to",
    "for",
    "on",
    "after",
    "before",
    "with",
    "over",
    "new",
    "local",
    "national",
    "regional",
    "early",
    "late",
    "major",
    "minor",
    "first",
    "second",
    "says",
    "plans",
    "warns",
    "approves",
    "rejects",
    "delays",
    "opens",
    "closes",
    "expands",
    "cuts",
    "raises",
    "signs",
    "faces",
    "wins",
    "loses",
    "backs",
    "calls",
    "seeks",
    "finds",
];

const PEOPLE: &[&str] = &[
    "Ada Moreno",
    "Ben Okafor",
    "Chen Wei",
    "Dana Kowalski",
    "Eli Haddad",
    "Fatima Noor",
    "Greta Lund",
    "Hiro Tanaka",
    "Ines Duarte",
    "Jonas Berg",
    "Kemi Adeyemi",
    "Luca Romano",
];

const TOPICS: &[&str] = &[
    "Politics",
    "Business",
    "Science",
    "Technology",
    "Health",
    "Environment",
    "Culture",
    "Sport",
    "World",
    "Local",
];

/// How many items feed `i` shows: 20–50, fixed per feed.
pub fn base_len(i: usize) -> usize {
    20 + Rng::new(i as u64 * 7919).below(31)
}

/// When item `j` of feed `i` was published: 97 minutes apart, offset per feed. Items 0..=60
/// stay inside [`WEEK`] (60 × 97 min + 59 min < 4.1 days).
pub fn item_time(i: usize, j: usize) -> DateTime<Utc> {
    epoch() + Duration::minutes(97 * j as i64 + (i % 60) as i64)
}

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for k in 0..words {
        if k > 0 {
            s.push(' ');
        }
        s.push_str(rng.pick(WORDS));
    }
    s
}

fn title(rng: &mut Rng) -> String {
    let n = 6 + rng.below(7);
    let s = sentence(rng, n);
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => s,
    }
}

/// An HTML description of 1,024–2,048 bytes: paragraphs with emphasis and links.
fn description(rng: &mut Rng, i: usize, j: usize) -> String {
    let target = 1024 + rng.below(1025);
    let mut html = String::with_capacity(target + 200);
    while html.len() < target {
        html.push_str("<p>");
        let sentences = 2 + rng.below(3);
        for s in 0..sentences {
            if s > 0 {
                html.push(' ');
            }
            let n = 8 + rng.below(10);
            let text = sentence(rng, n);
            match rng.below(6) {
                0 => html.push_str(&format!(
                    "<a href=\"https://news.example.org/{i}/{j}/{}\">{text}</a>.",
                    rng.below(1000)
                )),
                1 => html.push_str(&format!("<em>{text}</em>.")),
                2 => html.push_str(&format!("<strong>{text}</strong> &amp; more.")),
                _ => {
                    html.push_str(&text);
                    html.push('.');
                }
            }
        }
        html.push_str("</p>");
    }
    // Trim back to the target at a tag boundary so sizes spread evenly over 1–2 KB.
    if html.len() > 2048 {
        let cut = html[..2048].rfind("</p>").map_or(html.len(), |p| p + 4);
        html.truncate(cut);
    }
    html
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

struct Item {
    /// Chooses between two equivalent spellings (CDATA or escaped, summary or content); fixed
    /// per item, so a sliding window never rewrites an item.
    alt: bool,
    title: String,
    link: String,
    author: &'static str,
    topics: [&'static str; 2],
    published: DateTime<Utc>,
    html: String,
}

fn item(i: usize, j: usize) -> Item {
    let mut rng = Rng::new(((i as u64) << 20) ^ j as u64);
    Item {
        alt: j % 2 == 0,
        title: title(&mut rng),
        link: format!("https://news.example.org/{i}/{j}"),
        author: rng.pick(PEOPLE),
        topics: [rng.pick(TOPICS), rng.pick(TOPICS)],
        published: item_time(i, j),
        html: description(&mut rng, i, j),
    }
}

/// Feed `i` after `added` new items have been published since the first version.
pub fn feed(i: usize, added: usize) -> FeedVersion {
    let len = base_len(i);
    // Newest first, as feeds list them.
    let items: Vec<Item> = (added..added + len).rev().map(|j| item(i, j)).collect();
    let modified = items.first().map_or_else(epoch, |it| it.published);
    let body = if i % 2 == 0 {
        rss(i, &items, modified)
    } else {
        atom(i, &items, modified)
    };
    FeedVersion {
        body: body.into_bytes(),
        etag: format!("\"{i:x}-{added}\""),
        modified,
        items: len,
    }
}

fn rss(i: usize, items: &[Item], modified: DateTime<Utc>) -> String {
    let mut s = String::with_capacity(items.len() * 2300 + 600);
    s.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n\
         <title>Example News {i}</title>\n<link>https://news.example.org/{i}/</link>\n\
         <atom:link href=\"https://news.example.org/{i}/feed.xml\" rel=\"self\" \
         type=\"application/rss+xml\"/>\n\
         <description>Synthetic feed {i} for the Storyline benchmark</description>\n\
         <language>en</language>\n<lastBuildDate>{}</lastBuildDate>\n<ttl>60</ttl>\n",
        modified.to_rfc2822()
    ));
    for it in items {
        // Half the descriptions in CDATA, half entity-escaped, as real feeds vary.
        let desc = if it.alt {
            format!("<![CDATA[{}]]>", it.html)
        } else {
            escape(&it.html)
        };
        s.push_str(&format!(
            "<item>\n<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"true\">{}</guid>\n\
             <pubDate>{}</pubDate>\n<dc:creator>{}</dc:creator>\n\
             <category>{}</category>\n<category>{}</category>\n\
             <description>{desc}</description>\n</item>\n",
            escape(&it.title),
            it.link,
            it.link,
            it.published.to_rfc2822(),
            it.author,
            it.topics[0],
            it.topics[1],
        ));
    }
    s.push_str("</channel>\n</rss>\n");
    s
}

fn atom(i: usize, items: &[Item], modified: DateTime<Utc>) -> String {
    let mut s = String::with_capacity(items.len() * 2400 + 600);
    s.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n\
         <title>Example News {i}</title>\n<subtitle>Synthetic feed {i} for the Storyline \
         benchmark</subtitle>\n<id>tag:news.example.org,2025:feed/{i}</id>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"https://news.example.org/{i}/\"/>\n\
         <link rel=\"self\" href=\"https://news.example.org/{i}/feed.atom\"/>\n\
         <updated>{}</updated>\n",
        modified.to_rfc3339()
    ));
    for it in items {
        // Half as <summary>, half as <content>, both escaped HTML.
        let tag = if it.alt { "summary" } else { "content" };
        s.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>tag:news.example.org,2025:{}</id>\n\
             <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n\
             <published>{}</published>\n<updated>{}</updated>\n\
             <author><name>{}</name></author>\n\
             <category term=\"{}\"/>\n<category term=\"{}\"/>\n\
             <{tag} type=\"html\">{}</{tag}>\n</entry>\n",
            escape(&it.title),
            it.link.trim_start_matches("https://news.example.org/"),
            it.link,
            it.published.to_rfc3339(),
            it.published.to_rfc3339(),
            it.author,
            it.topics[0],
            it.topics[1],
            escape(&it.html),
        ));
    }
    s.push_str("</feed>\n");
    s
}

/// Check the promises above on the first feeds with Storyline's own parser; the harness runs
/// this before measuring anything, so a broken generator cannot produce a table.
pub fn self_check() -> Result<(), String> {
    for i in 0..20 {
        let v = feed(i, 0);
        if v.body != feed(i, 0).body {
            return Err(format!("feed {i} is not deterministic"));
        }
        let doc = storyline::parse::parse_feed(&v.body, None, None)
            .map_err(|e| format!("feed {i} does not parse: {e}"))?;
        if !(20..=50).contains(&v.items) || doc.entries.len() != v.items {
            return Err(format!(
                "feed {i}: {} entries, {} promised",
                doc.entries.len(),
                v.items
            ));
        }
        for e in &doc.entries {
            let len = e
                .summary
                .as_ref()
                .or(e.content.as_ref())
                .map_or(0, String::len);
            if !(1024..=2048).contains(&len) {
                return Err(format!("feed {i}: a description of {len} bytes"));
            }
        }
        let later = storyline::parse::parse_feed(&feed(i, 5).body, None, None)
            .map_err(|e| format!("feed {i} (+5) does not parse: {e}"))?;
        let old: std::collections::HashSet<_> = doc.entries.iter().map(|e| &e.id).collect();
        let new = later
            .entries
            .iter()
            .filter(|e| !old.contains(&e.id))
            .count();
        if new != 5 || later.entries.len() != doc.entries.len() {
            return Err(format!("feed {i}: +5 gave {new} new entries"));
        }
        let kept = later.entries.iter().filter(|e| old.contains(&e.id));
        if kept.filter(|e| !doc.entries.contains(e)).count() > 0 {
            return Err(format!("feed {i}: +5 changed items it kept"));
        }
    }
    Ok(())
}
