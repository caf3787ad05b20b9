//! `storyline digest` as a user runs it, on the replayed Llama 4 story: the default file, the
//! formats, determinism, and mail to subscribers and to one address.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::time::Duration;

use support::fixture;
use support::replay::{load_sources, poll_time, run, Replay};
use support::smtp_sink::SmtpSink;

const SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Poll every replay week up to and including `last`.
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

/// The default run writes the last complete week's HTML to digests/ and prints the path;
/// running it again gives the same bytes; text, json and eml come from the same digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_writes_the_week_in_every_format_and_is_deterministic() {
    let sources = load_sources(&fixture("story-replay"));
    let replay = Replay::start(&sources).await;
    replay_until(&replay, "2025-W20").await;
    let now = poll_time("2025-W20");

    let out = run(&replay.config, &now, &["digest"]);
    let path = std::path::PathBuf::from(out.trim());
    assert!(path.ends_with("llama-4-2025-W20.html"), "{out}");
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("Behemoth"), "the week's development is there");
    assert!(html.contains("data:image/png;base64,"), "chart inline");
    assert!(!html.contains("<script"), "no script");

    let later = "2025-06-30T12:00:00Z";
    run(&replay.config, later, &["digest", "--week", "2025-W20"]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        html,
        "same week, same digest"
    );

    let text = run(
        &replay.config,
        &now,
        &["digest", "--format", "text", "--out", "-"],
    );
    assert!(
        text.lines()
            .all(|l| l.chars().count() <= 72 || l.contains("http")),
        "{text}"
    );
    assert!(text.contains("Behemoth"));

    let json = run(
        &replay.config,
        &now,
        &["digest", "--format", "json", "--out", "-"],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["week"], "2025-W20");
    assert_eq!(v["story"], "llama-4");
    assert!(!v["developments"].as_array().unwrap().is_empty());

    let eml = run(
        &replay.config,
        &now,
        &["digest", "--format", "eml", "--out", "-"],
    );
    let parsed = mailparse::parse_mail(eml.as_bytes()).unwrap();
    assert_eq!(parsed.ctype.mimetype, "multipart/alternative");
    let subject = parsed
        .headers
        .iter()
        .find(|h| h.get_key() == "Subject")
        .unwrap()
        .get_value();
    assert!(
        subject.starts_with("Llama 4 · week 20, 2025: "),
        "{subject}"
    );
}

/// `--send` queues the week for confirmed subscribers and mails it; sending again resumes
/// the same outbox and mails nobody twice; `--to` mails one address; `--dry-run` sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_send_mails_subscribers_once_and_to_one_address() {
    let sink = SmtpSink::start().await;
    let sources = load_sources(&fixture("story-replay"));
    let smtp = format!(
        "[web]\nbase_url = \"https://news.example.org/\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout = \"5s\"\n\
         from = \"Storyline <digest@storyline.test>\"\n\
         [mail]\nsecret = \"{SECRET}\"\nrate_per_second = 1000\n",
        sink.port()
    );
    let replay = Replay::start_with(&sources, &smtp).await;
    replay_until(&replay, "2025-W14").await;
    let now = poll_time("2025-W14");
    for who in ["ada@example.org", "bob@example.org"] {
        run(&replay.config, &now, &["subscribers", "add", who]);
    }

    let dry = run(&replay.config, &now, &["digest", "--send", "--dry-run"]);
    assert!(
        dry.contains("2 confirmed subscriber(s)") && dry.contains("ada@example.org"),
        "{dry}"
    );
    assert!(sink.received().is_empty(), "dry run sends nothing");

    let sent = run(&replay.config, &now, &["digest", "--send"]);
    assert!(sent.contains("sent 2"), "{sent}");
    assert!(sink.wait_for(2, Duration::from_secs(5)).await);
    let again = run(&replay.config, &now, &["digest", "--send"]);
    assert!(
        again.contains("already composed") && again.contains("sent 0"),
        "{again}"
    );
    assert_eq!(sink.received().len(), 2, "nobody gets it twice");
    let mail = sink.received()[0].text();
    assert!(
        mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: Llama 4 =?utf-8?") || mail.contains("Subject: Llama 4"),
        "{mail}"
    );

    let one = run(
        &replay.config,
        &now,
        &["digest", "--to", "carol@example.org"],
    );
    assert!(one.contains("carol@example.org"), "{one}");
    assert!(sink.wait_for(3, Duration::from_secs(5)).await);
    assert_eq!(
        sink.received()[2].rcpt_to,
        vec!["carol@example.org".to_string()]
    );
}

/// `digest --poll` off a terminal says how many of the sources were due and polled, and names
/// each that failed with the reason, as `poll` does; a second run right after polls none (both
/// were just polled, one is backing off) and says so.
#[test]
fn digest_poll_names_the_failed_sources_and_says_it_polled_the_due_ones() {
    let server = support::Server::start();
    let now = "2025-04-10T12:00:00Z";
    server.serve(
        "/ok.xml",
        "application/rss+xml",
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>OK</title>\
         <item><guid>a</guid><title>Meta releases Llama 4 Scout</title>\
         <link>https://news.example/a</link><pubDate>Wed, 02 Apr 2025 10:00:00 GMT</pubDate>\
         </item></channel></rss>",
    );
    server.serve_status("/gone.xml", 404, "text/plain", "not here");
    let sandbox = support::Sandbox::new(&format!(
        "[[source]]\nid = \"fine\"\nurl = \"{}\"\n[[source]]\nid = \"broken\"\nurl = \"{}\"\n",
        server.url("/ok.xml"),
        server.url("/gone.xml")
    ));
    let first = sandbox
        .run_at(&["digest", "--poll", "--out", "-"], Some(now))
        .ok();
    let said = first.stderr();
    assert!(
        said.contains("polled the 2 of 2 sources that were due: 1 new, 1 failed"),
        "{said}"
    );
    let broken = said
        .lines()
        .find(|l| l.trim_start().starts_with("broken:"))
        .unwrap_or_else(|| panic!("the failed source is not named: {said}"));
    assert!(
        broken.contains("404") && broken.contains("retrying after"),
        "{broken}"
    );
    assert!(!said.contains("fine:"), "only failures are listed: {said}");
    assert!(
        first.stdout().contains("Llama 4 Scout"),
        "the digest itself"
    );

    let again = sandbox
        .run_at(&["digest", "--poll", "--out", "-"], Some(now))
        .ok();
    assert!(
        again
            .stderr()
            .contains("polled the 0 of 2 sources that were due"),
        "{}",
        again.stderr()
    );
}
