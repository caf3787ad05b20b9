//! The `sources` table: configured sources and their fetch state.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{from_ts, to_ts, Result, Store, StoreError};
use crate::config::{FetchConfig, SourceConfig};
use crate::value::source::SourceKind;

/// How the last fetch of a source ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    Ok,
    NotModified,
    Error,
    RateLimited,
    Gone,
}

impl SourceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceStatus::Ok => "ok",
            SourceStatus::NotModified => "not_modified",
            SourceStatus::Error => "error",
            SourceStatus::RateLimited => "rate_limited",
            SourceStatus::Gone => "gone",
        }
    }
}

/// A stored source with its fetch state.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct SourceRow {
    pub id: String,
    pub kind: String,
    pub config_url: String,
    pub url: String,
    pub title: Option<String>,
    pub origin: String,
    pub enabled: bool,
    pub poll: bool,
    pub interval_secs: i64,
    pub note: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_fetch_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_status: Option<String>,
    pub last_http_status: Option<i64>,
    pub last_error: Option<String>,
    pub failing_since: Option<i64>,
    pub consecutive_failures: i64,
    pub next_due_at: i64,
    pub disabled_reason: Option<String>,
    pub flagged: Option<String>,
    pub created_at: i64,
}

impl SourceRow {
    pub fn kind(&self) -> SourceKind {
        SourceKind::from_db(&self.kind)
    }

    pub fn next_due(&self) -> DateTime<Utc> {
        from_ts(self.next_due_at)
    }

    pub fn last_fetch(&self) -> Option<DateTime<Utc>> {
        self.last_fetch_at.map(from_ts)
    }

    pub fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.failing_since.map(from_ts)
    }
}

/// What one fetch of a source did, to be written to its row.
#[derive(Debug, Clone)]
pub struct FetchRecord {
    pub status: SourceStatus,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// A permanent redirect moved the source here.
    pub moved_to: Option<String>,
    pub next_due: DateTime<Utc>,
    /// Set when the source must not be polled again (410 Gone).
    pub disable_reason: Option<String>,
    pub flagged: Option<String>,
}

/// The column list of [`SourceRow`], as a macro so queries stay `&'static str`.
macro_rules! source_columns {
    () => {
        "id, kind, config_url, url, title, origin, enabled, poll, interval_secs, note, etag, \
         last_modified, last_fetch_at, last_success_at, last_status, last_http_status, \
         last_error, failing_since, consecutive_failures, next_due_at, disabled_reason, \
         flagged, created_at"
    };
}

impl Store {
    /// Make the `sources` table match the config: insert new sources, update changed ones
    /// (a changed URL resets the validators), and disable config sources no longer listed.
    /// Fetch state of unchanged sources is kept.
    pub async fn sync_sources(
        &self,
        sources: &[SourceConfig],
        fetch: &FetchConfig,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // Most starts change nothing: skip rows that already match, so a config with
        // thousands of sources costs one read, not thousands of writes.
        type Synced = (
            String,
            String,
            String,
            Option<String>,
            bool,
            bool,
            i64,
            Option<String>,
            String,
        );
        let stored: HashMap<String, Synced> = sqlx::query_as::<_, Synced>(
            "SELECT id, kind, config_url, title, enabled, poll, interval_secs, note, origin \
             FROM sources",
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|row| (row.0.clone(), row))
        .collect();
        for s in sources {
            let interval = s.interval_or(fetch).as_secs() as i64;
            let wanted: Synced = (
                s.id.to_string(),
                s.kind.as_str().to_string(),
                s.url.to_string(),
                s.title.clone(),
                s.enabled,
                s.poll,
                interval,
                s.note.clone(),
                "config".to_string(),
            );
            if stored.get(s.id.as_str()) == Some(&wanted) {
                continue;
            }
            sqlx::query(
                "INSERT INTO sources (id, kind, config_url, url, title, origin, enabled, poll, \
                     interval_secs, note, next_due_at, created_at) \
                 VALUES (?1, ?2, ?3, ?3, ?4, 'config', ?5, ?6, ?7, ?8, 0, ?9) \
                 ON CONFLICT (id) DO UPDATE SET \
                     kind = excluded.kind, \
                     url = CASE WHEN sources.config_url = excluded.config_url \
                                THEN sources.url ELSE excluded.url END, \
                     etag = CASE WHEN sources.config_url = excluded.config_url \
                                 THEN sources.etag ELSE NULL END, \
                     last_modified = CASE WHEN sources.config_url = excluded.config_url \
                                 THEN sources.last_modified ELSE NULL END, \
                     disabled_reason = CASE WHEN sources.config_url = excluded.config_url \
                                 THEN sources.disabled_reason ELSE NULL END, \
                     config_url = excluded.config_url, \
                     title = excluded.title, origin = 'config', enabled = excluded.enabled, \
                     poll = excluded.poll, interval_secs = excluded.interval_secs, \
                     note = excluded.note",
            )
            .bind(s.id.as_str())
            .bind(s.kind.as_str())
            .bind(s.url.as_str())
            .bind(&s.title)
            .bind(s.enabled)
            .bind(s.poll)
            .bind(interval)
            .bind(&s.note)
            .bind(to_ts(now))
            .execute(&mut *tx)
            .await?;
        }
        // Config sources removed from the file stop being polled; their items stay.
        let listed: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM sources WHERE origin = 'config' AND enabled = 1")
                .fetch_all(&mut *tx)
                .await?;
        for (id,) in rows {
            if !listed.contains(&id.as_str()) {
                sqlx::query("UPDATE sources SET enabled = 0 WHERE id = ?1")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Add a source outside the config file (`storyline sources add`).
    pub async fn add_source(
        &self,
        id: &str,
        kind: SourceKind,
        url: &str,
        title: Option<&str>,
        interval_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sources (id, kind, config_url, url, title, origin, enabled, poll, \
                 interval_secs, next_due_at, created_at) \
             VALUES (?1, ?2, ?3, ?3, ?4, 'cli', 1, 1, ?5, 0, ?6)",
        )
        .bind(id)
        .bind(kind.as_str())
        .bind(url)
        .bind(title)
        .bind(interval_secs)
        .bind(to_ts(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Remove a source and its items.
    pub async fn remove_source(&self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM sources WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn sources(&self) -> Result<Vec<SourceRow>> {
        const Q: &str = concat!("SELECT ", source_columns!(), " FROM sources ORDER BY id");
        Ok(sqlx::query_as(Q).fetch_all(&self.pool).await?)
    }

    pub async fn source(&self, id: &str) -> Result<SourceRow> {
        const Q: &str = concat!("SELECT ", source_columns!(), " FROM sources WHERE id = ?1");
        Ok(sqlx::query_as(Q).bind(id).fetch_one(&self.pool).await?)
    }

    /// Enabled, fetchable sources whose next due time has come.
    pub async fn due_sources(&self, now: DateTime<Utc>) -> Result<Vec<SourceRow>> {
        const Q: &str = concat!(
            "SELECT ",
            source_columns!(),
            " FROM sources WHERE enabled = 1 AND disabled_reason IS NULL AND next_due_at <= ?1 \
             ORDER BY next_due_at, id"
        );
        Ok(sqlx::query_as(Q)
            .bind(to_ts(now))
            .fetch_all(&self.pool)
            .await?)
    }

    /// The earliest next due time among pollable sources.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        let (t,): (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(next_due_at) FROM sources \
             WHERE enabled = 1 AND disabled_reason IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(t.map(from_ts))
    }

    /// Write the outcome of one fetch. Failures count up and remember when they began;
    /// success clears them.
    pub async fn record_fetch(&self, id: &str, now: DateTime<Utc>, r: &FetchRecord) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        record_fetch_in(&mut conn, id, now, r).await
    }
}

/// Write a fetch's outcome on `conn`, which may be inside a larger transaction.
pub(super) async fn record_fetch_in(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
    now: DateTime<Utc>,
    r: &FetchRecord,
) -> Result<()> {
    let failed = matches!(
        r.status,
        SourceStatus::Error | SourceStatus::RateLimited | SourceStatus::Gone
    );
    sqlx::query(
        "UPDATE sources SET \
             last_fetch_at = ?2, last_status = ?3, last_http_status = ?4, last_error = ?5, \
             next_due_at = ?6, \
             etag = CASE WHEN ?7 THEN sources.etag ELSE ?8 END, \
             last_modified = CASE WHEN ?7 THEN sources.last_modified ELSE ?9 END, \
             url = COALESCE(?10, url), \
             consecutive_failures = CASE WHEN ?7 THEN consecutive_failures + 1 ELSE 0 END, \
             failing_since = CASE WHEN ?7 THEN COALESCE(failing_since, ?2) ELSE NULL END, \
             last_success_at = CASE WHEN ?7 THEN last_success_at ELSE ?2 END, \
             disabled_reason = COALESCE(?11, disabled_reason), \
             flagged = ?12 \
         WHERE id = ?1",
    )
    .bind(id)
    .bind(to_ts(now))
    .bind(r.status.as_str())
    .bind(r.http_status.map(i64::from))
    .bind(&r.error)
    .bind(to_ts(r.next_due))
    .bind(failed)
    .bind(&r.etag)
    .bind(&r.last_modified)
    .bind(&r.moved_to)
    .bind(&r.disable_reason)
    .bind(&r.flagged)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
