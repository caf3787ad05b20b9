//! The story replays, end to end through the real binary, scored against their answer keys.
//!
//! For each week of a replay set (`shared/fixtures/story-replay*`), a loopback server serves
//! that week's snapshot, `storyline poll --all` runs with the clock at the Monday 09:00 UTC after
//! the week, then `storyline digest --story ID --week W --format json --out -` prints the week,
//! exactly as a user would run it. The figures (tests/it/support/score.rs):
//! - event recall: answer-key events that appear as a development in their first week (a
//!   development "is" the key event most of its matched items report);
//! - precision: items listed in developments that are story items;
//! - near-miss items listed in developments or updates (must be 0);
//! - clustering pair-F1 over "these two items report the same event", with each item's event
//!   taken from the weeks' output (event ids are stable across weeks);
//! - the share of story items placed in some event shown by some week.
//!
//! The Gemini set runs with the fixture's user-written `story.toml` appended to the config, as
//! a user would define their own story. `STORYLINE_REPLAY_DUMP=DIR` writes every week's JSON
//! and a diagnosis (where each key event's items went, what was listed wrongly);
//! `STORYLINE_REPLAY_DROP=a,b` replays without those sources.

// Test helpers panic on broken fixtures, like the tests themselves.
#![allow(clippy::unwrap_used)]

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::fixture;
use support::replay::{load_sources, poll_time, run, Replay};
use support::score::{load_key, score, Scores};

/// Replay every week of the set at `root` for `story`, with `extra` appended to the config.
async fn replay(set: &str, story: &str, extra: &str) -> (Scores, Replay) {
    let root = fixture(set);
    // STORYLINE_REPLAY_DROP=a,b replays without those sources (how much rides on one outlet).
    let dropped: Vec<String> = std::env::var("STORYLINE_REPLAY_DROP")
        .map(|d| d.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let sources: Vec<_> = load_sources(&root)
        .into_iter()
        .filter(|s| !dropped.contains(&s.id))
        .collect();
    let key = load_key(&root, &dropped);
    let replay = Replay::start_with(&sources, extra).await;
    let config = replay.config.clone();
    let dump = std::env::var_os("STORYLINE_REPLAY_DUMP").map(|d| Path::new(&d).join(set));

    let mut outputs = Vec::new();
    for week in &key.weeks {
        replay.serve_week(&root.join("weeks").join(week), &sources);
        let now = poll_time(week);
        run(&config, &now, &["poll", "--all"]);
        let json = run(
            &config,
            &now,
            &[
                "digest", "--story", story, "--week", week, "--format", "json", "--out", "-",
            ],
        );
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["week"], Value::String(week.clone()));
        assert_eq!(v["story"], Value::String(story.into()));
        if let Some(dump) = &dump {
            let _ = std::fs::create_dir_all(dump);
            let _ = std::fs::write(dump.join(format!("{week}.json")), &json);
        }
        outputs.push((week.clone(), v));
    }
    let s = score(&key, &outputs);
    if let Some(dump) = &dump {
        let _ = std::fs::write(dump.join("diagnosis.txt"), &s.diagnosis);
        let _ = std::fs::copy(replay.dir.path().join("replay.db"), dump.join("replay.db"));
        let _ = std::fs::copy(&config, dump.join("replay.toml"));
    }
    println!("{set}: {}", s.line());
    (s, replay)
}

/// Every item's `explain` verdict against its stored decision: one code path decides both.
async fn explain_disagreements(replay: &Replay, story: &str) -> Vec<String> {
    let config = storyline::config::Config::load(Some(replay.config.as_path())).unwrap();
    let store = storyline::store::Store::open(&config.database)
        .await
        .unwrap();
    let stories = storyline::story::StoryDef::all_from(&config).unwrap();
    let mut out = Vec::new();
    for id in 1..=store.count_items().await.unwrap() + 10 {
        let Ok(item) = store.item(id).await else {
            continue;
        };
        for e in storyline::story::explain::explain(&store, &stories, &item)
            .await
            .unwrap()
        {
            if e.story.id != story || e.queued {
                continue;
            }
            if let Some(diff) = e.disagreement() {
                out.push(format!("item {id} {:?}: {diff}", item.title));
            }
        }
    }
    out
}

fn assert_targets(s: &Scores) {
    assert!(s.recall >= 0.95, "event recall {:.3}", s.recall);
    assert!(s.precision >= 0.95, "precision {:.3}", s.precision);
    assert_eq!(s.near_miss, 0, "near-miss items in the output");
    assert!(s.pair_f1 >= 0.90, "clustering pair-F1 {:.3}", s.pair_f1);
    assert!(
        s.placed_share() >= 0.95,
        "story items placed {}/{}",
        s.placed,
        s.story_items
    );
}

/// Replays every week of the Llama 4 story with the built-in definition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llama4_replay_meets_the_targets() {
    let (s, replay) = replay("story-replay", "llama-4", "").await;
    let d = explain_disagreements(&replay, "llama-4").await;
    assert!(
        d.is_empty(),
        "explain and stored decisions disagree:\n{}",
        d.join("\n")
    );
    assert_targets(&s);
}

/// Replays every week of the Gemini 2.5 story with the user-written definition from the set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_replay_meets_the_targets() {
    let story = std::fs::read_to_string(fixture("story-replay-gemini").join("story.toml")).unwrap();
    let (s, replay) = replay("story-replay-gemini", "gemini-2-5", &story).await;
    let d = explain_disagreements(&replay, "gemini-2-5").await;
    assert!(
        d.is_empty(),
        "explain and stored decisions disagree:\n{}",
        d.join("\n")
    );
    assert_targets(&s);
}
