//! Alerts over the Llama 4 replay, end to end through the real binary: for each week, the
//! week's snapshot is served on loopback, `storyline poll --all` runs at the Monday after (it
//! decides and sends alerts after the round), and `storyline digest --format json` lists the
//! week's developments. A webhook receiver and an ntfy-shaped one must each get exactly one
//! alert per development the digests list, in the poll of that development's week, with a
//! valid signature on every webhook request, and no alert whose development holds only
//! near-miss items of the answer key.
//!
//! The replay polls once a week, at Monday 09:00 UTC: a development of week W is up to
//! 7 days 9 hours old when the poll after W first sees it, hence `max_age = "7d 9h"`.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;
use support::alert_sink::{AlertSink, Received};
use support::fixture;
use support::replay::{load_sources, poll_time, run_with_env, Replay};

const SECRET: &str = "replay-hook-secret-0123456789abcdef";
/// Developments in the answer key; the story engine finding exactly these is tests/it/replay.rs's
/// concern.
const KEY_DEVELOPMENTS: usize = 10;

fn answer_key() -> (Vec<String>, HashMap<String, String>) {
    let root = fixture("story-replay");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("answer_key.json")).unwrap())
            .unwrap();
    let weeks = v["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    let classes = v["items"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, it)| (k.clone(), it["class"].as_str().unwrap().to_string()))
        .collect();
    (weeks, classes)
}

/// The alert requests a receiver got since it had `from`.
fn since(sink: &AlertSink, from: usize) -> Vec<Received> {
    sink.received().split_off(from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replay_alerts_once_per_development_and_never_for_near_misses() {
    let root = fixture("story-replay");
    let sources = load_sources(&root);
    let (weeks, classes) = answer_key();
    let hook = AlertSink::start().await;
    let ntfy = AlertSink::start_ntfy().await;
    let extra = format!(
        "[web]\nbase_url = \"https://news.example.org/\"\n\
         [[alert]]\nid = \"hook\"\nstory = \"llama-4\"\nkind = \"webhook\"\nurl = \"{}\"\n\
         secret_env = \"REPLAY_HOOK_SECRET\"\nmax_age = \"7d 9h\"\n\
         [[alert]]\nid = \"phone\"\nstory = \"llama-4\"\nkind = \"ntfy\"\nurl = \"{}\"\n\
         max_age = \"7d 9h\"\n",
        hook.url("/hooks/storyline"),
        ntfy.url("/llama-news")
    );
    let replay = Replay::start_with(&sources, &extra).await;
    let env = [("REPLAY_HOOK_SECRET", SECRET)];

    // development id -> (week, its items as "source::guid")
    let mut developments: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    // development id -> week its webhook alert arrived in
    let mut alerted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut ntfy_per_week: Vec<(String, usize, usize)> = Vec::new();
    for week in &weeks {
        replay.serve_week(&root.join("weeks").join(week), &sources);
        let now = poll_time(week);
        let (h0, n0) = (hook.count(), ntfy.count());
        run_with_env(&replay.config, &now, &["poll", "--all"], &env);
        let json = run_with_env(
            &replay.config,
            &now,
            &["digest", "--week", week, "--format", "json", "--out", "-"],
            &env,
        );
        let v: Value = serde_json::from_str(&json).unwrap();
        let mut this_week = BTreeSet::new();
        for d in v["developments"].as_array().unwrap() {
            let items = d["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    format!(
                        "{}::{}",
                        i["source"].as_str().unwrap(),
                        i["guid"].as_str().unwrap()
                    )
                })
                .collect();
            let id = d["id"].as_str().unwrap().to_string();
            this_week.insert(id.clone());
            developments.insert(id, (week.clone(), items));
        }
        for r in since(&hook, h0) {
            let id = r.json()["event"]["id"].as_str().unwrap().to_string();
            alerted.entry(id).or_default().push(week.clone());
        }
        ntfy_per_week.push((week.clone(), ntfy.count() - n0, this_week.len()));
    }

    // (a) Exactly one webhook alert per development the digests list, in its week's poll.
    let got = hook.received();
    let listed: BTreeSet<&String> = developments.keys().collect();
    let sent: BTreeSet<&String> = alerted.keys().collect();
    println!(
        "alerts over the replay: {} developments listed by the digests, {} alerted by webhook, \
         {} by ntfy (the answer key has {KEY_DEVELOPMENTS})",
        listed.len(),
        got.len(),
        ntfy.count()
    );
    assert_eq!(
        sent, listed,
        "alerted developments vs the digests' developments"
    );
    for (id, weeks) in &alerted {
        assert_eq!(weeks.len(), 1, "{id} alerted {} times", weeks.len());
        assert_eq!(
            weeks[0], developments[id].0,
            "{id} alerted in another week's poll"
        );
    }
    assert_eq!(got.len(), listed.len());
    let keys: BTreeSet<_> = got
        .iter()
        .map(|r| r.header("idempotency-key").unwrap())
        .collect();
    assert_eq!(keys.len(), got.len(), "one key per alert");
    for r in &got {
        assert!(
            r.signature_is_valid(SECRET),
            "bad signature: {:?}",
            r.header("storyline-signature")
        );
        let v = r.json();
        assert_eq!(v["type"], "development");
        assert_eq!(
            v["story"]["url"],
            "https://news.example.org/stories/llama-4"
        );
        assert!(!v["event"]["outlets"].as_array().unwrap().is_empty());
        assert!(v["event"]["headline"]
            .as_str()
            .is_some_and(|h| !h.is_empty()));
    }

    // The ntfy receiver: one per development too, week by week, shaped like ntfy.
    for (week, n, listed) in &ntfy_per_week {
        assert_eq!(n, listed, "ntfy alerts in {week}'s poll");
    }
    let phone = ntfy.received();
    let seq: BTreeSet<_> = phone
        .iter()
        .map(|r| r.header("x-sequence-id").unwrap())
        .collect();
    assert_eq!(seq.len(), phone.len());
    for r in &phone {
        assert_eq!(r.method, "POST");
        assert!(r.header("title").is_some_and(|t| !t.is_empty()));
        assert_eq!(r.header("tags"), Some("newspaper,llama-4"));
        assert!(r.header("click").is_some_and(|c| c.starts_with("http")));
        assert!(
            r.text().contains("Meta's Llama 4 release: new development"),
            "{}",
            r.text()
        );
    }

    // (b) No alert for a development made only of near-miss items; count any near-miss item.
    let mut near_miss_items = 0;
    for r in &got {
        let v = r.json();
        let items: Vec<String> = v["event"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                format!(
                    "{}::{}",
                    i["source"].as_str().unwrap(),
                    i["guid"].as_str().unwrap()
                )
            })
            .collect();
        let near: Vec<&String> = items
            .iter()
            .filter(|k| classes.get(*k).map(String::as_str) == Some("near_miss"))
            .collect();
        near_miss_items += near.len();
        assert!(
            near.len() < items.len(),
            "an alert for near-miss items only: {}",
            v["event"]["headline"]
        );
    }
    println!("near-miss items in alerts: {near_miss_items}");

    // Every delivery is recorded as sent, and listed.
    let list = run_with_env(
        &replay.config,
        &poll_time(weeks.last().unwrap()),
        &["alerts", "list", "--json", "--limit", "1000"],
        &env,
    );
    let v: Value = serde_json::from_str(&list).unwrap();
    let rows = v["deliveries"].as_array().unwrap();
    assert_eq!(rows.len(), got.len() + phone.len());
    assert!(
        rows.iter()
            .all(|r| r["state"] == "sent" && r["attempts"] == 1),
        "{list}"
    );
    assert!(rows
        .iter()
        .all(|r| r["headline"].as_str().is_some_and(|h| !h.is_empty())));
}
