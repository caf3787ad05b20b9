//! An event's headline: the most informative title among its first reports. Story processing
//! chooses it from whole item rows, a week's report and digest from narrow rows.

use std::collections::HashSet;

use super::cluster::Terms;
use super::text::strip_outlet_suffix;
use crate::store::{HeadlineMember, ItemRow, ReportMember};

/// How many of an event's first items compete for its headline.
pub const HEADLINE_POOL: usize = 40;

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
pub fn looks_like_discussion(
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
