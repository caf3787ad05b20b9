//! The `storyline` binary as a user runs it: exit codes, output, and `inspect`.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::process::{Command, Output};

use support::feed_server::{FeedServer, Route};
use support::fixture;

fn storyline(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args(args)
        .current_dir(dir)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .output()
        .expect("run storyline")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `poll` prints a line per source and a total, and exits 0 even when a source fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_reports_each_source_and_exits_zero_when_some_fail() {
    let server = FeedServer::start().await;
    server.route(
        "/hn.xml",
        Route::feed(std::fs::read(fixture("real/hnrss_newest_q_AI_4items_trimmed.xml")).unwrap()),
    );
    server.route("/down", Route::status(500));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("storyline.toml"),
        format!(
            "[fetch]\nallow_private_addresses = true\n\
             [[source]]\nid = \"hn\"\nurl = \"{}\"\n\
             [[source]]\nid = \"down\"\nurl = \"{}\"\n",
            server.url("/hn.xml"),
            server.url("/down")
        ),
    )
    .unwrap();

    let out = storyline(dir.path(), &["poll"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("hn    4 new, 0 updated"), "{stdout}");
    assert!(
        stdout.contains("down  failed: server answered 500 Internal Server Error"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 sources: 4 new, 0 updated, 0 not modified, 1 failed"),
        "{stdout}"
    );
    assert!(
        dir.path().join("storyline.db").exists(),
        "default database path"
    );

    let again = storyline(dir.path(), &["poll", "--all"]);
    assert!(
        text(&again.stdout).contains("hn    not modified"),
        "{}",
        text(&again.stdout)
    );
}

/// A bad config exits 2 and names the key.
#[test]
fn bad_config_exits_2_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[fetch]\nconcurency = 3\n").unwrap();
    let out = storyline(dir.path(), &["--config", path.to_str().unwrap(), "poll"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("concurency"), "{err}");
}

/// An unusable database is a non-zero exit with a clear message.
#[test]
fn unusable_database_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("storyline.db"),
        b"this is not sqlite, just text that is long enough to look like a header",
    )
    .unwrap();
    std::fs::write(dir.path().join("storyline.toml"), "").unwrap();
    let out = storyline(dir.path(), &["poll"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("storyline.db"),
        "{}",
        text(&out.stderr)
    );
}

/// `inspect --json` prints exactly one JSON object of the documented shape.
#[test]
fn inspect_json_prints_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture("real/reddit_r_LocalLLaMA_new_atom_3entries.xml");
    let out = storyline(dir.path(), &["inspect", f.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["format"], "atom");
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        assert!(e["id"].as_str().unwrap().starts_with("t3_"), "{e}");
        assert!(e["link"].is_string());
        let published = e["published"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(published).is_ok(),
            "{published}"
        );
    }
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["entries", "format", "title"]);
}

/// A document that is not a feed exits 2 with a plain error, never a panic.
#[test]
fn inspect_of_garbage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.bin");
    std::fs::write(
        &path,
        [0xffu8, 0xfe, 0x00, 0x3c, 0x00, 0x72, 0xd8, 0x00, 0x00],
    )
    .unwrap();
    let out = storyline(dir.path(), &["inspect", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("error: "),
        "{}",
        text(&out.stderr)
    );

    let missing = storyline(dir.path(), &["inspect", "no-such-file.xml"]);
    assert_eq!(missing.status.code(), Some(2));
}

/// `inspect` on a URL uses the same fetcher as the poller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_fetches_urls_like_the_poller() {
    let server = FeedServer::start().await;
    server.route(
        "/gh.atom",
        Route::feed(std::fs::read(fixture("real/github_releases_atom_vscode_2018.xml")).unwrap()),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("storyline.toml"),
        "[fetch]\nallow_private_addresses = true\n",
    )
    .unwrap();
    let out = storyline(dir.path(), &["inspect", &server.url("/gh.atom")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("format:  atom"), "{stdout}");
    assert!(stdout.contains("entries: 2"), "{stdout}");
}

/// `inspect` reads a document of known kind as the poller reads its source: an HTML page behind
/// a configured feed source is the poller's error, not a page; only a URL or file of unknown
/// kind is sniffed, and `--kind` names the kind outright.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_reads_a_known_kind_as_the_poller_does() {
    let page = std::fs::read(fixture("real/article_theverge_og_jsonld_2019.html")).unwrap();
    let server = FeedServer::start().await;
    server.route("/article", Route::feed(page.clone()));
    let url = server.url("/article");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("storyline.toml");
    let with_source = |kind: &str| {
        format!(
            "[fetch]\nallow_private_addresses = true\n\
             [[source]]\nid = \"a\"\nurl = \"{url}\"\nkind = \"{kind}\"\n"
        )
    };

    std::fs::write(&config, with_source("feed")).unwrap();
    let as_feed = storyline(dir.path(), &["inspect", &url]);
    assert_eq!(as_feed.status.code(), Some(2), "{}", text(&as_feed.stdout));
    assert!(
        text(&as_feed.stderr).contains("not a feed: got an HTML page"),
        "{}",
        text(&as_feed.stderr)
    );

    std::fs::write(&config, with_source("page")).unwrap();
    let as_page = storyline(dir.path(), &["inspect", &url]);
    assert!(as_page.status.success(), "{}", text(&as_page.stderr));
    assert!(text(&as_page.stdout).contains("format:  html-page"));

    // No source at this URL: sniffed, and HTML is a page.
    std::fs::write(&config, "[fetch]\nallow_private_addresses = true\n").unwrap();
    let sniffed = storyline(dir.path(), &["inspect", &url]);
    assert!(sniffed.status.success(), "{}", text(&sniffed.stderr));
    assert!(text(&sniffed.stdout).contains("format:  html-page"));

    let file = dir.path().join("article.html");
    std::fs::write(&file, &page).unwrap();
    let forced = storyline(
        dir.path(),
        &["inspect", file.to_str().unwrap(), "--kind", "feed"],
    );
    assert_eq!(forced.status.code(), Some(2));
    assert!(text(&forced.stderr).contains("not a feed: got an HTML page"));
    let feed = fixture("real/reddit_r_LocalLLaMA_new_atom_3entries.xml");
    let forced = storyline(
        dir.path(),
        &["inspect", feed.to_str().unwrap(), "--kind", "page"],
    );
    assert_eq!(forced.status.code(), Some(2));
    assert!(
        text(&forced.stderr).contains("not an article page"),
        "{}",
        text(&forced.stderr)
    );
}

/// Run the binary in `dir`; kill it and fail if it is still running after `within` (a
/// `serve` that should have refused to start would otherwise run forever).
fn storyline_within(dir: &std::path::Path, args: &[&str], within: std::time::Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args(args)
        .current_dir(dir)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run storyline");
    let deadline = std::time::Instant::now() + within;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "storyline {args:?} still running after {within:?}: {}",
                text(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A wrong `[digest] templates` path stops `config check` and `serve` at once with the path
/// named (it used to fall back to the built-in templates in silence); `serve` then opens no
/// database. A directory that overrides a single file is a valid config.
#[test]
fn a_wrong_template_directory_stops_config_check_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        dir.path().join("storyline.toml"),
        format!("[web]\nlisten = \"127.0.0.1:{port}\"\n[digest]\ntemplates = \"my-templates\"\n"),
    )
    .unwrap();
    let tpl = dir.path().join("my-templates");
    let quick = std::time::Duration::from_secs(30);

    let expect_refusal = |says: &str| {
        for args in [&["config", "check"][..], &["serve"][..]] {
            let out = storyline_within(dir.path(), args, quick);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(&format!("digest.templates: {says}")),
                "{args:?}: {err}"
            );
        }
        assert!(
            !dir.path().join("storyline.db").exists(),
            "serve opened the database"
        );
    };

    expect_refusal("my-templates: the template directory does not exist");

    std::fs::create_dir(&tpl).unwrap();
    std::fs::write(
        tpl.join("digest.txt.tera"),
        "{{ subject }}\n{% for d in developments %}",
    )
    .unwrap();
    expect_refusal("template my-templates/digest.txt.tera does not parse");

    std::fs::remove_file(tpl.join("digest.txt.tera")).unwrap();
    std::fs::write(tpl.join("digest.css"), ".title { color: #123456; }").unwrap();
    let ok = storyline_within(dir.path(), &["config", "check"], quick);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}
