//! Every development of a story as the site shows it (the timeline, the events feed): its
//! headline and first report's date as the week's report has them, plus the link to the first
//! report and the outlets that carried it, chosen as the digest chooses them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::AppState;
use crate::digest::{self, ItemIn, Outlet};
use crate::store::{from_ts, CoverageRow};
use crate::story::{self, StoryDef};
use crate::value::week::IsoWeek;

/// One development, oldest first in [`developments`].
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Development {
    /// The event id: stable across weeks and runs.
    pub id: String,
    pub headline: String,
    /// The first report's calendar date in the configured time zone.
    pub date: chrono::NaiveDate,
    pub first_at: DateTime<Utc>,
    /// When the latest report joined it.
    pub last_at: DateTime<Utc>,
    /// The first report with a usable http(s) link.
    pub link: Option<String>,
    pub outlets: Vec<Outlet>,
    pub reports: usize,
}

/// The story's developments up to the end of the current week, oldest first.
pub(super) async fn developments(
    st: &AppState,
    story: &StoryDef,
) -> anyhow::Result<Vec<Development>> {
    let tz = st.config.timezone;
    let week = IsoWeek::containing(st.clock.now(), tz);
    let report = story::week_report(&st.store, story, week, tz).await?;
    let rows = st
        .store
        .story_coverage(&story.id, week.range(tz).1.timestamp())
        .await?;
    let mut members: HashMap<&str, Vec<&CoverageRow>> = HashMap::new();
    for r in &rows {
        members.entry(r.event_id.as_str()).or_default().push(r);
    }
    Ok(report
        .timeline
        .into_iter()
        .map(|t| {
            let ms = members.remove(t.id.as_str()).unwrap_or_default();
            let items: Vec<ItemIn> = ms.iter().copied().map(item_in).collect();
            let (link, outlets) = digest::coverage(&items);
            let first = ms.iter().map(|m| m.at).min().unwrap_or_default();
            let last = ms.iter().map(|m| m.at).max().unwrap_or(first);
            Development {
                headline: t.headline,
                date: t.date,
                first_at: from_ts(first),
                last_at: from_ts(last),
                link,
                outlets,
                reports: ms.len(),
                id: t.id,
            }
        })
        .collect())
}

fn item_in(m: &CoverageRow) -> ItemIn {
    ItemIn {
        source: m.source_id.clone(),
        guid: m.guid.clone(),
        url: m.url.clone(),
        title: m.title.clone(),
        published: m.published_at.map(from_ts),
        outlet: m.outlet_name.clone(),
        summary_html: None,
    }
}
