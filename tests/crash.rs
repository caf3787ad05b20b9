//! Crash trials: `kill -9` the real binary at random moments while it polls and while it
//! sends, restart it until it finishes, and check that nothing committed was lost, nothing was
//! stored twice, the database file is sound, and every subscriber got the digest with one and
//! the same Message-ID on every copy.
//!
//! `STORYLINE_CRASH_TRIALS` sets the trials per kind (default 100, so 200 in all);
//! `STORYLINE_CRASH_SEED` replays a run (the seed is printed). docs/RELIABILITY.md records the
//! measured results.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr as _;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};
use storyline::mail::{self, DigestParts, Mail};
use storyline::store::Store;
use support::feed_server::{FeedServer, Route};
use support::mime::Part;
use support::smtp_sink::{Fault, SmtpSink};

const DEFAULT_TRIALS: usize = 100;
const DEFAULT_SEED: u64 = 0x5709_11e5;
const SECRET: &str = "crash-test-secret-crash-test-secret-0123";

/// SplitMix64: a seeded, dependency-free PRNG, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn trials() -> usize {
    env_or("STORYLINE_CRASH_TRIALS", DEFAULT_TRIALS)
}

fn seed() -> u64 {
    env_or("STORYLINE_CRASH_SEED", DEFAULT_SEED)
}

fn storyline(config: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .env_remove("STORYLINE_SECRET")
        .env("STORYLINE_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start storyline")
}

/// When to kill a run.
enum Moment {
    /// This long after the start: kills during start-up (opening and migrating the file).
    After(Duration),
    /// When `progress()` reaches `at`, then `extra` later: kills in the middle of the work
    /// however fast or loaded the machine is.
    Progress { at: usize, extra: Duration },
}

impl Moment {
    /// A kill in start-up one time in five, else after `0..=steps` steps of progress and up to
    /// `max_extra_ms` more.
    fn pick(rng: &mut Rng, steps: usize, max_extra_ms: u64) -> Moment {
        if rng.range(0, 4) == 0 {
            Moment::After(Duration::from_millis(rng.range(0, 40)))
        } else {
            Moment::Progress {
                at: rng.range(0, steps as u64) as usize,
                extra: Duration::from_millis(rng.range(0, max_extra_ms)),
            }
        }
    }
}

/// SIGKILL `child` at `moment`. True when it was still running (the kill landed); false when
/// it had already exited.
async fn kill_at(mut child: Child, moment: Moment, progress: impl Fn() -> usize) -> bool {
    let started = Instant::now();
    let (at, extra) = match moment {
        Moment::After(d) => (0, d),
        Moment::Progress { at, extra } => (at, extra),
    };
    let mut reached: Option<Instant> = None;
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if reached.is_none() && progress() >= at {
            reached = Some(Instant::now());
        }
        if reached.is_some_and(|t| t.elapsed() >= extra) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "storyline neither progressed nor exited"
        );
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let _ = child.wait();
    true
}

/// Wait for `child` to finish (at most a minute), without blocking the runtime's threads.
async fn finish(mut child: Child) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "storyline did not finish"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.wait_with_output().unwrap()
}

/// A plain connection to the file as the killed process left it: no migration, nothing
/// written but what SQLite's own recovery does (which the next run would do too).
async fn connect(db: &Path) -> Option<SqliteConnection> {
    if !db.exists() {
        return None;
    }
    let opts = SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(db)
        .create_if_missing(false);
    Some(opts.connect().await.unwrap())
}

async fn integrity(conn: &mut SqliteConnection) -> String {
    let (s,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    s
}

/// (source, guid) -> (row id, content hash) of every stored item; empty before the schema
/// exists.
async fn stored_items(conn: &mut SqliteConnection) -> HashMap<(String, String), (i64, String)> {
    let rows: Vec<(String, String, i64, String)> =
        sqlx::query_as("SELECT source_id, guid, id, content_hash FROM items")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    rows.into_iter()
        .map(|(s, g, id, h)| ((s, g), (id, h)))
        .collect()
}

fn rss(items: &[String]) -> String {
    let body: String = items
        .iter()
        .map(|g| format!("<item><guid>{g}</guid><title>Title of {g}</title><description>Body of {g}</description></item>"))
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>{body}</channel></rss>")
}

/// The feeds of one polling trial: path -> guids.
fn poll_feeds(rng: &mut Rng, trial: usize) -> BTreeMap<String, Vec<String>> {
    let feeds = rng.range(6, 16);
    (0..feeds)
        .map(|f| {
            let n = rng.range(5, 60);
            let guids = (0..n).map(|i| format!("t{trial}-f{f}-{i}")).collect();
            (format!("/t{trial}/f{f}.xml"), guids)
        })
        .collect()
}

fn poll_config(dir: &Path, server: &FeedServer, feeds: &BTreeMap<String, Vec<String>>) -> PathBuf {
    let mut toml = format!(
        "database = \"{}\"\n[fetch]\nallow_private_addresses = true\ntimeout = \"10s\"\n",
        dir.join("poll.db").display()
    );
    for (i, path) in feeds.keys().enumerate() {
        toml.push_str(&format!(
            "[[source]]\nid = \"feed-{i}\"\nurl = \"{}\"\n",
            server.url(path)
        ));
    }
    let path = dir.join("storyline.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

#[derive(Debug, Default)]
struct PollTally {
    trials: usize,
    kills: usize,
    landed: usize,
    /// Kills after which some items, but not all, were committed.
    mid_round: usize,
    items_checked: usize,
    survivors_checked: usize,
    duplicates: usize,
}

/// One polling trial: 6-16 feeds of 5-60 items; kill `poll --all` one to three times at
/// random moments (in start-up, or after a random number of feeds were served, plus up to
/// 30 ms), restart it to the end, and compare what the file held after each kill with what
/// it holds at the end.
async fn poll_trial(server: &FeedServer, rng: &mut Rng, trial: usize, tally: &mut PollTally) {
    let dir = tempfile::tempdir().unwrap();
    let feeds = poll_feeds(rng, trial);
    for (path, guids) in &feeds {
        server.route(path, Route::feed(rss(guids)));
    }
    let expected: usize = feeds.values().map(Vec::len).sum();
    let config = poll_config(dir.path(), server, &feeds);
    let db = dir.path().join("poll.db");

    let mut committed: HashMap<(String, String), (i64, String)> = HashMap::new();
    for _ in 0..rng.range(1, 3) {
        let moment = Moment::pick(rng, feeds.len(), 30);
        let base = server.hit_count();
        let run = storyline(&config, &["poll", "--all"]);
        let landed = kill_at(run, moment, || server.hit_count() - base).await;
        tally.kills += 1;
        tally.landed += usize::from(landed);
        let Some(mut conn) = connect(&db).await else {
            continue;
        };
        assert_eq!(
            integrity(&mut conn).await,
            "ok",
            "trial {trial}: after a kill"
        );
        let now = stored_items(&mut conn).await;
        conn.close().await.unwrap();
        for (key, row) in &committed {
            assert_eq!(
                now.get(key),
                Some(row),
                "trial {trial}: {key:?} lost or rewritten"
            );
        }
        if landed && !now.is_empty() && now.len() < expected {
            tally.mid_round += 1;
        }
        committed = now;
    }

    let out = finish(storyline(&config, &["poll", "--all"])).await;
    assert!(
        out.status.success(),
        "trial {trial}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut conn = connect(&db).await.unwrap();
    assert_eq!(integrity(&mut conn).await, "ok", "trial {trial}");
    let last = stored_items(&mut conn).await;
    let (dups,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT 1 FROM items GROUP BY source_id, guid HAVING COUNT(*) > 1)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let failing: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, last_error FROM sources WHERE last_status = 'error'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();

    assert!(failing.is_empty(), "trial {trial}: {failing:?}");
    assert_eq!(dups, 0, "trial {trial}: duplicated (source, guid)");
    assert_eq!(rows as usize, expected, "trial {trial}: item count");
    assert_eq!(last.len(), expected, "trial {trial}: distinct items");
    let wanted: HashSet<String> = feeds.values().flatten().cloned().collect();
    assert!(
        last.keys().all(|(_, g)| wanted.contains(g)),
        "trial {trial}: an item nobody served"
    );
    for (key, row) in &committed {
        assert_eq!(last.get(key), Some(row), "trial {trial}: {key:?} lost");
    }
    tally.trials += 1;
    tally.items_checked += last.len();
    tally.survivors_checked += committed.len();
    tally.duplicates += dups as usize;
}

/// Kill `storyline poll --all` at random moments, at least 100 times by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_killed_at_random_moments_loses_and_duplicates_nothing() {
    let server = FeedServer::start().await;
    let (n, seed) = (trials(), seed());
    let mut rng = Rng(seed);
    let mut tally = PollTally::default();
    let started = Instant::now();

    for trial in 0..n {
        poll_trial(&server, &mut rng, trial, &mut tally).await;
    }

    eprintln!(
        "crash/poll: seed {seed:#x}, {} trials in {:.1}s: {} kills, {} landed while running, \
         {} mid-round (some items committed, not all); {} items checked at the end, {} \
         committed-before-kill items found intact, {} duplicates, integrity ok after every \
         kill and run",
        tally.trials,
        started.elapsed().as_secs_f64(),
        tally.kills,
        tally.landed,
        tally.mid_round,
        tally.items_checked,
        tally.survivors_checked,
        tally.duplicates
    );
    assert_eq!(tally.trials, n);
    if n >= 20 {
        // Trials that never interrupt a round would prove nothing.
        assert!(
            tally.mid_round * 5 >= n,
            "too few kills landed mid-round: {tally:?}"
        );
    }
}

fn mail_config(dir: &Path, smtp_port: u16) -> PathBuf {
    let toml = format!(
        "database = \"{}\"\n\
         [web]\nbase_url = \"http://127.0.0.1:8080/\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\ntimeout = \"10s\"\n\
         from = \"Storyline <digest@storyline.test>\"\n\
         [mail]\nsecret = \"{SECRET}\"\nrate_per_second = 200\n\
         [[story]]\nid = \"llama-4\"\ntitle = \"Meta's Llama 4 release\"\n",
        dir.join("mail.db").display()
    );
    let path = dir.join("storyline.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// Store `n` confirmed subscribers and queue one week to them; returns their addresses.
async fn queue_week(config: &Path, n: usize) -> Vec<String> {
    let config = storyline::config::Config::load(Some(config)).unwrap();
    let store = Store::open(&config.database).await.unwrap();
    let mail = Mail::from_config(&config, &|_| None).unwrap().unwrap();
    let now = Utc::now();
    let emails: Vec<String> = (0..n).map(|i| format!("s{i}@example.org")).collect();
    for e in &emails {
        store
            .add_confirmed_subscriber(e, &["llama-4".to_string()], now)
            .await
            .unwrap();
    }
    let parts = DigestParts {
        story_id: "llama-4",
        week: "2025-W15".parse().unwrap(),
        subject: "Llama 4: week 15",
        text: "Llama 4 this week.\n",
        html: "<html><body><p>Llama 4 this week.</p></body></html>",
        chart_png: None,
    };
    let q = mail::queue_digest(&store, &mail.settings, &parts, now)
        .await
        .unwrap();
    assert_eq!(q.queued, n as u64);
    store.close().await;
    emails
}

#[derive(Debug, Default)]
struct SendTally {
    trials: usize,
    kills: usize,
    landed: usize,
    /// Kills that left a delivery in `sending`: the message may or may not have arrived.
    mid_send: usize,
    subscribers_checked: usize,
    messages: usize,
    resent_same_id: usize,
    two_ids: usize,
}

/// (email, state, message_id) of every delivery.
async fn deliveries(conn: &mut SqliteConnection) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT s.email, d.state, d.message_id FROM deliveries d \
         JOIN subscribers s ON s.id = d.subscriber_id ORDER BY s.email",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap()
}

/// One sending trial: a week queued to 3-12 subscribers, `mail drain` killed one to three
/// times at random moments (in start-up, or after a random number of messages arrived, plus
/// up to 20 ms; the server delays each answer by 1-8 ms, so some kills land between a message
/// arriving and the sender learning it did), then run to the end.
async fn send_trial(rng: &mut Rng, trial: usize, tally: &mut SendTally) {
    let sink = SmtpSink::start().await;
    sink.add_fault(Fault::DelayAck {
        to: String::new(),
        delay: Duration::from_millis(rng.range(1, 8)),
        times: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let config = mail_config(dir.path(), sink.port());
    let n = rng.range(3, 12) as usize;
    let emails = queue_week(&config, n).await;
    let db = dir.path().join("mail.db");

    for _ in 0..rng.range(1, 3) {
        let moment = Moment::pick(rng, n, 20);
        let base = sink.received_count();
        let run = storyline(&config, &["mail", "drain"]);
        let landed = kill_at(run, moment, || sink.received_count() - base).await;
        tally.kills += 1;
        tally.landed += usize::from(landed);
        let mut conn = connect(&db).await.unwrap();
        assert_eq!(
            integrity(&mut conn).await,
            "ok",
            "trial {trial}: after a kill"
        );
        let rows = deliveries(&mut conn).await;
        conn.close().await.unwrap();
        if rows.iter().any(|(_, state, _)| state == "sending") {
            tally.mid_send += 1;
        }
    }

    let out = finish(storyline(&config, &["mail", "drain"])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "trial {trial}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("outbox: nothing pending, {n} sent, 0 failed")),
        "trial {trial}: {stdout}"
    );
    let mut conn = connect(&db).await.unwrap();
    assert_eq!(integrity(&mut conn).await, "ok", "trial {trial}");
    let rows = deliveries(&mut conn).await;
    conn.close().await.unwrap();
    assert_eq!(rows.len(), n, "trial {trial}: one delivery each");

    let got = sink.received();
    for (email, state, message_id) in &rows {
        assert_eq!(state, "sent", "trial {trial}: {email}");
        let copies: Vec<_> = got
            .iter()
            .filter(|r| r.rcpt_to == [email.clone()])
            .collect();
        assert!(!copies.is_empty(), "trial {trial}: {email} got nothing");
        let ids: HashSet<String> = copies
            .iter()
            .map(|r| Part::parse(&r.data).header("Message-ID").unwrap())
            .collect();
        if ids.len() > 1 {
            tally.two_ids += 1;
        }
        assert_eq!(
            ids,
            HashSet::from([message_id.clone()]),
            "trial {trial}: {email} must get one Message-ID"
        );
        assert!(
            copies.iter().all(|r| r.data == copies[0].data),
            "trial {trial}: {email}: every copy is the same message"
        );
        tally.resent_same_id += copies.len() - 1;
    }
    let known: HashSet<&String> = emails.iter().collect();
    assert!(
        got.iter()
            .all(|r| r.rcpt_to.len() == 1 && known.contains(&r.rcpt_to[0])),
        "trial {trial}: mail to someone else"
    );
    tally.trials += 1;
    tally.subscribers_checked += n;
    tally.messages += got.len();
}

/// Kill `storyline mail drain` at random moments, at least 100 times by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_killed_at_random_moments_delivers_to_everyone_under_one_message_id() {
    let (n, seed) = (trials(), seed());
    let mut rng = Rng(seed ^ 0x6d61_696c);
    let mut tally = SendTally::default();
    let started = Instant::now();

    for trial in 0..n {
        send_trial(&mut rng, trial, &mut tally).await;
    }

    eprintln!(
        "crash/send: seed {seed:#x}, {} trials in {:.1}s: {} kills, {} landed while running, \
         {} left a message in flight; {} subscribers checked, {} messages received, {} resent copies (same \
         Message-ID and bytes), {} subscribers with two Message-IDs, integrity ok after every \
         kill and run",
        tally.trials,
        started.elapsed().as_secs_f64(),
        tally.kills,
        tally.landed,
        tally.mid_send,
        tally.subscribers_checked,
        tally.messages,
        tally.resent_same_id,
        tally.two_ids
    );
    assert_eq!(tally.trials, n);
    if n >= 20 {
        assert!(
            tally.mid_send * 5 >= n,
            "too few kills landed mid-send: {tally:?}"
        );
    }
}
