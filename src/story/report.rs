//! A story's week as data: the developments first reported that week, the updates of older
//! events, and the timeline so far. `storyline events --json` prints it; the digest reuses it.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::SecondsFormat;
use serde::Serialize;

use super::cluster::Terms;
use super::definition::StoryDef;
use super::text::strip_outlet_suffix;
use super::StoryError;
use crate::store::{from_ts, HeadlineMember, ItemRow, ReportMember, Store};
use crate::value::week::IsoWeek;

/// How many of an event's first items compete for its headline.
pub const HEADLINE_POOL: usize = 40;

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
    /// The first report's time, RFC 3339 in UTC.
    pub first_seen: String,
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
    /// RFC 3339 in UTC, or null when the feed gives no date.
    pub published: Option<String>,
    pub outlet: Option<String>,
    /// The stored row and the time it counts at, for the digest (not part of the contract).
    #[serde(skip)]
    pub row: ItemRow,
    #[serde(skip)]
    pub at: i64,
    /// What changed, when this item is a page update in the week.
    #[serde(skip)]
    pub change: Option<String>,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub id: String,
    pub headline: String,
    /// The calendar date of the first report in the configured time zone, `YYYY-MM-DD`.
    pub date: String,
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
    let updates = store.story_updates_between(&story.id, start, end).await?;
    let updated: HashMap<i64, Option<String>> = updates
        .iter()
        .map(|u| (u.item_id, u.note.clone()))
        .collect();

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
        let first_seen = from_ts(first).to_rfc3339_opts(SecondsFormat::Secs, true);
        report.timeline.push(TimelineEntry {
            id: id.to_string(),
            headline: headline.clone(),
            date: from_ts(first)
                .with_timezone(&tz)
                .format("%Y-%m-%d")
                .to_string(),
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
                items: items.iter().map(|m| report_item(m, None)).collect(),
            });
        } else if !items.is_empty() {
            report.updates.push(EventReport {
                id: id.to_string(),
                headline,
                first_seen,
                items: items
                    .iter()
                    .map(|m| report_item(m, updated.get(&m.item.id).cloned().flatten()))
                    .collect(),
            });
        }
    }
    Ok(report)
}

fn report_item(m: &ReportMember, change: Option<String>) -> ReportItem {
    let i = &m.item;
    ReportItem {
        source: i.source_id.clone(),
        guid: i.guid.clone(),
        url: i.url.clone(),
        title: i.title.clone(),
        published: i
            .published()
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true)),
        outlet: i.outlet_name.clone(),
        row: i.clone(),
        at: m.at,
        change,
    }
}

/// Is this item a discussion of news (Reddit, HN) rather than a report?
pub fn is_discussion(i: &ItemRow) -> bool {
    looks_like_discussion(
        i.parent_guid.is_some() || i.points.is_some() || i.comments.is_some(),
        i.discussion_url.is_some(),
        i.url.as_deref(),
        &i.guid,
    )
}

/// [`is_discussion`] over the fields themselves, for rows that carry only those.
fn looks_like_discussion(
    thread_fields: bool,
    has_discussion_url: bool,
    url: Option<&str>,
    guid: &str,
) -> bool {
    // Items on a forum's host are discussions of news rather than news.
    let host_is_discussion = |u: &str| crate::forum::Forum::from_link(u).is_some();
    thread_fields
        || has_discussion_url
        || url.is_some_and(host_is_discussion)
        || host_is_discussion(guid)
}

/// What choosing a headline reads of an event member: processing has whole item rows at hand,
/// a report only the narrow rows it loads for this.
pub trait HeadlineCandidate {
    /// Time it counts at, then item id: the order "first reports" follow.
    fn order(&self) -> (i64, i64);
    fn title(&self) -> Option<&str>;
    fn outlet(&self) -> Option<&str>;
    /// Encoded clustering words ([`Terms::decode`]).
    fn terms(&self) -> &str;
    fn is_discussion(&self) -> bool;
}

impl HeadlineCandidate for ReportMember {
    fn order(&self) -> (i64, i64) {
        (self.at, self.item.id)
    }
    fn title(&self) -> Option<&str> {
        self.item.title.as_deref()
    }
    fn outlet(&self) -> Option<&str> {
        self.item.outlet_name.as_deref()
    }
    fn terms(&self) -> &str {
        &self.terms
    }
    fn is_discussion(&self) -> bool {
        is_discussion(&self.item)
    }
}

impl HeadlineCandidate for HeadlineMember {
    fn order(&self) -> (i64, i64) {
        (self.at, self.item_id)
    }
    fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    fn outlet(&self) -> Option<&str> {
        self.outlet_name.as_deref()
    }
    fn terms(&self) -> &str {
        &self.terms
    }
    fn is_discussion(&self) -> bool {
        looks_like_discussion(
            self.parent_guid.is_some() || self.points.is_some() || self.comments.is_some(),
            self.discussion_url.is_some(),
            self.url.as_deref(),
            &self.guid,
        )
    }
}

/// The most informative title of an event: a report's title over a discussion's, the one
/// sharing most words with the others, not a question, not release-note shorthand; earliest
/// on ties. The " - Outlet" suffix goes.
pub fn choose_headline<M: HeadlineCandidate>(members: &[&M]) -> String {
    // The first reports name the event; comparing all of a huge event's items pairwise
    // would cost its size squared.
    let mut first: Vec<&M> = members.to_vec();
    first.sort_by_key(|m| m.order());
    first.truncate(HEADLINE_POOL);
    let titled: Vec<(&M, &str, Terms)> = first
        .iter()
        .filter_map(|m| {
            let t = m.title()?.trim();
            (!t.is_empty()).then(|| (*m, t, Terms::decode(m.terms())))
        })
        .collect();
    let reports: Vec<usize> = (0..titled.len())
        .filter(|&i| !titled[i].0.is_discussion())
        .collect();
    let pool: Vec<usize> = if reports.is_empty() {
        (0..titled.len()).collect()
    } else {
        reports
    };
    let mut best: Option<(f32, usize)> = None;
    for &i in &pool {
        let (_, title, terms) = &titled[i];
        let mine: HashSet<&String> = terms.title.iter().collect();
        let others = titled.len().saturating_sub(1).max(1) as f32;
        let centrality: f32 = titled
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, (_, _, t))| {
                let theirs: HashSet<&String> = t.title.iter().collect();
                let union = mine.union(&theirs).count().max(1) as f32;
                mine.intersection(&theirs).count() as f32 / union
            })
            .sum::<f32>()
            / others;
        let score = centrality - title_penalty(title);
        if best.is_none_or(|(b, _)| score > b + 1e-6) {
            best = Some((score, i));
        }
    }
    match best {
        Some((_, i)) => strip_outlet_suffix(titled[i].1, titled[i].0.outlet()).to_string(),
        None => "(untitled)".to_string(),
    }
}

fn title_penalty(title: &str) -> f32 {
    let lower = title.to_ascii_lowercase();
    let mut p = 0.0;
    if title.trim_end().ends_with('?') {
        p += 0.15;
    }
    if ["show hn:", "ask hn:", "tell hn:", "off-topic", "meta:"]
        .iter()
        .any(|s| lower.starts_with(s))
    {
        p += 0.3;
    }
    // Release-note shorthand: "v0.2.1: fixes".
    let head = lower.split(':').next().unwrap_or_default();
    if lower.contains(':')
        && head.starts_with('v')
        && head[1..].chars().all(|c| c.is_ascii_digit() || c == '.')
        && head.len() > 1
    {
        p += 0.2;
    }
    if title.split_whitespace().count() < 5 {
        p += 0.1;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64, at: i64, title: &str, url: &str, terms: &str) -> ReportMember {
        ReportMember {
            event_id: "ev".into(),
            at,
            terms: terms.into(),
            item: ItemRow {
                id,
                source_id: "s".into(),
                guid: format!("g{id}"),
                url: Some(url.into()),
                canonical_url: None,
                title: Some(title.into()),
                summary: None,
                content: None,
                author: None,
                outlet_name: None,
                outlet_url: None,
                published_at: Some(at),
                first_seen_at: at,
                updated_at: None,
                change_note: None,
                content_hash: String::new(),
                parent_guid: None,
                points: None,
                comments: None,
                discussion_url: None,
            },
        }
    }

    #[test]
    fn headlines_prefer_central_report_titles_over_discussions() {
        let a = member(
            1,
            10,
            "Acme delays its giant rocket launch again - The Wire Desk",
            "https://wire.example/a",
            "acm delay giant rocket launch||",
        );
        let b = member(
            2,
            5,
            "Acme delays giant rocket launch, engineers want more tests",
            "https://www.reddit.com/r/space/comments/x/y",
            "acm delay giant rocket launch engin want test||",
        );
        let c = member(
            3,
            20,
            "Why is the rocket late?",
            "https://blog.example/why",
            "rocket late||",
        );
        let ms = [&a, &b, &c];
        assert_eq!(
            choose_headline(&ms),
            "Acme delays its giant rocket launch again"
        );
        assert!(is_discussion(&b.item));
        assert!(!is_discussion(&a.item));
    }

    #[test]
    fn release_note_and_show_hn_titles_are_penalised() {
        assert!(title_penalty("v0.2.1: template fixes") > title_penalty("Template fixes land"));
        assert!(title_penalty("Show HN: my thing does stuff well") > 0.2);
    }
}
