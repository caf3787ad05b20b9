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

use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use scraper::{Html, Node};
use storyline::digest::{
    compose, render, to_eml, DigestInput, DiscussionIn, EventIn, FailingSource, ItemIn,
    MailHeaders, Templates, TimelineIn,
};
use storyline::metrics::Metrics;
use storyline::refresh::{run_cycle, Quiet, Selection};
use storyline::store::ItemRow;
use storyline::value::clock::Clock;
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
        // Titles escaped twice read back as the vector's literal text ("<script>…" as
        // words), which every page must escape; descriptions once, as the HTML they are.
        escaped.push_str(&format!(
            "<item><guid>e{i}</guid><title>{tt}</title><link>{l}</link>\
             <description>{t}</description><author>{tt}</author></item>",
            t = xml_escape(v),
            tt = xml_escape(&xml_escape(v)),
            l = xml_escape(&link)
        ));
        if !v.contains("]]>") && !v.contains('\0') {
            cdata.push_str(&format!(
                "<item><guid>c{i}</guid><title>{tt}</title><link>https://news.example/c{i}</link>\
                 <description><![CDATA[{v}]]></description></item>",
                tt = xml_escape(&xml_escape(v))
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
    let (week_start, week_end) = storyline::value::week::IsoWeek::range(week, chrono_tz::UTC);
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
                points: Some(10),
                comments: Some(3),
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

/// Markup that can run code or load things, searched for in the raw output.
const RAW_TAGS: &[&str] = &[
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
];

/// What the templates make themselves, learned from outputs of harmless items: element names,
/// attribute names per element, and how often each of [`RAW_TAGS`] appears (the site's layout
/// has its own `<style>`).
#[derive(Default)]
struct Shape {
    elements: BTreeMap<String, BTreeSet<String>>,
    raw: BTreeMap<&'static str, usize>,
}

impl Shape {
    fn learn(&mut self, html: &str) {
        let doc = Html::parse_document(html);
        for node in doc.tree.root().descendants() {
            if let Node::Element(e) = node.value() {
                let attrs = self.elements.entry(e.name().to_string()).or_default();
                for (name, _) in e.attrs() {
                    attrs.insert(name.to_string());
                }
            }
        }
        let lower = html.to_ascii_lowercase();
        for tag in RAW_TAGS {
            let n = lower.matches(tag).count();
            let seen = self.raw.entry(tag).or_default();
            *seen = (*seen).max(n);
        }
    }
}

fn shape(html: &str) -> Shape {
    let mut s = Shape::default();
    s.learn(html);
    s
}

/// Every problem with one rendered HTML document, as readable lines.
fn problems(html: &str, allowed: &Shape) -> Vec<String> {
    problems_on(html, allowed, false)
}

/// As [`problems`]; `site` also allows links to the site's own pages ("/digests/…").
fn problems_on(html: &str, allowed: &Shape, site: bool) -> Vec<String> {
    let mut found = Vec::new();
    let doc = Html::parse_document(html);
    for node in doc.tree.root().descendants() {
        let Node::Element(e) = node.value() else {
            continue;
        };
        let tag = e.name();
        let Some(tag_attrs) = allowed.elements.get(tag) else {
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
                    || (tag == "img" && squeezed.starts_with("data:image/png;base64,"))
                    || (site && squeezed.starts_with('/') && !squeezed.starts_with("//"));
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
    for tag in RAW_TAGS {
        let n = raw.matches(tag).count();
        let made = allowed.raw.get(tag).copied().unwrap_or(0);
        if n > made {
            found.push(format!(
                "raw {tag} in the output ({n}, the templates make {made})"
            ));
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
    allowed.learn(&baseline.email_html);
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

/// What one run of the real pipeline shows: `storyline digest` as HTML and as `.eml`, the
/// site's home page and its page for the stored digest.
struct Outputs {
    html: String,
    eml_html: String,
    home: String,
    digest_page: String,
    /// `/stories/xss/feed.atom` and `/stories/xss/events.atom`.
    feeds: [String; 2],
}

/// Poll `feeds` with the real binary, write the week's digest with it, store the week as the
/// daemon does, and fetch the site's pages over HTTP on 127.0.0.1.
async fn pipeline(escaped: String, cdata: String) -> Outputs {
    let server = support::Server::start();
    server.serve("/escaped.xml", "application/rss+xml", escaped);
    server.serve("/cdata.xml", "application/rss+xml", cdata);
    // A story with no phrases takes every item.
    let sandbox = support::Sandbox::new(&format!(
        "[[story]]\nid = \"xss\"\ntitle = \"Hostile week\"\n\
         [[source]]\nid = \"escaped\"\nurl = \"{}\"\n\
         [[source]]\nid = \"cdata\"\nurl = \"{}\"\n",
        server.url("/escaped.xml"),
        server.url("/cdata.xml")
    ));
    let text = std::fs::read_to_string(sandbox.config_path()).unwrap();
    std::fs::write(
        sandbox.config_path(),
        text.replace("[fetch]\n", "[fetch]\nmax_new_items_per_poll = 1000\n"),
    )
    .unwrap();
    let polled = "2025-04-09T12:00:00Z";
    let later = "2025-04-14T08:00:00Z";
    sandbox.run_at(&["poll", "--all"], Some(polled)).ok();
    let digest = |format: &str| {
        sandbox
            .run_at(
                &[
                    "digest", "--week", "2025-W15", "--format", format, "--out", "-",
                ],
                Some(later),
            )
            .ok()
            .stdout()
    };
    let html = digest("html");
    let eml_html = eml_html_any(digest("eml").as_bytes());

    // The daemon's step: compose the week and keep it for the web archive.
    let config = storyline::config::Config::load(Some(&sandbox.config_path())).unwrap();
    let store = storyline::store::Store::open(&config.database)
        .await
        .unwrap();
    let stories = storyline::story::StoryDef::all_from(&config).unwrap();
    let templates = Templates::embedded().unwrap();
    let week = "2025-W15".parse().unwrap();
    let edition = storyline::weekly::make(
        &store,
        &config,
        &templates,
        &stories[0],
        storyline::weekly::Period::Week(week),
        at(later),
    )
    .await
    .unwrap();
    let r = &edition.rendered;
    store
        .insert_digest_once(
            &storyline::store::NewDigest {
                story_id: "xss",
                week: "2025-W15".parse().unwrap(),
                subject: &r.subject,
                text: &r.text,
                html: &r.email_html,
                chart_png: Some(&r.chart_png),
            },
            at(later),
        )
        .await
        .unwrap();
    let state = storyline::web::AppState {
        store: store.clone(),
        config: std::sync::Arc::new(config.clone()),
        stories: std::sync::Arc::new(stories),
        metrics: std::sync::Arc::new(Metrics::default()),
        clock: Clock::tokio_from(at(later)),
        heartbeat_max_age: std::time::Duration::from_secs(60),
        subscribe: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        async move { axum::serve(listener, storyline::web::router(state).unwrap()).await },
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: String| {
        let http = http.clone();
        async move {
            let r = http.get(path).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.text().await.unwrap()
        }
    };
    let home = get(format!("{base}/")).await;
    let digest_page = get(format!("{base}/digests/xss/2025-W15")).await;
    let feeds = [
        get(format!("{base}/stories/xss/feed.atom")).await,
        get(format!("{base}/stories/xss/events.atom")).await,
    ];
    Outputs {
        html,
        eml_html,
        home,
        digest_page,
        feeds,
    }
}

/// A feed as an XML parser that stops at the first error reads it: its entries' titles and
/// their content (the HTML, unescaped), or the error.
fn strict_atom(xml: &str) -> Result<Vec<(String, String)>, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let (mut path, mut text, mut entries) = (Vec::<String>::new(), String::new(), Vec::new());
    let mut entry = (String::new(), String::new());
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                path.push(e.name().as_ref().to_string());
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let name: String = r.as_ref().to_string();
                let c = match name.as_str() {
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "amp" => "&".to_string(),
                    "quot" => "\"".to_string(),
                    "apos" => "'".to_string(),
                    n if n.starts_with('#') => r
                        .resolve_char_ref()
                        .map_err(|e| e.to_string())?
                        .map(String::from)
                        .ok_or(format!("bad character reference &{n};"))?,
                    n => return Err(format!("undefined entity &{n};")),
                };
                text.push_str(&c);
            }
            Event::End(_) => {
                match path.join("/").as_str() {
                    "feed/entry/title" => entry.0 = std::mem::take(&mut text),
                    "feed/entry/content" => entry.1 = std::mem::take(&mut text),
                    "feed/entry" => entries.push(std::mem::take(&mut entry)),
                    _ => {}
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if entries.is_empty() {
        return Err("no entries".into());
    }
    Ok(entries)
}

/// The HTML part of a message, at any depth.
fn eml_html_any(eml: &[u8]) -> String {
    fn find_html(p: &Part) -> Option<String> {
        match p.mime_type().as_str() {
            "text/html" => Some(p.text()),
            t if t.starts_with("multipart/") => p.children().iter().find_map(find_html),
            _ => None,
        }
    }
    find_html(&Part::parse(eml)).expect("an HTML part")
}

/// The same vectors through the real binary (`poll`, then `digest` as HTML and `.eml`) and
/// the web site (the home page's timeline and the stored digest's page), each compared with
/// what a run on harmless items produces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_feed_html_never_reaches_the_binarys_digest_or_the_web_pages() {
    let harmless: Vec<String> = [
        "Meta releases <b>Llama 4</b> Scout and Maverick",
        "<p>Meta said on Thursday it would <i>delay</i> Behemoth.</p>",
        "<a href=\"https://ai.meta.com/\">Meta AI</a> publishes a model card",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (e, c) = feeds(&harmless);
    let base = pipeline(e, c).await;
    let vectors = vectors();
    let (e, c) = feeds(&vectors);
    let got = pipeline(e, c).await;

    let mut digest_shape = shape(&base.html);
    digest_shape.learn(&base.eml_html);
    digest_shape.learn(&base.digest_page);
    let home_shape = shape(&base.home);
    let mut feed_shape = Shape::default();
    for xml in &base.feeds {
        for (_, content) in strict_atom(xml).unwrap() {
            feed_shape.learn(&content);
        }
    }
    let mut found = Vec::new();
    for (what, html, allowed) in [
        ("digest --format html", &got.html, &digest_shape),
        ("digest --format eml", &got.eml_html, &digest_shape),
        ("web /digests/xss/2025-W15", &got.digest_page, &digest_shape),
        ("web /", &got.home, &home_shape),
    ] {
        for p in problems_on(html, allowed, true) {
            found.push(format!("{what}: {p}"));
        }
    }
    // The feeds: well-formed XML with nothing raw in it (every piece of HTML is escaped
    // text), entries whose unescaped content is as harmless as the pages, and a document
    // Python feedparser reads without complaint.
    let dir = tempfile::tempdir().unwrap();
    let mut feed_titles = Vec::new();
    for (xml, name) in got.feeds.iter().zip(["feed.atom", "events.atom"]) {
        let entries = strict_atom(xml).unwrap_or_else(|e| panic!("{name}: {e}\n{xml}"));
        let lower = xml.to_ascii_lowercase();
        // Atom's own `<link rel=… href=…/>` is the one tag of these a feed has.
        for tag in RAW_TAGS {
            let own = if *tag == "<link" {
                lower.matches("<link rel=\"").count()
            } else {
                0
            };
            assert_eq!(
                lower.matches(tag).count(),
                own,
                "{name}: raw {tag} in the XML"
            );
        }
        for (title, content) in entries {
            for p in problems_on(&content, &feed_shape, true) {
                found.push(format!("{name} entry {title:?}: {p}"));
            }
            feed_titles.push(title);
        }
        let path = dir.path().join(name);
        std::fs::write(&path, xml).unwrap();
        let fp = support::python::run_script("feed_check.py", &[path.as_path()]);
        assert!(
            fp.status.success(),
            "feedparser on the hostile {name}: {}",
            String::from_utf8_lossy(&fp.stderr)
        );
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    assert!(
        feed_titles.iter().any(|t| t.contains("<script")),
        "a vector reads back as text in a feed title: {feed_titles:?}"
    );
    // The hostile run really showed vectors, as escaped text. (Story processing groups these
    // look-alike reports into a handful of events, so the pages show a few headlines; the
    // test above renders every vector.)
    let developments = got.html.matches("dev-headline").count();
    let timeline = got.home.matches("<li>").count();
    for (what, html) in [("digest", &got.html), ("home page", &got.home)] {
        assert!(
            html.contains("&lt;script&gt;"),
            "{what} shows no vector as text"
        );
    }
    eprintln!(
        "xss (binary and web): {} vectors; {developments} developments in the digest, \
         {timeline} timeline entries on the home page; digest html {} KB, eml html {} KB, \
         home {} KB, digest page {} KB: 0 problems",
        vectors.len(),
        got.html.len() / 1024,
        got.eml_html.len() / 1024,
        got.home.len() / 1024,
        got.digest_page.len() / 1024
    );
}

/// Every web page that shows a story's title or a development's headline shows it as text:
/// the index of stories, a story's page (and the home page of a one-story site), the feed
/// links in a stored digest's head, the subscribe form (one story and several), the confirm
/// and unsubscribe pages and the notices after them. Titles come from the config and
/// headlines from a feed polled on 127.0.0.1; none of them may reach a page as markup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_titles_and_headlines_are_text_on_every_web_page() {
    use std::sync::Arc;
    use storyline::web::{subscribe::SubscribeState, AppState};

    let server = FeedServer::start().await;
    server.route(
        "/f.xml",
        Route::feed(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title>\
             <link>https://news.example/</link><item><guid>a</guid>\
             <title>&lt;script&gt;alert('headline')&lt;/script&gt; &quot;Llama&quot;</title>\
             <link>https://news.example/a</link><pubDate>Wed, 09 Apr 2025 10:00:00 GMT</pubDate>\
             </item></channel></rss>"
                .to_string(),
        ),
    );
    let sink = support::smtp_sink::SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mail_toml = format!(
        "[web]\nbase_url = \"http://127.0.0.1:9/\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout = \"5s\"\n\
         from = \"Storyline <digest@storyline.test>\"\n\
         [mail]\nsecret = \"web-test-secret-web-test-secret-web-test\"\nrate_per_second = 1000\n\
         [[source]]\nid = \"f\"\nurl = \"{}\"\n",
        sink.port(),
        server.url("/f.xml")
    );
    // The hostile story takes every item (no phrases); the other takes none.
    let evil = "[[story]]\nid = \"evil\"\n\
                title = \"<script>alert('story')</script> & \\\"co\\\"\"\n";
    let calm = "[[story]]\nid = \"calm\"\ntitle = \"Calm\"\nphrases = [\"zzqqxx\"]\n";
    let many_config = config(dir.path(), &format!("{mail_toml}{evil}{calm}"));
    let now = at("2025-04-10T12:00:00Z");
    let ctx = open(many_config.clone(), now).await;
    run_cycle(&ctx, now, &Selection::All, &Quiet).await.unwrap();
    let store = ctx.store.clone();
    store
        .insert_digest_once(
            &storyline::store::NewDigest {
                story_id: "evil",
                week: "2025-W15".parse().unwrap(),
                subject: "<script>alert('subject')</script>",
                text: "t\n",
                html: "<html><head><title>t</title></head><body><p>t</p></body></html>",
                chart_png: None,
            },
            now,
        )
        .await
        .unwrap();
    let one_dir = tempfile::tempdir().unwrap();
    let one_config = config(one_dir.path(), &format!("{mail_toml}{evil}"));
    let site = |config: &storyline::config::Config| {
        let settings = storyline::app::Settings::from_config(config.clone()).unwrap();
        let mail = settings.mail(&|_| None).unwrap().unwrap();
        let state = AppState {
            store: store.clone(),
            config: settings.config.clone(),
            stories: settings.stories.clone(),
            metrics: Arc::new(Metrics::default()),
            clock: Clock::tokio_from(now),
            heartbeat_max_age: std::time::Duration::from_secs(60),
            subscribe: Some(Arc::new(SubscribeState::new(mail.clone()))),
        };
        let router = storyline::web::router(state).unwrap();
        (router, mail)
    };
    let (many_router, mail) = site(&many_config);
    let (one_router, _) = site(&one_config);
    let mut bases = Vec::new();
    for router in [many_router, one_router] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        bases.push(format!("http://{}", listener.local_addr().unwrap()));
        let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    let (many, one) = (&bases[0], &bases[1]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let fetch = |method: reqwest::Method, url: String, body: String| {
        let http = http.clone();
        async move {
            let r = http
                .request(method, url.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "{url}");
            r.text().await.unwrap()
        }
    };
    let get = |url: String| fetch(reqwest::Method::GET, url, String::new());
    let post = |url: String, body: String| fetch(reqwest::Method::POST, url, body);

    let form = get(format!("{many}/subscribe")).await;
    let csrf = form
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let subscribed = post(
        format!("{many}/subscribe"),
        format!("email=o%27b%40example.org&story=evil&story=calm&csrf={csrf}"),
    )
    .await;
    let subscriber = store.subscriber_by_email("o'b@example.org").await.unwrap();
    let both = ["evil".to_string(), "calm".to_string()];
    let local = |u: url::Url| format!("{}?{}", u.path(), u.query().unwrap_or_default());
    let confirm = local(
        mail.settings
            .confirm_url(subscriber.id, &subscriber.email, &both, now),
    );
    let unsubscribe = local(mail.settings.unsubscribe_url(
        subscriber.id,
        &subscriber.email,
        "evil",
    ));
    let story_title = "&lt;script&gt;alert(&#39;story&#39;)&lt;/script&gt; &amp; &quot;co&quot;";
    let headline = "&lt;script&gt;alert(&#39;headline&#39;)&lt;/script&gt; &quot;Llama&quot;";
    let subject = "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;";
    let pages = [
        (
            "index",
            get(format!("{many}/")).await,
            vec![story_title, headline, subject],
        ),
        (
            "story page",
            get(format!("{many}/stories/evil")).await,
            vec![story_title, headline, subject],
        ),
        (
            "one-story home",
            get(format!("{one}/")).await,
            vec![story_title, headline, subject],
        ),
        (
            "stored digest",
            get(format!("{many}/digests/evil/2025-W15")).await,
            vec![story_title],
        ),
        ("form, several stories", form, vec![story_title]),
        (
            "form, one story",
            get(format!("{one}/subscribe")).await,
            vec![story_title],
        ),
        ("check your inbox", subscribed, vec!["o&#39;b@example.org"]),
        (
            "confirm page",
            get(format!("{many}{confirm}")).await,
            vec![story_title, "o&#39;b@example.org"],
        ),
        (
            "subscribed",
            post(format!("{many}{confirm}"), String::new()).await,
            vec![story_title],
        ),
        (
            "unsubscribe page",
            get(format!("{many}{unsubscribe}")).await,
            vec![story_title],
        ),
        (
            "unsubscribed",
            post(format!("{many}{unsubscribe}"), String::new()).await,
            vec![story_title],
        ),
    ];
    for (what, html, shown) in pages {
        assert!(
            !html.contains("<script"),
            "{what}: markup from a title\n{html}"
        );
        for text in shown {
            assert!(
                html.contains(text),
                "{what}: {text} not shown as text\n{html}"
            );
        }
    }
}
