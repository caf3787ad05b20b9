//! The outbox: queue a digest once for every confirmed subscriber, then drain it.
//!
//! Draining claims one delivery at a time (`sending` under this run's lease, committed before
//! the message leaves), sends it while renewing the lease, and records the outcome. A crash
//! between claim and record leaves `sending`; a later drain takes it back once the holder is
//! provably gone or its lease has run out (see [`super::lease`]) and resends it with the same
//! Message-ID and the same bytes, so a subscriber may see the message twice only as one
//! message that mail systems fold, never two different ones. A drain never takes a delivery
//! from a run that may still be sending it, so two runs at once send each message once.

use std::collections::hash_map::{Entry, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::address::SubscriberEmail;
use super::lease::{self, Holder};
use super::message::digest_message;
use super::settings::MailSettings;
use super::transport::{FailureKind, Mailer};
use crate::store::{
    ClaimedDelivery, DigestRow, EditionStored, LeaseClaim, NewDigest, Store, StoreError,
};
use crate::value::clock::Clock;

/// First retry delay; it doubles with each attempt.
const FIRST_RETRY: Duration = Duration::from_secs(60);
/// Longest delay between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(4 * 3600);
/// Connection failures in a row after which the server counts as down for this run.
const MAX_CONNECTION_FAILURES: u32 = 3;

/// What [`queue_digest`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOutcome {
    pub digest_id: i64,
    /// False when the week's digest was already stored: kept and resumed when it has
    /// deliveries (`already` > 0), else (an archive edition nobody was mailed) brought up to
    /// date and queued as a first send.
    pub created: bool,
    /// Deliveries created now.
    pub queued: u64,
    /// Deliveries that already existed (sent, pending or failed).
    pub already: u64,
}

/// What one drain did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Deliveries found `sending` by a run that is gone (or whose lease ran out), put back
    /// and resent.
    pub recovered: u64,
    /// Deliveries in `sending` under another run's live lease, left to that run.
    pub held_elsewhere: u64,
    pub sent: u64,
    /// Failed for now; due again later.
    pub retried: u64,
    /// Given up for good.
    pub failed: u64,
    /// Why the run stopped before the outbox was empty, if it did.
    pub stopped: Option<String>,
}

/// The outbox could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("no list for story \"{0}\" in the config")]
    UnknownStory(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Store the week's digest and queue it for every confirmed subscriber of its story.
/// Calling it again for the same week creates no second set: once a digest has deliveries it
/// is kept, only subscribers confirmed since are added, and existing deliveries stay as they
/// are. A stored edition nobody was mailed yet (the web archive's) is replaced by this one.
pub async fn queue_digest(
    store: &Store,
    settings: &MailSettings,
    parts: &NewDigest<'_>,
    now: DateTime<Utc>,
) -> Result<QueueOutcome, OutboxError> {
    if settings.list(parts.story_id).is_none() {
        return Err(OutboxError::UnknownStory(parts.story_id.to_string()));
    }
    // An edition kept for the web archive but mailed to nobody yet is brought up to date
    // first; one that has deliveries is kept as it is.
    let (digest, stored) = store.store_edition(parts, now).await?;
    let created = stored == EditionStored::Created;
    let e = store
        .enqueue_deliveries(digest.id, &settings.id_domain, now)
        .await?;
    tracing::info!(
        story = parts.story_id, week = %parts.week, digest_id = digest.id, created,
        queued = e.queued, already = e.already, "digest queued"
    );
    Ok(QueueOutcome {
        digest_id: digest.id,
        created,
        queued: e.queued,
        already: e.already,
    })
}

/// Send every delivery that is due, one at a time at the configured pace, until none is due,
/// the server looks down or misconfigured, or `cancel` fires (the message in flight finishes).
pub async fn drain_outbox(
    mailer: &Mailer,
    store: &Store,
    settings: &MailSettings,
    clock: &Clock,
    cancel: &CancellationToken,
) -> Result<DrainReport, OutboxError> {
    let holder = Holder::this_process();
    let lease = chrono::Duration::from_std(lease::lease_length(mailer.timeout()))
        .unwrap_or(chrono::Duration::hours(1));
    let renew_every = lease::renew_every(mailer.timeout());
    let mut report = DrainReport::default();
    take_back_interrupted(store, clock.now(), &mut report).await?;
    let mut digests: HashMap<i64, DigestRow> = HashMap::new();
    let mut connection_failures = 0;
    while !cancel.is_cancelled() {
        let now = clock.now();
        let claim = LeaseClaim {
            owner: holder.owner(),
            process: holder.process(),
            until: now.checked_add_signed(lease).unwrap_or(now),
        };
        let Some(d) = store.claim_delivery(&claim, now).await? else {
            break;
        };
        let digest = match digests.entry(d.digest_id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => v.insert(store.digest(d.digest_id).await?),
        };
        let sent = Held {
            store,
            holder: &holder,
            delivery: d.id,
            clock,
            lease,
            every: renew_every,
        }
        .during(send_one(mailer, settings, digest, &d))
        .await;
        match sent {
            Ok(reply) => {
                connection_failures = 0;
                if !store
                    .record_sent(d.id, holder.owner(), &reply, clock.now())
                    .await?
                {
                    tracing::warn!(delivery = d.id, "sent after another run took the delivery back: it may get a second copy (same Message-ID)");
                }
                report.sent += 1;
                tracing::debug!(delivery = d.id, to = %d.email, %reply, "sent");
            }
            Err((kind, reply)) => {
                let now = clock.now();
                // A server that refuses us (login, TLS) says nothing about this recipient:
                // however long it lasts, it never uses up their attempts.
                let give_up = kind == FailureKind::Permanent
                    || (kind != FailureKind::Setup
                        && d.attempts >= i64::from(settings.max_attempts));
                let held = if give_up {
                    let why = if kind == FailureKind::Permanent {
                        reply.clone()
                    } else {
                        format!("gave up after {} attempts: {reply}", d.attempts)
                    };
                    report.failed += 1;
                    tracing::warn!(delivery = d.id, to = %d.email, reply = %why, "delivery failed");
                    store.record_failed(d.id, holder.owner(), &why, now).await?
                } else {
                    let retry_at = now
                        .checked_add_signed(retry_delay(d.attempts))
                        .unwrap_or(now);
                    report.retried += 1;
                    tracing::info!(
                        delivery = d.id, to = %d.email, %reply, retry_at = %retry_at,
                        "delivery will be retried"
                    );
                    store
                        .record_retry(d.id, holder.owner(), &reply, retry_at, now)
                        .await?
                };
                if !held {
                    tracing::warn!(delivery = d.id, "another run took the delivery back meanwhile; its outcome is that run's to record");
                }
                connection_failures = match kind {
                    FailureKind::Connection => connection_failures + 1,
                    _ => 0,
                };
                if kind == FailureKind::Setup {
                    report.stopped = Some(format!("the server refused us: {reply}"));
                    break;
                }
                if connection_failures >= MAX_CONNECTION_FAILURES {
                    report.stopped = Some(format!(
                        "{connection_failures} connection failures in a row: {reply}"
                    ));
                    break;
                }
            }
        }
    }
    // The daemon drains every tick; a turn that found nothing to do is not news.
    if report.sent + report.retried + report.failed + report.recovered == 0
        && report.stopped.is_none()
    {
        tracing::debug!("outbox drained: nothing due");
    } else {
        tracing::info!(
            sent = report.sent, retried = report.retried, failed = report.failed,
            recovered = report.recovered, stopped = ?report.stopped, "outbox drained"
        );
    }
    Ok(report)
}

/// Put back what a gone run left in `sending` (its holder provably gone, or its lease run
/// out), and count what live runs hold, which is theirs to finish.
async fn take_back_interrupted(
    store: &Store,
    now: DateTime<Utc>,
    report: &mut DrainReport,
) -> Result<(), OutboxError> {
    report.recovered = store.requeue_expired(now).await?;
    for h in store.sending_holders().await? {
        match (&h.owner, &h.process) {
            (Some(owner), Some(process)) if lease::is_gone(process) => {
                report.recovered += store.requeue_held_by(owner, now).await?;
            }
            _ => {
                report.held_elsewhere += u64::try_from(h.deliveries).unwrap_or(0);
                tracing::info!(
                    holder = h.owner.as_deref().unwrap_or("unknown"),
                    deliveries = h.deliveries,
                    until = ?h.until,
                    "deliveries being sent by another run; left to it"
                );
            }
        }
    }
    if report.recovered > 0 {
        tracing::warn!(
            count = report.recovered,
            "resending deliveries interrupted mid-send (same Message-ID)"
        );
    }
    Ok(())
}

/// This run's claim on one delivery, kept alive while a send is under way.
struct Held<'a> {
    store: &'a Store,
    holder: &'a Holder,
    delivery: i64,
    clock: &'a Clock,
    lease: chrono::Duration,
    every: Duration,
}

impl Held<'_> {
    /// Run `work`, renewing the lease every `every` until it finishes. Renewing runs beside
    /// the send (never pausing it); once the claim is found lost there is nothing to renew.
    async fn during<T>(self, work: impl std::future::Future<Output = T>) -> T {
        tokio::pin!(work);
        let renew = async {
            loop {
                tokio::time::sleep(self.every).await;
                let now = self.clock.now();
                let until = now.checked_add_signed(self.lease).unwrap_or(now);
                match self
                    .store
                    .renew_lease(self.delivery, self.holder.owner(), until)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(
                            delivery = self.delivery,
                            "lease lost while sending: another run took the delivery back"
                        );
                        return;
                    }
                    // The lease covers the whole send without renewal; try again later.
                    Err(e) => {
                        tracing::warn!(delivery = self.delivery, error = %e, "could not renew the lease");
                    }
                }
            }
        };
        tokio::select! {
            r = &mut work => return r,
            () = renew => {}
        }
        work.await
    }
}

/// Build and send one copy; the error carries what to record.
async fn send_one(
    mailer: &Mailer,
    settings: &MailSettings,
    digest: &DigestRow,
    d: &ClaimedDelivery,
) -> Result<String, (FailureKind, String)> {
    let to = SubscriberEmail::parse(&d.email)
        .map_err(|e| (FailureKind::Permanent, format!("bad address: {e}")))?;
    let message = digest_message(settings, digest, d.subscriber_id, &to, &d.message_id)
        .map_err(|e| (FailureKind::Permanent, e.to_string()))?;
    mailer
        .send(&message)
        .await
        .map(|r| r.to_string())
        .map_err(|f| (f.kind, f.reply))
}

/// 1m, 2m, 4m, … capped at 4h, after the given number of attempts.
pub fn retry_delay(attempts: i64) -> chrono::Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let delay = FIRST_RETRY
        .saturating_mul(2u32.saturating_pow(exp))
        .min(MAX_RETRY);
    chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_and_is_capped() {
        let mins: Vec<i64> = (1..=10).map(|a| retry_delay(a).num_minutes()).collect();
        assert_eq!(mins, [1, 2, 4, 8, 16, 32, 64, 128, 240, 240]);
        assert_eq!(retry_delay(0).num_minutes(), 1);
        assert_eq!(retry_delay(i64::MAX).num_minutes(), 240);
    }
}
