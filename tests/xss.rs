//! Feed HTML that tries to run code never reaches a digest in executable form.
//!
//! About 120 vectors (tests/fixtures/xss-vectors.txt: script tags, event handlers,
//! `javascript:`/`vbscript:`/`data:` URLs, SVG and MathML tricks, CSS expressions, parser
//! confusion) go into a feed as titles, links and summaries, are polled from a loopback server
//! into the store, and go out as digests: the HTML page, the mail's HTML part and the `.eml`.
//! Every output is parsed (scraper) and checked element by element against a digest of
//! harmless items: no element or attribute the templates do not make themselves, no `on*`
//! attribute, no URL but http(s), mailto, cid and the chart's own image, no script in CSS.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod support;

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use scraper::{Html, Node};
use storyline::digest::{
    compose, render, to_eml, DigestInput, DiscussionIn, EventIn, FailingSource, ItemIn,
    MailHeaders, Templates, TimelineIn,
};
use storyline::refresh::{run_cycle, Quiet, Selection};
use storyline::store::ItemRow;
use support::feed_server::{FeedServer, Route};
use support::mime::Part;
use support::{at, config, open};

const NOW: &str = "2025-04-10T12:00:00Z";

fn vectors() -> Vec<String> {
    let raw = String::from_utf8(support::own_fixture("xss-vectors.txt")).unwrap();
    raw.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.replace("{TAB}", "\t")
                .replace("{LF}", "\n")
                .replace("{CR}", "\r")
                .replace("{NUL}", "\0")
        })
        .collect()
}

/// XML text content: the way RSS carries HTML in `<description>`.
fn xml_escape(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '\0')
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// The links feeds may carry instead of a web address.
const HOSTILE_LINKS: &[&str] = &[
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "  javascript:alert(1)",
];

/// Two feeds: vectors escaped in `<description>` (and as titles), and the same vectors in
/// CDATA where the vector allows it.
fn feeds(vectors: &[String]) -> (String, String) {
    let mut escaped = String::new();
    let mut cdata = String::new();
    for (i, v) in vectors.iter().enumerate() {
        let link = HOSTILE_LINKS
            .get(i % 10)
            .map_or(format!("https://news.example/{i}"), |l| l.to_string());
        escaped.push_str(&format!(
            "<item><guid>e{i}</guid><title>{t}</title><link>{l}</link>\
             <description>{t}</description><author>{t}</author></item>",
            t = xml_escape(v),
            l = xml_escape(&link)
        ));
        if !v.contains("]]>") && !v.contains('\0') {
            cdata.push_str(&format!(
                "<item><guid>c{i}</guid><title>Item {i}</title><link>https://news.example/c{i}</link>\
                 <description><![CDATA[{v}]]></description></item>"
            ));
        }
    }
    let wrap = |items: &str| {
        format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Hostile</title><link>https://news.example/</link>{items}</channel></rss>")
    };
    (wrap(&escaped), wrap(&cdata))
}

fn item_in(row: &ItemRow, outlet: Option<String>) -> ItemIn {
    ItemIn {
        source: row.source_id.clone(),
        guid: row.guid.clone(),
        url: row.url.clone(),
        title: row.title.clone(),
        published: None,
        outlet,
        summary_html: row.summary.clone().or(row.content.clone()),
    }
}

/// A week whose developments, timeline, discussions and failing sources are `rows` (the
/// stored items) and `texts` (raw vectors where the model takes plain strings).
fn input(rows: &[ItemRow], texts: &[String], links: &[String]) -> DigestInput {
    let week = "2025-W15".parse().unwrap();
    let (week_start, week_end) = storyline::week::IsoWeek::range(week, chrono_tz::UTC);
    let first_seen = at(NOW);
    DigestInput {
        story_id: "llama-4".into(),
        story_title: "Meta's Llama 4 release".into(),
        short_title: None,
        week,
        week_start,
        week_end,
        timezone: chrono_tz::UTC,
        developments: rows
            .iter()
            .enumerate()
            .map(|(i, r)| EventIn {
                id: format!("E{i}"),
                headline: r.title.clone().unwrap_or_default(),
                first_seen,
                items: vec![item_in(r, texts.get(i).cloned())],
            })
            .collect(),
        updates: Vec::new(),
        discussions: texts
            .iter()
            .zip(links.iter().cycle())
            .map(|(t, l)| DiscussionIn {
                title: t.clone(),
                url: l.clone(),
                site: t.clone(),
                points: 10,
                comments: 3,
                new_comments: 1,
            })
            .collect(),
        timeline: texts
            .iter()
            .enumerate()
            .map(|(i, t)| TimelineIn {
                id: format!("T{i}"),
                headline: t.clone(),
                date: first_seen,
            })
            .collect(),
        weekly_counts: vec![(week, rows.len() as u32)],
        failing_sources: texts
            .iter()
            .enumerate()
            .map(|(i, t)| FailingSource {
                id: format!("src-{i}"),
                title: Some(t.clone()),
                since: week_start - Duration::days(3),
                error: t.clone(),
            })
            .collect(),
        generated_at: at(NOW),
    }
}

/// Element names, and attribute names per element, of an HTML document.
type Shape = BTreeMap<String, BTreeSet<String>>;

fn shape(html: &str) -> Shape {
    let doc = Html::parse_document(html);
    let mut out = Shape::new();
    for node in doc.tree.root().descendants() {
        if let Node::Element(e) = node.value() {
            let attrs = out.entry(e.name().to_string()).or_default();
            for (name, _) in e.attrs() {
                attrs.insert(name.to_string());
            }
        }
    }
    out
}

/// Every problem with one rendered HTML document, as readable lines.
fn problems(html: &str, allowed: &Shape) -> Vec<String> {
    let mut found = Vec::new();
    let doc = Html::parse_document(html);
    for node in doc.tree.root().descendants() {
        let Node::Element(e) = node.value() else {
            continue;
        };
        let tag = e.name();
        let Some(tag_attrs) = allowed.get(tag) else {
            found.push(format!("<{tag}> is not made by the templates"));
            continue;
        };
        for (name, value) in e.attrs() {
            let lower = value.to_ascii_lowercase();
            let squeezed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
            if name.starts_with("on") {
                found.push(format!("<{tag} {name}=…> event handler"));
            }
            if !tag_attrs.contains(name) {
                found.push(format!("<{tag} {name}> is not made by the templates"));
            }
            if matches!(
                name,
                "href"
                    | "src"
                    | "action"
                    | "formaction"
                    | "background"
                    | "poster"
                    | "srcset"
                    | "xlink:href"
                    | "data"
                    | "cite"
                    | "lowsrc"
                    | "dynsrc"
            ) {
                let ok = ["http://", "https://", "mailto:", "cid:", "#"]
                    .iter()
                    .any(|p| squeezed.starts_with(p))
                    || (tag == "img" && squeezed.starts_with("data:image/png;base64,"));
                if !ok {
                    found.push(format!("<{tag} {name}={value:?}> unsafe URL"));
                }
            }
            for bad in [
                "javascript:",
                "vbscript:",
                "livescript:",
                "expression(",
                "behavior:",
                "-moz-binding",
                "@import",
            ] {
                if squeezed.contains(bad) {
                    found.push(format!("<{tag} {name}={value:?}> contains {bad}"));
                }
            }
            if name == "style" && squeezed.contains("url(") {
                found.push(format!("<{tag} style={value:?}> loads a URL"));
            }
        }
    }
    let raw = html.to_ascii_lowercase();
    for tag in [
        "<script",
        "<iframe",
        "<object",
        "<embed",
        "<svg",
        "<math",
        "<style",
        "<link",
        "<base",
        "<form",
        "<frame",
        "<applet",
        "<meta http-equiv",
        "<template",
        "<noscript",
    ] {
        if raw.contains(tag) {
            found.push(format!("raw {tag} in the output"));
        }
    }
    found
}

fn eml_html(eml: &[u8]) -> String {
    fn find_html(p: &Part) -> Option<String> {
        match p.mime_type().as_str() {
            "text/html" => Some(p.text()),
            t if t.starts_with("multipart/") => p.children().iter().find_map(find_html),
            _ => None,
        }
    }
    let m = Part::parse(eml);
    assert_eq!(m.all("Subject").len(), 1);
    assert_eq!(m.all("To"), ["reader@example.org"]);
    assert!(m.header("Bcc").is_none());
    find_html(&m).expect("an HTML part")
}

fn headers() -> MailHeaders {
    MailHeaders {
        from: "Storyline <digest@storyline.test>".into(),
        to: vec!["reader@example.org".into()],
        message_id: "<xss-test@storyline.test>".into(),
        list_id: "Llama 4 <llama-4.storyline.test>".into(),
        date: at(NOW),
        extra: Vec::new(),
    }
}

/// Every vector, polled from a feed and stored, renders as inert text in the digest page,
/// the mail's HTML part and the `.eml`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_feed_html_never_reaches_a_digest_in_executable_form() {
    // Arrange: the vectors as feed items, polled into the store.
    let vectors = vectors();
    assert!(vectors.len() >= 100, "{} vectors", vectors.len());
    let server = FeedServer::start().await;
    let (escaped, cdata) = feeds(&vectors);
    server.route("/escaped.xml", Route::feed(escaped));
    server.route("/cdata.xml", Route::feed(cdata));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "max_new_items_per_poll = 1000\n[[source]]\nid = \"escaped\"\nurl = \"{}\"\n\
         [[source]]\nid = \"cdata\"\nurl = \"{}\"\n",
        server.url("/escaped.xml"),
        server.url("/cdata.xml")
    );
    let ctx = open(config(dir.path(), &extra), at(NOW)).await;
    run_cycle(&ctx, at(NOW), &Selection::All, &Quiet)
        .await
        .unwrap();
    let mut rows = ctx.store.items_of_source("escaped").await.unwrap();
    let cdata_rows = ctx.store.items_of_source("cdata").await.unwrap();
    assert_eq!(rows.len(), vectors.len(), "every vector was stored");
    assert!(cdata_rows.len() > vectors.len() * 9 / 10);
    rows.extend(cdata_rows);
    let links: Vec<String> = HOSTILE_LINKS
        .iter()
        .flat_map(|l| [l.to_string(), "https://news.example/thread".to_string()])
        .collect();

    // The shape of a harmless digest: what the templates make themselves.
    let templates = Templates::embedded().unwrap();
    let harmless_rows: Vec<ItemRow> = rows
        .iter()
        .take(3)
        .cloned()
        .map(|mut r| {
            r.title = Some("A harmless title".into());
            r.summary =
                Some("<p>Meta released <a href=\"https://ai.meta.com/\">Llama 4</a>.</p>".into());
            r.url = Some("https://news.example/a".into());
            r
        })
        .collect();
    let harmless_texts = vec!["Harmless".to_string(); 3];
    let harmless_links = vec!["https://news.example/t".to_string()];
    let baseline = render(
        &compose(&input(&harmless_rows, &harmless_texts, &harmless_links)),
        &templates,
    )
    .unwrap();
    let mut allowed = shape(&baseline.html);
    for (tag, attrs) in shape(&baseline.email_html) {
        allowed.entry(tag).or_default().extend(attrs);
    }
    assert!(problems(&baseline.html, &allowed).is_empty());

    // Act and assert: digests of five vectors at a time (the digest shows five discussions).
    let mut checked = 0;
    let mut all_problems = Vec::new();
    for (chunk, texts) in rows.chunks(5).zip(vectors.chunks(5).cycle()) {
        let rendered = render(&compose(&input(chunk, texts, &links)), &templates).unwrap();
        let eml = to_eml(&rendered, &headers()).unwrap();
        for (what, html) in [
            ("page", rendered.html.clone()),
            ("mail part", rendered.email_html.clone()),
            ("eml", eml_html(&eml)),
        ] {
            for p in problems(&html, &allowed) {
                all_problems.push(format!("{what} for {:?}: {p}", texts));
            }
        }
        checked += chunk.len();
    }
    assert_eq!(checked, rows.len());
    assert!(all_problems.is_empty(), "{}", all_problems.join("\n"));
    eprintln!(
        "xss: {} vectors, {} stored items rendered into {} digests (page, mail part, eml): 0 \
         problems",
        vectors.len(),
        rows.len(),
        rows.len().div_ceil(5)
    );
}

/// The checker itself finds what it must: a digest whose template let feed HTML through
/// raw would fail, so the test above can fail.
#[test]
fn the_checker_flags_executable_markup() {
    let allowed =
        shape("<html><body><p class=\"x\"><a href=\"https://a.example/\">a</a></p></body></html>");
    let bad = [
        "<p onclick=\"alert(1)\">x</p>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\" jav&#x09;ascript:alert(1)\">x</a>",
        "<a href=\"data:text/html,x\">x</a>",
        "<p style=\"width:expression(alert(1))\">x</p>",
        "<script>alert(1)</script>",
        "<svg onload=alert(1)>",
        "<iframe src=\"https://a.example/\"></iframe>",
        "<style>p{}</style>",
    ];
    for b in bad {
        let html = format!("<html><body>{b}</body></html>");
        assert!(!problems(&html, &allowed).is_empty(), "{b} not flagged");
    }
    let fine = "<html><body><p class=\"x\">&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1)</p></body></html>";
    assert!(problems(fine, &allowed).is_empty());
}
