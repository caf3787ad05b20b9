//! What an alert says, fixed when it is decided and stored with its outbox row, so every
//! attempt sends the same words (only a webhook's signature timestamp differs).

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::digest::{outlet_name_of, safe_link};
use crate::store::{AlertEvent, AlertMember, AlertUpdate};

/// Reports listed in one alert; `reports` counts them all.
const MAX_ITEMS: usize = 50;

/// The alert's content, kind-neutral; `request` shapes it for each kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    #[serde(rename = "type")]
    pub kind: PayloadKind,
    pub story: StoryRef,
    pub event: EventRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateRef>,
    /// When Storyline decided to alert, RFC 3339 UTC.
    pub decided_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadKind {
    /// A new development.
    Development,
    /// A page of a development changed (`updates = true`).
    Update,
    /// `storyline alerts test`.
    Test,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryRef {
    pub id: String,
    pub title: String,
    /// The story page (from `[web] base_url`), when one is configured.
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    /// The event id, as in `storyline events` and the digest's JSON.
    pub id: String,
    pub headline: String,
    /// The first report's time, RFC 3339 UTC.
    pub first_seen: String,
    /// The first report's link (absolute http(s) only).
    pub link: Option<String>,
    /// Every outlet that reported it so far, in reporting order, named as the digest names
    /// them.
    pub outlets: Vec<String>,
    /// How many reports so far.
    pub reports: usize,
    /// The first reports (at most 50).
    pub items: Vec<ItemRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRef {
    /// The source's config id.
    pub source: String,
    /// The item's id in its feed (the digest JSON's `guid`).
    pub guid: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub outlet: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRef {
    pub item: ItemRef,
    /// What changed, when the page says.
    pub note: Option<String>,
    pub updated_at: String,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn item_ref(m: &AlertMember) -> ItemRef {
    ItemRef {
        source: m.source_id.clone(),
        guid: m.guid.clone(),
        url: m.url.clone(),
        title: m.title.clone(),
        outlet: outlet_name_of(m.outlet_name.as_deref(), m.url.as_deref(), &m.source_id),
    }
}

/// Distinct outlets of `members` (oldest first), compared case-insensitively as the digest
/// does.
pub fn outlets(members: &[&AlertMember]) -> Vec<String> {
    let mut seen = HashSet::new();
    members
        .iter()
        .map(|m| outlet_name_of(m.outlet_name.as_deref(), m.url.as_deref(), &m.source_id))
        .filter(|name| seen.insert(name.to_lowercase()))
        .collect()
}

/// An event as an alert shows it; `members` oldest first.
pub fn event_ref(ev: &AlertEvent, members: &[&AlertMember]) -> EventRef {
    EventRef {
        id: ev.event_id.clone(),
        headline: crate::digest::sanitize::collapse_whitespace(&ev.headline),
        first_seen: rfc3339(crate::store::from_ts(ev.first_at)),
        link: members.iter().find_map(|m| safe_link(m.url.as_deref())),
        outlets: outlets(members),
        reports: members.len(),
        items: members
            .iter()
            .take(MAX_ITEMS)
            .map(|m| item_ref(m))
            .collect(),
    }
}

/// A new development.
pub fn development(
    story: StoryRef,
    ev: &AlertEvent,
    members: &[&AlertMember],
    now: DateTime<Utc>,
) -> Payload {
    Payload {
        kind: PayloadKind::Development,
        story,
        event: event_ref(ev, members),
        update: None,
        decided_at: rfc3339(now),
    }
}

/// A changed page of a development.
pub fn update(
    story: StoryRef,
    u: &AlertUpdate,
    members: &[&AlertMember],
    now: DateTime<Utc>,
) -> Option<Payload> {
    let item = members.iter().find(|m| m.item_id == u.item_id)?;
    let ev = AlertEvent {
        event_id: u.event_id.clone(),
        headline: u.headline.clone(),
        first_at: u.first_at,
    };
    Some(Payload {
        kind: PayloadKind::Update,
        story,
        event: event_ref(&ev, members),
        update: Some(UpdateRef {
            item: item_ref(item),
            note: u.note.clone(),
            updated_at: rfc3339(crate::store::from_ts(u.updated_at)),
        }),
        decided_at: rfc3339(now),
    })
}

/// What `storyline alerts test` sends.
pub fn sample(story: StoryRef, now: DateTime<Utc>) -> Payload {
    Payload {
        kind: PayloadKind::Test,
        story,
        event: EventRef {
            id: "ev-test".into(),
            headline: "Test alert from Storyline: this is what a new development looks like".into(),
            first_seen: rfc3339(now),
            link: None,
            outlets: vec!["Storyline".into()],
            reports: 1,
            items: Vec::new(),
        },
        update: None,
        decided_at: rfc3339(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64, source: &str, url: &str, outlet: Option<&str>) -> AlertMember {
        AlertMember {
            event_id: "ev-1".into(),
            at: id,
            item_id: id,
            source_id: source.into(),
            guid: format!("g{id}"),
            url: Some(url.into()),
            title: Some(format!("Title {id}")),
            outlet_name: outlet.map(str::to_string),
        }
    }

    #[test]
    fn outlets_are_counted_as_the_digest_counts_them() {
        let ms = [
            member(1, "gnews", "https://news.google.com/a", Some("TechWire")),
            member(2, "techwire", "https://www.techwire.example/a", None),
            member(3, "gnews", "https://news.google.com/b", Some("techwire")),
            member(4, "hn", "javascript:alert(1)", None),
            member(5, "aim", "https://aim.example/x", Some("  AIM  ")),
        ];
        let refs: Vec<&AlertMember> = ms.iter().collect();
        assert_eq!(
            outlets(&refs),
            ["TechWire", "techwire.example", "hn", "AIM"]
        );
        let ev = AlertEvent {
            event_id: "ev-1".into(),
            headline: "  A   headline\n".into(),
            first_at: 1_744_000_000,
        };
        let e = event_ref(&ev, &refs);
        assert_eq!(e.headline, "A headline");
        assert_eq!(e.link.as_deref(), Some("https://news.google.com/a"));
        assert_eq!((e.reports, e.items.len()), (5, 5));
        assert_eq!(e.first_seen, "2025-04-07T04:26:40Z");
    }

    #[test]
    fn only_absolute_http_links_become_the_first_report_link() {
        let ms = [
            member(1, "hn", "javascript:alert(1)", None),
            member(2, "t", "/relative", None),
            member(3, "t", "http://ok.example/p", None),
        ];
        let refs: Vec<&AlertMember> = ms.iter().collect();
        let ev = AlertEvent {
            event_id: "ev-1".into(),
            headline: "h".into(),
            first_at: 0,
        };
        assert_eq!(
            event_ref(&ev, &refs).link.as_deref(),
            Some("http://ok.example/p")
        );
    }
}
