//! The web archive from the command line, on the replayed Llama 4 story with two confirmed
//! subscribers and a real SMTP server on 127.0.0.1: `digest --week W` keeps the edition it
//! renders (a complete week only), `digest --backfill` keeps every past week and mails nobody,
//! the digest schedule then mails its own week and no other, and `digest --send` on a week kept
//! only for the archive mails it as a first send. Every digest that arrives is read by two real
//! mail parsers: mailparse here and Python's `email` package (tests/mail_check.py).

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use storyline::app::{App, Settings};
use storyline::value::clock::Clock;
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

/// Run the binary at `now`; (stdout, stderr), panicking unless it succeeds.
fn run_both(config: &Path, now: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(config)
        .arg("--now")
        .arg(now)
        .args(args)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .env("STORYLINE_LOG", "error")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{args:?}: {stdout}{stderr}");
    (stdout, stderr)
}

/// The number before `what` in backfill's summary line ("llama-4: 10 week(s) with items;
/// 9 stored, 0 updated, …").
fn count_of(output: &str, what: &str) -> usize {
    let text = output
        .lines()
        .find(|l| l.contains("week(s) with items"))
        .unwrap_or_else(|| panic!("no summary line in {output}"));
    let at = text
        .find(what)
        .unwrap_or_else(|| panic!("no {what:?} in {text}"));
    text[..at]
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count before {what:?} in {text}"))
}

/// Checks with mailparse: one text and one HTML part that decode, the chart's cid resolving
/// to a PNG part, the list headers present.
fn check_with_mailparse(raw: &[u8]) {
    let mail = mailparse::parse_mail(raw).unwrap();
    let header = |name: &str| {
        mail.headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
    };
    assert!(header("List-Unsubscribe").is_some_and(|v| v.contains("<http")));
    assert_eq!(
        header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    fn leaves<'a>(p: &'a mailparse::ParsedMail<'a>, out: &mut Vec<&'a mailparse::ParsedMail<'a>>) {
        if p.subparts.is_empty() {
            out.push(p);
        }
        for s in &p.subparts {
            leaves(s, out);
        }
    }
    let mut parts = Vec::new();
    leaves(&mail, &mut parts);
    let of_type = |t: &str| {
        parts
            .iter()
            .filter(|p| p.ctype.mimetype == t)
            .collect::<Vec<_>>()
    };
    let (text, html) = (of_type("text/plain"), of_type("text/html"));
    assert_eq!((text.len(), html.len()), (1, 1));
    assert!(!text[0].get_body().unwrap().trim().is_empty());
    let html = html[0].get_body().unwrap();
    let cid = html
        .split("src=\"cid:")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the chart by Content-ID");
    let image = parts
        .iter()
        .find(|p| {
            p.headers.iter().any(|h| {
                h.get_key().eq_ignore_ascii_case("Content-ID")
                    && h.get_value() == format!("<{cid}>")
            })
        })
        .expect("a part for the chart's Content-ID");
    assert!(image
        .get_body_raw()
        .unwrap()
        .starts_with(b"\x89PNG\r\n\x1a\n"));
}

/// The story replayed to week 20; `digest --week` keeps complete weeks only; `--backfill`
/// keeps every past week, queues nothing and mails nobody; the schedule then mails week 20
/// alone; `--send --week 2025-W18` (kept for the archive only) is a first send; a second
/// backfill leaves the mailed weeks as mailed. Every message passes both mail parsers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_keeps_every_past_week_and_only_the_schedule_or_send_mails() {
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
    replay_until(&replay, "2025-W20").await;
    let now = poll_time("2025-W20"); // Monday of week 21, 09:00 UTC
    for who in ["ada@example.org", "bob@example.org"] {
        run(&replay.config, &now, &["subscribers", "add", who]);
    }

    // `digest --week` keeps a complete week, and says so; the week in progress is not kept.
    let (_, said) = run_both(
        &replay.config,
        &now,
        &[
            "digest", "--week", "2025-W15", "--format", "text", "--out", "-",
        ],
    );
    assert!(said.contains("/digests/llama-4/2025-W15: stored"), "{said}");
    let (_, said) = run_both(
        &replay.config,
        &now,
        &["digest", "--week", "2025-W21", "--out", "-"],
    );
    assert!(said.contains("not stored: the week is not over"), "{said}");

    // Backfill: every past week with items, the one kept above unchanged.
    let (out, _) = run_both(&replay.config, &now, &["digest", "--backfill"]);
    assert!(
        out.contains("llama-4 2025-W15: already stored, unchanged"),
        "{out}"
    );
    assert!(out.contains("llama-4 2025-W20: stored"), "{out}");
    assert!(
        !out.contains("2025-W21"),
        "the week in progress is not a past week: {out}"
    );
    let weeks = count_of(&out, "week(s) with items");
    let stored = count_of(&out, "stored,");
    assert!(stored >= 5, "{out}");
    assert_eq!(
        stored + count_of(&out, "unchanged"),
        weeks,
        "every week kept: {out}"
    );
    assert_eq!(count_of(&out, "kept as mailed"), 0, "{out}");

    // Nothing was queued: the outbox is empty, and draining it mails nobody.
    // The app as `serve` builds it, mail included, for the schedule's turn below.
    let settings = Settings::load(Some(&replay.config)).unwrap();
    let mail = settings.mail(&|_| None).unwrap();
    let app = App::build(settings, mail, Clock::System, support::at(&now))
        .await
        .unwrap();
    let store = app.store.clone();
    let counts = store.outbox_counts(None).await.unwrap();
    assert_eq!((counts.pending, counts.sent), (0, 0), "{counts:?}");
    let drained = run(&replay.config, &now, &["mail", "drain"]);
    assert!(drained.contains("sent 0"), "{drained}");
    assert!(sink.received().is_empty(), "backfill mailed someone");
    let archived = store.digest_weeks("llama-4").await.unwrap();
    assert_eq!(archived.len(), weeks, "{archived:?}");

    // The schedule's next fire (Monday 08:00) mails the last complete week, and only it.
    let at = |s: &str| support::at(s);
    store
        .set_digest_last_fire("llama-4", at("2025-05-12T08:00:00Z"))
        .await
        .unwrap();
    let done = storyline::weekly::compose_due(&app, at(&now))
        .await
        .unwrap();
    assert!(
        matches!(&done[0].1, storyline::weekly::DueOutcome::Composed { week, queued: 2, .. }
            if week.to_string() == "2025-W20"),
        "{done:?}"
    );
    let drained = run(&replay.config, &now, &["mail", "drain"]);
    assert!(drained.contains("sent 2"), "{drained}");
    assert!(sink.wait_for(2, Duration::from_secs(5)).await);
    let counts = store.outbox_counts(None).await.unwrap();
    assert_eq!(
        (counts.pending, counts.sent),
        (0, 2),
        "only week 20 went out"
    );

    // `--send` on a week kept only for the archive: a first send, said plainly.
    let (sent, _) = run_both(
        &replay.config,
        &now,
        &["digest", "--send", "--week", "2025-W18"],
    );
    assert!(
        sent.contains("2025-W18: kept for the web archive but mailed to nobody yet; queued for 2"),
        "{sent}"
    );
    assert!(sent.contains("sent 2"), "{sent}");
    assert!(sink.wait_for(4, Duration::from_secs(5)).await);

    // A second backfill keeps what was mailed and mails nobody.
    let (again, _) = run_both(&replay.config, &now, &["digest", "--backfill"]);
    assert!(
        again.contains("llama-4 2025-W18: kept as mailed"),
        "{again}"
    );
    assert!(
        again.contains("llama-4 2025-W20: kept as mailed"),
        "{again}"
    );
    assert_eq!(count_of(&again, "stored,"), 0, "{again}");
    assert_eq!(count_of(&again, "kept as mailed"), 2, "{again}");
    let drained = run(&replay.config, &now, &["mail", "drain"]);
    assert!(drained.contains("sent 0"), "{drained}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = sink.received();
    assert_eq!(got.len(), 4, "two weeks, two subscribers");

    // Each message as two independent mail parsers read it.
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, r) in got.iter().enumerate() {
        check_with_mailparse(&r.data);
        let path = dir.path().join(format!("digest-{i}.eml"));
        std::fs::write(&path, &r.data).unwrap();
        files.push(path);
    }
    let subjects: Vec<String> = got
        .iter()
        .map(|r| {
            mailparse::parse_mail(&r.data)
                .unwrap()
                .headers
                .iter()
                .find(|h| h.get_key() == "Subject")
                .unwrap()
                .get_value()
        })
        .collect();
    assert_eq!(
        subjects.iter().filter(|s| s.contains("week 20")).count(),
        2,
        "{subjects:?}"
    );
    assert_eq!(
        subjects.iter().filter(|s| s.contains("week 18")).count(),
        2,
        "{subjects:?}"
    );
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let checked = support::python::run_script("mail_check.py", &paths);
    let report = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "Python's email package found problems:\n{}{report}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert_eq!(report.lines().count(), 4, "{report}");
    eprintln!("mail_check.py:\n{report}");

    // The checker can fail: the same message without its one-click header and with an
    // image that has no alt text is refused, with the reasons.
    let broken = String::from_utf8_lossy(&got[0].data)
        .replace("List-Unsubscribe-Post:", "X-Was-Unsubscribe-Post:")
        .replace("alt=3D", "title=3D")
        .replace(" alt=\"", " title=\"");
    let bad = dir.path().join("broken.eml");
    std::fs::write(&bad, broken).unwrap();
    let refused = support::python::run_script("mail_check.py", &[bad.as_path()]);
    let why = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{why}");
    assert!(why.contains("List-Unsubscribe-Post"), "{why}");
    assert!(why.contains("without alt text"), "{why}");
}
