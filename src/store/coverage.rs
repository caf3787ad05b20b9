//! Who carried each development: the few item fields the site's timeline and the events feed
//! show (links and outlets), for every member of a story's events.

use super::{Result, Store};

/// One member of an event, narrow: no summary or content.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CoverageRow {
    pub event_id: String,
    /// When the item counts for the story (see `story_items.at`).
    pub at: i64,
    pub source_id: String,
    pub guid: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub outlet_name: Option<String>,
    pub published_at: Option<i64>,
}

impl Store {
    /// Every member of the story's events counted before `until`, grouped by event, in the
    /// order they count.
    pub async fn story_coverage(&self, story_id: &str, until: i64) -> Result<Vec<CoverageRow>> {
        Ok(sqlx::query_as(
            "SELECT si.event_id, si.at, i.source_id, i.guid, i.url, i.title, i.outlet_name, \
                    i.published_at \
             FROM story_items si JOIN items i ON i.id = si.item_id \
             WHERE si.story_id = ?1 AND si.event_id IS NOT NULL AND si.at < ?2 \
             ORDER BY si.event_id, si.at, i.id",
        )
        .bind(story_id)
        .bind(until)
        .fetch_all(&self.pool)
        .await?)
    }
}
