//! The `digests` table: each (story, week) rendered once and kept, so every subscriber's
//! message, and any resend of it, is built from the same stored parts.

use chrono::{DateTime, Utc};

use super::{from_ts, to_ts, Result, Store};
use crate::value::week::IsoWeek;

/// A rendered digest to store and mail (the HTML is the mail variant, with the chart as a
/// `cid:` link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewDigest<'a> {
    pub story_id: &'a str,
    pub week: IsoWeek,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub chart_png: Option<&'a [u8]>,
}

/// What [`Store::store_edition`] did with a week's edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditionStored {
    /// The week had no stored edition; this one is it now.
    Created,
    /// The stored edition was mailed to nobody yet and read differently: this one replaced it.
    Replaced,
    /// The stored edition reads the same; it is kept as it was (and so is its time).
    Unchanged,
    /// The stored edition has gone out by mail (it has deliveries): it is kept, so the archive
    /// shows what subscribers got.
    KeptMailed,
}

/// A stored digest.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DigestRow {
    pub id: i64,
    pub story_id: String,
    pub week: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub chart_png: Option<Vec<u8>>,
    pub composed_at: i64,
}

impl DigestRow {
    /// When the digest was first stored: the `Date` of every copy.
    pub fn composed(&self) -> DateTime<Utc> {
        from_ts(self.composed_at)
    }
}

macro_rules! digest_columns {
    () => {
        "id, story_id, week, subject, text, html, chart_png, composed_at"
    };
}

impl Store {
    /// Store the digest for its (story, week) unless one is already there; either way return
    /// the stored row and whether this call created it. An existing digest is never replaced:
    /// some subscribers may already have it, and the rest must get the same message.
    pub async fn insert_digest_once(
        &self,
        d: &NewDigest<'_>,
        now: DateTime<Utc>,
    ) -> Result<(DigestRow, bool)> {
        let inserted = sqlx::query(
            "INSERT OR IGNORE INTO digests (story_id, week, subject, text, html, chart_png, \
                 composed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(d.story_id)
        .bind(d.week.to_string())
        .bind(d.subject)
        .bind(d.text)
        .bind(d.html)
        .bind(d.chart_png)
        .bind(to_ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        const Q: &str = concat!(
            "SELECT ",
            digest_columns!(),
            " FROM digests WHERE story_id = ?1 AND week = ?2"
        );
        let row = sqlx::query_as(Q)
            .bind(d.story_id)
            .bind(d.week.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok((row, inserted))
    }

    /// Keep `d` as its week's edition, unless the stored one has been mailed: an edition with
    /// deliveries is never replaced (some subscribers may have it, the rest must get the same
    /// message), while one nobody was sent yet is brought up to date. One statement decides,
    /// so a delivery queued at the same moment either sees the old row or the new one.
    pub async fn store_edition(
        &self,
        d: &NewDigest<'_>,
        now: DateTime<Utc>,
    ) -> Result<(DigestRow, EditionStored)> {
        let (row, created) = self.insert_digest_once(d, now).await?;
        if created {
            return Ok((row, EditionStored::Created));
        }
        let replaced = sqlx::query(
            "UPDATE digests SET subject = ?3, text = ?4, html = ?5, chart_png = ?6, \
                 composed_at = ?7 \
             WHERE story_id = ?1 AND week = ?2 \
               AND NOT EXISTS (SELECT 1 FROM deliveries WHERE digest_id = digests.id) \
               AND (subject != ?3 OR text != ?4 OR html != ?5 OR chart_png IS NOT ?6)",
        )
        .bind(d.story_id)
        .bind(d.week.to_string())
        .bind(d.subject)
        .bind(d.text)
        .bind(d.html)
        .bind(d.chart_png)
        .bind(to_ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        if replaced {
            return Ok((self.digest(row.id).await?, EditionStored::Replaced));
        }
        let (mailed,): (bool,) =
            sqlx::query_as("SELECT EXISTS (SELECT 1 FROM deliveries WHERE digest_id = ?1)")
                .bind(row.id)
                .fetch_one(&self.pool)
                .await?;
        let row = self.digest(row.id).await?;
        Ok(if mailed {
            (row, EditionStored::KeptMailed)
        } else {
            (row, EditionStored::Unchanged)
        })
    }

    /// A story's newest stored editions, newest week first, at most `limit`.
    pub async fn latest_digests(&self, story_id: &str, limit: u32) -> Result<Vec<DigestRow>> {
        const Q: &str = concat!(
            "SELECT ",
            digest_columns!(),
            " FROM digests WHERE story_id = ?1 ORDER BY week DESC LIMIT ?2"
        );
        Ok(sqlx::query_as(Q)
            .bind(story_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// One stored digest.
    pub async fn digest(&self, id: i64) -> Result<DigestRow> {
        const Q: &str = concat!("SELECT ", digest_columns!(), " FROM digests WHERE id = ?1");
        Ok(sqlx::query_as(Q).bind(id).fetch_one(&self.pool).await?)
    }

    /// The stored digest of a story's week, if it was made.
    pub async fn digest_of_week(&self, story_id: &str, week: &str) -> Result<Option<DigestRow>> {
        const Q: &str = concat!(
            "SELECT ",
            digest_columns!(),
            " FROM digests WHERE story_id = ?1 AND week = ?2"
        );
        Ok(sqlx::query_as(Q)
            .bind(story_id)
            .bind(week)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A story's stored digests, newest week first: (week, subject, composed_at).
    pub async fn digest_weeks(&self, story_id: &str) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT week, subject, composed_at FROM digests WHERE story_id = ?1 \
             ORDER BY week DESC",
        )
        .bind(story_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The last digest-schedule fire time handled for a story.
    pub async fn digest_last_fire(&self, story_id: &str) -> Result<Option<DateTime<Utc>>> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT last_fire_at FROM digest_runs WHERE story_id = ?1")
                .bind(story_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(t,)| from_ts(t)))
    }

    /// Remember that the fire at `at` was handled for a story.
    pub async fn set_digest_last_fire(&self, story_id: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO digest_runs (story_id, last_fire_at) VALUES (?1, ?2) \
             ON CONFLICT (story_id) DO UPDATE SET last_fire_at = excluded.last_fire_at",
        )
        .bind(story_id)
        .bind(to_ts(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
