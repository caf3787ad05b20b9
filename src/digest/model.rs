//! The values going into and coming out of composition: `DigestInput`, gathered by the caller
//! for one (story, week) from whatever storage it uses, and `Digest`, what the templates render.
//! Both are plain data, independent of the database, and serializable (the `Digest` is also the
//! machine-readable contract of a digest).

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::value::week::IsoWeek;

/// Everything composition needs about one story in one week. Raw: feed HTML is unsanitized
/// here, lists are in any order, and times are UTC.
#[derive(Debug, Clone, Serialize)]
pub struct DigestInput {
    pub story_id: String,
    /// The full story title, e.g. "Meta's Llama 4 release".
    pub story_title: String,
    /// The name used in the subject line (e.g. "Llama 4"); `None` uses `story_title`.
    pub short_title: Option<String>,
    pub week: IsoWeek,
    /// Start of the week, inclusive (midnight Monday in `timezone`).
    pub week_start: DateTime<Utc>,
    /// End of the week, exclusive.
    pub week_end: DateTime<Utc>,
    /// The zone the week was cut in; dates in the digest are shown in it.
    #[serde(serialize_with = "serialize_tz")]
    pub timezone: chrono_tz::Tz,
    /// Developments (events) first reported this week.
    pub developments: Vec<EventIn>,
    /// Changed pages and follow-ups to earlier developments.
    pub updates: Vec<UpdateIn>,
    /// Reddit / Hacker News threads on the story active this week.
    pub discussions: Vec<DiscussionIn>,
    /// Every development of the story so far; entries after `week_end` are ignored.
    pub timeline: Vec<TimelineIn>,
    /// Items on the story per week; weeks missing from the list count as zero.
    pub weekly_counts: Vec<(IsoWeek, u32)>,
    /// Sources currently failing; only those failing for more than a day are reported.
    pub failing_sources: Vec<FailingSource>,
    /// The composition time, passed in so the same input always gives the same digest.
    pub generated_at: DateTime<Utc>,
}

/// One development: a group of reports of the same event.
#[derive(Debug, Clone, Serialize)]
pub struct EventIn {
    pub id: String,
    pub headline: String,
    pub first_seen: DateTime<Utc>,
    pub items: Vec<ItemIn>,
}

/// One report (feed item or page) belonging to a development or an update.
#[derive(Debug, Clone, Serialize)]
pub struct ItemIn {
    /// The source id it was read from.
    pub source: String,
    pub guid: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub published: Option<DateTime<Utc>>,
    /// The outlet's name when the feed names it (aggregators do); else the URL host is used.
    pub outlet: Option<String>,
    /// The item's summary or content as the feed gave it: raw, unsanitized HTML.
    pub summary_html: Option<String>,
}

/// A change to an earlier development: a page that changed, or a follow-up report.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateIn {
    pub event_id: String,
    pub headline: String,
    /// What happened, in plain words: "page updated: 1 paragraph added", "follow-up".
    pub what: String,
    pub when: DateTime<Utc>,
    pub items: Vec<ItemIn>,
}

/// A discussion thread on the story.
#[derive(Debug, Clone, Serialize)]
pub struct DiscussionIn {
    pub title: String,
    pub url: String,
    /// "Reddit", "Hacker News".
    pub site: String,
    /// `None` when the feed gives no score (a Reddit RSS thread): shown as nothing, not 0.
    pub points: Option<i64>,
    /// The feed's count, else the comments stored; `None` when neither is known.
    pub comments: Option<i64>,
    /// Comments added this week.
    pub new_comments: i64,
}

/// One development on the story's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineIn {
    pub id: String,
    pub headline: String,
    pub date: DateTime<Utc>,
}

/// A source that keeps failing.
#[derive(Debug, Clone, Serialize)]
pub struct FailingSource {
    pub id: String,
    pub title: Option<String>,
    /// First failure of the current run of failures.
    pub since: DateTime<Utc>,
    /// The last error, as recorded.
    pub error: String,
}

/// A composed digest: everything the templates show, already ordered, sanitized and worded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    pub story_id: String,
    pub story_title: String,
    pub short_title: String,
    pub week: IsoWeek,
    /// "week 20, 2025".
    pub week_label: String,
    /// "12–18 May 2025".
    pub period_label: String,
    pub subject: String,
    /// One line saying how the story moved: "3 new developments from 9 outlets; 1 update."
    pub summary: String,
    /// True when nothing new was reported this week.
    pub quiet: bool,
    pub developments: Vec<Development>,
    pub updates: Vec<Update>,
    pub discussions: Vec<Discussion>,
    pub timeline: Vec<TimelineEntry>,
    pub chart: Chart,
    pub failing_sources: Vec<SourceNote>,
    pub generated_at: DateTime<Utc>,
    /// "19 May 2025, 08:00 CEST".
    pub generated_label: String,
}

impl Digest {
    /// Whether the daemon should mail this digest: always when something happened, and for a
    /// quiet week only when the user asked for quiet-week digests.
    pub fn should_send(&self, send_quiet_weeks: bool) -> bool {
        !self.quiet || send_quiet_weeks
    }
}

/// A development as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Development {
    pub id: String,
    pub headline: String,
    /// Link for the headline: the earliest report's URL.
    pub url: Option<String>,
    pub date: DateTime<Utc>,
    /// "Thu 15 May".
    pub date_label: String,
    /// Plain text, at most two sentences and about 300 characters; may be empty.
    pub excerpt: String,
    pub outlets: Vec<Outlet>,
    pub item_count: usize,
}

/// An outlet that reported a development, with the link to its report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outlet {
    pub name: String,
    /// Only http(s) links survive; `None` when the report had no usable link.
    pub url: Option<String>,
}

/// An update as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    pub event_id: String,
    pub headline: String,
    pub what: String,
    pub date: DateTime<Utc>,
    pub date_label: String,
    pub outlets: Vec<Outlet>,
}

/// A discussion thread as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discussion {
    pub title: String,
    pub url: Option<String>,
    pub site: String,
    pub points: Option<i64>,
    pub comments: Option<i64>,
    pub new_comments: i64,
    /// "980 points · 301 comments (12 new)", with only the counts known; empty when none is.
    pub stats: String,
}

/// One dated line of "The story so far".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub id: String,
    pub headline: String,
    pub date: DateTime<Utc>,
    /// "15 May 2025".
    pub date_label: String,
    pub this_week: bool,
}

/// The items-per-week chart: exactly the 12 weeks ending at the digest's week, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub bars: Vec<ChartBar>,
    pub max: u32,
    pub total: u32,
    /// The count for the digest's own week (the last bar).
    pub this_week: u32,
    /// Alt text listing every value, for readers who cannot see the image.
    pub alt: String,
}

/// One week's bar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartBar {
    pub week: IsoWeek,
    /// "W20".
    pub label: String,
    pub count: u32,
    pub this_week: bool,
}

/// A failing source, in plain words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceNote {
    pub id: String,
    pub name: String,
    pub since_label: String,
    pub days: i64,
    /// "The Verge (the-verge) has failed since 12 May (3 days): server answered 404 Not Found."
    pub sentence: String,
}

fn serialize_tz<S: Serializer>(tz: &chrono_tz::Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}
