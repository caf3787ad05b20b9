//! What a week's report reads of an event's members: the first members of each event (for its
//! first report and headline) and the members the week shows. The report reads these instead
//! of every member up to the week's end, so it must come to the same: these pin it down on an
//! event bigger than the headline pool, with members stored out of time order.

// Test helpers panic on broken fixtures, like the tests themselves.
#![allow(clippy::unwrap_used)]

use crate::support;

use std::collections::HashMap;

use storyline::config::{Config, Origin};
use storyline::store::{DecisionRow, NewItem, ReportMember, Store, StoryBatch, UpdateRow};
use storyline::story::report::choose_headline;
use storyline::story::{self, StoryDef};
use storyline::value::week::IsoWeek;
use support::at;

const STORY: &str = "llama-4";
/// Members of the big event; more than the headline pool.
const BIG: i64 = 60;
/// First members asked for: odd, so the cut falls between two members counted at one time.
const POOL: usize = 41;

struct Fixture {
    store: Store,
    config: Config,
    /// item id -> (event, counted at)
    members: HashMap<i64, (String, i64)>,
    week: IsoWeek,
    start: i64,
    end: i64,
}

/// A big event whose members count from three weeks before the week to after it, in an order
/// unlike their ids (ties included); a small event with one old member updated in the week, one
/// updated only after it and one counted after it; and an irrelevant item.
async fn fixture(dir: &std::path::Path) -> Fixture {
    let text = format!(
        "database = \"{}\"\n[[source]]\nid = \"news\"\nurl = \"http://127.0.0.1:9/news.xml\"\n",
        dir.join("report.db").display()
    );
    let config = Config::parse(&text, Origin::File("t.toml".into())).unwrap();
    let store = Store::open(&config.database).await.unwrap();
    let now = at("2030-04-01T00:00:00Z");
    store
        .sync_sources(&config.sources, &config.fetch, now)
        .await
        .unwrap();
    let week: IsoWeek = "2030-W10".parse().unwrap();
    let (start, end) = week.range(config.timezone);
    let (start, end) = (start.timestamp(), end.timestamp());

    let words = ["Behemoth", "delay", "Scout", "weights", "license", "arena"];
    let items: Vec<NewItem> = (0..BIG + 4)
        .map(|k| NewItem {
            guid: format!("g{k}"),
            url: Some(if k % 5 == 0 {
                format!("https://www.reddit.com/r/x/comments/{k}")
            } else {
                format!("https://news.example/{k}")
            }),
            // A suffix that is not name-like: only the outlet given strips it.
            title: Some(format!(
                "Meta {} {} for Llama 4 - wire.example",
                words[(k % 6) as usize],
                words[(k * 7 % 6) as usize],
            )),
            outlet_name: Some("wire.example".into()),
            content_hash: format!("h{k}"),
            ..NewItem::default()
        })
        .collect();
    store.store_items("news", &items, now, 1000).await.unwrap();
    let rows = store.items_of_source("news").await.unwrap();
    let id = |guid: &str| rows.iter().find(|r| r.guid == guid).unwrap().id;

    let g = |k: i64| id(&format!("g{k}"));
    let hour = 3600;
    let mut decisions = Vec::new();
    let mut members = HashMap::new();
    let mut decide = |item_id: i64, event: Option<&str>, at: i64, title: &str| {
        if let Some(e) = event {
            members.insert(item_id, (e.to_string(), at));
        }
        decisions.push(DecisionRow {
            story_id: STORY.into(),
            item_id,
            relevant: event.is_some(),
            score: 1.0,
            reason: "test".into(),
            summary: String::new(),
            at,
            shown_at: at,
            seen_hash: String::new(),
            terms: format!("{}||", title.to_lowercase()),
            event_id: event.map(str::to_string),
            joined: None,
            peer_item: None,
            similarity: None,
            shared: None,
        });
    };
    for k in 0..BIG {
        // A day apart from three weeks before the week to a day after it, two to a day, out
        // of id order.
        let slot = (k * 37) % BIG / 2;
        let at = start - 21 * 24 * hour + slot * 24 * hour;
        let title = items[k as usize].title.clone().unwrap();
        decide(g(k), Some("ev-big"), at, &title);
    }
    let (old, late, after, none) = (g(BIG), g(BIG + 1), g(BIG + 2), g(BIG + 3));
    decide(old, Some("ev-small"), start - 40 * 24 * hour, "meta scout");
    decide(
        late,
        Some("ev-small"),
        start - 39 * 24 * hour,
        "meta scout again",
    );
    decide(after, Some("ev-small"), end + hour, "meta scout later");
    decide(none, None, start + hour, "");
    let updates = vec![
        UpdateRow {
            story_id: STORY.into(),
            item_id: old,
            event_id: "ev-small".into(),
            updated_at: start + 2 * hour,
            at: start + 2 * hour,
            note: Some("a paragraph was added".into()),
        },
        UpdateRow {
            story_id: STORY.into(),
            item_id: late,
            event_id: "ev-small".into(),
            updated_at: end + hour,
            at: end + hour,
            note: None,
        },
    ];
    store
        .save_story_batch(
            &StoryBatch {
                decisions,
                updates,
                ..StoryBatch::default()
            },
            now,
        )
        .await
        .unwrap();
    Fixture {
        store,
        config,
        members,
        week,
        start,
        end,
    }
}

/// Each event's first members by time then item, at most the pool, among those counted before
/// the end.
#[tokio::test]
async fn first_members_are_the_earliest_of_each_event_before_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path()).await;
    let got = f
        .store
        .story_first_members(STORY, f.end, POOL)
        .await
        .unwrap();
    let mut want: Vec<(i64, i64, String)> = f
        .members
        .iter()
        .filter(|(_, (_, at))| *at < f.end)
        .map(|(id, (e, at))| (*at, *id, e.clone()))
        .collect();
    want.sort();
    let mut kept: HashMap<String, usize> = HashMap::new();
    want.retain(|(_, _, e)| {
        let n = kept.entry(e.clone()).or_default();
        *n += 1;
        *n <= POOL
    });
    let got: Vec<(i64, i64, String)> = got
        .iter()
        .map(|m| (m.at, m.item_id, m.event_id.clone()))
        .collect();
    assert_eq!(got, want);
    assert!(f.members.values().filter(|(_, at)| *at >= f.end).count() > 0);
    assert!(
        f.members
            .values()
            .filter(|(e, at)| e == "ev-big" && *at < f.end)
            .count()
            > POOL
    );
}

/// The week shows the members counted in it and the older ones whose page changed in it.
#[tokio::test]
async fn period_members_are_the_weeks_and_the_updated() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path()).await;
    let got = f
        .store
        .story_period_members(STORY, f.start, f.end)
        .await
        .unwrap();
    let old = f
        .members
        .iter()
        .find(|(_, (e, at))| e == "ev-small" && *at < f.start - 39 * 24 * 3600)
        .map(|(id, _)| *id)
        .unwrap();
    let mut want: Vec<(i64, i64)> = f
        .members
        .iter()
        .filter(|(id, (_, at))| (f.start..f.end).contains(at) || **id == old)
        .map(|(id, (_, at))| (*at, *id))
        .collect();
    want.sort();
    let got: Vec<(i64, i64)> = got.iter().map(|m| (m.at, m.item.id)).collect();
    assert_eq!(got, want);
}

/// The report's headlines are those chosen from the whole rows of every member counted before
/// the week's end.
#[tokio::test]
async fn report_headlines_match_the_full_members() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path()).await;
    let story = StoryDef::all_from(&f.config)
        .unwrap()
        .into_iter()
        .find(|s| s.id == STORY)
        .unwrap();
    let report = story::week_report(&f.store, &story, f.week, f.config.timezone)
        .await
        .unwrap();
    let events = ["ev-big".to_string(), "ev-small".to_string()];
    let full: Vec<ReportMember> = f.store.story_event_members(STORY, &events).await.unwrap();
    for e in &events {
        let before_end: Vec<&ReportMember> = full
            .iter()
            .filter(|m| &m.event_id == e && m.at < f.end)
            .collect();
        let line = report.timeline.iter().find(|t| &t.id == e).unwrap();
        assert_eq!(line.headline, choose_headline(&before_end), "{e}");
        assert!(
            !line.headline.ends_with("wire.example"),
            "{}",
            line.headline
        );
    }
    // Both events started before the week. The small one's old member changed in it; the
    // big one's members counted in it are new reports.
    assert!(report.developments.is_empty());
    let ids: Vec<&str> = report.updates.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["ev-small", "ev-big"]);
    let small = &report.updates[0];
    assert_eq!(small.items.len(), 1);
    assert_eq!(small.items[0].guid, format!("g{BIG}"));
    // What changed is the digest's to read (weekly::gather), not part of the report's contract.
    let updates = f
        .store
        .story_updates_between(STORY, f.start, f.end)
        .await
        .unwrap();
    let notes: Vec<Option<&str>> = updates.iter().map(|u| u.note.as_deref()).collect();
    assert_eq!(notes, [Some("a paragraph was added")]);
    let in_week = f
        .members
        .values()
        .filter(|(e, at)| e == "ev-big" && (f.start..f.end).contains(at))
        .count();
    assert_eq!(report.updates[1].items.len(), in_week);
    assert!(in_week > 0);
}
