//! Crash trials: `kill -9` the real binary at random moments while it polls feeds that change
//! between runs, and while `mail drain` sends; restart it until it finishes, and check after
//! every kill and at the end that nothing committed was lost or rolled back, nothing was
//! stored twice, the story tables are consistent and `explain` works, the file is sound, and
//! every subscriber got the digest under one Message-ID, resent no more often than kills
//! caught it in flight. tests/it/crash_serve.rs does the same for `serve` and `digest --send`.
//!
//! `STORYLINE_CRASH_TRIALS` sets the trials per kind (default 50 here);
//! `STORYLINE_CRASH_SEED` replays a run (the seed is printed). docs/RELIABILITY.md records the
//! measured results.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::Connection as _;
use storyline::mail;
use storyline::store::NewDigest;
use support::changing_feeds::ChangingFeeds;
use support::crash::{
    ack_delay, connect, integrity, kill_at, run_ok, seed, storyline, trials, Moment, Rng,
    AIMED_DELAY, MAX_AIMED_KILLS,
};
use support::crash_checks::{
    all_current, check_copies, check_items, deliveries, explain_works, stored_versions, story_state,
};
use support::feed_server::FeedServer;
use support::smtp_sink::SmtpSink;

const DEFAULT_TRIALS: usize = 50;
const SECRET: &str = "crash-test-secret-crash-test-secret-0123";
const STORY: &str = "[[story]]\nid = \"llama-4\"\ntitle = \"Meta's Llama 4 release\"\n\
                     phrases = [\"Llama 4\"]\n";

fn at(s: &str) -> DateTime<Utc> {
    support::at(s)
}

fn poll_config(dir: &Path, server: &FeedServer, feeds: &ChangingFeeds) -> (PathBuf, String) {
    let mut toml = format!(
        "database = \"{}\"\n[fetch]\nallow_private_addresses = true\ntimeout = \"10s\"\n{STORY}",
        dir.join("poll.db").display()
    );
    for (i, path) in feeds.paths().enumerate() {
        toml.push_str(&format!(
            "[[source]]\nid = \"feed-{i}\"\nurl = \"{}\"\n",
            server.url(path)
        ));
    }
    let path = dir.join("storyline.toml");
    std::fs::write(&path, &toml).unwrap();
    (path, toml)
}

#[derive(Debug, Default)]
struct PollTally {
    trials: usize,
    kills: usize,
    landed: usize,
    /// Kills after which the round was cut short: some of its changes committed but not all,
    /// or all stored but the story step not done.
    mid_work: usize,
    aimed: usize,
    /// The most aimed kills one trial needed.
    most_aimed: usize,
    changes: usize,
    items_checked: usize,
    survivors_checked: usize,
    decisions: usize,
    events: usize,
    waiting: usize,
    explained: usize,
}

/// One polling trial: 6-16 feeds of 5-40 items that change between runs (items updated in
/// place, new ones); kill `poll --all` one to three times at random moments (in start-up, or
/// after a random number of feeds were served, plus up to 30 ms), then, if none of those cut
/// a round short, kills aimed at the middle until one does; then run it to the end. After
/// every kill: the file, the items against what was committed before, the story tables, and
/// `explain` on a copy.
async fn poll_trial(server: &FeedServer, rng: &mut Rng, trial: usize, tally: &mut PollTally) {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let start = at("2025-04-16T12:00:00Z");
    let mut feeds = ChangingFeeds::new(
        rng,
        &format!("t{trial}"),
        (6, 16),
        (5, 40),
        start - chrono::Duration::days(20),
        chrono::Duration::days(20),
    );
    feeds.serve(server);
    let (config, text) = poll_config(dir.path(), server, &feeds);
    let db = dir.path().join("poll.db");

    let aimed_before = tally.aimed;
    let planned = rng.range(1, 3) as usize;
    let mut committed: HashMap<(String, String), (i64, u32)> = HashMap::new();
    let mut cut_short = false;
    let mut run = 0;
    loop {
        let aimed = run >= planned;
        if aimed && (cut_short || run >= planned + MAX_AIMED_KILLS) {
            break;
        }
        // An aimed kill needs work to interrupt: the feeds change before it.
        if run > 0 && (aimed || rng.chance(60)) {
            tally.changes += feeds.change(rng, aimed);
            feeds.serve(server);
        }
        // An aimed kill comes after at least two feeds of a round whose answers are 40 ms
        // apart: the first are committed, and the feeds not yet answered are not.
        let moment = if aimed {
            tally.aimed += 1;
            server.space_answers(AIMED_DELAY);
            Moment::aimed(rng, 2, feeds.len(), 5)
        } else {
            server.space_answers(Duration::ZERO);
            Moment::pick(rng, feeds.len(), 30)
        };
        let now = (start + chrono::Duration::hours(run as i64)).to_rfc3339();
        let base = server.hit_count();
        let child = storyline(&config, &["--now", &now, "poll", "--all"]);
        let ended = kill_at(child, moment, || server.hit_count() - base).await;
        let what = format!("trial {trial}, run {run}");
        ended.assert_ok(&what);
        run += 1;
        tally.kills += 1;
        tally.landed += usize::from(ended.landed());
        let Some(mut conn) = connect(&db).await else {
            continue;
        };
        assert_eq!(integrity(&mut conn).await, "ok", "{what}");
        let served = feeds.latest();
        let now_items = stored_versions(&mut conn).await;
        check_items(&what, &committed, &now_items, &served);
        let story = story_state(&mut conn, "llama-4").await;
        conn.close().await.unwrap();
        assert!(story.problems.is_empty(), "{what}: {:?}", story.problems);
        let moved = now_items != committed;
        if ended.landed() && moved && (!all_current(&now_items, &served) || story.unfinished) {
            tally.mid_work += 1;
            cut_short = true;
        }
        // One item, picked by the seeded PRNG (a HashMap's order is not reproducible).
        let mut ids: Vec<i64> = now_items.values().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        if !ids.is_empty() {
            // Items in an event more often: their event is checked too.
            let members: Vec<i64> = ids
                .iter()
                .copied()
                .filter(|id| story.members.contains_key(id))
                .collect();
            let pool = if !members.is_empty() && rng.chance(50) {
                &members
            } else {
                &ids
            };
            let id = pool[rng.range(0, pool.len() as u64 - 1) as usize];
            let event = story.members.get(&id).map(String::as_str);
            explain_works(&what, &text, &db, scratch.path(), id, event, &now).await;
            tally.explained += 1;
        }
        committed = now_items;
    }
    assert!(
        cut_short,
        "trial {trial}: no kill cut a round short in {run} kills"
    );
    server.space_answers(Duration::ZERO);
    tally.most_aimed = tally.most_aimed.max(tally.aimed - aimed_before);

    let now = (start + chrono::Duration::hours(run as i64)).to_rfc3339();
    run_ok(&config, &["--now", &now, "poll", "--all"]).await;
    let what = format!("trial {trial}, the end");
    let mut conn = connect(&db).await.unwrap();
    assert_eq!(integrity(&mut conn).await, "ok", "{what}");
    let last = stored_versions(&mut conn).await;
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let failing: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, last_error FROM sources WHERE last_status = 'error'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let story = story_state(&mut conn, "llama-4").await;
    conn.close().await.unwrap();
    let served = feeds.latest();
    check_items(&what, &committed, &last, &served);
    assert!(failing.is_empty(), "{what}: {failing:?}");
    assert_eq!(rows as usize, served.len(), "{what}: item rows");
    assert!(
        all_current(&last, &served),
        "{what}: not every item is current"
    );
    assert!(story.problems.is_empty(), "{what}: {:?}", story.problems);
    assert!(!story.unfinished, "{what}: the story round did not finish");
    assert!(story.events > 0, "{what}: no event formed");
    tally.trials += 1;
    tally.items_checked += last.len();
    tally.survivors_checked += committed.len();
    tally.decisions += story.decisions;
    tally.events += story.events;
    tally.waiting += story.waiting;
}

/// Kill `storyline poll --all` at random moments while its feeds change, 50 trials by
/// default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_killed_at_random_moments_loses_nothing_and_keeps_the_story_tables_sound() {
    let server = FeedServer::start().await;
    let (n, seed) = (trials(DEFAULT_TRIALS), seed());
    let mut rng = Rng(seed);
    let mut tally = PollTally::default();
    let started = Instant::now();

    for trial in 0..n {
        poll_trial(&server, &mut rng, trial, &mut tally).await;
    }

    eprintln!(
        "crash/poll: seed {seed:#x}, {} trials in {:.1}s: {} kills ({} aimed, at most {} in a trial), {} landed while \
         running, {} cut a round short; {} item changes served between runs; {} items checked \
         at the end, {} committed-before-kill items found intact, {} decisions, {} events and {} \
         reports left waiting checked at the end, explain run after {} kills; integrity ok and story tables sound \
         after every kill and run",
        tally.trials,
        started.elapsed().as_secs_f64(),
        tally.kills,
        tally.aimed,
        tally.most_aimed,
        tally.landed,
        tally.mid_work,
        tally.changes,
        tally.items_checked,
        tally.survivors_checked,
        tally.decisions,
        tally.events,
        tally.waiting,
        tally.explained
    );
    assert_eq!(tally.trials, n);
    assert!(
        tally.mid_work >= n,
        "every trial cut a round short: {tally:?}"
    );
}

fn mail_config(dir: &Path, smtp_port: u16) -> PathBuf {
    let toml = format!(
        "database = \"{}\"\n\
         [web]\nbase_url = \"http://127.0.0.1:8080/\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\ntimeout = \"10s\"\n\
         from = \"Storyline <digest@storyline.test>\"\n\
         [mail]\nsecret = \"{SECRET}\"\nrate_per_second = 200\n{STORY}",
        dir.join("mail.db").display()
    );
    let path = dir.join("storyline.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// Store `n` confirmed subscribers and queue one week to them.
async fn queue_week(config: &Path, n: usize) {
    let settings = storyline::app::Settings::load(Some(config)).unwrap();
    let store = settings.open_store().await.unwrap();
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    let now = Utc::now();
    for i in 0..n {
        store
            .add_confirmed_subscriber(&format!("s{i}@example.org"), &["llama-4".into()], now)
            .await
            .unwrap();
    }
    let parts = NewDigest {
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
}

#[derive(Debug, Default)]
struct SendTally {
    trials: usize,
    kills: usize,
    landed: usize,
    aimed: usize,
    /// The most aimed kills one trial needed.
    most_aimed: usize,
    /// Kills that left a delivery in `sending`: the message may or may not have arrived.
    mid_send: usize,
    subscribers: usize,
    messages: usize,
    resent: usize,
    two_ids: usize,
}

/// One sending trial: a week queued to 3-12 subscribers; `mail drain` killed first at aimed
/// moments until a kill leaves a message in flight, then one to three times at random
/// moments (in start-up, or after a random number of messages arrived, plus up to 20 ms; the
/// server delays each answer by 1-8 ms, so some kills land between a message arriving and
/// the sender learning it did); then run to the end.
async fn send_trial(rng: &mut Rng, trial: usize, tally: &mut SendTally) {
    let sink = SmtpSink::start().await;
    let ack = Duration::from_millis(rng.range(1, 8));
    ack_delay(&sink, ack);
    let dir = tempfile::tempdir().unwrap();
    let config = mail_config(dir.path(), sink.port());
    let n = rng.range(3, 12) as usize;
    queue_week(&config, n).await;
    let db = dir.path().join("mail.db");

    // First kills aimed at the middle until one catches a message in flight (the first
    // nearly always does), then one to three at random moments.
    let aimed_before = tally.aimed;
    let planned = rng.range(1, 3) as usize;
    let mut in_flight: HashMap<i64, usize> = HashMap::new();
    let (mut caught, mut random, mut run) = (false, 0, 0);
    loop {
        let pending = left(&db).await;
        if pending == 0 || (caught && random >= planned) {
            break;
        }
        assert!(
            caught || run < MAX_AIMED_KILLS,
            "trial {trial}: no kill caught a message in flight in {run} kills"
        );
        let moment = if caught {
            random += 1;
            ack_delay(&sink, ack);
            Moment::pick(rng, n, 20)
        } else {
            tally.aimed += 1;
            ack_delay(&sink, AIMED_DELAY);
            Moment::aimed(rng, 1, pending, 5)
        };
        let base = sink.received_count();
        let ended = kill_at(storyline(&config, &["mail", "drain"]), moment, || {
            sink.received_count() - base
        })
        .await;
        let what = format!("trial {trial}, run {run}");
        ended.assert_ok(&what);
        run += 1;
        tally.kills += 1;
        tally.landed += usize::from(ended.landed());
        let mut conn = connect(&db).await.unwrap();
        assert_eq!(integrity(&mut conn).await, "ok", "{what}");
        let rows = deliveries(&mut conn).await;
        conn.close().await.unwrap();
        let sending: Vec<i64> = rows
            .iter()
            .filter(|d| d.state == "sending")
            .map(|d| d.id)
            .collect();
        for id in &sending {
            *in_flight.entry(*id).or_default() += 1;
        }
        if !sending.is_empty() {
            tally.mid_send += 1;
            caught = true;
        }
    }
    assert!(
        caught,
        "trial {trial}: everything was sent before a kill caught a message in flight"
    );
    tally.most_aimed = tally.most_aimed.max(tally.aimed - aimed_before);

    let stdout = run_ok(&config, &["mail", "drain"]).await;
    assert!(
        stdout.contains(&format!("outbox: nothing pending, {n} sent, 0 failed")),
        "trial {trial}: {stdout}"
    );
    let mut conn = connect(&db).await.unwrap();
    assert_eq!(integrity(&mut conn).await, "ok", "trial {trial}");
    let rows = deliveries(&mut conn).await;
    conn.close().await.unwrap();
    assert_eq!(rows.len(), n, "trial {trial}: one delivery each");
    let c = check_copies(
        &format!("trial {trial}"),
        &rows,
        &sink.received(),
        &in_flight,
    );
    tally.trials += 1;
    tally.subscribers += n;
    tally.messages += c.messages;
    tally.resent += c.resent;
    tally.two_ids += c.two_ids;
}

/// Deliveries not yet sent.
async fn left(db: &Path) -> usize {
    let mut conn = connect(db).await.unwrap();
    let left = deliveries(&mut conn)
        .await
        .iter()
        .filter(|d| d.state != "sent")
        .count();
    conn.close().await.unwrap();
    left
}

/// Kill `storyline mail drain` at random moments, 50 trials by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_killed_at_random_moments_delivers_to_everyone_and_resends_only_what_was_in_flight()
{
    let (n, seed) = (trials(DEFAULT_TRIALS), seed());
    let mut rng = Rng(seed ^ 0x6d61_696c);
    let mut tally = SendTally::default();
    let started = Instant::now();

    for trial in 0..n {
        send_trial(&mut rng, trial, &mut tally).await;
    }

    eprintln!(
        "crash/send: seed {seed:#x}, {} trials in {:.1}s: {} kills ({} aimed, at most {} in a trial), {} landed while \
         running, {} left a message in flight; {} subscribers checked, {} messages received, \
         {} resent copies (same Message-ID and bytes, each within the kills that caught it in \
         flight), {} subscribers with two Message-IDs, integrity ok after every kill and run",
        tally.trials,
        started.elapsed().as_secs_f64(),
        tally.kills,
        tally.aimed,
        tally.most_aimed,
        tally.landed,
        tally.mid_send,
        tally.subscribers,
        tally.messages,
        tally.resent,
        tally.two_ids
    );
    assert_eq!(tally.trials, n);
    assert!(
        tally.mid_send >= n,
        "every trial caught a message in flight: {tally:?}"
    );
}
