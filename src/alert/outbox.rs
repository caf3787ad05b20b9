//! Draining the alert outbox: claim one due row at a time (with this process as owner, for a
//! lease), send it, record what the receiver said.
//!
//! A crash after the claim leaves the row `sending`; once its lease has run out, the next
//! drain (this process or another) claims it again and resends the same body under the same
//! idempotency key, so the receiver can fold the two. No process takes a row whose lease is
//! still running, so two live senders never send the same row at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::payload::Payload;
use super::request;
use super::sender::Sender;
use super::{AlertError, Alerts};
use crate::store::{AlertOutcome, ClaimedAlert, Store};
use crate::value::clock::Clock;

/// Attempts before a failing alert is given up (30s, 1m, 2m, … 1h apart: about six hours).
pub const MAX_ATTEMPTS: i64 = 12;
const FIRST_RETRY: Duration = Duration::from_secs(30);
const MAX_RETRY: Duration = Duration::from_secs(3600);
/// The longest a receiver's `Retry-After` may hold an alert.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// What one drain did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    pub sent: u64,
    /// Failed for now; due again later.
    pub retried: u64,
    /// Given up for good.
    pub failed: u64,
    /// Held back for quiet hours, or behind a receiver that just failed.
    pub deferred: u64,
    /// Attempts whose lease ran out before they finished: another process owns the row now.
    pub lost: u64,
}

/// Send every alert that is due, one at a time, until none is or `cancel` fires (the one in
/// flight finishes).
pub async fn drain(
    sender: &Sender,
    store: &Store,
    alerts: &Alerts,
    clock: &Clock,
    cancel: &CancellationToken,
) -> Result<DrainReport, AlertError> {
    let mut report = DrainReport::default();
    let owner = owner_token();
    let now = clock.now();
    for t in alerts.targets() {
        let until = alerts.release(t, now);
        if until > now {
            report.deferred += store.defer_alerts(t.id(), until, now).await?;
        }
    }
    // A claim outlives the longest attempt, so only a dead sender's row is ever taken over.
    let lease = chrono::Duration::from_std(sender.timeout() * 2 + Duration::from_secs(30))
        .unwrap_or(chrono::Duration::minutes(5));
    while !cancel.is_cancelled() {
        let now = clock.now();
        let Some(c) = store.claim_alert(&owner, now + lease, now).await? else {
            break;
        };
        if c.attempts > 1 {
            tracing::info!(alert = %c.alert_id, delivery = c.id, attempt = c.attempts,
                key = %c.idempotency_key, "resending alert with the same idempotency key");
        }
        let outcome = attempt(sender, alerts, &c, now).await;
        let now = clock.now();
        let recorded = match outcome {
            Attempt::Sent { status, reply } => {
                report.sent += 1;
                tracing::debug!(alert = %c.alert_id, delivery = c.id, %reply, "alert sent");
                let o = AlertOutcome::Sent {
                    status,
                    reply: &reply,
                };
                store.record_alert(c.id, &owner, &o, now).await?
            }
            Attempt::Failed { status, reply } => {
                report.failed += 1;
                tracing::warn!(alert = %c.alert_id, delivery = c.id, %reply, "alert failed");
                let o = AlertOutcome::Failed {
                    status,
                    reply: &reply,
                };
                store.record_alert(c.id, &owner, &o, now).await?
            }
            Attempt::Retry {
                status,
                reply,
                retry_after,
            } => {
                report.retried += 1;
                let retry_at = retry_time(alerts, &c, now, retry_after);
                tracing::info!(alert = %c.alert_id, delivery = c.id, %reply,
                    retry_at = %retry_at, "alert will be retried");
                let o = AlertOutcome::Retry {
                    status,
                    reply: &reply,
                    retry_at,
                };
                let recorded = store.record_alert(c.id, &owner, &o, now).await?;
                // The receiver is struggling: its other due alerts wait as long, without
                // spending attempts on it.
                report.deferred += store.defer_alerts(&c.alert_id, retry_at, now).await?;
                recorded
            }
        };
        if !recorded {
            report.lost += 1;
            tracing::warn!(alert = %c.alert_id, delivery = c.id,
                "the lease ran out before the attempt finished; another sender owns it now");
        }
    }
    if report.sent + report.retried + report.failed + report.lost > 0 {
        tracing::info!(
            sent = report.sent,
            retried = report.retried,
            failed = report.failed,
            deferred = report.deferred,
            "alert outbox drained"
        );
    }
    Ok(report)
}

enum Attempt {
    Sent {
        status: u16,
        reply: String,
    },
    Retry {
        status: Option<u16>,
        reply: String,
        retry_after: Option<DateTime<Utc>>,
    },
    Failed {
        status: Option<u16>,
        reply: String,
    },
}

async fn attempt(
    sender: &Sender,
    alerts: &Alerts,
    c: &ClaimedAlert,
    now: DateTime<Utc>,
) -> Attempt {
    let failed = |reply: String| Attempt::Failed {
        status: None,
        reply,
    };
    let Some(target) = alerts.get(&c.alert_id) else {
        return failed(format!(
            "alert \"{}\" is no longer in the config",
            c.alert_id
        ));
    };
    let payload: Payload = match serde_json::from_str(&c.payload) {
        Ok(p) => p,
        Err(e) => return failed(format!("the stored alert cannot be read: {e}")),
    };
    let req = match request::build(target, &payload, &c.idempotency_key, now) {
        Ok(r) => r,
        Err(e) => return failed(format!("cannot build the request: {e}")),
    };
    match sender.send(&req, now).await {
        Ok(d) => Attempt::Sent {
            status: d.status,
            reply: d.reply,
        },
        Err(f) if f.transient && c.attempts < MAX_ATTEMPTS => Attempt::Retry {
            status: f.status,
            reply: f.reply,
            retry_after: f.retry_after,
        },
        Err(f) if f.transient => Attempt::Failed {
            status: f.status,
            reply: format!("gave up after {} attempts: {}", c.attempts, f.reply),
        },
        Err(f) => Attempt::Failed {
            status: f.status,
            reply: f.reply,
        },
    }
}

/// The backoff, or the receiver's `Retry-After` when later (within reason), moved past the
/// alert's quiet hours.
fn retry_time(
    alerts: &Alerts,
    c: &ClaimedAlert,
    now: DateTime<Utc>,
    retry_after: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let backoff = now + retry_delay(c.attempts);
    let cap = now + chrono::Duration::from_std(MAX_RETRY_AFTER).unwrap_or_default();
    let at = retry_after.map_or(backoff, |r| r.min(cap).max(backoff));
    match alerts.get(&c.alert_id) {
        Some(t) => alerts.release(t, at),
        None => at,
    }
}

/// 30s, 1m, 2m, … capped at 1h, after the given number of attempts.
pub fn retry_delay(attempts: i64) -> chrono::Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let delay = FIRST_RETRY
        .saturating_mul(2u32.saturating_pow(exp))
        .min(MAX_RETRY);
    chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1))
}

/// Who claims: this process, distinct from any other (pid and random bytes).
fn owner_token() -> String {
    let mut bytes = [0u8; 6];
    let _ = getrandom::getrandom(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour_and_give_up_after_about_six() {
        let secs: Vec<i64> = (1..=8).map(|a| retry_delay(a).num_seconds()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600]);
        let total: i64 = (1..MAX_ATTEMPTS)
            .map(|a| retry_delay(a).num_seconds())
            .sum();
        assert!((5 * 3600..7 * 3600).contains(&total), "{total}");
        assert_eq!(retry_delay(i64::MAX).num_seconds(), 3600);
    }
}
