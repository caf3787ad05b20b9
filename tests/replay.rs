//! The story replay, end to end through the real binary, scored against the answer key.
//!
//! For each week of `shared/fixtures/story-replay`, a loopback server serves that week's
//! snapshot, `storyline poll --all` runs with the clock at the Monday 09:00 UTC after the week,
//! then `storyline digest --week W --format json --out -` prints the week. The four figures:
//! - event recall: answer-key events that appear as a development in their first week (a
//!   development "is" the key event most of its matched items report);
//! - precision: items listed in developments that are story items;
//! - near-miss items listed in developments or updates (must be 0);
//! - clustering pair-F1 over "these two items report the same event", with each item's event
//!   taken from the weeks' output (event ids are stable across weeks).
//!
//! Output items are matched to the key strictly by `source::guid`, the contract's identity.
//! Unmatched items count as non-story items.

// Test helpers panic on broken fixtures, like the tests themselves.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde_json::Value;
use support::fixture;
use support::replay::{load_sources, poll_time, run, Replay};

struct Key {
    /// "source::guid" -> (class, event)
    items: HashMap<String, (String, Option<String>)>,
    events: Vec<(String, String)>, // (event id, first week)
    weeks: Vec<String>,
}

fn load_key(root: &Path) -> Key {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("answer_key.json")).unwrap())
            .unwrap();
    let mut items = HashMap::new();
    for (k, it) in v["items"].as_object().unwrap() {
        items.insert(
            k.clone(),
            (
                it["class"].as_str().unwrap().to_string(),
                it["event"].as_str().map(str::to_string),
            ),
        );
    }
    let events = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["first_week"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let weeks = v["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    Key {
        items,
        events,
        weeks,
    }
}

impl Key {
    /// Items are matched to the key strictly by `source::guid`, as the contract defines them.
    fn resolve(&self, item: &Value) -> Option<String> {
        let src = item["source"].as_str()?;
        let guid = item["guid"].as_str()?;
        let key = format!("{src}::{guid}");
        self.items.contains_key(&key).then_some(key)
    }
}

struct Scores {
    recall: f64,
    precision: f64,
    near_miss: usize,
    pair_f1: f64,
}

fn score(key: &Key, weeks: &[(String, Value)]) -> Scores {
    let mut dev_items = 0usize;
    let mut dev_story = 0usize;
    let mut near_miss = 0usize;
    let mut recalled: HashSet<String> = HashSet::new();
    let mut predicted: HashMap<String, String> = HashMap::new(); // key item -> output event
    let first_week: HashMap<&str, &str> = key
        .events
        .iter()
        .map(|(e, w)| (e.as_str(), w.as_str()))
        .collect();
    for (week, out) in weeks {
        for (section, list) in [("d", &out["developments"]), ("u", &out["updates"])] {
            for ev in list.as_array().unwrap() {
                let id = ev["id"].as_str().unwrap().to_string();
                let mut labels: BTreeMap<String, usize> = BTreeMap::new();
                for it in ev["items"].as_array().unwrap() {
                    let resolved = key.resolve(it);
                    let class = resolved
                        .as_ref()
                        .and_then(|k| key.items.get(k))
                        .map(|(c, e)| (c.as_str(), e.clone()));
                    if class.as_ref().is_some_and(|(c, _)| *c == "near_miss") {
                        near_miss += 1;
                    }
                    if section == "d" {
                        dev_items += 1;
                        if class.as_ref().is_some_and(|(c, _)| *c == "story") {
                            dev_story += 1;
                        }
                        if let Some((_, Some(e))) = &class {
                            *labels.entry(e.clone()).or_default() += 1;
                        }
                    }
                    if let Some(k) = resolved {
                        predicted.insert(k, id.clone());
                    }
                }
                if let Some((label, _)) = labels.iter().max_by_key(|(_, n)| **n) {
                    if first_week.get(label.as_str()) == Some(&week.as_str()) {
                        recalled.insert(label.clone());
                    }
                }
            }
        }
    }
    // Pairs over items that are in a key event or in an output event.
    let truth: HashMap<&String, &String> = key
        .items
        .iter()
        .filter_map(|(k, (_, e))| e.as_ref().map(|e| (k, e)))
        .collect();
    let mut universe: Vec<&String> = truth.keys().copied().collect();
    universe.extend(predicted.keys().filter(|k| !truth.contains_key(k)));
    universe.sort();
    let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
    for (i, a) in universe.iter().enumerate() {
        for b in &universe[i + 1..] {
            let same_true = matches!((truth.get(a), truth.get(b)), (Some(x), Some(y)) if x == y);
            let same_pred =
                matches!((predicted.get(*a), predicted.get(*b)), (Some(x), Some(y)) if x == y);
            match (same_true, same_pred) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fneg += 1,
                _ => {}
            }
        }
    }
    let p = tp as f64 / (tp + fp).max(1) as f64;
    let r = tp as f64 / (tp + fneg).max(1) as f64;
    Scores {
        recall: recalled.len() as f64 / key.events.len().max(1) as f64,
        precision: dev_story as f64 / dev_items.max(1) as f64,
        near_miss,
        pair_f1: if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        },
    }
}

/// Replays every week of the Llama 4 story and checks the four figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_replay_meets_the_scores() {
    let root = fixture("story-replay");
    let sources = load_sources(&root);
    let key = load_key(&root);
    let replay = Replay::start(&sources).await;
    let config = replay.config.clone();

    let mut outputs = Vec::new();
    for week in &key.weeks {
        replay.serve_week(&root.join("weeks").join(week), &sources);
        let now = poll_time(week);
        run(&config, &now, &["poll", "--all"]);
        let json = run(
            &config,
            &now,
            &["digest", "--week", week, "--format", "json", "--out", "-"],
        );
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["week"], Value::String(week.clone()));
        assert_eq!(v["story"], Value::String("llama-4".into()));
        if let Some(dump) = std::env::var_os("STORYLINE_REPLAY_DUMP") {
            let _ = std::fs::create_dir_all(&dump);
            let _ = std::fs::write(Path::new(&dump).join(format!("{week}.json")), &json);
        }
        outputs.push((week.clone(), v));
    }
    let s = score(&key, &outputs);
    println!(
        "replay: event recall {:.3}, precision {:.3}, near-miss items {}, clustering pair-F1 {:.3}",
        s.recall, s.precision, s.near_miss, s.pair_f1
    );
    assert!(s.recall >= 0.95, "event recall {:.3}", s.recall);
    assert!(s.precision >= 0.95, "precision {:.3}", s.precision);
    assert_eq!(s.near_miss, 0, "near-miss items in the output");
    assert!(s.pair_f1 >= 0.90, "clustering pair-F1 {:.3}", s.pair_f1);
}
