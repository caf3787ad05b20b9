//! Crash trials of the whole product: `kill -9` of `storyline serve` (while it polls feeds
//! that change between runs, processes the story, composes the week on its schedule and
//! queues and mails it) and of `storyline digest --send` (composing, queueing, sending). After
//! every kill and at the end: the file is sound, no item is lost or rolled back, the story
//! tables are consistent, the week's digest is stored once with one delivery per subscriber,
//! and at the end every subscriber got it under one Message-ID, resent no more often than
//! kills caught it in flight.
//!
//! `STORYLINE_CRASH_TRIALS` sets the trials per kind (defaults below);
//! `STORYLINE_CRASH_SEED` replays a run. docs/RELIABILITY.md records the measured results.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::{Connection as _, SqliteConnection};
use storyline::store::Store;
use support::changing_feeds::ChangingFeeds;
use support::crash::{
    ack_delay, connect, has_table, integrity, kill_at, run_ok, seed, storyline, trials, Ended,
    Moment, Rng, AIMED_DELAY, MAX_AIMED_KILLS,
};
use support::crash_checks::{
    all_current, check_copies, check_items, deliveries, stored_versions, story_state,
};
use support::feed_server::FeedServer;
use support::smtp_sink::SmtpSink;

const SERVE_TRIALS: usize = 15;
const DIGEST_TRIALS: usize = 15;
const SECRET: &str = "crash-test-secret-crash-test-secret-0123";
/// A Wednesday: the last complete week is 2025-W15 all through a trial.
const START: &str = "2025-04-16T12:00:00Z";
const WEEK: &str = "2025-W15";

fn config(dir: &Path, server: &FeedServer, feeds: &ChangingFeeds, smtp: u16) -> PathBuf {
    let mut toml = format!(
        "database = \"{db}\"\n\
         [fetch]\nallow_private_addresses = true\ntimeout = \"10s\"\n\
         [web]\nlisten = \"127.0.0.1:0\"\nbase_url = \"http://127.0.0.1:8080/\"\n\
         [daemon]\ntick = \"1s\"\nshutdown_grace = \"2s\"\n\
         [digest]\nschedule = \"* * * * * *\"\nsend_empty = true\noutput_dir = \"{out}\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp}\ntls = \"none\"\ntimeout = \"10s\"\n\
         from = \"Storyline <digest@storyline.test>\"\n\
         [mail]\nsecret = \"{SECRET}\"\nrate_per_second = 200\n\
         [[story]]\nid = \"llama-4\"\ntitle = \"Meta's Llama 4 release\"\n\
         phrases = [\"Llama 4\"]\n",
        db = dir.join("crash.db").display(),
        out = dir.join("digests").display(),
    );
    for (i, path) in feeds.paths().enumerate() {
        toml.push_str(&format!(
            "[[source]]\nid = \"feed-{i}\"\nurl = \"{}\"\ninterval = \"1m\"\n",
            server.url(path)
        ));
    }
    let path = dir.join("storyline.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

async fn subscribe(config: &Path, n: usize) {
    let config = storyline::config::Config::load(Some(config)).unwrap();
    let store = Store::open(&config.database).await.unwrap();
    for i in 0..n {
        store
            .add_confirmed_subscriber(
                &format!("s{i}@example.org"),
                &["llama-4".into()],
                Utc::now(),
            )
            .await
            .unwrap();
    }
    store.close().await;
}

fn start() -> DateTime<Utc> {
    support::at(START)
}

/// The week's digests and their deliveries: (digests, deliveries, of which `sending`).
async fn week_outbox(conn: &mut SqliteConnection) -> (i64, usize, Vec<i64>) {
    if !has_table(conn, "deliveries").await {
        return (0, 0, Vec::new());
    }
    let (digests,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM digests WHERE week = ?1")
        .bind(WEEK)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let rows = deliveries(conn).await;
    let sending = rows
        .iter()
        .filter(|d| d.state == "sending")
        .map(|d| d.id)
        .collect();
    (digests, rows.len(), sending)
}

#[derive(Debug, Default)]
struct Tally {
    trials: usize,
    kills: usize,
    landed: usize,
    aimed: usize,
    /// The most aimed kills one trial needed.
    most_aimed: usize,
    /// Kills that cut a polling round short (some changes committed, not all; or the story
    /// step not done).
    mid_round: usize,
    /// Kills that left a message in flight.
    mid_send: usize,
    /// Kills after the week's digest was stored but before every delivery was queued.
    mid_queue: usize,
    items: usize,
    subscribers: usize,
    messages: usize,
    resent: usize,
    two_ids: usize,
}

/// What a kill left, checked; returns whether it cut work short.
struct Trial<'a> {
    n: usize,
    db: PathBuf,
    committed: HashMap<(String, String), (i64, u32)>,
    in_flight: HashMap<i64, usize>,
    tally: &'a mut Tally,
}

impl Trial<'_> {
    async fn after_kill(
        &mut self,
        what: &str,
        ended: &Ended,
        served: &HashMap<String, u32>,
    ) -> bool {
        ended.assert_ok(what);
        self.tally.kills += 1;
        self.tally.landed += usize::from(ended.landed());
        let Some(mut conn) = connect(&self.db).await else {
            return false;
        };
        assert_eq!(integrity(&mut conn).await, "ok", "{what}");
        let items = stored_versions(&mut conn).await;
        check_items(what, &self.committed, &items, served);
        let story = story_state(&mut conn, "llama-4").await;
        let (digests, queued, sending) = week_outbox(&mut conn).await;
        conn.close().await.unwrap();
        assert!(story.problems.is_empty(), "{what}: {:?}", story.problems);
        assert!(digests <= 1, "{what}: the week stored {digests} times");
        assert!(
            queued <= self.n,
            "{what}: {queued} deliveries for {} subscribers",
            self.n
        );
        for id in &sending {
            *self.in_flight.entry(*id).or_default() += 1;
        }
        let landed = ended.landed();
        let mid_round =
            landed && items != self.committed && (!all_current(&items, served) || story.unfinished);
        let mid_send = landed && !sending.is_empty();
        let mid_queue = landed && digests == 1 && queued < self.n;
        self.tally.mid_round += usize::from(mid_round);
        self.tally.mid_send += usize::from(mid_send);
        self.tally.mid_queue += usize::from(mid_queue);
        self.committed = items;
        mid_round || mid_send || mid_queue
    }

    /// At the end: everything current, the story round finished, the week sent to everyone.
    async fn at_end(&mut self, what: &str, served: &HashMap<String, u32>, sink: &SmtpSink) {
        let mut conn = connect(&self.db).await.unwrap();
        assert_eq!(integrity(&mut conn).await, "ok", "{what}");
        let items = stored_versions(&mut conn).await;
        check_items(what, &self.committed, &items, served);
        let story = story_state(&mut conn, "llama-4").await;
        let (digests, _, _) = week_outbox(&mut conn).await;
        let rows = deliveries(&mut conn).await;
        conn.close().await.unwrap();
        assert!(
            all_current(&items, served),
            "{what}: not every item is current"
        );
        assert!(story.problems.is_empty(), "{what}: {:?}", story.problems);
        assert!(!story.unfinished, "{what}: the story round did not finish");
        assert_eq!(digests, 1, "{what}: the week is stored once");
        assert_eq!(rows.len(), self.n, "{what}: one delivery per subscriber");
        let c = check_copies(what, &rows, &sink.received(), &self.in_flight);
        self.tally.trials += 1;
        self.tally.items += items.len();
        self.tally.subscribers += self.n;
        self.tally.messages += c.messages;
        self.tally.resent += c.resent;
        self.tally.two_ids += c.two_ids;
    }

    /// Is the trial's work done: every item current, the story round finished, the week sent?
    async fn done(&self, served: &HashMap<String, u32>) -> bool {
        let Some(mut conn) = connect(&self.db).await else {
            return false;
        };
        let items = stored_versions(&mut conn).await;
        let story = story_state(&mut conn, "llama-4").await;
        let rows = deliveries(&mut conn).await;
        conn.close().await.unwrap();
        all_current(&items, served)
            && !story.unfinished
            && rows.len() == self.n
            && rows.iter().all(|d| d.state == "sent")
    }
}

/// One `serve` trial: 3-8 feeds of 5-20 items changing between runs, 3-8 subscribers, the
/// week composed every second; `serve` killed one to three times at random moments (start-up,
/// or after a random number of feeds served plus messages received, plus up to 30 ms), then
/// at aimed moments until a kill cut a round, a queueing or a send short; then run until
/// everything is done, and killed once more.
async fn serve_trial(server: &FeedServer, rng: &mut Rng, trial: usize, tally: &mut Tally) {
    let sink = SmtpSink::start().await;
    let ack = Duration::from_millis(rng.range(1, 8));
    ack_delay(&sink, ack);
    let dir = tempfile::tempdir().unwrap();
    let mut feeds = ChangingFeeds::new(
        rng,
        &format!("serve{trial}"),
        (3, 8),
        (5, 20),
        start() - chrono::Duration::days(9),
        chrono::Duration::days(9),
    );
    feeds.serve(server);
    let config = config(dir.path(), server, &feeds, sink.port());
    let n = rng.range(3, 8) as usize;
    subscribe(&config, n).await;
    let aimed_before = tally.aimed;
    let mut t = Trial {
        n,
        db: dir.path().join("crash.db"),
        committed: HashMap::new(),
        in_flight: HashMap::new(),
        tally,
    };

    let planned = rng.range(1, 3) as usize;
    let (mut cut, mut run) = (false, 0);
    // Each run starts two minutes after the last, so every source is due again.
    let now_of = |run: usize| (start() + chrono::Duration::minutes(2 * run as i64)).to_rfc3339();
    loop {
        let aimed = run >= planned;
        if aimed && (cut || run >= planned + MAX_AIMED_KILLS) {
            break;
        }
        if run > 0 && (aimed || rng.chance(60)) {
            feeds.change(rng, aimed);
            feeds.serve(server);
        }
        // Feeds to serve and messages still to send: what this run can get through.
        let steps = feeds.len() + n - sent(&t.db).await;
        let moment = if aimed {
            t.tally.aimed += 1;
            server.space_answers(AIMED_DELAY);
            ack_delay(&sink, AIMED_DELAY);
            Moment::aimed(rng, 2, steps, 10)
        } else {
            server.space_answers(Duration::ZERO);
            ack_delay(&sink, ack);
            Moment::pick(rng, steps, 30)
        };
        let (hits, got) = (server.hit_count(), sink.received_count());
        let child = storyline(&config, &["--now", &now_of(run), "serve"]);
        let ended = kill_at(child, moment, || {
            server.hit_count() - hits + sink.received_count() - got
        })
        .await;
        let what = format!("serve trial {trial}, run {run}");
        cut |= t.after_kill(&what, &ended, &feeds.latest()).await;
        run += 1;
    }
    assert!(
        cut,
        "serve trial {trial}: no kill cut work short in {run} kills"
    );
    t.tally.most_aimed = t.tally.most_aimed.max(t.tally.aimed - aimed_before);

    // The last run: until everything is done, then killed like the others.
    let mut child = storyline(&config, &["--now", &now_of(run), "serve"]);
    let served = feeds.latest();
    let started = Instant::now();
    while !t.done(&served).await {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "serve trial {trial}: serve exited ({status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve trial {trial}: not done within a minute"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    let _ = child.wait();
    t.at_end(&format!("serve trial {trial}, the end"), &served, &sink)
        .await;
}

/// Kill `storyline serve` at random moments while it polls, composes and mails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_mid_round_mid_queue_and_mid_send_loses_and_duplicates_nothing() {
    let server = FeedServer::start().await;
    let (n, seed) = (trials(SERVE_TRIALS), seed());
    let mut rng = Rng(seed ^ 0x7365_7276);
    let mut tally = Tally::default();
    let started = Instant::now();
    for trial in 0..n {
        serve_trial(&server, &mut rng, trial, &mut tally).await;
    }
    report("serve", seed, n, started, &tally);
    assert_eq!(tally.trials, n);
}

/// One `digest --send` trial: 3-8 feeds polled once, 3-10 subscribers; `digest --send` for
/// the week killed at aimed moments until a kill cut the queueing or a send short, then one
/// to three times at random moments (start-up and composing, or after a random number of
/// messages arrived plus up to 20 ms); then run to the end.
async fn digest_trial(server: &FeedServer, rng: &mut Rng, trial: usize, tally: &mut Tally) {
    let sink = SmtpSink::start().await;
    let ack = Duration::from_millis(rng.range(1, 8));
    ack_delay(&sink, ack);
    let dir = tempfile::tempdir().unwrap();
    let feeds = ChangingFeeds::new(
        rng,
        &format!("digest{trial}"),
        (3, 8),
        (5, 20),
        start() - chrono::Duration::days(9),
        chrono::Duration::days(9),
    );
    feeds.serve(server);
    let config = config(dir.path(), server, &feeds, sink.port());
    let n = rng.range(3, 10) as usize;
    subscribe(&config, n).await;
    let now = start().to_rfc3339();
    run_ok(&config, &["--now", &now, "poll", "--all"]).await;
    let served = feeds.latest();
    let aimed_before = tally.aimed;
    let mut t = Trial {
        n,
        db: dir.path().join("crash.db"),
        committed: HashMap::new(),
        in_flight: HashMap::new(),
        tally,
    };
    let mut conn = connect(&t.db).await.unwrap();
    t.committed = stored_versions(&mut conn).await;
    conn.close().await.unwrap();

    let args = ["--now", now.as_str(), "digest", "--week", WEEK, "--send"];
    // First kills aimed at the middle until one cuts the work short (the first nearly
    // always does: the week has n messages to send), then one to three at random moments.
    let planned = rng.range(1, 3) as usize;
    let (mut cut, mut random, mut run) = (false, 0, 0);
    loop {
        let left = n - sent(&t.db).await;
        if left == 0 || (cut && random >= planned) {
            break;
        }
        assert!(
            cut || run < MAX_AIMED_KILLS,
            "digest trial {trial}: no kill cut work short in {run} kills"
        );
        let moment = if cut {
            random += 1;
            ack_delay(&sink, ack);
            Moment::pick(rng, n, 20)
        } else {
            t.tally.aimed += 1;
            ack_delay(&sink, AIMED_DELAY);
            Moment::aimed(rng, 1, left, 5)
        };
        let got = sink.received_count();
        let ended = kill_at(storyline(&config, &args), moment, || {
            sink.received_count() - got
        })
        .await;
        let what = format!("digest trial {trial}, run {run}");
        cut |= t.after_kill(&what, &ended, &served).await;
        run += 1;
    }
    assert!(
        cut,
        "digest trial {trial}: everything was sent before a kill cut work short"
    );
    t.tally.most_aimed = t.tally.most_aimed.max(t.tally.aimed - aimed_before);
    run_ok(&config, &args).await;
    t.at_end(&format!("digest trial {trial}, the end"), &served, &sink)
        .await;
}

/// Deliveries sent so far.
async fn sent(db: &Path) -> usize {
    let mut conn = connect(db).await.unwrap();
    let n = deliveries(&mut conn)
        .await
        .iter()
        .filter(|d| d.state == "sent")
        .count();
    conn.close().await.unwrap();
    n
}

/// Kill `storyline digest --send` at random moments while it composes, queues and mails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_send_killed_at_random_moments_stores_the_week_once_and_mails_it_once() {
    let server = FeedServer::start().await;
    let (n, seed) = (trials(DIGEST_TRIALS), seed());
    let mut rng = Rng(seed ^ 0x6469_6765);
    let mut tally = Tally::default();
    let started = Instant::now();
    for trial in 0..n {
        digest_trial(&server, &mut rng, trial, &mut tally).await;
    }
    report("digest --send", seed, n, started, &tally);
    assert_eq!(tally.trials, n);
}

fn report(kind: &str, seed: u64, n: usize, started: Instant, t: &Tally) {
    eprintln!(
        "crash/{kind}: seed {seed:#x}, {n} trials in {:.1}s: {} kills ({} aimed, at most {} in a trial), {} landed \
         while running: {} cut a polling round short, {} a queueing, {} left a message in \
         flight; {} items and {} subscribers checked at the end, {} messages received, {} \
         resent copies (same Message-ID and bytes, each within the kills that caught it in \
         flight), {} subscribers with two Message-IDs; integrity ok and story tables sound \
         after every kill",
        started.elapsed().as_secs_f64(),
        t.kills,
        t.aimed,
        t.most_aimed,
        t.landed,
        t.mid_round,
        t.mid_queue,
        t.mid_send,
        t.items,
        t.subscribers,
        t.messages,
        t.resent,
        t.two_ids
    );
}
