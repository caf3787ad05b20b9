//! The `subscribers` and `subscriptions` tables: who is on which story's list, and in what
//! state (pending until they confirm, confirmed, unsubscribed).

use chrono::{DateTime, Utc};

use super::{from_ts, to_ts, Result, Store};

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionState {
    Pending,
    Confirmed,
    Unsubscribed,
}

impl SubscriptionState {
    fn parse(s: &str) -> SubscriptionState {
        match s {
            "confirmed" => SubscriptionState::Confirmed,
            "unsubscribed" => SubscriptionState::Unsubscribed,
            _ => SubscriptionState::Pending,
        }
    }

    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Pending => "pending",
            SubscriptionState::Confirmed => "confirmed",
            SubscriptionState::Unsubscribed => "unsubscribed",
        }
    }
}

/// A subscriber (one address).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SubscriberRow {
    pub id: i64,
    pub email: String,
    pub created_at: i64,
    pub confirm_sent_at: Option<i64>,
}

/// One story list a subscriber is on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SubscriptionRow {
    pub story_id: String,
    pub state: SubscriptionState,
    pub origin: String,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
}

/// What a web subscription request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeRequest {
    pub subscriber_id: i64,
    /// Stories now waiting for this address to confirm.
    pub pending: Vec<String>,
    /// Whether a confirmation mail should go out now (false within the resend interval, or
    /// when nothing is pending).
    pub send_confirmation: bool,
}

impl Store {
    /// Operator add: the address is on each story's list, confirmed, whatever it was before.
    pub async fn add_confirmed_subscriber(
        &self,
        email: &str,
        stories: &[String],
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = upsert_subscriber(&mut tx, email, now).await?;
        for story in stories {
            sqlx::query(
                "INSERT INTO subscriptions (subscriber_id, story_id, state, origin, created_at, \
                     confirmed_at) VALUES (?1, ?2, 'confirmed', 'operator', ?3, ?3) \
                 ON CONFLICT (subscriber_id, story_id) DO UPDATE SET \
                     confirmed_at = CASE WHEN state = 'confirmed' THEN confirmed_at ELSE ?3 END, \
                     state = 'confirmed', unsubscribed_at = NULL",
            )
            .bind(id)
            .bind(story)
            .bind(to_ts(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Web subscribe: each story not already confirmed becomes pending. A confirmation mail is
    /// due when something is pending and none went to this address within `resend_after`.
    pub async fn request_subscription(
        &self,
        email: &str,
        stories: &[String],
        now: DateTime<Utc>,
        resend_after: std::time::Duration,
    ) -> Result<SubscribeRequest> {
        let mut tx = self.pool.begin().await?;
        let id = upsert_subscriber(&mut tx, email, now).await?;
        for story in stories {
            sqlx::query(
                "INSERT INTO subscriptions (subscriber_id, story_id, state, origin, created_at) \
                 VALUES (?1, ?2, 'pending', 'web', ?3) \
                 ON CONFLICT (subscriber_id, story_id) DO UPDATE SET state = 'pending', \
                     unsubscribed_at = NULL WHERE state = 'unsubscribed'",
            )
            .bind(id)
            .bind(story)
            .bind(to_ts(now))
            .execute(&mut *tx)
            .await?;
        }
        let pending: Vec<String> = sqlx::query_as::<_, (String,)>(
            "SELECT story_id FROM subscriptions WHERE subscriber_id = ?1 AND state = 'pending' \
             ORDER BY story_id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(s,)| s)
        .filter(|s| stories.contains(s))
        .collect();
        let resend = i64::try_from(resend_after.as_secs()).unwrap_or(i64::MAX);
        let send_confirmation = !pending.is_empty()
            && sqlx::query(
                "UPDATE subscribers SET confirm_sent_at = ?2 WHERE id = ?1 \
                 AND (confirm_sent_at IS NULL OR confirm_sent_at <= ?2 - ?3)",
            )
            .bind(id)
            .bind(to_ts(now))
            .bind(resend)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
        tx.commit().await?;
        Ok(SubscribeRequest {
            subscriber_id: id,
            pending,
            send_confirmation,
        })
    }

    /// Forget that a confirmation mail went out (it could not be sent), so the next request
    /// may send one at once.
    pub async fn clear_confirm_sent(&self, subscriber_id: i64) -> Result<()> {
        sqlx::query("UPDATE subscribers SET confirm_sent_at = NULL WHERE id = ?1")
            .bind(subscriber_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Confirm the subscriber's pending subscriptions to `stories`; returns how many changed.
    /// Already-confirmed ones stay as they are, so a second click is harmless; unsubscribed
    /// ones are not revived by an old confirmation link.
    pub async fn confirm_subscriptions(
        &self,
        subscriber_id: i64,
        stories: &[String],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut changed = 0;
        let mut tx = self.pool.begin().await?;
        for story in stories {
            changed += sqlx::query(
                "UPDATE subscriptions SET state = 'confirmed', confirmed_at = ?3 \
                 WHERE subscriber_id = ?1 AND story_id = ?2 AND state = 'pending'",
            )
            .bind(subscriber_id)
            .bind(story)
            .bind(to_ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Take the subscriber off one story's list and drop their unsent deliveries of it.
    /// Returns false when they were not on it (already unsubscribed, or unknown).
    pub async fn unsubscribe(
        &self,
        subscriber_id: i64,
        story_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE subscriptions SET state = 'unsubscribed', unsubscribed_at = ?3 \
             WHERE subscriber_id = ?1 AND story_id = ?2 AND state != 'unsubscribed'",
        )
        .bind(subscriber_id)
        .bind(story_id)
        .bind(to_ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        sqlx::query(
            "DELETE FROM deliveries WHERE subscriber_id = ?1 AND state IN ('pending', 'sending') \
             AND digest_id IN (SELECT id FROM digests WHERE story_id = ?2)",
        )
        .bind(subscriber_id)
        .bind(story_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Delete the subscriber, their subscriptions and their deliveries. False if unknown.
    pub async fn remove_subscriber(&self, email: &str) -> Result<bool> {
        Ok(sqlx::query("DELETE FROM subscribers WHERE email = ?1")
            .bind(email)
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1)
    }

    pub async fn subscriber(&self, id: i64) -> Result<SubscriberRow> {
        Ok(sqlx::query_as(
            "SELECT id, email, created_at, confirm_sent_at FROM subscribers WHERE id = ?1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn subscriber_by_email(&self, email: &str) -> Result<SubscriberRow> {
        Ok(sqlx::query_as(
            "SELECT id, email, created_at, confirm_sent_at FROM subscribers WHERE email = ?1",
        )
        .bind(email)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Every subscriber, by address.
    /// Addresses confirmed for a story, in address order.
    pub async fn confirmed_subscribers(&self, story_id: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT s.email FROM subscribers s JOIN subscriptions t ON t.subscriber_id = s.id \
             WHERE t.story_id = ?1 AND t.state = 'confirmed' ORDER BY s.email",
        )
        .bind(story_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    pub async fn subscribers(&self) -> Result<Vec<SubscriberRow>> {
        Ok(sqlx::query_as(
            "SELECT id, email, created_at, confirm_sent_at FROM subscribers ORDER BY email",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The story lists one subscriber is on, in any state.
    pub async fn subscriptions_of(&self, subscriber_id: i64) -> Result<Vec<SubscriptionRow>> {
        type Raw = (String, String, String, i64, Option<i64>, Option<i64>);
        let rows: Vec<Raw> = sqlx::query_as(
            "SELECT story_id, state, origin, created_at, confirmed_at, unsubscribed_at \
             FROM subscriptions WHERE subscriber_id = ?1 ORDER BY story_id",
        )
        .bind(subscriber_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(story_id, state, origin, c, conf, unsub)| SubscriptionRow {
                    story_id,
                    state: SubscriptionState::parse(&state),
                    origin,
                    created_at: from_ts(c),
                    confirmed_at: conf.map(from_ts),
                    unsubscribed_at: unsub.map(from_ts),
                },
            )
            .collect())
    }
}

async fn upsert_subscriber(
    tx: &mut sqlx::SqliteConnection,
    email: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    // DO UPDATE with a no-op so RETURNING yields the existing row's id too.
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO subscribers (email, created_at) VALUES (?1, ?2) \
         ON CONFLICT (email) DO UPDATE SET email = email RETURNING id",
    )
    .bind(email)
    .bind(to_ts(now))
    .fetch_one(&mut *tx)
    .await?;
    Ok(id)
}
