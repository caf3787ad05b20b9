//! Scoring a story replay's weekly digests against its answer key (the fixture's SCHEMA.md):
//! event recall, development precision, near-miss items listed, clustering pair-F1 and the
//! share of story items placed in some event. Digest items are matched to the key by
//! `source::guid`, else by URL without tracking parameters, else by title.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

pub struct KeyItem {
    pub class: String,
    pub event: Option<String>,
    pub title: String,
    pub week: String,
}

pub struct Key {
    /// "source::guid" -> the item.
    pub items: HashMap<String, KeyItem>,
    /// (event id, first week, title)
    pub events: Vec<(String, String, String)>,
    pub weeks: Vec<String>,
    by_url: HashMap<String, String>,
    by_title: HashMap<(String, String), String>,
}

fn untracked(url: &str) -> String {
    storyline::value::canon::canonical_url(url, None).unwrap_or_else(|| url.to_string())
}

/// The answer key of the set at `root`, without the items of the `dropped` sources.
pub fn load_key(root: &Path, dropped: &[String]) -> Key {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("answer_key.json")).unwrap())
            .unwrap();
    let mut items = HashMap::new();
    let mut by_url = HashMap::new();
    let mut by_title = HashMap::new();
    for (k, it) in v["items"].as_object().unwrap() {
        let source = it["source"].as_str().unwrap().to_string();
        if dropped.contains(&source) {
            continue;
        }
        let title = it["title"].as_str().unwrap_or_default().to_string();
        if let Some(link) = it["link"].as_str() {
            by_url.insert(format!("{source} {}", untracked(link)), k.clone());
        }
        by_title.insert((source, title.clone()), k.clone());
        items.insert(
            k.clone(),
            KeyItem {
                class: it["class"].as_str().unwrap().to_string(),
                event: it["event"].as_str().map(str::to_string),
                title,
                week: it["week"].as_str().unwrap().to_string(),
            },
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
                e["title"].as_str().unwrap_or_default().to_string(),
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
        by_url,
        by_title,
    }
}

impl Key {
    /// The key item a digest item is.
    pub fn resolve(&self, item: &Value) -> Option<String> {
        let src = item["source"].as_str()?;
        if let Some(guid) = item["guid"].as_str() {
            let key = format!("{src}::{guid}");
            if self.items.contains_key(&key) {
                return Some(key);
            }
        }
        if let Some(url) = item["url"].as_str() {
            if let Some(k) = self.by_url.get(&format!("{src} {}", untracked(url))) {
                return Some(k.clone());
            }
        }
        let title = item["title"].as_str()?;
        self.by_title
            .get(&(src.to_string(), title.to_string()))
            .cloned()
    }
}

#[derive(Debug)]
pub struct Scores {
    pub recall: f64,
    pub precision: f64,
    pub near_miss: usize,
    pub pair_f1: f64,
    /// Story items placed in some event (listed under developments or updates).
    pub placed: usize,
    pub story_items: usize,
    /// What went wrong, for people.
    pub diagnosis: String,
}

impl Scores {
    pub fn placed_share(&self) -> f64 {
        self.placed as f64 / self.story_items.max(1) as f64
    }

    pub fn line(&self) -> String {
        format!(
            "event recall {:.3}, precision {:.3}, near-miss items {}, clustering pair-F1 {:.3}, story items placed {}/{} ({:.3})",
            self.recall,
            self.precision,
            self.near_miss,
            self.pair_f1,
            self.placed,
            self.story_items,
            self.placed_share()
        )
    }
}

/// Score the digests of every week, `(week, digest json)`, oldest first.
pub fn score(key: &Key, weeks: &[(String, Value)]) -> Scores {
    let mut dev_items = 0usize;
    let mut dev_story = 0usize;
    let mut near_miss = 0usize;
    let mut recalled: HashSet<String> = HashSet::new();
    let mut predicted: HashMap<String, String> = HashMap::new(); // key item -> output event
    let mut headline: HashMap<String, String> = HashMap::new();
    let mut wrong: Vec<String> = Vec::new();
    let first_week: HashMap<&str, &str> = key
        .events
        .iter()
        .map(|(e, w, _)| (e.as_str(), w.as_str()))
        .collect();
    for (week, out) in weeks {
        for (section, list) in [("d", &out["developments"]), ("u", &out["updates"])] {
            for ev in list.as_array().unwrap() {
                let id = ev["id"].as_str().unwrap().to_string();
                headline.insert(id.clone(), ev["headline"].as_str().unwrap_or("").into());
                let mut labels: BTreeMap<String, usize> = BTreeMap::new();
                for it in ev["items"].as_array().unwrap() {
                    let resolved = key.resolve(it);
                    let class = resolved
                        .as_ref()
                        .and_then(|k| key.items.get(k))
                        .map(|i| (i.class.as_str(), i.event.clone()));
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
                    if class.as_ref().is_none_or(|(c, _)| *c != "story") {
                        wrong.push(format!(
                            "{week} {section} {id}: {} [{}] {}",
                            resolved.clone().unwrap_or_else(|| "unmatched".into()),
                            class.map_or("?", |c| c.0),
                            it["title"].as_str().unwrap_or("")
                        ));
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
    let truth: HashMap<&String, &String> = key
        .items
        .iter()
        .filter_map(|(k, i)| i.event.as_ref().map(|e| (k, e)))
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
    let story: Vec<&String> = key
        .items
        .iter()
        .filter(|(_, i)| i.class == "story")
        .map(|(k, _)| k)
        .collect();
    let placed = story.iter().filter(|k| predicted.contains_key(**k)).count();

    let mut d = String::new();
    for (e, w, title) in &key.events {
        let mut outs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut members: Vec<&String> = truth
            .iter()
            .filter(|(_, te)| **te == e)
            .map(|(k, _)| *k)
            .collect();
        members.sort();
        for k in members {
            outs.entry(predicted.get(k).map_or("(not placed)", String::as_str))
                .or_default()
                .push(k);
        }
        let mark = if recalled.contains(e) { "ok" } else { "MISSED" };
        let _ = writeln!(d, "{e} {w} {mark}: {title}");
        for (out, ks) in outs {
            let h = headline.get(out).map_or("", String::as_str);
            let _ = writeln!(d, "  -> {out} ({}) {h}", ks.len());
            for k in ks {
                let i = &key.items[k];
                let _ = writeln!(d, "       {} {k}: {}", i.week, i.title);
            }
        }
    }
    for w in &wrong {
        let _ = writeln!(d, "not story: {w}");
    }
    Scores {
        recall: recalled.len() as f64 / key.events.len().max(1) as f64,
        precision: dev_story as f64 / dev_items.max(1) as f64,
        near_miss,
        pair_f1: if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        },
        placed,
        story_items: story.len(),
        diagnosis: d,
    }
}
