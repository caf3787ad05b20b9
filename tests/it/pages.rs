//! Page sources and site readings, end to end: real article fixtures, page change detection
//! across polls, static references, and site adapters through the poller into the database.

// Tests may unwrap (team guide); clippy.toml covers #[test] functions, this covers helpers.
#![allow(clippy::unwrap_used)]

use crate::support;

use chrono::{DateTime, Utc};
use storyline::app::{App, Settings};
use storyline::refresh::{self, Quiet, Selection, SourceResult};
use storyline::store::ItemRow;
use storyline::value::clock::Clock;
use support::{own_fixture, real_fixture, Sandbox, Server};
use url::Url;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn open(sandbox: &Sandbox, now: DateTime<Utc>) -> App {
    let settings = Settings::load(Some(&sandbox.config_path())).unwrap();
    App::build(settings, None, Clock::System, now)
        .await
        .unwrap()
}

async fn items(ctx: &App, source: &str) -> Vec<ItemRow> {
    ctx.store.items_of_source(source).await.unwrap()
}

/// What a reader of each real article fixture must find, read off the files by hand.
struct Expected {
    file: &'static str,
    fetched_from: &'static str,
    title: &'static str,
    canonical: &'static str,
    site: &'static str,
    author: &'static str,
    published: &'static str,
    modified: &'static str,
    description_starts: &'static str,
    image: &'static str,
    feeds: &'static [&'static str],
    text_has: &'static [&'static str],
    text_lacks: &'static [&'static str],
}

const EXPECTED: &[Expected] = &[
    Expected {
        file: "article_reuters_legacy_og_jsonld_2020.html",
        fetched_from: "https://www.reuters.com/article/us-awards-sag/parasite-scores-historic-upset-at-sag-awards-boosting-oscar-chances-idUSKBN1ZI0EH",
        title: "'Parasite' scores historic upset at SAG awards, boosting Oscar chances",
        canonical: "https://www.reuters.com/article/us-awards-sag-idUSKBN1ZI0EH",
        // og:site_name says "U.S." (a section); the JSON-LD publisher names the outlet.
        site: "Reuters",
        author: "Jill Serjeant",
        // Only the non-standard og:article:published_time / og:article:modified_time.
        published: "2020-01-19T12:25:36Z",
        modified: "2020-01-20T09:49:32Z",
        description_starts: "South Korean thriller \"Parasite\" was the upset winner",
        image: "https://static.reuters.com/resources/r/?m=02&d=20200120&t=2&i=1478767273&r=LYNXMPEG0J09P&w=800",
        feeds: &[],
        text_has: &[
            "LOS ANGELES (Reuters) - South Korean thriller “Parasite” was the upset winner",
            "“It was a difficult part,” quipped Pitt of his role.",
        ],
        // The reading-time badge and the related-coverage box around the story.
        text_lacks: &["4 Min Read", "Related Coverage", "Factbox: Key winners"],
    },
    Expected {
        file: "article_theverge_og_jsonld_2019.html",
        fetched_from: "https://www.theverge.com/2019/7/3/20680681/ios-13-beta-3-facetime-attention-correction-eye-contact",
        title: "iOS 13 will fix the FaceTime eye contact problem",
        canonical: "https://www.theverge.com/2019/7/3/20680681/ios-13-beta-3-facetime-attention-correction-eye-contact",
        site: "The Verge",
        author: "Jon Porter",
        published: "2019-07-03T08:22:07Z",
        modified: "2019-07-03T08:22:07Z",
        description_starts: "Fake eye contact for improved intimacy",
        image: "https://cdn.vox-cdn.com/thumbor/E3Z7nv0iFjl6ztUEK-xF1QWI2rc=/0x146:2040x1214/fit-in/1200x630/cdn.vox-cdn.com/uploads/chorus_asset/file/13721811/DSCF2931.jpg",
        feeds: &["https://www.theverge.com/rss/index.xml"],
        text_has: &[
            "iOS 13’s third developer beta includes a new feature",
            "Update July 3rd, 8:05AM ET: Added ARKit explanation and tweet.",
        ],
        // Share bar, comment counter, sidebar deals: chrome that changes without the story.
        text_lacks: &["Share this story", "New, 74", "Good Deals", "Command Line"],
    },
    Expected {
        file: "article_wordpress_kulu_media_og_jsonld_2026.html",
        fetched_from: "https://kulu-media.com/meta-outage-hits-facebook-instagram-and-messenger/",
        // The first og:title wins over the SEO plugin's second one ("… | Kulu Media").
        title: "Meta Outage Hits Facebook, Instagram and Messenger Worldwide",
        canonical: "https://kulu-media.com/meta-outage-hits-facebook-instagram-and-messenger/",
        site: "Kulu Media",
        // Resolved through the JSON-LD @graph (the meta tag holds a Facebook URL).
        author: "Kulu Media News Desk",
        published: "2026-06-12T15:11:51Z",
        modified: "2026-06-12T17:09:20Z",
        description_starts: "A widespread Meta outage affected Facebook, Instagram and Messenger",
        image: "https://kulu-media.com/wp-content/uploads/2026/06/Meta-Outage-1000x600.jpg",
        feeds: &[
            "https://kulu-media.com/feed/",
            "https://kulu-media.com/comments/feed/",
            "https://kulu-media.com/web-stories/feed/",
        ],
        text_has: &[
            "A major Meta outage disrupted access to Facebook, Instagram, and Messenger on Friday",
            "Meta Yet to Explain Meta Outage",
        ],
        // The next stories appended below the article, with their "4 months ago" stamps.
        text_lacks: &["Artemis", "months ago", "Continue Reading"],
    },
];

#[test]
fn every_real_article_fixture_yields_its_metadata_and_main_text() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/real");
    let mut html_files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".html"))
        .collect();
    html_files.sort();
    let mut covered: Vec<&str> = EXPECTED.iter().map(|e| e.file).collect();
    covered.sort();
    assert_eq!(html_files, covered, "every HTML fixture needs expectations");

    for x in EXPECTED {
        let body = real_fixture(x.file);
        let url = Url::parse(x.fetched_from).unwrap();
        let page = storyline::page::read_html(&body, Some("text/html; charset=utf-8"), &url)
            .unwrap_or_else(|e| panic!("{}: {e}", x.file));
        let m = &page.meta;
        assert_eq!(m.title.as_deref(), Some(x.title), "{}", x.file);
        assert_eq!(m.canonical_url.as_deref(), Some(x.canonical), "{}", x.file);
        assert_eq!(m.site_name.as_deref(), Some(x.site), "{}", x.file);
        assert_eq!(m.author.as_deref(), Some(x.author), "{}", x.file);
        assert_eq!(m.published, Some(utc(x.published)), "{}", x.file);
        assert_eq!(m.modified, Some(utc(x.modified)), "{}", x.file);
        assert!(
            m.description
                .as_deref()
                .is_some_and(|d| d.starts_with(x.description_starts)),
            "{}: {:?}",
            x.file,
            m.description
        );
        assert_eq!(m.image.as_deref(), Some(x.image), "{}", x.file);
        let feeds: Vec<&str> = page.feeds.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(feeds, x.feeds, "{}", x.file);
        for s in x.text_has {
            assert!(page.text.contains(s), "{}: text lacks {s:?}", x.file);
        }
        for s in x.text_lacks {
            assert!(!page.text.contains(s), "{}: text has {s:?}", x.file);
        }
        assert!(page.text.contains("\n\n"), "{}: paragraphs kept", x.file);

        // The same page as the poller stores it: one entry keyed by the canonical URL.
        let doc = storyline::page::read_page(&body, Some("text/html"), &url).unwrap();
        assert_eq!(doc.format, Some(storyline::parse::Format::HtmlPage));
        assert_eq!(doc.entries.len(), 1);
        let e = &doc.entries[0];
        assert_eq!(e.id, x.canonical);
        assert_eq!(e.link.as_deref(), Some(x.canonical));
        assert_eq!(e.published, Some(utc(x.published)));
        assert_eq!(e.updated, Some(utc(x.modified)));
        assert_eq!(e.content.as_deref(), Some(page.text.as_str()));
    }
}

#[test]
fn inspect_shows_an_article_page_as_one_html_page_entry() {
    let server = Server::start();
    server.serve(
        "/2019/7/3/facetime",
        "text/html; charset=utf-8",
        real_fixture("article_theverge_og_jsonld_2019.html"),
    );
    let sandbox = Sandbox::new("");
    let out = sandbox
        .run(&["inspect", &server.url("/2019/7/3/facetime"), "--json"])
        .ok()
        .json();
    assert_eq!(out["format"], "html-page");
    let entries = out["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0]["title"],
        "iOS 13 will fix the FaceTime eye contact problem"
    );
    assert_eq!(
        entries[0]["link"],
        "https://www.theverge.com/2019/7/3/20680681/ios-13-beta-3-facetime-attention-correction-eye-contact"
    );
    assert_eq!(entries[0]["published"], "2019-07-03T08:22:07+00:00");
    // The relative feed link resolves against the URL the page was fetched from.
    assert_eq!(out["page"]["feeds"][0]["url"], server.url("/rss/index.xml"));
    assert_eq!(server.hits(), 1);

    let text = sandbox
        .run(&["inspect", &server.url("/2019/7/3/facetime")])
        .ok()
        .stdout();
    assert!(text.contains("format:  html-page"), "{text}");
    assert!(text.contains("author:      Jon Porter"), "{text}");
}

/// A small article page; `chrome` varies the parts a reader does not count as the story.
fn article(paragraphs: &[&str], chrome: u32) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        r#"<!DOCTYPE html><html><head><title>Lab has no deadlines - Business Insight</title>
<link rel="canonical" href="https://www.businessinsight.example/lab-no-deadlines">
<meta property="og:title" content="Zuckerberg's new AI lab has no deadlines">
<meta property="og:site_name" content="Business Insight">
<meta property="article:published_time" content="2025-09-19T14:05:31Z">
<script>window.cacheBuster = {chrome};</script><style>.x{{color:#{chrome:03}}}</style>
</head><body>
<header><nav><a href="/tech">Tech {chrome}</a></nav></header>
<main><article><h1>Zuckerberg's new AI lab has no deadlines</h1>
<div class="ad-slot">Sponsored offer #{chrome}</div>
<span class="comment-count">{chrome} comments</span>
{body}</article>
<aside>Trending now: story {chrome}</aside></main>
<footer>Rendered in {chrome} ms</footer>
</body></html>"#
    )
}

const PARAS: [&str; 3] = [
    "Mark Zuckerberg wants his new artificial intelligence group to run differently from the rest of Meta, with a small number of researchers.",
    "The approach is a deliberate break from the schedule-driven effort that produced Llama 4 earlier this year.",
    "Zuckerberg did not give a date for the lab's first model.",
];

fn page_config(server: &Server) -> Sandbox {
    Sandbox::new(&format!(
        "[[source]]\nid = \"bi-article\"\nkind = \"page\"\nurl = \"{}\"\n",
        server.url("/articles/lab.html")
    ))
}

#[tokio::test]
async fn a_page_that_gains_a_paragraph_is_marked_updated_with_a_note() {
    let server = Server::start();
    server.serve("/articles/lab.html", "text/html", article(&PARAS, 1));
    let sandbox = page_config(&server);
    let t0 = utc("2025-09-22T09:00:00Z");
    let ctx = open(&sandbox, t0).await;

    let first = refresh::run_cycle(&ctx, t0, &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(first.new_items(), 1);
    let stored = items(&ctx, "bi-article").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].guid,
        "https://www.businessinsight.example/lab-no-deadlines"
    );
    assert_eq!(
        stored[0].title.as_deref(),
        Some("Zuckerberg's new AI lab has no deadlines")
    );
    assert_eq!(stored[0].published(), Some(utc("2025-09-19T14:05:31Z")));
    assert_eq!(stored[0].updated_at, None);

    let update = "<strong>Update:</strong> Zuckerberg later said no timeline had been set.";
    let v2 = [PARAS[0], PARAS[1], PARAS[2], update];
    server.serve("/articles/lab.html", "text/html", article(&v2, 1));
    let t1 = utc("2025-10-06T09:00:00Z");
    let second = refresh::run_cycle(&ctx, t1, &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(second.new_items(), 0);
    assert_eq!(second.updated_items(), 1);
    let stored = items(&ctx, "bi-article").await;
    assert_eq!(stored.len(), 1, "a page stays one item");
    assert_eq!(stored[0].change_note.as_deref(), Some("1 paragraph added"));
    assert_eq!(stored[0].updated_at, Some(t1.timestamp()));
    assert!(stored[0]
        .content
        .as_deref()
        .is_some_and(|c| c.ends_with("Update: Zuckerberg later said no timeline had been set.")));
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_page_whose_only_changes_are_chrome_is_not_updated() {
    let server = Server::start();
    server.serve("/articles/lab.html", "text/html", article(&PARAS, 1));
    let sandbox = page_config(&server);
    let t0 = utc("2025-09-22T09:00:00Z");
    let ctx = open(&sandbox, t0).await;
    refresh::run_cycle(&ctx, t0, &Selection::All, &Quiet)
        .await
        .unwrap();
    let before = items(&ctx, "bi-article").await;

    // New nav, script, style, ad, comment count, sidebar and footer; same story.
    server.serve("/articles/lab.html", "text/html", article(&PARAS, 2));
    let t1 = utc("2025-09-29T09:00:00Z");
    let report = refresh::run_cycle(&ctx, t1, &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(
        report.sources[0].result,
        SourceResult::Stored {
            new: 0,
            updated: 0,
            over_cap: 0
        }
    );
    let after = items(&ctx, "bi-article").await;
    assert_eq!(after[0].content_hash, before[0].content_hash);
    assert_eq!(after[0].updated_at, None);
    assert_eq!(after[0].change_note, None);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_page_source_that_serves_a_feed_fails_with_a_clear_error() {
    let server = Server::start();
    server.serve(
        "/articles/lab.html",
        "text/html",
        real_fixture("github_releases_atom_vscode_2018.xml"),
    );
    let sandbox = page_config(&server);
    let t0 = utc("2025-09-22T09:00:00Z");
    let ctx = open(&sandbox, t0).await;
    let report = refresh::run_cycle(&ctx, t0, &Selection::All, &Quiet)
        .await
        .unwrap();
    match &report.sources[0].result {
        SourceResult::Failed { error, .. } => {
            assert!(
                error.contains("not an article page") && error.contains("feed"),
                "{error}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(items(&ctx, "bi-article").await.is_empty());
}

#[tokio::test]
async fn a_static_reference_is_stored_once_and_never_fetched() {
    let server = Server::start();
    server.serve("/walled/article", "text/html", article(&PARAS, 1));
    let sandbox = Sandbox::new(&format!(
        "[[source]]\nid = \"cited-walled\"\nkind = \"page\"\nurl = \"{}\"\npoll = false\n\
         title = \"Meta is delaying release of its Behemoth AI model\"\ndate = \"2025-05-15\"\n\
         note = \"Bot-walled; kept as a reference\"\n",
        server.url("/walled/article")
    ));
    let t0 = utc("2025-05-20T09:00:00Z");
    let ctx = open(&sandbox, t0).await;

    let first = refresh::run_cycle(&ctx, t0, &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(
        first.sources[0].result,
        SourceResult::Reference { stored: true }
    );
    let t1 = utc("2025-06-20T09:00:00Z");
    let second = refresh::run_cycle(&ctx, t1, &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(
        second.sources[0].result,
        SourceResult::Reference { stored: false }
    );
    let due = refresh::run_cycle(&ctx, utc("2026-01-01T00:00:00Z"), &Selection::Due, &Quiet)
        .await
        .unwrap();
    assert_eq!(due.new_items(), 0);

    let stored = items(&ctx, "cited-walled").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].title.as_deref(),
        Some("Meta is delaying release of its Behemoth AI model")
    );
    assert_eq!(
        stored[0].url.as_deref(),
        Some(server.url("/walled/article").as_str())
    );
    assert_eq!(stored[0].published(), Some(utc("2025-05-15T00:00:00Z")));
    assert_eq!(
        stored[0].summary.as_deref(),
        Some("Bot-walled; kept as a reference")
    );
    assert_eq!(server.hits(), 0, "a static reference is never fetched");
}

#[tokio::test]
async fn reddit_thread_comments_are_stored_linked_to_their_post() {
    let server = Server::start();
    let path = "/r/LocalLLaMA/comments/1id6gcj/mark_zuckerberg_on_llama_4_training_progress/.rss";
    server.serve(
        path,
        "application/atom+xml; charset=UTF-8",
        own_fixture("reddit_thread_synthetic.rss"),
    );
    let sandbox = Sandbox::new(&format!(
        "[[source]]\nid = \"thread\"\nurl = \"{}\"\n",
        server.url(path)
    ));
    let now = utc("2025-01-30T10:00:00Z");
    let ctx = open(&sandbox, now).await;
    refresh::run_cycle(&ctx, now, &Selection::All, &Quiet)
        .await
        .unwrap();

    let stored = items(&ctx, "thread").await;
    assert_eq!(stored.len(), 4);
    let post = stored.iter().find(|i| i.guid == "t3_1id6gcj").unwrap();
    assert_eq!(post.parent_guid, None);
    let comments: Vec<&ItemRow> = stored
        .iter()
        .filter(|i| i.guid.starts_with("t1_"))
        .collect();
    assert_eq!(comments.len(), 3);
    for c in comments {
        assert_eq!(c.parent_guid.as_deref(), Some("t3_1id6gcj"), "{}", c.guid);
        assert!(c
            .title
            .as_deref()
            .is_some_and(|t| t.ends_with(" on Mark Zuckerberg on Llama 4 training progress")));
    }
}

#[tokio::test]
async fn site_readings_reach_the_database() {
    let server = Server::start();
    server.serve(
        "/rss/search",
        "application/xml",
        real_fixture("google_news_search_rss_2items.xml"),
    );
    server.serve(
        "/newest",
        "application/rss+xml",
        real_fixture("hnrss_newest_q_AI_4items_trimmed.xml"),
    );
    server.serve(
        "/Microsoft/vscode/releases.atom",
        "application/atom+xml",
        real_fixture("github_releases_atom_vscode_2018.xml"),
    );
    let sandbox = Sandbox::new(&format!(
        "[[source]]\nid = \"gnews\"\nurl = \"{}\"\n\n[[source]]\nid = \"hn\"\nurl = \"{}\"\n\n\
         [[source]]\nid = \"gh\"\nurl = \"{}\"\n",
        server.url("/rss/search"),
        server.url("/newest"),
        server.url("/Microsoft/vscode/releases.atom"),
    ));
    let now = utc("2026-09-26T00:00:00Z");
    let ctx = open(&sandbox, now).await;
    refresh::run_cycle(&ctx, now, &Selection::All, &Quiet)
        .await
        .unwrap();

    let gnews = items(&ctx, "gnews").await;
    let guardian = gnews
        .iter()
        .find(|i| i.guid == "CBMiogFBVV95cUxQZ3MtNXd1")
        .unwrap();
    assert_eq!(
        guardian.title.as_deref(),
        Some("Ketanji Brown Jackson criticizes supreme court’s handling of emergency docket")
    );
    assert_eq!(guardian.outlet_name.as_deref(), Some("The Guardian"));
    assert_eq!(
        guardian.outlet_url.as_deref(),
        Some("https://www.theguardian.com")
    );
    assert_eq!(
        guardian.url.as_deref(),
        Some("https://news.google.com/rss/articles/CBMiogFBVV95cUxQZ3MtNXd1?oc=5")
    );

    let hn = items(&ctx, "hn").await;
    assert_eq!(hn.len(), 4);
    let first = hn
        .iter()
        .find(|i| i.guid == "https://news.ycombinator.com/item?id=47289785")
        .unwrap();
    assert_eq!((first.points, first.comments), (Some(1), Some(0)));
    assert_eq!(
        first.discussion_url.as_deref(),
        Some("https://news.ycombinator.com/item?id=47289785")
    );
    assert_eq!(
        first.url.as_deref(),
        Some("https://github.com/BV-Venky/excalidraw-architect-mcp")
    );

    let gh = items(&ctx, "gh").await;
    let titles: Vec<&str> = gh.iter().filter_map(|i| i.title.as_deref()).collect();
    assert_eq!(titles, ["vscode 1.22.2", "vscode 1.22.1"]);
    assert_eq!(
        gh[0].content.as_deref(),
        Some("<p>update release number</p>")
    );
}

#[test]
fn the_replay_article_update_is_described_as_a_paragraph_added() {
    // The story replay's article page before and after its Update paragraph (answer key:
    // page_updates, week 2025-W40).
    let week = |w: &str| {
        let path = format!(
            "{}/../shared/fixtures/story-replay/weeks/{w}/articles/zuckerberg-flat-lab.html",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let url = Url::parse("http://127.0.0.1:8080/articles/zuckerberg-flat-lab.html").unwrap();
    let read = |w: &str| storyline::page::read_page(&week(w), Some("text/html"), &url).unwrap();
    let (before, after) = (read("2025-W39"), read("2025-W40"));
    let (b, a) = (&before.entries[0], &after.entries[0]);
    assert_eq!(
        b.id,
        "https://www.businessinsight.example/zuckerberg-superintelligence-lab-flat-no-deadlines-2025-9"
    );
    assert_eq!(a.id, b.id);
    assert_eq!(
        b.outlet.as_ref().and_then(|o| o.url.as_deref()),
        Some("https://www.businessinsight.example/")
    );
    assert_eq!(a.updated, Some(utc("2025-10-01T16:30:00Z")));
    assert_eq!(
        storyline::page::describe_update(&revision(b), &revision(a)).as_deref(),
        Some("1 paragraph added")
    );
    // The weeks before the update carry the same text.
    assert_eq!(read("2025-W38").entries[0].content, b.content);
}

fn revision(e: &storyline::parse::Entry) -> storyline::page::Revision<'_> {
    storyline::page::Revision {
        title: e.title.as_deref(),
        summary: e.summary.as_deref(),
        text: e.content.as_deref().unwrap_or_default(),
        published: e.published,
    }
}
