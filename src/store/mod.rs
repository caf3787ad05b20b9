//! All SQL lives here. SQLite through sqlx with runtime-checked queries (no database needed to
//! build); schema in `migrations/`, applied on open; WAL so readers never block the writer.

// `sources` first: its column macro is used by the modules after it.
#[macro_use]
mod sources;
mod alerts;
mod batch;
mod catalog;
mod coverage;
mod digests;
mod items;
mod outbox;
mod story;
mod subscribers;
mod week;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use alerts::{
    AlertCount, AlertDeliveryRow, AlertEvent, AlertMember, AlertOutcome, AlertUpdate, ClaimedAlert,
    NewAlertDelivery,
};
pub use batch::Batch;
pub use coverage::CoverageRow;
pub use digests::{DigestRow, EditionStored, NewDigest};
pub use items::{ItemRow, NewItem, StoreOutcome};
pub use outbox::{ClaimedDelivery, DeliveryRow, Enqueued, LeaseClaim, OutboxCounts, SendingHolder};
pub use sources::{FetchRecord, SourceRow, SourceStatus};
pub use story::{
    Cut, DecisionRow, EventRow, FetchMarks, HeadlineMember, MemberRow, Pending, PendingItem,
    Refresh, ReportMember, StoryBatch, UpdateRow,
};
pub use subscribers::{SubscribeRequest, SubscriberRow, SubscriptionRow, SubscriptionState};
pub use week::{EarlierEvent, Section, SectionRow, WeekMember};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("cannot open database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot migrate database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            e => StoreError::Db(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database handle; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Open (creating if missing) and migrate the database at `path`.
    pub async fn open(path: &Path) -> Result<Store> {
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL: a committed transaction survives a process crash; only an OS
            // crash can lose the last commits, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            // SQLite's default page cache (2 MB per connection): a bigger one measured no
            // faster on a 30,000-item round and costs resident memory on every connection.
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub async fn integrity_check(&self) -> Result<String> {
        let (s,): (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?;
        Ok(s)
    }

    /// A trivial query: is the database reachable?
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) fn to_ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub(crate) fn from_ts(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).single().unwrap_or_default()
}

/// `(?, ?, …)`, one bind per value: the IN lists of queries that read many rows at once.
fn push_in_list<'t, T>(
    q: &mut sqlx::QueryBuilder<sqlx::Sqlite>,
    values: impl IntoIterator<Item = T>,
) where
    T: sqlx::Encode<'t, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    q.push("(");
    let mut list = q.separated(", ");
    for v in values {
        list.push_bind(v);
    }
    q.push(")");
}
