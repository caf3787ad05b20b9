//! `compose`: a pure function from one week's raw story data to the `Digest` the templates
//! render. No database, no clock, no I/O: the same input always gives the same digest.

use std::cmp::Reverse;
use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;

use super::history::{compose_chart, compose_timeline};
use super::model::{
    Development, Digest, DigestInput, Discussion, DiscussionIn, EventIn, FailingSource, ItemIn,
    SourceNote, Update, UpdateIn,
};
use super::outlets::safe_link;
use super::sanitize::{collapse_whitespace, cut_at_word, Sanitizer};
use super::tally::Tally;

/// Developments listed, the most covered first; a bigger week's others are counted. No replay
/// week comes near it; a story that takes every item of 10,000 feeds has thousands.
pub const TOP_DEVELOPMENTS: usize = 25;
/// Updates listed (the most covered, shown in date order); the others are counted.
pub const TOP_UPDATES: usize = 15;
/// Discussion threads shown.
pub const TOP_DISCUSSIONS: usize = 5;
/// The top headline is cut to this many characters in the subject line.
const SUBJECT_HEADLINE_CHARS: usize = 110;
/// Sources must have failed for longer than this to be mentioned.
const FAILING_NOTICE_AFTER: Duration = Duration::days(1);
/// Recorded errors can be long (whole response snippets); the footer keeps a readable start.
const ERROR_CHARS: usize = 160;
/// A candidate excerpt must add at least this much text beyond the headline to be worth showing.
const MIN_EXCERPT_EXTRA_CHARS: usize = 40;

/// Compose the digest for one story and week.
pub fn compose(input: &DigestInput) -> Digest {
    let tz = input.timezone;
    let sanitizer = Sanitizer::new();
    let short_title = input
        .short_title
        .as_deref()
        .map(collapse_whitespace)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| collapse_whitespace(&input.story_title));

    let mut listed: Vec<&EventIn> = input.developments.iter().collect();
    listed.sort_by(|a, b| development_rank(a).cmp(&development_rank(b)));
    listed.truncate(TOP_DEVELOPMENTS);
    let more_developments = input.developments.len() - listed.len() + input.unlisted.developments;
    let developments: Vec<Development> = listed
        .into_iter()
        .map(|ev| compose_development(ev, &sanitizer, tz))
        .collect();

    let (updates, more_updates) = compose_updates(&input.updates, tz);
    let more_updates = more_updates + input.unlisted.updates;
    let discussions = compose_discussions(&input.discussions);
    let week_label = format!("week {}, {}", input.week.week, input.week.year);
    let subject = compose_subject(&short_title, &week_label, developments.first());
    let outlets: HashSet<&str> = input
        .developments
        .iter()
        .flat_map(|d| d.reports.outlet_names())
        .collect();
    let summary = summarize(
        developments.len() + more_developments,
        outlets.len() + input.unlisted.outlets,
        updates.len() + more_updates,
        discussions.len(),
    );
    let (timeline, more_timeline) = compose_timeline(input, &developments);

    Digest {
        story_id: input.story_id.clone(),
        story_title: collapse_whitespace(&input.story_title),
        short_title,
        week: input.week,
        week_label,
        period_label: period_label(input.week_start, input.week_end, tz),
        subject,
        summary,
        quiet: developments.is_empty(),
        timeline,
        more_developments,
        more_updates,
        more_timeline,
        chart: compose_chart(input.week, &input.weekly_counts),
        failing_sources: compose_source_notes(&input.failing_sources, input.generated_at, tz),
        developments,
        updates,
        discussions,
        generated_at: input.generated_at,
        generated_label: input
            .generated_at
            .with_timezone(&tz)
            .format("%-d %b %Y, %H:%M %Z")
            .to_string(),
    }
}

/// The order developments are listed in, and which a big week keeps: most outlets first,
/// then most reports, then the earliest.
pub fn development_rank(ev: &EventIn) -> (Reverse<usize>, Reverse<usize>, DateTime<Utc>, &str) {
    (
        Reverse(ev.reports.outlet_count()),
        Reverse(ev.reports.count),
        ev.first_seen,
        &ev.id,
    )
}

/// Which updates a big week keeps: most outlets, most reports, the latest. They are listed in
/// date order.
pub fn update_rank(u: &UpdateIn) -> (Reverse<usize>, Reverse<usize>, Reverse<DateTime<Utc>>, &str) {
    (
        Reverse(u.reports.outlet_count()),
        Reverse(u.reports.count),
        Reverse(u.when),
        &u.event_id,
    )
}

fn compose_development(ev: &EventIn, sanitizer: &Sanitizer, tz: Tz) -> Development {
    let headline = headline_or_title(&ev.headline, &ev.reports);
    let r = &ev.reports;
    Development {
        id: ev.id.clone(),
        url: r.link.clone(),
        date: ev.first_seen,
        date_label: ev
            .first_seen
            .with_timezone(&tz)
            .format("%a %-d %b")
            .to_string(),
        excerpt: find_excerpt(&headline, &r.first, sanitizer)
            .map(|(_, e)| e)
            .unwrap_or_default(),
        outlets: r.outlets.clone(),
        outlet_count: r.outlet_count(),
        more_outlets: r.outlet_count() - r.outlets.len(),
        item_count: r.count,
        headline,
    }
}

fn headline_or_title(headline: &str, reports: &Tally) -> String {
    let headline = collapse_whitespace(headline);
    if !headline.is_empty() {
        return headline;
    }
    reports
        .title
        .clone()
        .unwrap_or_else(|| "Untitled development".to_string())
}

/// Which of a development's first reports its excerpt comes from, if any: a gatherer that
/// reads report texts one development at a time keeps only that one.
pub fn excerpt_source(ev: &EventIn) -> Option<usize> {
    let headline = headline_or_title(&ev.headline, &ev.reports);
    find_excerpt(&headline, &ev.reports.first, &Sanitizer::new()).map(|(i, _)| i)
}

/// The first report whose summary says more than a headline. Aggregators (Google News, link
/// blogs) send the item's own title plus the outlet's name as the "summary"; showing that adds
/// nothing, so such a development gets no excerpt.
fn find_excerpt(
    headline: &str,
    items: &[ItemIn],
    sanitizer: &Sanitizer,
) -> Option<(usize, String)> {
    for (i, item) in items.iter().enumerate() {
        let Some(html) = item.summary_html.as_deref() else {
            continue;
        };
        let excerpt = sanitizer.excerpt(html);
        if excerpt.is_empty() {
            continue;
        }
        let title = item
            .title
            .as_deref()
            .map(collapse_whitespace)
            .unwrap_or_default();
        // "Headline - Outlet" is how aggregators title items.
        let bare_title = title.rsplit_once(" - ").map_or(title.as_str(), |(t, _)| t);
        let repeats = [headline, title.as_str(), bare_title]
            .into_iter()
            .filter(|t| !t.is_empty())
            .any(|t| {
                let extra = excerpt.chars().count().saturating_sub(t.chars().count());
                (excerpt.starts_with(t) || t.starts_with(excerpt.as_str()))
                    && extra < MIN_EXCERPT_EXTRA_CHARS
            });
        if !repeats {
            return Some((i, excerpt));
        }
    }
    None
}

/// The updates listed, in date order, and how many more there are.
fn compose_updates(updates: &[UpdateIn], tz: Tz) -> (Vec<Update>, usize) {
    let mut kept: Vec<&UpdateIn> = updates.iter().collect();
    kept.sort_by(|a, b| update_rank(a).cmp(&update_rank(b)));
    kept.truncate(TOP_UPDATES);
    let more = updates.len() - kept.len();
    kept.sort_by(|a, b| (a.when, &a.event_id, &a.what).cmp(&(b.when, &b.event_id, &b.what)));
    let listed = kept
        .into_iter()
        .map(|u| Update {
            event_id: u.event_id.clone(),
            headline: headline_or_title(&u.headline, &u.reports),
            what: upcase_first(&collapse_whitespace(&u.what)),
            date: u.when,
            date_label: u.when.with_timezone(&tz).format("%a %-d %b").to_string(),
            outlets: u.reports.outlets.clone(),
            outlet_count: u.reports.outlet_count(),
            more_outlets: u.reports.outlet_count() - u.reports.outlets.len(),
        })
        .collect();
    (listed, more)
}

/// "page updated" → "Page updated"; unlike tera's `capitalize`, leaves the rest alone.
fn upcase_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn compose_discussions(threads: &[DiscussionIn]) -> Vec<Discussion> {
    let mut sorted: Vec<&DiscussionIn> = threads.iter().collect();
    sorted.sort_by(|a, b| {
        (Reverse(a.points), Reverse(a.comments), &a.title, &a.url).cmp(&(
            Reverse(b.points),
            Reverse(b.comments),
            &b.title,
            &b.url,
        ))
    });
    sorted
        .into_iter()
        .take(TOP_DISCUSSIONS)
        .map(|d| {
            let title = collapse_whitespace(&d.title);
            Discussion {
                title: if title.is_empty() {
                    d.url.clone()
                } else {
                    title
                },
                url: safe_link(Some(&d.url)),
                site: collapse_whitespace(&d.site),
                points: d.points,
                comments: d.comments,
                new_comments: d.new_comments,
                stats: discussion_stats(d),
            }
        })
        .collect()
}

/// The counts a thread's feed gave, worded; none at all when it gave none (a Reddit RSS
/// thread says nothing of its score: "0 points" would be a guess).
fn discussion_stats(d: &DiscussionIn) -> String {
    let count = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if let Some(p) = d.points {
        parts.push(count(p, "point", "points"));
    }
    if let Some(c) = d.comments {
        let mut words = count(c, "comment", "comments");
        if d.new_comments > 0 {
            words.push_str(&format!(" ({} new)", d.new_comments));
        }
        parts.push(words);
    }
    parts.join(" · ")
}

fn compose_subject(short_title: &str, week_label: &str, top: Option<&Development>) -> String {
    let what = match top {
        Some(dev) => cut_at_word(&dev.headline, SUBJECT_HEADLINE_CHARS),
        None => "no new developments".to_string(),
    };
    format!("{short_title} · {week_label}: {what}")
}

/// "3 new developments reported by 9 outlets; 1 update; 2 discussion threads." Every
/// development, update and outlet of the week counts, listed or not.
fn summarize(developments: usize, outlets: usize, updates: usize, discussions: usize) -> String {
    let mut parts = Vec::new();
    if developments == 0 {
        parts.push("No new developments this week".to_string());
    } else {
        parts.push(format!(
            "{} reported by {}",
            plural(developments, "new development", "new developments"),
            plural(outlets, "outlet", "outlets")
        ));
    }
    if updates > 0 {
        parts.push(plural(updates, "update", "updates"));
    }
    if discussions > 0 {
        parts.push(plural(
            discussions,
            "discussion thread",
            "discussion threads",
        ));
    }
    format!("{}.", parts.join("; "))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn compose_source_notes(failing: &[FailingSource], now: DateTime<Utc>, tz: Tz) -> Vec<SourceNote> {
    let mut long_failing: Vec<&FailingSource> = failing
        .iter()
        .filter(|f| now - f.since > FAILING_NOTICE_AFTER)
        .collect();
    long_failing.sort_by(|a, b| (a.since, &a.id).cmp(&(b.since, &b.id)));
    long_failing
        .into_iter()
        .map(|f| {
            let name = f
                .title
                .as_deref()
                .map(collapse_whitespace)
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| f.id.clone());
            let days = (now - f.since).num_days();
            let since_label = f.since.with_timezone(&tz).format("%-d %b").to_string();
            let error = cut_at_word(&collapse_whitespace(&f.error), ERROR_CHARS);
            let error = error.trim_end_matches('.');
            let reason = if error.is_empty() {
                String::new()
            } else {
                format!(": {error}")
            };
            SourceNote {
                sentence: format!(
                    "{name} has been failing since {since_label} ({}){reason}.",
                    plural(usize::try_from(days).unwrap_or(0), "day", "days")
                ),
                id: f.id.clone(),
                name,
                since_label,
                days,
            }
        })
        .collect()
}

/// "12–18 May 2025", "28 Apr – 4 May 2025", "29 Dec 2025 – 4 Jan 2026", in `tz`.
fn period_label(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    let first = start.with_timezone(&tz).date_naive();
    // `end` is exclusive: the last day shown is the one before it.
    let last = end
        .checked_sub_signed(Duration::seconds(1))
        .unwrap_or(end)
        .with_timezone(&tz)
        .date_naive();
    if first.year() != last.year() {
        format!(
            "{} – {}",
            first.format("%-d %b %Y"),
            last.format("%-d %b %Y")
        )
    } else if first.month() != last.month() {
        format!("{} – {}", first.format("%-d %b"), last.format("%-d %b %Y"))
    } else {
        format!("{}–{}", first.format("%-d"), last.format("%-d %b %Y"))
    }
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
