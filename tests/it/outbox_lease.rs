//! Two senders on one outbox: `storyline mail drain` started while another run (a second
//! `mail drain`, `digest --send` or `serve`) has a message on the wire must leave that message
//! to its sender, and a sender that died must still have its unknown outcome resent.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use storyline::mail::{self, Mail};
use storyline::store::NewDigest;
use storyline::store::Store;
use storyline::value::clock::Clock;
use support::smtp_sink::{Fault, SmtpSink};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "lease-test-secret-lease-test-secret-0123";

fn write_config(dir: &Path, smtp_port: u16) -> PathBuf {
    write_config_with(dir, smtp_port, "10s", 200.0)
}

fn write_config_with(dir: &Path, smtp_port: u16, timeout: &str, rate: f64) -> PathBuf {
    let toml = format!(
        "database = \"{}\"\n\
         [web]\nbase_url = \"http://127.0.0.1:8080/\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\ntimeout = \"{timeout}\"\n\
         from = \"Storyline <digest@storyline.test>\"\n\
         [mail]\nsecret = \"{SECRET}\"\nrate_per_second = {rate}\n\
         [[story]]\nid = \"llama-4\"\ntitle = \"Meta's Llama 4 release\"\n",
        dir.join("mail.db").display()
    );
    let path = dir.join("storyline.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn parts() -> NewDigest<'static> {
    NewDigest {
        story_id: "llama-4",
        week: "2025-W15".parse().unwrap(),
        subject: "Llama 4: week 15",
        text: "Llama 4 this week.\n",
        html: "<html><body><p>Llama 4 this week.</p></body></html>",
        chart_png: None,
    }
}

/// Store `n` confirmed subscribers and queue one week to them.
async fn queue_week(config: &Path, n: usize) -> Vec<String> {
    let settings = storyline::app::Settings::load(Some(config)).unwrap();
    let store = settings.open_store().await.unwrap();
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    let now = Utc::now();
    let emails: Vec<String> = (0..n).map(|i| format!("s{i}@example.org")).collect();
    for e in &emails {
        store
            .add_confirmed_subscriber(e, &["llama-4".to_string()], now)
            .await
            .unwrap();
    }
    let q = mail::queue_digest(&store, &mail.settings, &parts(), now)
        .await
        .unwrap();
    assert_eq!(q.queued, n as u64);
    store.close().await;
    emails
}

fn drain(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(config)
        .args(["mail", "drain"])
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .env_remove("STORYLINE_SECRET")
        .env("STORYLINE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait for `child` off the runtime's threads (the SMTP sink runs on them).
async fn finish(child: Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap()
}

fn copies_per_recipient(sink: &SmtpSink) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for r in sink.received() {
        *n.entry(r.rcpt_to.join(",")).or_default() += 1;
    }
    n
}

/// Two `mail drain` processes at once, the second started while the first has its first
/// message on the wire (the server holds its answer for 3 s): the second leaves that
/// delivery to the first, both finish, and every subscriber gets exactly one copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_drains_at_once_send_each_subscriber_exactly_one_copy() {
    let sink = SmtpSink::start().await;
    // The first message's answer comes late: it is on the wire while the second run starts
    // and works through everything else. Every other answer is slow too (80 ms), so both
    // runs are busy at the same time.
    sink.add_fault(Fault::DelayAck {
        to: String::new(),
        delay: Duration::from_secs(3),
        times: Some(1),
    });
    sink.add_fault(Fault::DelayAck {
        to: String::new(),
        delay: Duration::from_millis(80),
        times: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), sink.port());
    let emails = queue_week(&config, 6).await;

    let first = drain(&config);
    assert!(
        sink.wait_for(1, Duration::from_secs(30)).await,
        "the first run sent nothing"
    );
    let second = drain(&config);
    let (a, b) = (finish(first).await, finish(second).await);

    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The second run says what it left to the first.
    assert!(
        String::from_utf8_lossy(&b.stdout)
            .contains("1 being sent by another run (serve, or another drain); left to it"),
        "{}",
        String::from_utf8_lossy(&b.stdout)
    );
    let copies = copies_per_recipient(&sink);
    for e in &emails {
        assert_eq!(
            copies.get(e),
            Some(&1),
            "{e}: exactly one copy; all: {copies:?}\nfirst: {}\nsecond: {}",
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout)
        );
    }
    assert_eq!(sink.received_count(), emails.len());
    let store = Store::open(&dir.path().join("mail.db")).await.unwrap();
    let counts = store.outbox_counts(None).await.unwrap();
    assert_eq!((counts.sent, counts.pending, counts.sending), (6, 0, 0));
    store.close().await;
}

struct InProcess {
    _dir: tempfile::TempDir,
    store: Store,
    mail: Mail,
}

async fn in_process(sink: &SmtpSink, timeout: &str, rate: f64, n: usize) -> InProcess {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config_with(dir.path(), sink.port(), timeout, rate);
    queue_week(&path, n).await;
    let settings = storyline::app::Settings::load(Some(&path)).unwrap();
    let store = settings.open_store().await.unwrap();
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    InProcess {
        _dir: dir,
        store,
        mail,
    }
}

async fn drain_at(env: &InProcess, clock: &Clock) -> mail::DrainReport {
    mail::drain_outbox(
        &env.mail.mailer,
        &env.store,
        &env.mail.settings,
        clock,
        &CancellationToken::new(),
    )
    .await
    .unwrap()
}

/// The liveness mark of a process that has exited and been reaped, if this system can
/// check processes at all.
fn mark_of_a_finished_process() -> Option<String> {
    let me = storyline::mail::lease::Holder::this_process()
        .process()?
        .to_string();
    let parts: Vec<&str> = me.split(' ').collect();
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    child.wait().unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    let start = after.split_whitespace().nth(19).unwrap();
    Some(format!("linux {} {} {pid} {start}", parts[1], parts[2]))
}

/// A delivery claimed by a run that is alive (here: this very process) stays with it until
/// its lease runs out; then the next drain takes it back and resends it. A claim whose
/// process cannot be checked waits for its lease the same way; one whose process is gone is
/// taken back at once.
#[tokio::test]
async fn a_claim_is_left_to_a_live_holder_until_its_lease_runs_out() {
    let sink = SmtpSink::start().await;
    let env = in_process(&sink, "10s", 200.0, 3).await;
    let now = Utc::now();
    let alive = storyline::mail::lease::Holder::this_process();
    let dead = mark_of_a_finished_process();
    let lease_end = now + chrono::Duration::minutes(4);
    let holders = [
        ("a live run", alive.process().map(str::to_string)),
        ("a run on another machine", None),
        ("a run that died", dead.clone()),
    ];
    for (owner, process) in &holders {
        let claim = storyline::store::LeaseClaim {
            owner,
            process: process.as_deref(),
            until: lease_end,
        };
        env.store
            .claim_delivery(&claim, now)
            .await
            .unwrap()
            .unwrap();
    }

    let before_end = drain_at(&env, &Clock::tokio_from(now)).await;
    let gone_taken = u64::from(dead.is_some());
    assert_eq!(
        (
            before_end.recovered,
            before_end.held_elsewhere,
            before_end.sent
        ),
        (gone_taken, 3 - gone_taken, gone_taken),
        "{before_end:?}"
    );
    let after_end = drain_at(&env, &Clock::tokio_from(lease_end)).await;
    assert_eq!(
        (
            after_end.recovered,
            after_end.held_elsewhere,
            after_end.sent
        ),
        (3 - gone_taken, 0, 3 - gone_taken),
        "{after_end:?}"
    );
    let copies = copies_per_recipient(&sink);
    assert_eq!(copies.len(), 3);
    assert!(copies.values().all(|&n| n == 1), "{copies:?}");
}

/// A claim is renewed while its message waits for its turn: the second message of a run at
/// one message per 2.5 s waits longer than the 1 s timeout, and its lease end moves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_is_renewed_while_its_message_is_on_its_way() {
    let sink = SmtpSink::start().await;
    let env = in_process(&sink, "1s", 0.4, 2).await;
    let (store, mailer, settings) = (
        env.store.clone(),
        env.mail.mailer.clone(),
        env.mail.settings.clone(),
    );
    let run = tokio::spawn(async move {
        mail::drain_outbox(
            &mailer,
            &store,
            &settings,
            &Clock::System,
            &CancellationToken::new(),
        )
        .await
        .unwrap()
    });

    // The second delivery is claimed right after the first is sent, then waits ~2.5 s.
    assert!(sink.wait_for(1, Duration::from_secs(10)).await);
    let lease_of_second = || async {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT lease_until FROM deliveries WHERE state = 'sending' AND attempts = 1",
        )
        .fetch_optional(env.store.pool())
        .await
        .unwrap();
        row.map(|r| r.0)
    };
    let started = Instant::now();
    let mut first_seen = None;
    let mut renewed = false;
    while started.elapsed() < Duration::from_secs(5) && !run.is_finished() {
        if let Some(until) = lease_of_second().await {
            match first_seen {
                None => first_seen = Some(until),
                Some(f) if until > f => renewed = true,
                Some(_) => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let report = run.await.unwrap();
    assert_eq!(report.sent, 2);
    assert!(first_seen.is_some(), "the second claim was never seen");
    assert!(renewed, "the lease end never moved: {first_seen:?}");
}
