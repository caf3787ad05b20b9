//! Crash trials for alerts: `kill -9` the real `storyline poll` at random moments while it
//! fetches, decides and sends alerts (the receiver answers each alert a few milliseconds
//! after it arrives, so some kills land between an alert arriving and the sender recording
//! it), restart it until it finishes, and check that every development the week's digest
//! lists got exactly one alert: one outbox row, one idempotency key, and every copy the
//! receiver saw carries that key and the same body.
//!
//! `STORYLINE_ALERT_CRASH_TRIALS` sets the trials (default 30); `STORYLINE_CRASH_SEED`
//! replays a run (the seed is printed).

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::str::FromStr as _;
use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};
use support::alert_sink::AlertSink;
use support::feed_server::{FeedServer, Route};

const DEFAULT_TRIALS: usize = 30;
const DEFAULT_SEED: u64 = 0x5709_11e5;
const SECRET: &str = "crash-hook-secret-0123456789abcdef";
/// A Wednesday; the items were published an hour or two before.
const NOW: &str = "2025-06-04T12:00:00Z";
/// Past the lease of a sender killed at `NOW` (twice the 10s timeout, plus 30s).
const LATER: &str = "2025-06-04T12:10:00Z";

/// SplitMix64, so a failing run can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

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

fn storyline(config: &Path, now: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(config)
        .arg("--now")
        .arg(now)
        .args(args)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .env("CRASH_HOOK_SECRET", SECRET)
        .env("STORYLINE_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

async fn finish(mut child: Child) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "storyline hung"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.wait_with_output().unwrap()
}

/// SIGKILL `child` once `progress()` reaches `at` and `extra` more has passed; false when it
/// had already exited.
async fn kill_at(
    mut child: Child,
    at: usize,
    extra: Duration,
    progress: impl Fn() -> usize,
) -> bool {
    let started = Instant::now();
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
            "storyline stalled"
        );
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    child.kill().unwrap();
    let _ = child.wait();
    true
}

/// A made-up word per number: items built from disjoint words are distinct developments.
fn word(n: u64) -> String {
    const SYL: [&str; 16] = [
        "ba", "ke", "lo", "mu", "ri", "sa", "te", "vo", "xi", "zu", "da", "fe", "go", "hi", "jo",
        "pa",
    ];
    let mut w = String::new();
    let mut n = n + 4096;
    while n > 0 {
        w.push_str(SYL[(n % 16) as usize]);
        n /= 16;
    }
    w + "n"
}

fn feed(trial: usize, developments: usize) -> String {
    let published = chrono::DateTime::parse_from_rfc3339(NOW).unwrap();
    let items: String = (0..developments as u64)
        .map(|i| {
            let words: Vec<String> = (0..14).map(|k| word(i * 14 + k)).collect();
            format!(
                "<item><guid>t{trial}-d{i}</guid><title>{}</title><description>{}</description>\
                 <link>https://wire.example/t{trial}/d{i}</link><pubDate>{}</pubDate></item>",
                words[..6].join(" "),
                words.join(" "),
                (published - chrono::Duration::minutes(60 + i as i64)).to_rfc2822()
            )
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>W</title>{items}</channel></rss>")
}

/// Where the kill landed, read from the file the killed process left.
#[derive(Debug, Default)]
struct Tally {
    trials: usize,
    kills: usize,
    landed: usize,
    before_decide: usize,
    decided_none_sent: usize,
    in_flight: usize,
    partly_sent: usize,
    all_sent: usize,
    developments: usize,
    requests: usize,
    resent_same_key: usize,
}

async fn after_kill(db: &Path, tally: &mut Tally) {
    if !db.exists() {
        tally.before_decide += 1;
        return;
    }
    let opts = SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(db)
        .create_if_missing(false);
    let mut conn = opts.connect().await.unwrap();
    let (ok,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(ok, "ok");
    let states: Vec<(String, i64)> = sqlx::query_as("SELECT state, attempts FROM alert_deliveries")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default();
    conn.close().await.unwrap();
    let count = |s: &str| states.iter().filter(|(st, _)| st == s).count();
    if states.is_empty() {
        tally.before_decide += 1;
    } else if count("sending") > 0 {
        tally.in_flight += 1;
    } else if count("sent") == states.len() {
        tally.all_sent += 1;
    } else if count("sent") > 0 {
        tally.partly_sent += 1;
    } else {
        tally.decided_none_sent += 1;
    }
}

async fn trial(feeds: &FeedServer, rng: &mut Rng, trial: usize, tally: &mut Tally) {
    let n = rng.range(3, 8) as usize;
    let path = format!("/t{trial}.xml");
    feeds.route(&path, Route::feed(feed(trial, n)));
    let sink = AlertSink::start().await;
    sink.set_delay(Duration::from_millis(rng.range(1, 8)));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alerts.db");
    let config = dir.path().join("storyline.toml");
    std::fs::write(
        &config,
        format!(
            "database = \"{}\"\n[fetch]\nallow_private_addresses = true\ntimeout = \"10s\"\n\
             [[source]]\nid = \"wire\"\nurl = \"{}\"\n\
             [[story]]\nid = \"wire\"\ntitle = \"The wire\"\nsources = [\"wire\"]\n\
             [[alert]]\nid = \"hook\"\nstory = \"wire\"\nkind = \"webhook\"\nurl = \"{}\"\n\
             secret_env = \"CRASH_HOOK_SECRET\"\n",
            db.display(),
            feeds.url(&path),
            sink.url("/hook")
        ),
    )
    .unwrap();

    for _ in 0..rng.range(1, 3) {
        // A third of the kills sweep the start of the run (fetch, story, decide); the rest
        // come after some alerts arrived.
        let (at, extra) = if rng.range(0, 2) == 0 {
            (0, rng.range(0, 150))
        } else {
            (rng.range(1, n as u64) as usize, rng.range(0, 15))
        };
        let base = sink.count();
        let run = storyline(&config, NOW, &["poll", "--all"]);
        let landed = kill_at(run, at, Duration::from_millis(extra), || {
            sink.count() - base
        })
        .await;
        tally.kills += 1;
        tally.landed += usize::from(landed);
        if landed {
            after_kill(&db, tally).await;
        }
    }
    let out = finish(storyline(&config, LATER, &["poll", "--all"])).await;
    assert!(
        out.status.success(),
        "trial {trial}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let digest = finish(storyline(
        &config,
        LATER,
        &[
            "digest", "--week", "2025-W23", "--format", "json", "--out", "-",
        ],
    ))
    .await;
    let v: serde_json::Value = serde_json::from_slice(&digest.stdout).unwrap();
    let developments: BTreeSet<String> = v["developments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        developments.len(),
        n,
        "trial {trial}: the feed's developments"
    );

    let opts = SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(&db);
    let mut conn = opts.connect().await.unwrap();
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT event_id, idempotency_key, state FROM alert_deliveries")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    let by_event: BTreeMap<&str, Vec<&(String, String, String)>> =
        rows.iter().fold(BTreeMap::new(), |mut m, r| {
            m.entry(r.0.as_str()).or_default().push(r);
            m
        });
    let alerted: BTreeSet<String> = by_event.keys().map(|k| k.to_string()).collect();
    assert_eq!(
        alerted, developments,
        "trial {trial}: one alert row per development"
    );
    assert!(
        by_event.values().all(|v| v.len() == 1),
        "trial {trial}: {rows:?}"
    );
    assert!(
        rows.iter().all(|r| r.2 == "sent"),
        "trial {trial}: {rows:?}"
    );

    let got = sink.received();
    let keys: BTreeMap<&str, &str> = rows.iter().map(|r| (r.1.as_str(), r.0.as_str())).collect();
    let mut copies: BTreeMap<&str, Vec<&[u8]>> = BTreeMap::new();
    for r in &got {
        assert!(r.signature_is_valid(SECRET), "trial {trial}: bad signature");
        let key = r.header("idempotency-key").unwrap();
        assert!(keys.contains_key(key), "trial {trial}: unknown key {key}");
        assert_eq!(r.json()["id"], key);
        copies.entry(key).or_default().push(&r.body);
    }
    assert_eq!(
        copies.len(),
        n,
        "trial {trial}: every development reached the receiver"
    );
    for (key, bodies) in &copies {
        assert!(
            bodies.iter().all(|b| *b == bodies[0]),
            "trial {trial}: {key} changed between copies"
        );
        tally.resent_same_key += bodies.len() - 1;
    }
    tally.trials += 1;
    tally.developments += n;
    tally.requests += got.len();
}

/// Kill `storyline poll` at random moments while it decides and sends alerts; every
/// development still gets exactly one alert (one key; resends carry it and the same body).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_killed_at_random_moments_go_out_once_per_development() {
    let feeds = FeedServer::start().await;
    let n = env_or("STORYLINE_ALERT_CRASH_TRIALS", DEFAULT_TRIALS);
    let seed = env_or("STORYLINE_CRASH_SEED", DEFAULT_SEED);
    let mut rng = Rng(seed ^ 0x616c_6572_7473);
    let mut tally = Tally::default();
    let started = Instant::now();
    for t in 0..n {
        trial(&feeds, &mut rng, t, &mut tally).await;
    }
    eprintln!(
        "crash/alerts: seed {seed:#x}, {} trials in {:.1}s: {} kills, {} landed while running: \
         {} before any decision, {} decided with nothing sent, {} with an alert in flight, {} \
         partly sent, {} all sent; {} developments, {} requests received, {} resent copies \
         (same key and body), one alert row and one key per development every time",
        tally.trials,
        started.elapsed().as_secs_f64(),
        tally.kills,
        tally.landed,
        tally.before_decide,
        tally.decided_none_sent,
        tally.in_flight,
        tally.partly_sent,
        tally.all_sent,
        tally.developments,
        tally.requests,
        tally.resent_same_key
    );
    assert_eq!(tally.trials, n);
    if n >= 20 {
        // Trials whose kills never fall between deciding and sending would prove nothing.
        assert!(
            tally.decided_none_sent + tally.in_flight >= n / 5,
            "{tally:?}"
        );
        assert!(tally.in_flight >= 1, "{tally:?}");
    }
}
