//! The digest of a week bigger than it shows. `weekly::gather` streams the week's members once
//! and keeps only what the digest lists (the most covered developments and updates, the latest
//! earlier timeline lines, one excerpt text per development); composition keeps the same from
//! a whole week. So the digest must come out the same as from the straightforward path (the
//! complete week report, every item with its text, turned into a digest input as it used to
//! be), and the JSON and text reports written as they are read must be the bytes of the whole
//! report's.

// Test helpers panic on broken fixtures, like the tests themselves.
#![allow(clippy::unwrap_used)]

use crate::support;

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use storyline::config::{Config, Origin};
use storyline::digest::compose::{TOP_DEVELOPMENTS, TOP_DISCUSSIONS, TOP_UPDATES};
use storyline::digest::history::TIMELINE_MAX;
use storyline::digest::tally::MAX_EXCERPT_CANDIDATES;
use storyline::digest::{
    compose, render, DigestInput, DiscussionIn, EventIn, ItemIn, Tally, Templates, TimelineIn,
    Unlisted, UpdateIn,
};
use storyline::store::{DecisionRow, ItemRow, NewItem, Store, StoryBatch, UpdateRow};
use storyline::story::report::{is_discussion, EventReport, ReportItem, WeekReport};
use storyline::story::{self, StoryDef};
use storyline::value::week::IsoWeek;
use support::at;

const STORY: &str = "llama-4";
/// Development events in the week: more than the digest lists.
const DEVELOPMENTS: usize = TOP_DEVELOPMENTS + 15;
/// Older events with new reports in the week.
const UPDATED: usize = TOP_UPDATES + 5;
/// Events before the week with nothing new in it.
const EARLIER: usize = TIMELINE_MAX + 10;

struct Fixture {
    store: Store,
    config: Config,
    story: StoryDef,
    week: IsoWeek,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// An item and where it goes: its event, when it counts and when it is shown.
struct Planned {
    source: &'static str,
    item: NewItem,
    event: String,
    at: i64,
    shown_at: i64,
}

fn item(guid: String, url: String, title: String, published: Option<i64>) -> NewItem {
    NewItem {
        content_hash: format!("h-{guid}"),
        guid,
        url: Some(url),
        title: Some(title),
        published_at: published.map(|t| Utc.timestamp_opt(t, 0).unwrap()),
        ..NewItem::default()
    }
}

/// A week of 2030-W10 in New York: developments of every size (one with more members than
/// the headline pool and more outlets than a development lists, aggregator summaries that
/// only repeat the title, undated items, ties), one told late, older events with new
/// reports, a changed page, Hacker News threads with comments (one of an older event), and
/// earlier events enough to fill the timeline.
async fn fixture(dir: &std::path::Path) -> Fixture {
    let text = format!(
        "database = \"{}\"\ntimezone = \"America/New_York\"\n\
         [[source]]\nid = \"news\"\nurl = \"http://127.0.0.1:9/news.xml\"\n\
         [[source]]\nid = \"hn\"\nurl = \"http://127.0.0.1:9/hn.xml\"\n",
        dir.join("week.db").display()
    );
    let config = Config::parse(&text, Origin::File("t.toml".into())).unwrap();
    let store = Store::open(&config.database).await.unwrap();
    let now = at("2030-04-01T00:00:00Z");
    store
        .sync_sources(&config.sources, &config.fetch, now)
        .await
        .unwrap();
    let story = StoryDef::all_from(&config)
        .unwrap()
        .into_iter()
        .find(|s| s.id == STORY)
        .unwrap();
    let week: IsoWeek = "2030-W10".parse().unwrap();
    let (start, end) = week.range(config.timezone);
    let (s, e) = (start.timestamp(), end.timestamp());
    let hour = 3600;
    let mut plan: Vec<Planned> = Vec::new();
    let mut add = |source, item, event: String, at: i64, shown_at: i64| {
        plan.push(Planned {
            source,
            item,
            event,
            at,
            shown_at,
        });
    };

    for k in 0..DEVELOPMENTS {
        let members = if k == 0 { 50 } else { 1 + (k * 7) % 9 };
        for n in 0..members {
            // Every fourth development comes from one outlet: many reports, few outlets.
            let outlet = if k % 4 == 1 { 5 } else { (k + n * 3) % 31 };
            let at = s + (k as i64 * 3 + n as i64 / 2) * hour;
            let guid = format!("d{k}-{n}");
            let title = format!("Llama 4 development {k} told by outlet {outlet}, report {n}");
            let mut it = item(
                guid.clone(),
                format!("https://o{outlet}.example/{guid}"),
                title.clone(),
                (n % 4 != 3).then_some(at),
            );
            it.outlet_name = (n % 2 == 0).then(|| format!("Outlet {outlet}"));
            it.summary = match n % 3 {
                // An aggregator's summary: the title again.
                0 => Some(format!("<p>{title}</p>")),
                1 => Some(format!(
                    "<p>Meta said on day {k} that the model ships with more languages. \
                     Researchers had asked for it since spring. A third sentence.</p>"
                )),
                _ => None,
            };
            // The last development is told late: reported the week before, placed after
            // that week was cut.
            let (at, shown) = if k == DEVELOPMENTS - 1 {
                (s - 30 * hour + n as i64, s + 2 * hour)
            } else {
                (at, at)
            };
            add("news", it, format!("ev-d{k:02}"), at, shown);
        }
    }
    for k in 0..UPDATED {
        let event = format!("ev-u{k:02}");
        for n in 0..2 {
            let at = s - (10 + k as i64) * 24 * hour + n * hour;
            let guid = format!("u{k}-old{n}");
            let it = item(
                guid.clone(),
                format!("https://old{n}.example/{guid}"),
                format!("Older Llama 4 event {k}, first report {n}"),
                Some(at),
            );
            // One old member reaches the store only in the week, after its week was cut.
            let shown = if k == 1 && n == 1 { s + 5 * hour } else { at };
            add("news", it, event.clone(), at, shown);
        }
        for n in 0..(k % 3) + 1 {
            let at = s + (k as i64 * 2 + 1) * hour + n as i64;
            let guid = format!("u{k}-new{n}");
            let it = item(
                guid.clone(),
                format!("https://new{}.example/{guid}", (k + n) % 4),
                format!("Llama 4 event {k} follow-up {n}"),
                Some(at),
            );
            add("news", it, event.clone(), at, at);
        }
    }
    for k in 0..EARLIER {
        let at = s - (40 + k as i64) * 6 * hour;
        let guid = format!("e{k}");
        let it = item(
            guid.clone(),
            format!("https://early.example/{guid}"),
            format!("Early Llama 4 news number {k}"),
            Some(at),
        );
        add("news", it, format!("ev-e{k:03}"), at, at);
    }
    // After the week: in no list of it.
    let after = item(
        "late".into(),
        "https://early.example/late".into(),
        "Llama 4 after the week".into(),
        Some(e + hour),
    );
    add("news", after, "ev-after".into(), e + hour, e + hour);
    // Hacker News threads in developments, and one of an older event with comments this week.
    for t in 0..8usize {
        let (event, at) = if t == 7 {
            ("ev-u03".to_string(), s - 12 * 24 * hour)
        } else {
            (format!("ev-d{:02}", t + 1), s + (t as i64 * 5 + 2) * hour)
        };
        let mut it = item(
            format!("https://news.ycombinator.com/item?id={t}"),
            format!("https://o{t}.example/d{}-0", t + 1),
            format!("Llama 4 thread {t}"),
            Some(at),
        );
        it.points = (t % 3 != 0).then_some(100 - (t as i64 % 4) * 10);
        it.comments = (t % 2 == 0).then_some(t as i64 * 3);
        it.discussion_url = Some(format!("https://news.ycombinator.com/item?id={t}"));
        add("hn", it, event.clone(), at, at);
        for c in 0..(t % 3) {
            let at = s + (t as i64 + c as i64) * hour + 30;
            let mut comment = item(
                format!("c{t}-{c}"),
                format!("https://news.ycombinator.com/item?id={t}{c}"),
                format!("Comment {c} on thread {t}"),
                Some(at),
            );
            comment.parent_guid = Some(format!("https://news.ycombinator.com/item?id={t}"));
            add("hn", comment, event.clone(), at, at);
        }
    }

    for source in ["news", "hn"] {
        let items: Vec<NewItem> = plan
            .iter()
            .filter(|p| p.source == source)
            .map(|p| p.item.clone())
            .collect();
        store
            .store_items(source, &items, now, 100_000)
            .await
            .unwrap();
    }
    let mut ids = HashMap::new();
    for source in ["news", "hn"] {
        for r in store.items_of_source(source).await.unwrap() {
            ids.insert((source, r.guid.clone()), r.id);
        }
    }
    let decisions = plan
        .iter()
        .map(|p| DecisionRow {
            story_id: STORY.into(),
            item_id: ids[&(p.source, p.item.guid.clone())],
            relevant: true,
            score: 1.0,
            reason: "test".into(),
            summary: String::new(),
            at: p.at,
            shown_at: p.shown_at,
            seen_hash: p.item.content_hash.clone(),
            terms: format!(
                "{}||",
                p.item.title.clone().unwrap_or_default().to_lowercase()
            ),
            event_id: Some(p.event.clone()),
            joined: None,
            peer_item: None,
            similarity: None,
            shared: None,
        })
        .collect();
    let update = |guid: &str, at: i64, note: Option<&str>| UpdateRow {
        story_id: STORY.into(),
        item_id: ids[&("news", guid.to_string())],
        event_id: "ev-u00".into(),
        updated_at: at,
        at,
        note: note.map(str::to_string),
    };
    let updates = vec![
        update("u0-old0", s + 3 * hour, Some("a paragraph was added")),
        update("u0-old1", s + 4 * hour, None),
        // Changed again: the week tells the last change.
        update("u0-old0", s + 6 * hour, Some("2 paragraphs added")),
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
        story,
        week,
        start,
        end,
    }
}

/// What the digest reads beside the report for each of its items, straight from the store: the
/// stored row, the time it counts at, and a page update's note.
struct Stored {
    rows: HashMap<(String, String), (ItemRow, i64)>,
    notes: HashMap<i64, Option<String>>,
}

impl Stored {
    async fn read(f: &Fixture, start: DateTime<Utc>, end: DateTime<Utc>) -> Stored {
        let (from, until) = (start.timestamp(), end.timestamp());
        let members = f
            .store
            .story_period_members(&f.story.id, from, until)
            .await
            .unwrap();
        let updates = f
            .store
            .story_updates_between(&f.story.id, from, until)
            .await
            .unwrap();
        Stored {
            rows: members
                .into_iter()
                .map(|m| {
                    (
                        (m.item.source_id.clone(), m.item.guid.clone()),
                        (m.item, m.at),
                    )
                })
                .collect(),
            notes: updates.into_iter().map(|u| (u.item_id, u.note)).collect(),
        }
    }

    fn row(&self, i: &ReportItem) -> &ItemRow {
        &self.rows[&(i.source.clone(), i.guid.clone())].0
    }

    fn at(&self, i: &ReportItem) -> i64 {
        self.rows[&(i.source.clone(), i.guid.clone())].1
    }

    fn change(&self, i: &ReportItem) -> Option<&str> {
        self.notes.get(&self.row(i).id)?.as_deref()
    }
}

/// The digest input of a whole week report, as the digest was gathered before it streamed.
fn straightforward(report: &WeekReport, stored: &Stored, like: &DigestInput) -> DigestInput {
    let tz = like.timezone;
    let (start, end) = (like.week_start.timestamp(), like.week_end.timestamp());
    DigestInput {
        developments: report
            .developments
            .iter()
            .map(|e| event_in(e, stored))
            .collect(),
        updates: report
            .updates
            .iter()
            .map(|e| update_in(e, stored))
            .collect(),
        discussions: discussions(report, stored, start, end),
        timeline: report
            .timeline
            .iter()
            .map(|t| TimelineIn {
                id: t.id.clone(),
                headline: t.headline.clone(),
                date: local_midnight(&t.date.to_string(), tz).unwrap_or(like.week_start),
            })
            .collect(),
        unlisted: Unlisted::default(),
        ..like.clone()
    }
}

fn item_in(i: &ReportItem, stored: &Stored) -> ItemIn {
    let row = stored.row(i);
    ItemIn {
        source: i.source.clone(),
        guid: i.guid.clone(),
        url: i.url.clone(),
        title: i.title.clone(),
        published: i.published,
        outlet: i.outlet.clone(),
        summary_html: row.summary.clone().or_else(|| row.content.clone()),
    }
}

fn event_in(e: &EventReport, stored: &Stored) -> EventIn {
    EventIn {
        id: e.id.clone(),
        headline: e.headline.clone(),
        first_seen: e.first_seen,
        reports: Tally::of(e.items.iter().map(|i| item_in(i, stored)).collect()),
    }
}

fn update_in(e: &EventReport, stored: &Stored) -> UpdateIn {
    let changed: Vec<&str> = e.items.iter().filter_map(|i| stored.change(i)).collect();
    let what = match changed.first() {
        Some(note) => format!("page updated: {note}"),
        None if e.items.len() == 1 => "1 new report".to_string(),
        None => format!("{} new reports", e.items.len()),
    };
    UpdateIn {
        event_id: e.id.clone(),
        headline: e.headline.clone(),
        what,
        when: e
            .items
            .iter()
            .map(|i| Utc.timestamp_opt(stored.at(i), 0).unwrap())
            .max()
            .unwrap(),
        reports: Tally::of(e.items.iter().map(|i| item_in(i, stored)).collect()),
    }
}

fn discussions(report: &WeekReport, stored: &Stored, start: i64, end: i64) -> Vec<DiscussionIn> {
    let all: Vec<&ReportItem> = report
        .developments
        .iter()
        .chain(&report.updates)
        .flat_map(|e| &e.items)
        .collect();
    let mut comments: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
    for c in all.iter().filter(|i| stored.row(i).parent_guid.is_some()) {
        let parent = stored.row(c).parent_guid.as_deref().unwrap();
        let entry = comments.entry((c.source.as_str(), parent)).or_default();
        entry.0 += 1;
        if (start..end).contains(&stored.at(c)) {
            entry.1 += 1;
        }
    }
    all.iter()
        .filter(|i| stored.row(i).parent_guid.is_none() && is_discussion(stored.row(i)))
        .filter(|i| {
            (start..end).contains(&stored.at(i))
                || comments
                    .get(&(i.source.as_str(), i.guid.as_str()))
                    .is_some_and(|c| c.1 > 0)
        })
        .map(|i| {
            let row = stored.row(i);
            let (stored_count, fresh) = comments
                .get(&(i.source.as_str(), i.guid.as_str()))
                .copied()
                .unwrap_or_default();
            let url = row
                .discussion_url
                .clone()
                .or_else(|| i.url.clone())
                .unwrap_or_else(|| i.guid.clone());
            DiscussionIn {
                title: i.title.clone().unwrap_or_default(),
                site: site_name(&url),
                url,
                points: row.points,
                comments: row.comments.or((stored_count > 0).then_some(stored_count)),
                new_comments: fresh,
            }
        })
        .collect()
}

fn site_name(url: &str) -> String {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    match storyline::forum::Forum::from_host(&host) {
        Some(forum) => forum.name().into(),
        None => host.trim_start_matches("www.").to_string(),
    }
}

fn local_midnight(date: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Both paths over the period `[start, end)`: (bounded input, straightforward input, report).
async fn both(
    f: &Fixture,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> (DigestInput, DigestInput, WeekReport) {
    let now = end + Duration::hours(9);
    let bounded =
        storyline::weekly::gather(&f.store, &f.config, &f.story, f.week, (start, end), now)
            .await
            .unwrap();
    let report = story::period_report(&f.store, &f.story, f.week, start, end, f.config.timezone)
        .await
        .unwrap();
    let stored = Stored::read(f, start, end).await;
    let full = straightforward(&report, &stored, &bounded);
    (bounded, full, report)
}

#[tokio::test]
async fn a_big_week_reads_the_same_through_the_bounded_path() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path()).await;
    let templates = Templates::embedded().unwrap();
    // The week, and a period inside it (`digest --since`).
    for (start, end) in [
        (f.start, f.end),
        (f.start + Duration::days(2), f.start + Duration::days(5)),
    ] {
        let (bounded, full, _) = both(&f, start, end).await;
        let (a, b) = (compose(&bounded), compose(&full));
        assert_eq!(a, b);
        let (ra, rb) = (
            render(&a, &templates).unwrap(),
            render(&b, &templates).unwrap(),
        );
        assert_eq!(ra.html, rb.html);
        assert_eq!(ra.text, rb.text);
    }
    // The week is bigger than the digest in every direction, so every cut was made.
    let (bounded, _, _) = both(&f, f.start, f.end).await;
    let d = compose(&bounded);
    assert_eq!(d.developments.len(), TOP_DEVELOPMENTS);
    assert_eq!(d.more_developments, DEVELOPMENTS - TOP_DEVELOPMENTS);
    assert_eq!(d.updates.len(), TOP_UPDATES);
    assert_eq!(d.more_updates, UPDATED - TOP_UPDATES);
    assert_eq!(d.timeline.len(), TIMELINE_MAX);
    assert!(d.more_timeline > 0);
    assert!(d.developments.iter().any(|d| d.more_outlets > 0));
    assert!(!d.discussions.is_empty());
    assert!(d
        .developments
        .iter()
        .any(|d| d.id == format!("ev-d{:02}", DEVELOPMENTS - 1)));
    assert!(d
        .updates
        .iter()
        .any(|u| u.what == "Page updated: 2 paragraphs added"));
    let text = render(&d, &templates).unwrap().text;
    assert!(text.contains("more developments this week"), "{text}");
    assert!(text.contains("earlier developments not listed"), "{text}");
}

/// What the bounded path hands to composition is what the digest shows, not the week: the
/// listed events with at most the excerpt candidates of each and one text among them.
#[tokio::test]
async fn the_digest_keeps_only_what_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path()).await;
    let (bounded, _, report) = both(&f, f.start, f.end).await;
    assert_eq!(report.developments.len(), DEVELOPMENTS);
    assert_eq!(report.updates.len(), UPDATED);
    let week_items: usize = report
        .developments
        .iter()
        .chain(&report.updates)
        .map(|e| e.items.len())
        .sum();
    assert!(week_items > 200, "{week_items}");

    assert_eq!(bounded.developments.len(), TOP_DEVELOPMENTS);
    assert_eq!(
        bounded.unlisted.developments,
        DEVELOPMENTS - TOP_DEVELOPMENTS
    );
    assert_eq!(bounded.updates.len(), TOP_UPDATES);
    assert_eq!(bounded.unlisted.updates, UPDATED - TOP_UPDATES);
    assert!(bounded.discussions.len() <= TOP_DISCUSSIONS);
    assert!(bounded.timeline.len() <= TIMELINE_MAX);
    assert_eq!(
        bounded.timeline.len() + bounded.unlisted.timeline,
        report.timeline.len() - (DEVELOPMENTS - TOP_DEVELOPMENTS)
    );
    let big = bounded
        .developments
        .iter()
        .find(|d| d.id == "ev-d00")
        .unwrap();
    assert_eq!(big.reports.count, 50);
    let mut held = 0;
    for e in &bounded.developments {
        assert!(e.reports.first.len() <= MAX_EXCERPT_CANDIDATES);
        let texts = e
            .reports
            .first
            .iter()
            .filter(|i| i.summary_html.is_some())
            .count();
        assert!(texts <= 1, "{}: {texts} texts held", e.id);
        held += e.reports.first.len();
    }
    for u in &bounded.updates {
        assert!(u.reports.first.iter().all(|i| i.summary_html.is_none()));
        held += u.reports.first.len();
    }
    assert!(held < week_items, "{held} of {week_items} items held");
}

/// The JSON report, written as it is read, is byte for byte the whole report serialized.
#[tokio::test]
async fn the_json_report_streams_the_whole_report() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path()).await;
    for (start, end) in [
        (f.start, f.end),
        (f.start + Duration::days(2), f.start + Duration::days(5)),
        (f.end, f.end + Duration::days(7)),
    ] {
        let report =
            story::period_report(&f.store, &f.story, f.week, start, end, f.config.timezone)
                .await
                .unwrap();
        let mut streamed = Vec::new();
        story::week_json::write_period(
            &f.store,
            &f.story,
            f.week,
            (start, end),
            f.config.timezone,
            &mut streamed,
        )
        .await
        .unwrap();
        let whole = serde_json::to_vec_pretty(&report).unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(whole).unwrap()
        );
    }
}

/// The week as `storyline events` printed it from the whole report.
fn whole_text(f: &Fixture, r: &WeekReport, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    use std::fmt::Write as _;
    let tz = f.config.timezone;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({}), week {} ({} to {})",
        f.story.title,
        f.story.id,
        r.week,
        start.with_timezone(&tz).format("%Y-%m-%d"),
        (end - Duration::seconds(1))
            .with_timezone(&tz)
            .format("%Y-%m-%d")
    );
    for (label, events) in [("Developments", &r.developments), ("Updates", &r.updates)] {
        let _ = writeln!(s, "\n{label} ({})", events.len());
        for e in events {
            let _ = writeln!(
                s,
                "  {}  {}  {}",
                e.id,
                e.first_seen.format("%Y-%m-%d"),
                e.headline
            );
            for i in &e.items {
                let title = i.title.as_deref().unwrap_or("(untitled)");
                let _ = writeln!(s, "      {:<18} {}", i.source, title);
            }
        }
    }
    let _ = writeln!(s, "\nTimeline ({})", r.timeline.len());
    for t in &r.timeline {
        let _ = writeln!(s, "  {}  {}  {}", t.date, t.id, t.headline);
    }
    s
}

/// The text report (`storyline events`), written as it is read with its counts taken in SQL,
/// is the text of the whole report.
#[tokio::test]
async fn the_text_report_streams_the_whole_report() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(dir.path()).await;
    for (start, end) in [
        (f.start, f.end),
        (f.start + Duration::days(2), f.start + Duration::days(5)),
        (f.end, f.end + Duration::days(7)),
    ] {
        let report =
            story::period_report(&f.store, &f.story, f.week, start, end, f.config.timezone)
                .await
                .unwrap();
        let mut streamed = Vec::new();
        story::week_text::write_period(
            &f.store,
            &f.story,
            f.week,
            (start, end),
            f.config.timezone,
            &mut streamed,
        )
        .await
        .unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            whole_text(&f, &report, start, end)
        );
    }
}
