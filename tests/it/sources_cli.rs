//! `storyline sources …` and `storyline config …`, run as the real binary against a loopback
//! server that counts requests.

// Tests may unwrap (team guide); clippy.toml covers #[test] functions, this covers helpers.
#![allow(clippy::unwrap_used)]

use crate::support;

use serde_json::Value;
use support::{real_fixture, Sandbox, Server};

const NOW: &str = "2026-09-26T12:00:00Z";
const A_MINUTE_LATER: &str = "2026-09-26T12:01:00Z";

fn listed(sandbox: &Sandbox) -> Vec<Value> {
    sandbox
        .run_at(&["sources", "list", "--json"], Some(NOW))
        .ok()
        .json()
        .as_array()
        .unwrap()
        .clone()
}

fn find<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no source {id} in {rows:?}"))
}

#[test]
fn adding_a_feed_makes_exactly_one_request_and_keeps_what_it_got() {
    let server = Server::start();
    server.serve(
        "/blog/feed.xml",
        "application/rss+xml",
        real_fixture("meta_ai_blog_rss2_olshansk.xml"),
    );
    let sandbox = Sandbox::new("");

    let out = sandbox
        .run_at(
            &["sources", "add", &server.url("/blog/feed.xml")],
            Some(NOW),
        )
        .ok()
        .stdout();
    assert_eq!(server.hits(), 1, "one request per add");
    assert!(out.contains("added feed"), "{out}");

    let rows = listed(&sandbox);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["kind"], "feed");
    assert_eq!(row["origin"], "cli");
    assert_eq!(row["status"], "ok");
    assert_eq!(
        row["items"], 88,
        "the fetched body was stored, not thrown away"
    );
    assert!(row["next_due"].as_str().is_some_and(|d| d > NOW));

    // A poll right after the add has nothing due: no second request.
    sandbox.run_at(&["poll"], Some(A_MINUTE_LATER)).ok();
    assert_eq!(server.hits(), 1);

    // Adding the same URL again is refused before any request.
    let again = sandbox.run_at(
        &["sources", "add", &server.url("/blog/feed.xml")],
        Some(NOW),
    );
    assert_eq!(again.code(), 2);
    assert!(
        again.stderr().contains("already followed"),
        "{}",
        again.stderr()
    );
    assert_eq!(server.hits(), 1);
}

fn page_with_feeds() -> String {
    r#"<!DOCTYPE html><html><head><title>Llama news - Example Site</title>
<meta property="og:title" content="Llama news">
<meta property="og:site_name" content="Example Site">
<link rel="canonical" href="/2025/04/llama-news">
<link rel="alternate" type="application/rss+xml" title="Example Site Feed" href="/feed/">
<link rel="alternate" type="application/atom+xml" title="Comments" href="comments.atom">
</head><body><article><p>Meta released Llama 4 Scout and Maverick on Saturday.</p></article></body></html>"#
        .to_string()
}

#[test]
fn a_page_that_advertises_feeds_adds_its_first_feed_resolved() {
    let server = Server::start();
    server.serve("/2025/04/llama-news", "text/html", page_with_feeds());
    let sandbox = Sandbox::new("");

    let out = sandbox
        .run_at(
            &[
                "sources",
                "add",
                &server.url("/2025/04/llama-news"),
                "--id",
                "example",
            ],
            Some(NOW),
        )
        .ok()
        .stdout();
    // Both advertised feeds are listed, relative links resolved against the page URL.
    assert!(out.contains(&server.url("/feed/")), "{out}");
    assert!(out.contains(&server.url("/2025/04/comments.atom")), "{out}");
    assert_eq!(server.hits(), 1, "the feed itself waits for the next poll");

    let rows = listed(&sandbox);
    let row = find(&rows, "example");
    assert_eq!(row["kind"], "feed");
    assert_eq!(row["url"], server.url("/feed/"));
    assert_eq!(row["title"], "Example Site Feed");
    assert_eq!(row["status"], "never fetched");
}

#[test]
fn kind_page_watches_the_page_itself_and_plain_pages_become_pages() {
    let server = Server::start();
    server.serve("/2025/04/llama-news", "text/html", page_with_feeds());
    server.serve(
        "/kulu/meta-outage",
        "text/html; charset=UTF-8",
        real_fixture("article_wordpress_kulu_media_og_jsonld_2026.html"),
    );
    server.serve(
        "/verge/facetime",
        "text/html",
        // The Verge page advertises a feed too; without --kind it would be followed instead.
        real_fixture("article_theverge_og_jsonld_2019.html"),
    );
    let sandbox = Sandbox::new("");

    sandbox
        .run_at(
            &[
                "sources",
                "add",
                &server.url("/2025/04/llama-news"),
                "--kind",
                "page",
            ],
            Some(NOW),
        )
        .ok();
    let rows = listed(&sandbox);
    // The id comes from the page title.
    let row = find(&rows, "llama-news");
    assert_eq!(row["kind"], "page");
    assert_eq!(row["items"], 1);
    assert_eq!(server.hits(), 1);

    let plain = Server::start();
    plain.serve(
        "/article",
        "text/html",
        "<html><head><title>No feeds here</title></head><body><p>Just a story.</p></body></html>",
    );
    sandbox
        .run_at(&["sources", "add", &plain.url("/article")], Some(NOW))
        .ok();
    let rows = listed(&sandbox);
    let row = find(&rows, "no-feeds-here");
    assert_eq!(row["kind"], "page");
    assert_eq!(plain.hits(), 1);

    // --kind feed on a page without feeds is refused, after its one request.
    let refused = sandbox.run_at(
        &[
            "sources",
            "add",
            &plain.url("/article"),
            "--kind",
            "feed",
            "--id",
            "x",
        ],
        Some(NOW),
    );
    assert_eq!(refused.code(), 2, "{}", refused.stderr());
}

#[test]
fn list_shows_failures_in_plain_words_and_remove_respects_the_config() {
    let server = Server::start();
    server.serve(
        "/hn",
        "application/rss+xml",
        real_fixture("hnrss_newest_q_AI_4items_trimmed.xml"),
    );
    let sandbox = Sandbox::new(&format!(
        "[[source]]\nid = \"from-config\"\nurl = \"{}\"\n",
        server.url("/missing.xml")
    ));
    sandbox
        .run_at(
            &["sources", "add", &server.url("/hn"), "--id", "hn"],
            Some(NOW),
        )
        .ok();
    sandbox.run_at(&["poll", "--all"], Some(NOW)).ok();

    let rows = listed(&sandbox);
    let failing = find(&rows, "from-config");
    assert_eq!(failing["origin"], "config");
    assert_eq!(failing["status"], "failing (HTTP 404)");
    assert_eq!(failing["consecutive_failures"], 1);
    assert_eq!(failing["last_error"], "server answered 404 Not Found");
    let hn = find(&rows, "hn");
    assert_eq!(hn["items"], 4);

    let table = sandbox
        .run_at(&["sources", "list"], Some(NOW))
        .ok()
        .stdout();
    assert!(
        table.contains("last error: server answered 404 Not Found"),
        "{table}"
    );

    let refused = sandbox.run_at(&["sources", "remove", "from-config"], Some(NOW));
    assert_eq!(refused.code(), 2);
    assert!(
        refused.stderr().contains("config file"),
        "{}",
        refused.stderr()
    );

    let removed = sandbox
        .run_at(&["sources", "remove", "hn"], Some(NOW))
        .ok()
        .stdout();
    assert!(removed.contains("4 stored items"), "{removed}");
    let rows = listed(&sandbox);
    assert!(rows.iter().all(|r| r["id"] != "hn"));

    let unknown = sandbox.run_at(&["sources", "remove", "nope"], Some(NOW));
    assert_eq!(unknown.code(), 2);
}

#[test]
fn opml_export_then_import_round_trips_ids_titles_and_urls() {
    let server = Server::start();
    server.serve(
        "/gh/releases.atom",
        "application/atom+xml",
        real_fixture("github_releases_atom_vscode_2018.xml"),
    );
    server.serve(
        "/kulu/meta-outage",
        "text/html",
        real_fixture("article_wordpress_kulu_media_og_jsonld_2026.html"),
    );
    let first = Sandbox::new("");
    first
        .run_at(
            &[
                "sources",
                "add",
                &server.url("/gh/releases.atom"),
                "--id",
                "gh-vscode",
            ],
            Some(NOW),
        )
        .ok();
    first
        .run_at(
            &[
                "sources",
                "add",
                &server.url("/kulu/meta-outage"),
                "--kind",
                "page",
                "--id",
                "kulu",
            ],
            Some(NOW),
        )
        .ok();
    let exported = first.path("sources.opml");
    first
        .run_at(
            &["sources", "export", exported.to_str().unwrap()],
            Some(NOW),
        )
        .ok();
    let hits_before = server.hits();

    let second = Sandbox::new("");
    let out = second
        .run_at(
            &["sources", "import", exported.to_str().unwrap()],
            Some(NOW),
        )
        .ok()
        .stdout();
    assert!(out.contains("imported 2 sources"), "{out}");
    assert_eq!(server.hits(), hits_before, "import fetches nothing");

    let strip = |rows: Vec<Value>| -> Vec<(String, String, String, String)> {
        rows.iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_string(),
                    r["kind"].as_str().unwrap().to_string(),
                    r["title"].as_str().unwrap_or_default().to_string(),
                    r["url"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let before = strip(listed(&first));
    let after = strip(listed(&second));
    assert_eq!(before, after);
    assert_eq!(before[0].2, "Release notes from vscode");
    assert_eq!(
        before[1].2,
        "Meta Outage Hits Facebook, Instagram and Messenger Worldwide"
    );

    // Importing the same file again skips what is already followed.
    let again = second
        .run_at(
            &["sources", "import", exported.to_str().unwrap()],
            Some(NOW),
        )
        .ok()
        .stdout();
    assert!(again.contains("imported 0 sources, skipped 2"), "{again}");

    // Export to standard output is the same document.
    let stdout = first
        .run_at(&["sources", "export"], Some(NOW))
        .ok()
        .stdout();
    assert_eq!(stdout, std::fs::read_to_string(&exported).unwrap());
}

#[test]
fn malformed_opml_is_rejected_with_line_and_reason() {
    let sandbox = Sandbox::new("");
    let file = sandbox.path("broken.opml");
    std::fs::write(
        &file,
        "<?xml version=\"1.0\"?>\n<opml version=\"2.0\">\n  <body>\n    <outline text=\"a\" xmlUrl=\"https://a.example/feed\">\n  </body>\n</opml>\n",
    )
    .unwrap();
    let run = sandbox.run_at(&["sources", "import", file.to_str().unwrap()], Some(NOW));
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("broken.opml: line 5:"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("not well-formed"), "{}", run.stderr());

    std::fs::write(
        &file,
        "<opml version=\"2.0\"><body>\n<outline text=\"x\" xmlUrl=\"file:///etc/passwd\"/>\n</body></opml>",
    )
    .unwrap();
    let run = sandbox.run_at(&["sources", "import", file.to_str().unwrap()], Some(NOW));
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("line 2:") && run.stderr().contains("http"),
        "{}",
        run.stderr()
    );
    assert!(
        listed(&sandbox).is_empty(),
        "nothing imported from a rejected file"
    );
}

#[test]
fn config_init_writes_the_preset_and_check_describes_it() {
    let sandbox = Sandbox::new("");
    let dir = sandbox.dir_path();
    let target = dir.join("new.toml");
    let target_str = target.to_str().unwrap();
    let out = sandbox.run(&["config", "init", target_str]).ok().stdout();
    assert!(out.contains("Llama 4"), "{out}");
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with(storyline::config::PRESET));
    // A generated signing key, in a file only its owner can read.
    let secret_line = written
        .lines()
        .find(|l| l.starts_with("secret = \""))
        .expect("a generated secret");
    assert!(
        secret_line.len() >= "secret = \"\"".len() + 32,
        "{secret_line}"
    );
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&target).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    assert!(
        written.contains("[unverified]"),
        "unverified URLs are marked"
    );

    let refused = sandbox.run(&["config", "init", target_str]);
    assert_eq!(refused.code(), 2);
    assert!(refused.stderr().contains("--force"), "{}", refused.stderr());
    sandbox.run(&["config", "init", "--force", target_str]).ok();

    let check = std::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
        .current_dir(dir)
        .args(["--config", target_str, "config", "check"])
        .env_remove("STORYLINE_CONFIG")
        .output()
        .unwrap();
    assert!(check.status.success());
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.contains("cited-reuters-behemoth-delay"), "{text}");
    assert!(
        text.contains("static reference, not fetched, dated 2025-05-15"),
        "{text}"
    );
    assert!(text.contains("gnews-reuters"), "{text}");
    assert!(!text.contains("warning:"), "{text}");
}

#[test]
fn config_check_reports_bad_keys_and_fast_polling() {
    let sandbox = Sandbox::new(
        "[[source]]\nid = \"r\"\nurl = \"https://www.reddit.com/r/LocalLLaMA/new.rss\"\ninterval = \"5m\"\n",
    );
    let out = sandbox.run(&["config", "check"]).ok().stdout();
    assert!(out.contains("r  feed"), "{out}");
    assert!(
        out.contains("warning: r: every 5m is too often for Reddit"),
        "{out}"
    );

    sandbox
        .write_config("[[source]]\nid = \"a\"\nurl = \"http://x.example/\"\nintervall = \"1h\"\n");
    let bad = sandbox.run(&["config", "check"]);
    assert_eq!(bad.code(), 2);
    assert!(bad.stderr().contains("intervall"), "{}", bad.stderr());
    assert!(bad.stderr().contains("line "), "{}", bad.stderr());
}
