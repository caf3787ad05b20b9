//! Writing one round's decisions, events and updates.

use super::*;

impl Store {
    /// Write one round's decisions, events and updates in a single transaction: a crash
    /// leaves all of it or none, and the undecided items are simply decided again.
    pub async fn save_story_batch(&self, b: &StoryBatch, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // Many rows per statement: each statement is a round trip to sqlx's SQLite thread.
        for chunk in b.decisions.chunks(DECISION_BATCH) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO story_items (story_id, item_id, relevant, score, reason, summary, \
                     at, shown_at, seen_hash, terms, event_id, joined, peer_item, similarity, \
                     shared, decided_at) ",
            );
            q.push_values(chunk, |mut row, d| {
                row.push_bind(&d.story_id)
                    .push_bind(d.item_id)
                    .push_bind(d.relevant)
                    .push_bind(d.score)
                    .push_bind(&d.reason)
                    .push_bind(&d.summary)
                    .push_bind(d.at)
                    .push_bind(d.shown_at)
                    .push_bind(&d.seen_hash)
                    .push_bind(&d.terms)
                    .push_bind(&d.event_id)
                    .push_bind(&d.joined)
                    .push_bind(d.peer_item)
                    .push_bind(d.similarity)
                    .push_bind(&d.shared)
                    .push_bind(to_ts(now));
            });
            q.push(
                " ON CONFLICT (story_id, item_id) DO UPDATE SET relevant = excluded.relevant, \
                     score = excluded.score, reason = excluded.reason, \
                     summary = excluded.summary, at = excluded.at, \
                     shown_at = excluded.shown_at, \
                     seen_hash = excluded.seen_hash, terms = excluded.terms, \
                     event_id = excluded.event_id, joined = excluded.joined, \
                     peer_item = excluded.peer_item, similarity = excluded.similarity, \
                     shared = excluded.shared, \
                     decided_at = excluded.decided_at",
            );
            q.build().execute(&mut *tx).await?;
        }
        for r in &b.refreshes {
            sqlx::query(
                "UPDATE story_items SET seen_hash = ?2, summary = ?3, terms = ?4, \
                 decided_at = ?5 WHERE item_id = ?1 AND story_id = ?6",
            )
            .bind(r.item_id)
            .bind(&r.seen_hash)
            .bind(&r.summary)
            .bind(&r.terms)
            .bind(to_ts(now))
            .bind(&r.story_id)
            .execute(&mut *tx)
            .await?;
        }
        for e in &b.events {
            sqlx::query(
                "INSERT INTO story_events (story_id, event_id, founder_item, first_at, last_at, \
                     headline, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (story_id, event_id) DO UPDATE SET first_at = excluded.first_at, \
                     last_at = excluded.last_at, headline = excluded.headline",
            )
            .bind(&e.story_id)
            .bind(&e.event_id)
            .bind(e.founder_item)
            .bind(e.first_at)
            .bind(e.last_at)
            .bind(&e.headline)
            .bind(to_ts(now))
            .execute(&mut *tx)
            .await?;
        }
        for u in &b.updates {
            sqlx::query(
                "INSERT OR IGNORE INTO story_updates (story_id, item_id, event_id, updated_at, \
                     at, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(&u.story_id)
            .bind(u.item_id)
            .bind(&u.event_id)
            .bind(u.updated_at)
            .bind(u.at)
            .bind(&u.note)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
