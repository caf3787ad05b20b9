//! The readers' surfaces end to end through the real `storyline serve` on 127.0.0.1: two
//! stories replayed to week 20 and backfilled with `digest --backfill`, then the daemon's home
//! page (every story with its latest edition and feed links), each story's page (timeline
//! entries linked to the first report, with their outlet counts), the archive pages, and both
//! Atom feeds of each story, fetched over HTTP and read by Storyline's own parser and by Python
//! feedparser (tests/feed_check.py), with conditional GET answering 304.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::fixture;
use support::replay::{load_sources, poll_time, run, Replay};

const STORIES: &str = "[[story]]\nid = \"llama-4\"\ntitle = \"Meta's Llama 4 release\"\n\
    short_title = \"Llama 4\"\nphrases = [\"Llama 4\"]\n\
    [[story]]\nid = \"qwen\"\ntitle = \"Alibaba's Qwen models\"\nshort_title = \"Qwen\"\n\
    phrases = [\"Qwen3\", \"QwQ\", \"Qwen\"]\n";

/// `storyline serve`, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get(url: &str) -> reqwest::Response {
    http().get(url).send().await.unwrap()
}

/// 200 and the body, or a panic that says what came instead.
async fn page(url: &str) -> String {
    let r = get(url).await;
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "{url}: {body}");
    body
}

/// The first replay weeks' snapshots, polled week by week.
async fn replay_until(replay: &Replay, last: &str) {
    let root = fixture("story-replay");
    let sources = load_sources(&root);
    let mut weeks: Vec<String> = std::fs::read_dir(root.join("weeks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|w| w.as_str() <= last)
        .collect();
    weeks.sort();
    for week in weeks {
        replay.serve_week(&root.join("weeks").join(&week), &sources);
        run(&replay.config, &poll_time(&week), &["poll", "--all"]);
    }
}

/// What feedparser read of one feed (tests/feed_check.py's JSON line).
fn feedparser_reads(xml: &[u8], dir: &Path, name: &str) -> serde_json::Value {
    let path = dir.join(name);
    std::fs::write(&path, xml).unwrap();
    let out = support::python::run_script("feed_check.py", &[path.as_path()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "feedparser refused {name}:\n{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

/// Backfilled, served, and read as a person and two feed readers would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_shows_the_backfilled_archive_and_both_feeds_of_every_story() {
    let sources = load_sources(&fixture("story-replay"));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let extra = format!(
        "[web]\nlisten = \"127.0.0.1:{port}\"\nbase_url = \"{base}/\"\n\
         [daemon]\nshutdown_grace = \"2s\"\ntick = \"1s\"\n{STORIES}"
    );
    let replay = Replay::start_with(&sources, &extra).await;
    replay_until(&replay, "2025-W20").await;
    let now = poll_time("2025-W20");
    let backfill = run(&replay.config, &now, &["digest", "--backfill"]);
    let stored_weeks = |story: &str| -> Vec<String> {
        backfill
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{story} ")))
            .filter(|l| l.ends_with(": stored"))
            .map(|l| l.trim_end_matches(": stored").to_string())
            .collect()
    };
    let (llama_weeks, qwen_weeks) = (stored_weeks("llama-4"), stored_weeks("qwen"));
    assert!(llama_weeks.len() >= 5, "{backfill}");
    assert!(!qwen_weeks.is_empty(), "{backfill}");

    let _daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_storyline"))
            .arg("--config")
            .arg(&replay.config)
            .args(["--now", &now, "serve"])
            .env_remove("STORYLINE_CONFIG")
            .env_remove("STORYLINE_NOW")
            .env("STORYLINE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while http().get(format!("{base}/")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the daemon never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The home page: both stories, each with its latest edition and its feeds advertised.
    let home = page(&format!("{base}/")).await;
    for (id, title, latest) in [
        (
            "llama-4",
            "Meta&#39;s Llama 4 release",
            llama_weeks.last().unwrap(),
        ),
        (
            "qwen",
            "Alibaba&#39;s Qwen models",
            qwen_weeks.last().unwrap(),
        ),
    ] {
        assert!(
            home.contains(&format!("<a href=\"/stories/{id}\">")),
            "{home}"
        );
        assert!(
            home.contains(title) || home.contains(&title.replace("&#39;", "'")),
            "{home}"
        );
        assert!(
            home.contains(&format!("/digests/{id}/{latest}")),
            "{id}: {home}"
        );
        for feed in ["feed.atom", "events.atom"] {
            assert!(
                home.contains(&format!(
                    "type=\"application/atom+xml\" title=\"{}",
                    title.split(':').next().unwrap_or_default()
                )) && home.contains(&format!("href=\"/stories/{id}/{feed}\">")),
                "{id} {feed} not advertised: {home}"
            );
        }
    }

    let dir = tempfile::tempdir().unwrap();
    for (id, weeks) in [("llama-4", &llama_weeks), ("qwen", &qwen_weeks)] {
        // The story's page: the timeline links each development's first report and counts
        // its outlets.
        let story = page(&format!("{base}/stories/{id}")).await;
        assert!(story.contains("rel=\"alternate\" type=\"application/atom+xml\""));
        let timeline = story
            .split("<ul class=\"timeline\">")
            .nth(1)
            .and_then(|t| t.split("</ul>").next())
            .unwrap_or_else(|| panic!("{id}: no timeline: {story}"));
        let entries: Vec<&str> = timeline.split("<li>").skip(1).collect();
        assert!(!entries.is_empty(), "{story}");
        for e in &entries {
            assert!(
                e.contains("<a href=\"http"),
                "{id}: no first report link: {e}"
            );
            assert!(e.contains(" outlet"), "{id}: no outlet count: {e}");
        }

        // Every backfilled week has its archive page, which advertises the feeds too.
        for week in weeks.iter() {
            let archived = page(&format!("{base}/digests/{id}/{week}")).await;
            assert!(archived.contains(&format!("href=\"/stories/{id}/feed.atom\"")));
        }

        // The editions feed: one entry per stored week (newest first), read by both parsers.
        let r = get(&format!("{base}/stories/{id}/feed.atom")).await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            r.headers()["content-type"],
            "application/atom+xml; charset=utf-8"
        );
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        assert!(r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age"));
        let xml = r.bytes().await.unwrap();
        let own = storyline::parse::parse_feed(&xml, Some("application/atom+xml"), None).unwrap();
        assert_eq!(own.format, Some(storyline::parse::Format::Atom));
        assert_eq!(own.entries.len(), weeks.len().min(13), "{id}");
        let fp = feedparser_reads(&xml, dir.path(), &format!("{id}-feed.atom"));
        let fp_entries = fp["entries"].as_array().unwrap();
        assert_eq!(fp_entries.len(), own.entries.len());
        for (mine, theirs) in own.entries.iter().zip(fp_entries) {
            assert_eq!(theirs["id"], mine.id.as_str());
            assert_eq!(theirs["title"], mine.title.as_deref().unwrap());
            assert_eq!(theirs["content_type"], "text/html");
            let link = mine.link.as_deref().unwrap();
            let week = link.rsplit('/').next().unwrap();
            assert!(weeks.iter().any(|w| w == week), "{link}");
            page(link).await;
            let content = theirs["content"].as_str().unwrap();
            assert!(
                content.contains(&format!("{link}/chart.png")),
                "the chart from the site: {content}"
            );
            assert!(!content.contains("cid:"), "{content}");
        }
        let newest: Vec<&str> = fp_entries
            .iter()
            .map(|e| e["links"][0]["href"].as_str().unwrap())
            .collect();
        assert!(newest[0].ends_with(weeks.last().unwrap()), "{newest:?}");

        // Conditional GET: the same ETag gets 304 and no body.
        let again = http()
            .get(format!("{base}/stories/{id}/feed.atom"))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304);
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());

        // The developments feed: one entry per timeline entry, first report and outlets linked.
        let r = get(&format!("{base}/stories/{id}/events.atom")).await;
        assert_eq!(r.status().as_u16(), 200);
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let xml = r.bytes().await.unwrap();
        let own = storyline::parse::parse_feed(&xml, None, None).unwrap();
        assert_eq!(own.format, Some(storyline::parse::Format::Atom));
        assert_eq!(own.entries.len(), entries.len(), "{id}: every development");
        let fp = feedparser_reads(&xml, dir.path(), &format!("{id}-events.atom"));
        let fp_entries = fp["entries"].as_array().unwrap();
        assert_eq!(fp_entries.len(), entries.len());
        for (mine, theirs) in own.entries.iter().zip(fp_entries) {
            assert_eq!(theirs["id"], mine.id.as_str());
            assert!(mine.published.is_some(), "{mine:?}");
            let links = theirs["links"].as_array().unwrap();
            assert_eq!(links[0]["rel"], "alternate", "{theirs}");
            assert!(links.iter().any(|l| l["rel"] == "related"), "{theirs}");
            assert!(theirs["content"]
                .as_str()
                .unwrap()
                .contains("First reported on"));
        }
        let again = http()
            .get(format!("{base}/stories/{id}/events.atom"))
            .header("If-None-Match", format!("\"stale\", {etag}"))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304);
    }
    assert_eq!(
        get(&format!("{base}/stories/nope/feed.atom"))
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        get(&format!("{base}/stories/nope")).await.status().as_u16(),
        404
    );
}
