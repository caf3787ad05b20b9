//! The `deliveries` table: the outbox. One row per (digest, subscriber), claimed one at a time
//! (pending -> sending, under a lease, committed before the message leaves) and then recorded
//! as sent, due again later, or failed. `mail::lease` decides whose lease may be taken back.
//!
//! Over 400 lines on purpose: every query of the claim/lease protocol is here, so the rules of
//! who may take a row are read in one place.

use chrono::{DateTime, Utc};

use super::{from_ts, to_ts, Result, Store};

/// A delivery taken for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub digest_id: i64,
    pub subscriber_id: i64,
    pub email: String,
    pub message_id: String,
    /// Including this attempt.
    pub attempts: i64,
}

/// A claim on a delivery: the run taking it, and until when the claim holds unrenewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseClaim<'a> {
    pub owner: &'a str,
    /// The holder's liveness mark (`mail::lease::is_gone` reads it), if it has one.
    pub process: Option<&'a str>,
    pub until: DateTime<Utc>,
}

/// A run with deliveries in `sending`, as the table knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingHolder {
    /// `None` for rows claimed before leases existed.
    pub owner: Option<String>,
    pub process: Option<String>,
    /// The latest lease end among its deliveries.
    pub until: Option<DateTime<Utc>>,
    pub deliveries: i64,
}

/// What queueing a digest's deliveries did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    /// Deliveries created now.
    pub queued: u64,
    /// Deliveries that already existed for this digest (any state).
    pub already: u64,
}

/// A delivery as `subscribers list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub subscriber_id: i64,
    pub email: String,
    pub story_id: String,
    pub week: String,
    pub message_id: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_reply: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Counts by state, and when the next retry is due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    /// Earliest `next_attempt_at` among pending deliveries.
    pub next_due: Option<DateTime<Utc>>,
}

macro_rules! delivery_select {
    () => {
        "SELECT d.id, d.subscriber_id, s.email, g.story_id, g.week, d.message_id, d.state, \
             d.attempts, d.next_attempt_at, d.last_reply, d.sent_at \
         FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id \
             JOIN digests g ON g.id = d.digest_id "
    };
}

/// Back to pending, due now (?1), with why; the lease fields name who held it last.
macro_rules! requeue_set {
    () => {
        "UPDATE deliveries SET state = 'pending', next_attempt_at = ?1, updated_at = ?1, \
             lease_process = NULL, lease_until = NULL, \
             last_reply = 'interrupted while sending; outcome unknown, resending' "
    };
}

/// Delivery ?1, still `sending` under owner ?4.
macro_rules! held_by {
    () => {
        "WHERE id = ?1 AND state = 'sending' AND lease_owner = ?4"
    };
}

/// Recorded as sent: ?2 the reply, ?3 now.
macro_rules! set_sent {
    () => {
        "UPDATE deliveries SET state = 'sent', last_reply = ?2, sent_at = ?3, updated_at = ?3, \
             lease_process = NULL, lease_until = NULL "
    };
}

/// Owner, process, latest lease end, deliveries.
type RawHolder = (Option<String>, Option<String>, Option<i64>, i64);

type RawDelivery = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
);

fn delivery_row(r: RawDelivery) -> DeliveryRow {
    DeliveryRow {
        id: r.0,
        subscriber_id: r.1,
        email: r.2,
        story_id: r.3,
        week: r.4,
        message_id: r.5,
        state: r.6,
        attempts: r.7,
        next_attempt_at: from_ts(r.8),
        last_reply: r.9,
        sent_at: r.10.map(from_ts),
    }
}

impl Store {
    /// Queue the digest for every subscriber confirmed on its story, in one statement, so
    /// nobody is added twice and someone unsubscribing at the same moment is either in or out.
    /// Each new delivery gets its Message-ID now (`<digest.subscriber.random@domain>`) and
    /// keeps it for every attempt.
    pub async fn enqueue_deliveries(
        &self,
        digest_id: i64,
        id_domain: &str,
        now: DateTime<Utc>,
    ) -> Result<Enqueued> {
        let queued = sqlx::query(
            "INSERT OR IGNORE INTO deliveries (digest_id, subscriber_id, message_id, state, \
                 next_attempt_at, created_at, updated_at) \
             SELECT g.id, s.subscriber_id, \
                 '<' || g.id || '.' || s.subscriber_id || '.' || lower(hex(randomblob(8))) \
                     || '@' || ?2 || '>', \
                 'pending', ?3, ?3, ?3 \
             FROM digests g JOIN subscriptions s ON s.story_id = g.story_id \
             WHERE g.id = ?1 AND s.state = 'confirmed' ORDER BY s.subscriber_id",
        )
        .bind(digest_id)
        .bind(id_domain)
        .bind(to_ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        let (total,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE digest_id = ?1")
                .bind(digest_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(Enqueued {
            queued,
            already: u64::try_from(total).unwrap_or(0).saturating_sub(queued),
        })
    }

    /// Who holds the deliveries in `sending`, one row per holder.
    pub async fn sending_holders(&self) -> Result<Vec<SendingHolder>> {
        let rows: Vec<RawHolder> = sqlx::query_as(
            "SELECT lease_owner, lease_process, MAX(lease_until), COUNT(*) FROM deliveries \
             WHERE state = 'sending' GROUP BY lease_owner, lease_process \
             ORDER BY lease_owner",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(owner, process, until, deliveries)| SendingHolder {
                owner,
                process,
                until: until.map(from_ts),
                deliveries,
            })
            .collect())
    }

    /// Deliveries in `sending` whose lease has run out (or that never had one): their run is
    /// gone or stuck and their outcome unknown, so they go back to pending, due now, to be
    /// resent with the same Message-ID.
    pub async fn requeue_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(sqlx::query(concat!(
            requeue_set!(),
            "WHERE state = 'sending' AND (lease_until IS NULL OR lease_until <= ?1)"
        ))
        .bind(to_ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// As [`Store::requeue_expired`], for every delivery `owner` holds, whatever its lease:
    /// for a holder known to be gone.
    pub async fn requeue_held_by(&self, owner: &str, now: DateTime<Utc>) -> Result<u64> {
        Ok(sqlx::query(concat!(
            requeue_set!(),
            "WHERE state = 'sending' AND lease_owner = ?2"
        ))
        .bind(to_ts(now))
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Take the next due delivery: mark it `sending` under `claim` and count the attempt,
    /// committed before anything is sent, so a crash from here on leaves a visible `sending`
    /// row that names its holder.
    pub async fn claim_delivery(
        &self,
        claim: &LeaseClaim<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<ClaimedDelivery>> {
        let claimed: Option<(i64, i64, i64, String, i64)> = sqlx::query_as(
            "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = ?1, \
                 lease_owner = ?2, lease_process = ?3, lease_until = ?4 \
             WHERE id = (SELECT id FROM deliveries WHERE state = 'pending' \
                 AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT 1) \
             RETURNING id, digest_id, subscriber_id, message_id, attempts",
        )
        .bind(to_ts(now))
        .bind(claim.owner)
        .bind(claim.process)
        .bind(to_ts(claim.until))
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, digest_id, subscriber_id, message_id, attempts)) = claimed else {
            return Ok(None);
        };
        let (email,): (String,) = sqlx::query_as("SELECT email FROM subscribers WHERE id = ?1")
            .bind(subscriber_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(ClaimedDelivery {
            id,
            digest_id,
            subscriber_id,
            email,
            message_id,
            attempts,
        }))
    }

    /// Extend `owner`'s claim on a delivery it is still sending; false when the claim was
    /// lost (its lease ran out and another run took the delivery back).
    pub async fn renew_lease(&self, id: i64, owner: &str, until: DateTime<Utc>) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE deliveries SET lease_until = ?3 \
             WHERE id = ?1 AND state = 'sending' AND lease_owner = ?2",
        )
        .bind(id)
        .bind(owner)
        .bind(to_ts(until))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// The server took the message. Recorded even when `owner`'s claim was lost meanwhile:
    /// what the server took is a fact, and a run that took the delivery back records no
    /// retry over it. Returns whether the claim still held.
    pub async fn record_sent(
        &self,
        id: i64,
        owner: &str,
        reply: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let held = sqlx::query(concat!(set_sent!(), held_by!()))
            .bind(id)
            .bind(reply)
            .bind(to_ts(now))
            .bind(owner)
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1;
        if !held {
            sqlx::query(concat!(set_sent!(), "WHERE id = ?1"))
                .bind(id)
                .bind(reply)
                .bind(to_ts(now))
                .execute(&self.pool)
                .await?;
        }
        Ok(held)
    }

    /// Try again at `retry_at`, if `owner` still holds the delivery; returns whether it did.
    pub async fn record_retry(
        &self,
        id: i64,
        owner: &str,
        reply: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        Ok(sqlx::query(concat!(
            "UPDATE deliveries SET state = 'pending', last_reply = ?2, updated_at = ?3, \
                 next_attempt_at = ?5, lease_process = NULL, lease_until = NULL ",
            held_by!()
        ))
        .bind(id)
        .bind(reply)
        .bind(to_ts(now))
        .bind(owner)
        .bind(to_ts(retry_at))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Given up (the reply says why), if `owner` still holds the delivery; returns whether
    /// it did.
    pub async fn record_failed(
        &self,
        id: i64,
        owner: &str,
        reply: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        Ok(sqlx::query(concat!(
            "UPDATE deliveries SET state = 'failed', last_reply = ?2, updated_at = ?3, \
                 lease_process = NULL, lease_until = NULL ",
            held_by!()
        ))
        .bind(id)
        .bind(reply)
        .bind(to_ts(now))
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Outbox counts, for one digest or for all.
    pub async fn outbox_counts(&self, digest_id: Option<i64>) -> Result<OutboxCounts> {
        let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT state, COUNT(*), MIN(next_attempt_at) FROM deliveries \
             WHERE ?1 IS NULL OR digest_id = ?1 GROUP BY state",
        )
        .bind(digest_id)
        .fetch_all(&self.pool)
        .await?;
        let mut c = OutboxCounts::default();
        for (state, n, next) in rows {
            match state.as_str() {
                "pending" => {
                    c.pending = n;
                    c.next_due = next.map(from_ts);
                }
                "sending" => c.sending = n,
                "sent" => c.sent = n,
                _ => c.failed = n,
            }
        }
        Ok(c)
    }

    /// A subscriber's deliveries, newest digest first.
    pub async fn deliveries_of_subscriber(&self, subscriber_id: i64) -> Result<Vec<DeliveryRow>> {
        const Q: &str = concat!(
            delivery_select!(),
            "WHERE d.subscriber_id = ?1 ORDER BY g.week DESC, g.story_id"
        );
        let rows: Vec<RawDelivery> = sqlx::query_as(Q)
            .bind(subscriber_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(delivery_row).collect())
    }

    /// Every delivery of one digest, by subscriber.
    pub async fn deliveries_of_digest(&self, digest_id: i64) -> Result<Vec<DeliveryRow>> {
        const Q: &str = concat!(
            delivery_select!(),
            "WHERE d.digest_id = ?1 ORDER BY d.subscriber_id"
        );
        let rows: Vec<RawDelivery> = sqlx::query_as(Q)
            .bind(digest_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(delivery_row).collect())
    }
}
