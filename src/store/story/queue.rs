//! Which items a story still has to decide: the queue, fingerprints, fetch marks and the cuts
//! digests made.

use super::*;

impl Store {
    /// The fingerprint a story's decisions were made under.
    pub async fn story_fingerprint(&self, story_id: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT fingerprint FROM story_defs WHERE story_id = ?1")
                .bind(story_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// Forget a story's decisions and events (its definition changed) and record the new
    /// fingerprint, in one transaction.
    pub async fn reset_story(
        &self,
        story_id: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for q in [
            "DELETE FROM story_items WHERE story_id = ?1",
            "DELETE FROM story_events WHERE story_id = ?1",
            "DELETE FROM story_updates WHERE story_id = ?1",
        ] {
            sqlx::query(q).bind(story_id).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO story_defs (story_id, fingerprint, changed_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (story_id) DO UPDATE SET fingerprint = excluded.fingerprint, \
             changed_at = excluded.changed_at",
        )
        .bind(story_id)
        .bind(fingerprint)
        .bind(to_ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Move each source's fetch marks along when it was fetched since the last look, and
    /// return them all.
    pub async fn sync_fetch_marks(&self) -> Result<HashMap<String, FetchMarks>> {
        sqlx::query(
            "INSERT INTO story_fetches (source_id, last_fetch_at, prev_fetch_at) \
             SELECT id, last_fetch_at, NULL FROM sources WHERE last_fetch_at IS NOT NULL \
             ON CONFLICT (source_id) DO UPDATE SET \
                 prev_fetch_at = story_fetches.last_fetch_at, \
                 last_fetch_at = excluded.last_fetch_at \
             WHERE excluded.last_fetch_at != story_fetches.last_fetch_at",
        )
        .execute(&self.pool)
        .await?;
        let rows: Vec<(String, i64, Option<i64>)> =
            sqlx::query_as("SELECT source_id, last_fetch_at, prev_fetch_at FROM story_fetches")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(s, last, prev)| (s, FetchMarks { last, prev }))
            .collect())
    }

    /// Items without a decision for the story, or changed since theirs, oldest first, one row
    /// at a time, so a caller can keep only what it needs of each (a first round over a big
    /// install holds every item otherwise).
    pub fn pending_story_items_stream<'a>(
        &'a self,
        story_id: &'a str,
        which: Pending,
    ) -> futures_util::stream::BoxStream<'a, Result<PendingItem>> {
        use futures_util::StreamExt as _;
        let q = if which.all {
            PENDING_ITEMS
        } else {
            QUEUED_ITEMS
        };
        let rows = sqlx::query_as(q)
            .bind(story_id)
            .bind(which.upto.unwrap_or(-1))
            .bind(which.quiet_key)
            .fetch(&self.pool);
        rows.map(|r| r.map_err(crate::store::StoreError::from))
            .boxed()
    }

    /// The last seq in the story queue, if anything is queued.
    pub async fn story_queue_end(&self) -> Result<Option<i64>> {
        let (end,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM story_queue")
            .fetch_one(&self.pool)
            .await?;
        Ok(end)
    }

    /// Is the item waiting for story processing to look at it?
    pub async fn is_queued(&self, item_id: i64) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT seq FROM story_queue WHERE item_id = ?1")
            .bind(item_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Forget queue entries up to `upto`: every story has looked at them. Entries queued
    /// since (a new item, or one changed again) have a higher seq and stay.
    ///
    /// `keep` are items a story holds back for a later round (a report too young to place):
    /// they stay queued, so they are looked at again and never counted as decided.
    pub async fn drain_story_queue(&self, upto: i64, keep: &[i64]) -> Result<()> {
        let mut q =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("DELETE FROM story_queue WHERE seq <= ");
        q.push_bind(upto);
        if !keep.is_empty() {
            q.push(" AND item_id NOT IN ");
            push_in_list(&mut q, keep);
        }
        q.build().execute(&self.pool).await?;
        Ok(())
    }

    /// The weeks of a story whose digest has been cut, and when, oldest first.
    pub async fn story_cuts(&self, story_id: &str) -> Result<Vec<Cut>> {
        Ok(sqlx::query_as(
            "SELECT week_start, week_end, cut_at FROM story_cuts WHERE story_id = ?1 \
             ORDER BY week_start",
        )
        .bind(story_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Record that the digest of the week `[start, end)` is cut at `at`, unless it was cut
    /// before: what reaches the store later shows in a later week.
    pub async fn record_story_cut(
        &self,
        story_id: &str,
        start: i64,
        end: i64,
        at: i64,
    ) -> Result<Cut> {
        sqlx::query(
            "INSERT OR IGNORE INTO story_cuts (story_id, week_start, week_end, cut_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(story_id)
        .bind(start)
        .bind(end)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_as(
            "SELECT week_start, week_end, cut_at FROM story_cuts \
             WHERE story_id = ?1 AND week_start = ?2",
        )
        .bind(story_id)
        .bind(start)
        .fetch_one(&self.pool)
        .await?)
    }
}
