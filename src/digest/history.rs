//! The story's past as the digest shows it: the dated timeline of developments up to this week,
//! and the items-per-week counts behind the chart.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::model::{Chart, ChartBar, Development, DigestInput, TimelineEntry};
use super::sanitize::collapse_whitespace;
use crate::value::week::IsoWeek;

/// Weeks shown on the chart, ending at the digest's week.
pub const CHART_WEEKS: usize = 12;

/// The story so far up to the end of this week; this week's developments are flagged, and
/// any missing from the given timeline are added so every development has its line.
pub(super) fn compose_timeline(
    input: &DigestInput,
    developments: &[Development],
) -> Vec<TimelineEntry> {
    let tz = input.timezone;
    let this_week: HashSet<&str> = developments.iter().map(|d| d.id.as_str()).collect();
    let mut listed = HashSet::new();
    let mut entries: Vec<TimelineEntry> = Vec::new();
    for t in &input.timeline {
        if t.date >= input.week_end && !this_week.contains(t.id.as_str()) {
            continue;
        }
        listed.insert(t.id.as_str());
        entries.push(timeline_entry(
            &t.id,
            &collapse_whitespace(&t.headline),
            t.date,
            tz,
            this_week.contains(t.id.as_str())
                || (t.date >= input.week_start && t.date < input.week_end),
        ));
    }
    for d in developments {
        if !listed.contains(d.id.as_str()) {
            entries.push(timeline_entry(&d.id, &d.headline, d.date, tz, true));
        }
    }
    entries.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    entries
}

fn timeline_entry(
    id: &str,
    headline: &str,
    date: DateTime<Utc>,
    tz: Tz,
    this_week: bool,
) -> TimelineEntry {
    TimelineEntry {
        id: id.to_string(),
        headline: headline.to_string(),
        date,
        // Space-padded day so the dates line up in the text part.
        date_label: date.with_timezone(&tz).format("%e %b %Y").to_string(),
        this_week,
    }
}

/// Exactly [`CHART_WEEKS`] bars ending at `week`; weeks absent from `counts` are zero and a week
/// listed twice is summed.
pub(super) fn compose_chart(week: IsoWeek, counts: &[(IsoWeek, u32)]) -> Chart {
    let mut by_week: BTreeMap<IsoWeek, u32> = BTreeMap::new();
    for (w, n) in counts {
        let slot = by_week.entry(*w).or_default();
        *slot = slot.saturating_add(*n);
    }
    // `IsoWeek`'s fields are public; walking back from an impossible week would panic in its
    // date arithmetic, so such a week gets an empty chart instead.
    let walkable = IsoWeek::new(week.year, week.week).is_some() && (1..=9999).contains(&week.year);
    let mut weeks = if walkable { vec![week] } else { Vec::new() };
    while !weeks.is_empty() && weeks.len() < CHART_WEEKS {
        let Some(earliest) = weeks.last().copied() else {
            break;
        };
        weeks.push(earliest.prev());
    }
    weeks.reverse();
    let bars: Vec<ChartBar> = weeks
        .iter()
        .map(|w| ChartBar {
            week: *w,
            label: format!("W{:02}", w.week),
            count: by_week.get(w).copied().unwrap_or(0),
            this_week: *w == week,
        })
        .collect();
    let values: Vec<String> = bars.iter().map(|b| b.count.to_string()).collect();
    let alt = format!(
        "Items per week on the story, last {} weeks ({} to {}): {}.",
        bars.len(),
        weeks.first().copied().unwrap_or(week),
        week,
        values.join(", ")
    );
    Chart {
        max: bars.iter().map(|b| b.count).max().unwrap_or(0),
        total: bars.iter().fold(0u32, |acc, b| acc.saturating_add(b.count)),
        this_week: by_week.get(&week).copied().unwrap_or(0),
        bars,
        alt,
    }
}
