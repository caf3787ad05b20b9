//! Deciding what to alert on after a polling round: every development (and, with `updates`,
//! every changed page of one) that no alert row exists for yet, and that qualifies now.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::payload::{self, outlets};
use super::{AlertError, Alerts};
use crate::store::{AlertMember, NewAlertDelivery, Store};

/// What one decision pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecideReport {
    /// Alert rows created now.
    pub queued: u64,
    /// Developments new since their alert began that have too few outlets yet.
    pub waiting: u64,
}

/// Note when each alert began (once; see [`decide`]). Called before a polling round, so the
/// developments that round founds count as new to an alert seen for the first time even if
/// the process dies between the round and its decisions.
pub async fn begin(store: &Store, alerts: &Alerts, now: DateTime<Utc>) -> Result<(), AlertError> {
    for t in alerts.targets() {
        store.alert_since(t.id(), &t.config.story, now).await?;
    }
    Ok(())
}

/// Record an outbox row for every development each alert should announce, in one transaction.
///
/// A development qualifies for an alert when it was first decided at or after the alert
/// began (so an alert added later does not replay the story), its first report is no older
/// than `max_age` (old news found late is not news), and `min_outlets` distinct outlets have
/// reported it. It is looked at again every round until it qualifies or grows too old, so it
/// alerts in the first round it reaches `min_outlets`, and only once: the row is unique per
/// (alert, development). Idempotent: run it again, or from two processes, and nothing is added
/// twice. Alerts due in quiet hours are queued for the hours' end.
pub async fn decide(
    store: &Store,
    alerts: &Alerts,
    now: DateTime<Utc>,
) -> Result<DecideReport, AlertError> {
    let mut rows = Vec::new();
    let mut report = DecideReport::default();
    for t in alerts.targets() {
        let c = &t.config;
        let since = store.alert_since(t.id(), &c.story, now).await?;
        let max_age = chrono::Duration::from_std(c.max_age).unwrap_or(chrono::Duration::MAX);
        let fresh_from = now
            .checked_sub_signed(max_age)
            .map_or(i64::MIN, |t| t.timestamp());
        let events = store
            .alert_event_candidates(t.id(), &c.story, since, fresh_from)
            .await?;
        let updates = if c.updates {
            store
                .alert_update_candidates(t.id(), &c.story, since)
                .await?
        } else {
            Vec::new()
        };
        if events.is_empty() && updates.is_empty() {
            continue;
        }
        let mut ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
        ids.extend(updates.iter().map(|u| u.event_id.clone()));
        ids.sort();
        ids.dedup();
        let members = store.alert_event_members(&c.story, &ids).await?;
        let mut by_event: HashMap<&str, Vec<&AlertMember>> = HashMap::new();
        for m in &members {
            by_event.entry(m.event_id.as_str()).or_default().push(m);
        }
        let story = alerts.story(&c.story);
        let due_at = alerts.release(t, now);
        let mut push = |event_id: &str, subject: String, p: &payload::Payload| {
            rows.push(NewAlertDelivery {
                alert_id: t.id().to_string(),
                story_id: c.story.clone(),
                event_id: event_id.to_string(),
                subject,
                payload: serde_json::to_string(p).unwrap_or_default(),
                due_at,
            });
        };
        for ev in &events {
            let ms = by_event
                .get(ev.event_id.as_str())
                .map_or(&[][..], Vec::as_slice);
            if outlets(ms).len() < c.min_outlets {
                report.waiting += 1;
                continue;
            }
            let p = payload::development(story.clone(), ev, ms, now);
            push(&ev.event_id, "event".to_string(), &p);
        }
        for u in &updates {
            let ms = by_event
                .get(u.event_id.as_str())
                .map_or(&[][..], Vec::as_slice);
            // A change to a development the alert would not announce is not news to it.
            if outlets(ms).len() < c.min_outlets {
                continue;
            }
            if let Some(p) = payload::update(story.clone(), u, ms, now) {
                let subject = format!("update:{}:{}", u.item_id, u.updated_at);
                push(&u.event_id, subject, &p);
            }
        }
    }
    if !rows.is_empty() {
        report.queued = store.insert_alert_deliveries(&rows, now).await?;
    }
    if report.queued > 0 {
        tracing::info!(queued = report.queued, "alerts decided");
    }
    Ok(report)
}
