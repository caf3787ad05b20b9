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
use super::outlets::{outlets, safe_link, sorted_items};
use super::sanitize::{collapse_whitespace, cut_at_word, Sanitizer};

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
/// Reports examined for an excerpt; a big story's development can gather hundreds, and the
/// earliest ones are where a summary worth quoting is found.
const MAX_EXCERPT_CANDIDATES: usize = 25;

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

    let mut developments: Vec<Development> = input
        .developments
        .iter()
        .map(|ev| compose_development(ev, &sanitizer, tz))
        .collect();
    developments.sort_by(|a, b| {
        (
            Reverse(a.outlets.len()),
            Reverse(a.item_count),
            a.date,
            &a.id,
        )
            .cmp(&(
                Reverse(b.outlets.len()),
                Reverse(b.item_count),
                b.date,
                &b.id,
            ))
    });

    let updates = compose_updates(&input.updates, tz);
    let discussions = compose_discussions(&input.discussions);
    let week_label = format!("week {}, {}", input.week.week, input.week.year);
    let subject = compose_subject(&short_title, &week_label, developments.first());
    let summary = summarize(&developments, updates.len(), discussions.len());

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
        timeline: compose_timeline(input, &developments),
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

fn compose_development(ev: &EventIn, sanitizer: &Sanitizer, tz: Tz) -> Development {
    let items = sorted_items(&ev.items);
    let headline = headline_or_title(&ev.headline, &items);
    Development {
        id: ev.id.clone(),
        url: items.iter().find_map(|i| safe_link(i.url.as_deref())),
        date: ev.first_seen,
        date_label: ev
            .first_seen
            .with_timezone(&tz)
            .format("%a %-d %b")
            .to_string(),
        excerpt: pick_excerpt(&headline, &items, sanitizer),
        outlets: outlets(&items),
        item_count: ev.items.len(),
        headline,
    }
}

fn headline_or_title(headline: &str, items: &[&ItemIn]) -> String {
    let headline = collapse_whitespace(headline);
    if !headline.is_empty() {
        return headline;
    }
    items
        .iter()
        .filter_map(|i| i.title.as_deref().map(collapse_whitespace))
        .find(|t| !t.is_empty())
        .unwrap_or_else(|| "Untitled development".to_string())
}

/// The first report whose summary says more than a headline. Aggregators (Google News, link
/// blogs) send the item's own title plus the outlet's name as the "summary"; showing that adds
/// nothing, so such a development gets no excerpt.
fn pick_excerpt(headline: &str, items: &[&ItemIn], sanitizer: &Sanitizer) -> String {
    for item in items.iter().take(MAX_EXCERPT_CANDIDATES) {
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
            return excerpt;
        }
    }
    String::new()
}

fn compose_updates(updates: &[UpdateIn], tz: Tz) -> Vec<Update> {
    let mut sorted: Vec<&UpdateIn> = updates.iter().collect();
    sorted.sort_by(|a, b| (a.when, &a.event_id, &a.what).cmp(&(b.when, &b.event_id, &b.what)));
    sorted
        .into_iter()
        .map(|u| {
            let items = sorted_items(&u.items);
            Update {
                event_id: u.event_id.clone(),
                headline: headline_or_title(&u.headline, &items),
                what: upcase_first(&collapse_whitespace(&u.what)),
                date: u.when,
                date_label: u.when.with_timezone(&tz).format("%a %-d %b").to_string(),
                outlets: outlets(&items),
            }
        })
        .collect()
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

fn summarize(developments: &[Development], updates: usize, discussions: usize) -> String {
    let mut parts = Vec::new();
    if developments.is_empty() {
        parts.push("No new developments this week".to_string());
    } else {
        let outlets: HashSet<String> = developments
            .iter()
            .flat_map(|d| d.outlets.iter().map(|o| o.name.to_lowercase()))
            .collect();
        parts.push(format!(
            "{} reported by {}",
            plural(developments.len(), "new development", "new developments"),
            plural(outlets.len(), "outlet", "outlets")
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
