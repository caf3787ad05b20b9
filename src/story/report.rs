//! A story's week as data: the developments first reported that week, the updates of older
//! events, and the timeline so far. `storyline events --json` prints it; the digest reuses it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

use super::definition::StoryDef;
pub use super::headline::{choose_headline, is_discussion, HeadlineCandidate, HEADLINE_POOL};
use super::StoryError;
use crate::store::{from_ts, HeadlineMember, ReportMember, Store};
use crate::value::week::IsoWeek;

/// One story's week, in the JSON contract's shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekReport {
    pub story: String,
    pub week: IsoWeek,
    /// Events whose first report falls in the week.
    pub developments: Vec<EventReport>,
    /// Older events with new reports or changed pages in the week.
    pub updates: Vec<EventReport>,
    /// Every event first reported up to the end of the week, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

/// An event as a week shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventReport {
    /// Stable across weeks and runs.
    pub id: String,
    pub headline: String,
    /// The first report's time (RFC 3339 in UTC in the JSON).
    #[serde(serialize_with = "rfc3339")]
    pub first_seen: DateTime<Utc>,
    /// Developments: every item up to the end of the week. Updates: the items new or changed
    /// in the week.
    pub items: Vec<ReportItem>,
}

/// One item of an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportItem {
    /// The source's config id.
    pub source: String,
    /// The item's id as in the feed (the link when it has none; the canonical URL for pages).
    pub guid: String,
    pub url: Option<String>,
    pub title: Option<String>,
    /// Null in the JSON when the feed gives no date.
    #[serde(serialize_with = "rfc3339_or_null")]
    pub published: Option<DateTime<Utc>>,
    pub outlet: Option<String>,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub id: String,
    pub headline: String,
    /// The calendar date of the first report in the configured time zone (`YYYY-MM-DD`).
    pub date: NaiveDate,
}

/// Build the week's report from what the store holds. Headlines are chosen from the items
/// counted up to the end of the week, so a week reads the same whenever it is rendered.
pub async fn week_report(
    store: &Store,
    story: &StoryDef,
    week: IsoWeek,
    tz: chrono_tz::Tz,
) -> Result<WeekReport, StoryError> {
    let (start, end) = week.range(tz);
    period_report(store, story, week, start, end, tz).await
}

/// As [`week_report`], for any period `[start, end)` (`storyline digest --since`); `week` is
/// the label, the week the period ends in.
pub async fn period_report(
    store: &Store,
    story: &StoryDef,
    week: IsoWeek,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
    tz: chrono_tz::Tz,
) -> Result<WeekReport, StoryError> {
    let (start, end) = (start.timestamp(), end.timestamp());
    // Two narrow reads instead of every member up to the week's end: the first members of
    // each event (its first report and headline) and the members this period shows.
    let firsts = store
        .story_first_members(&story.id, end, HEADLINE_POOL)
        .await?;
    let shown = store.story_period_members(&story.id, start, end).await?;

    let mut events: BTreeMap<&str, Vec<&HeadlineMember>> = BTreeMap::new();
    for m in &firsts {
        events.entry(&m.event_id).or_default().push(m);
    }
    let mut shown_by_event: HashMap<&str, Vec<&ReportMember>> = HashMap::new();
    for m in &shown {
        shown_by_event.entry(&m.event_id).or_default().push(m);
    }
    // An event is news in the week its first member is shown (see `story::shown`), which is
    // the week of its first report unless that report reached the store after the cut.
    let mut ordered: Vec<(i64, i64, &str, &Vec<&HeadlineMember>)> = events
        .iter()
        .filter_map(|(id, ms)| {
            let first = ms.iter().map(|m| m.at).min()?;
            let shown = ms.iter().map(|m| m.shown_at).min()?;
            Some((first, shown, *id, ms))
        })
        .collect();
    ordered.sort_by(|a, b| (a.0, a.2).cmp(&(b.0, b.2)));

    let mut report = WeekReport {
        story: story.id.clone(),
        week,
        developments: Vec::new(),
        updates: Vec::new(),
        timeline: Vec::new(),
    };
    for (first, shown, id, ms) in ordered {
        let headline = choose_headline(ms);
        let first_seen = from_ts(first);
        report.timeline.push(TimelineEntry {
            id: id.to_string(),
            headline: headline.clone(),
            date: from_ts(first).with_timezone(&tz).date_naive(),
        });
        // An event first shown in the period has all its members in it, so `shown` holds
        // every item a development lists; an older event's shown members are its updates.
        let items = shown_by_event
            .get(id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if shown >= start {
            report.developments.push(EventReport {
                id: id.to_string(),
                headline,
                first_seen,
                items: items.iter().map(|m| report_item(m)).collect(),
            });
        } else if !items.is_empty() {
            report.updates.push(EventReport {
                id: id.to_string(),
                headline,
                first_seen,
                items: items.iter().map(|m| report_item(m)).collect(),
            });
        }
    }
    Ok(report)
}

fn report_item(m: &ReportMember) -> ReportItem {
    let i = &m.item;
    ReportItem {
        source: i.source_id.clone(),
        guid: i.guid.clone(),
        url: i.url.clone(),
        title: i.title.clone(),
        published: i.published(),
        outlet: i.outlet_name.clone(),
    }
}

/// The JSON contract's times: RFC 3339 in UTC, whole seconds.
fn rfc3339<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn rfc3339_or_null<S: serde::Serializer>(
    t: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}
