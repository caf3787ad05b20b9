//! Queries behind source management (`storyline sources …`): lookups by URL and item counts.

use std::collections::HashMap;

use super::{Result, SourceRow, Store};

impl Store {
    /// The source fetched from, or configured with, `url`.
    pub async fn source_by_url(&self, url: &str) -> Result<Option<SourceRow>> {
        const Q: &str = concat!(
            "SELECT ",
            source_columns!(),
            " FROM sources WHERE url = ?1 OR config_url = ?1 ORDER BY id LIMIT 1"
        );
        Ok(sqlx::query_as(Q)
            .bind(url)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stored items per source id (sources without items are absent).
    pub async fn item_counts(&self) -> Result<HashMap<String, i64>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT source_id, COUNT(*) FROM items GROUP BY source_id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }
}
