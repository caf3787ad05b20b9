//! The alert tables: when each alert began, the developments (and page updates) it may still
//! alert on, and its outbox. Claims carry an owner and a lease, so two processes never send
//! the same row at once, and a row whose sender died is taken again only once its lease ran
//! out.
//!
//! Over 400 lines on purpose: every query of the claim/lease protocol is here, so the rules of
//! who may take a row are read in one place.

use chrono::{DateTime, Utc};

use super::{from_ts, push_in_list, to_ts, Result, Store};

/// An event an alert has not alerted on, with what the alert needs of it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertEvent {
    pub event_id: String,
    pub headline: String,
    pub first_at: i64,
}

/// A member of an event, with the item fields an alert shows.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertMember {
    pub event_id: String,
    pub at: i64,
    pub item_id: i64,
    pub source_id: String,
    pub guid: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub outlet_name: Option<String>,
}

/// A page update an alert has not alerted on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertUpdate {
    pub event_id: String,
    pub headline: String,
    pub first_at: i64,
    pub item_id: i64,
    pub updated_at: i64,
    pub note: Option<String>,
}

/// A decision to alert, as `alert::decide` hands it to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlertDelivery {
    pub alert_id: String,
    pub story_id: String,
    pub event_id: String,
    pub subject: String,
    pub payload: String,
    pub due_at: DateTime<Utc>,
}

/// An alert delivery taken for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedAlert {
    pub id: i64,
    pub alert_id: String,
    pub event_id: String,
    pub idempotency_key: String,
    pub payload: String,
    /// Including this attempt.
    pub attempts: i64,
}

/// An alert delivery as `alerts list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertDeliveryRow {
    pub id: i64,
    pub alert_id: String,
    pub story_id: String,
    pub event_id: String,
    pub subject: String,
    pub idempotency_key: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i64>,
    pub last_reply: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub payload: String,
}

/// Deliveries of one alert in one state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertCount {
    pub alert_id: String,
    pub state: String,
    pub count: i64,
}

type RawRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    Option<i64>,
    String,
);

impl Store {
    /// When the alert began (now, the first time it is seen; again now when its story
    /// changed, since what it alerted on before is another story's).
    pub async fn alert_since(
        &self,
        alert_id: &str,
        story_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>> {
        let changed: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO alert_marks (alert_id, story_id, since) VALUES (?1, ?2, ?3) \
             ON CONFLICT (alert_id) DO UPDATE SET story_id = excluded.story_id, \
                 since = excluded.since WHERE alert_marks.story_id != excluded.story_id \
             RETURNING since",
        )
        .bind(alert_id)
        .bind(story_id)
        .bind(to_ts(now))
        .fetch_optional(&self.pool)
        .await?;
        if let Some((since,)) = changed {
            return Ok(from_ts(since));
        }
        // Unchanged: the upsert did nothing and returned nothing.
        let (since,): (i64,) = sqlx::query_as("SELECT since FROM alert_marks WHERE alert_id = ?1")
            .bind(alert_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(from_ts(since))
    }

    /// The story's events decided at or after `since` whose first report is at or after
    /// `fresh_from`, and that this alert has no delivery for yet.
    pub async fn alert_event_candidates(
        &self,
        alert_id: &str,
        story_id: &str,
        since: DateTime<Utc>,
        fresh_from: i64,
    ) -> Result<Vec<AlertEvent>> {
        Ok(sqlx::query_as(
            "SELECT e.event_id, e.headline, e.first_at FROM story_events e \
             WHERE e.story_id = ?2 AND e.created_at >= ?3 AND e.first_at >= ?4 \
               AND NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.alert_id = ?1 \
                   AND d.event_id = e.event_id AND d.subject = 'event') \
             ORDER BY e.first_at, e.event_id",
        )
        .bind(alert_id)
        .bind(story_id)
        .bind(to_ts(since))
        .bind(fresh_from)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Members of the given events, oldest first within each.
    pub async fn alert_event_members(
        &self,
        story_id: &str,
        event_ids: &[String],
    ) -> Result<Vec<AlertMember>> {
        let mut out = Vec::new();
        for chunk in event_ids.chunks(500) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT si.event_id, si.at, i.id AS item_id, i.source_id, i.guid, i.url, \
                     i.title, i.outlet_name \
                 FROM story_items si JOIN items i ON i.id = si.item_id WHERE si.story_id = ",
            );
            q.push_bind(story_id).push(" AND si.event_id IN ");
            push_in_list(&mut q, chunk);
            q.push(" ORDER BY si.event_id, si.at, i.id");
            out.extend(
                q.build_query_as::<AlertMember>()
                    .fetch_all(&self.pool)
                    .await?,
            );
        }
        Ok(out)
    }

    /// Page updates of the story's events recorded at or after `since`, that this alert has
    /// no delivery for yet.
    pub async fn alert_update_candidates(
        &self,
        alert_id: &str,
        story_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<AlertUpdate>> {
        Ok(sqlx::query_as(
            "SELECT u.event_id, e.headline, e.first_at, u.item_id, u.updated_at, u.note \
             FROM story_updates u JOIN story_events e \
                 ON e.story_id = u.story_id AND e.event_id = u.event_id \
             WHERE u.story_id = ?2 AND u.updated_at >= ?3 \
               AND NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.alert_id = ?1 \
                   AND d.event_id = u.event_id \
                   AND d.subject = 'update:' || u.item_id || ':' || u.updated_at) \
             ORDER BY u.updated_at, u.item_id",
        )
        .bind(alert_id)
        .bind(story_id)
        .bind(to_ts(since))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Record decisions to alert, all in one transaction: a row per (alert, event, subject),
    /// each with its own idempotency key, kept for every attempt. A decision already recorded
    /// (by this process or another) is left as it is. Returns the rows created.
    pub async fn insert_alert_deliveries(
        &self,
        rows: &[NewAlertDelivery],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut created = 0;
        for r in rows {
            created += sqlx::query(
                "INSERT OR IGNORE INTO alert_deliveries (alert_id, story_id, event_id, subject, \
                     idempotency_key, payload, state, next_attempt_at, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, 'storyline-' || lower(hex(randomblob(12))), ?5, \
                     'pending', ?6, ?7, ?7)",
            )
            .bind(&r.alert_id)
            .bind(&r.story_id)
            .bind(&r.event_id)
            .bind(&r.subject)
            .bind(&r.payload)
            .bind(to_ts(r.due_at))
            .bind(to_ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Push the alert's pending deliveries due before `until` to `until` (quiet hours, or a
    /// receiver that just failed); attempts are not counted.
    pub async fn defer_alerts(
        &self,
        alert_id: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE alert_deliveries SET next_attempt_at = ?2, updated_at = ?3 \
             WHERE alert_id = ?1 AND state = 'pending' AND next_attempt_at < ?2",
        )
        .bind(alert_id)
        .bind(to_ts(until))
        .bind(to_ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Take the next due delivery for `owner` until `lease_until`: a pending one whose time
    /// has come, or one left `sending` by an owner whose lease ran out. The attempt is
    /// counted and committed before anything is sent. One statement, so SQLite's single
    /// writer makes the claim exclusive.
    pub async fn claim_alert(
        &self,
        owner: &str,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<ClaimedAlert>> {
        let row: Option<(i64, String, String, String, String, i64)> = sqlx::query_as(
            "UPDATE alert_deliveries SET state = 'sending', owner = ?1, lease_until = ?2, \
                 attempts = attempts + 1, updated_at = ?3 \
             WHERE id = (SELECT id FROM alert_deliveries \
                 WHERE (state = 'pending' AND next_attempt_at <= ?3) \
                    OR (state = 'sending' AND lease_until <= ?3) \
                 ORDER BY next_attempt_at, id LIMIT 1) \
             RETURNING id, alert_id, event_id, idempotency_key, payload, attempts",
        )
        .bind(owner)
        .bind(to_ts(lease_until))
        .bind(to_ts(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(id, alert_id, event_id, idempotency_key, payload, attempts)| ClaimedAlert {
                id,
                alert_id,
                event_id,
                idempotency_key,
                payload,
                attempts,
            },
        ))
    }

    /// Record the outcome of `owner`'s attempt. False when the row is no longer this owner's
    /// (its lease ran out and another process took it): the outcome is then that process's
    /// to record.
    pub async fn record_alert(
        &self,
        id: i64,
        owner: &str,
        outcome: &AlertOutcome<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let (state, next, sent_at, status, reply) = match *outcome {
            AlertOutcome::Sent { status, reply } => ("sent", now, Some(now), Some(status), reply),
            AlertOutcome::Retry {
                status,
                reply,
                retry_at,
            } => ("pending", retry_at, None, status, reply),
            AlertOutcome::Failed { status, reply } => ("failed", now, None, status, reply),
        };
        Ok(sqlx::query(
            "UPDATE alert_deliveries SET state = ?3, next_attempt_at = ?4, sent_at = ?5, \
                 last_status = ?6, last_reply = ?7, owner = NULL, lease_until = NULL, \
                 updated_at = ?8 \
             WHERE id = ?1 AND owner = ?2 AND state = 'sending'",
        )
        .bind(id)
        .bind(owner)
        .bind(state)
        .bind(to_ts(next))
        .bind(sent_at.map(to_ts))
        .bind(status.map(i64::from))
        .bind(reply)
        .bind(to_ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// The earliest time a delivery may be due: a pending one's next attempt, or the end of a
    /// `sending` one's lease.
    pub async fn next_alert_due(&self) -> Result<Option<DateTime<Utc>>> {
        let (t,): (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(CASE state WHEN 'pending' THEN next_attempt_at ELSE lease_until END) \
             FROM alert_deliveries WHERE state IN ('pending', 'sending')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(t.map(from_ts))
    }

    /// Deliveries per alert and state.
    pub async fn alert_counts(&self) -> Result<Vec<AlertCount>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT alert_id, state, COUNT(*) FROM alert_deliveries \
             GROUP BY alert_id, state ORDER BY alert_id, state",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(alert_id, state, count)| AlertCount {
                alert_id,
                state,
                count,
            })
            .collect())
    }

    /// The last `limit` deliveries, newest first.
    pub async fn recent_alert_deliveries(&self, limit: u32) -> Result<Vec<AlertDeliveryRow>> {
        let rows: Vec<RawRow> = sqlx::query_as(
            "SELECT id, alert_id, story_id, event_id, subject, idempotency_key, state, \
                 attempts, next_attempt_at, last_status, last_reply, created_at, sent_at, \
                 payload \
             FROM alert_deliveries ORDER BY id DESC LIMIT ?1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AlertDeliveryRow {
                id: r.0,
                alert_id: r.1,
                story_id: r.2,
                event_id: r.3,
                subject: r.4,
                idempotency_key: r.5,
                state: r.6,
                attempts: r.7,
                next_attempt_at: from_ts(r.8),
                last_status: r.9,
                last_reply: r.10,
                created_at: from_ts(r.11),
                sent_at: r.12.map(from_ts),
                payload: r.13,
            })
            .collect())
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertOutcome<'a> {
    Sent {
        status: u16,
        reply: &'a str,
    },
    Retry {
        status: Option<u16>,
        reply: &'a str,
        retry_at: DateTime<Utc>,
    },
    Failed {
        status: Option<u16>,
        reply: &'a str,
    },
}
