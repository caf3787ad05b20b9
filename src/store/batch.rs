//! A write batch: several sources' poll results in one transaction.
//!
//! A polling round stores what many sources returned. One commit per source rewrites the same
//! hot B-tree pages into the WAL again and again, and each statement is a hand-off to sqlx's
//! SQLite thread; grouping the sources that are ready at once into one transaction keeps the
//! guarantee that matters (a crash leaves each source's items and fetch record all there or
//! not at all) at a fraction of the cost.

use chrono::{DateTime, Utc};

use super::items::{items_of_source_in, store_items_in};
use super::sources::record_fetch_in;
use super::{FetchRecord, ItemRow, NewItem, Result, Store, StoreOutcome};

/// An open write transaction; nothing is visible to others until [`Batch::commit`].
/// Dropped without commit, it rolls back.
pub struct Batch {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
}

impl Store {
    pub async fn batch(&self) -> Result<Batch> {
        Ok(Batch {
            tx: self.pool.begin().await?,
        })
    }
}

impl Batch {
    /// See [`Store::store_items`].
    pub async fn store_items(
        &mut self,
        source_id: &str,
        items: &[NewItem],
        now: DateTime<Utc>,
        max_new: usize,
    ) -> Result<StoreOutcome> {
        store_items_in(&mut self.tx, source_id, items, now, max_new).await
    }

    /// See [`Store::record_fetch`].
    pub async fn record_fetch(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
        record: &FetchRecord,
    ) -> Result<()> {
        record_fetch_in(&mut self.tx, id, now, record).await
    }

    /// See [`Store::items_of_source`]; sees this batch's own writes.
    pub async fn items_of_source(&mut self, source_id: &str) -> Result<Vec<ItemRow>> {
        items_of_source_in(&mut self.tx, source_id).await
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
