//! The write side of a round: a source's outcome turned into its items and fetch record.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{backoff, content_hash, jittered, Outcome, Parsed, Polled, SourceReport, SourceResult};
use crate::app::App;
use crate::fetch::FetchError;
use crate::store::{Batch, FetchRecord, NewItem, SourceRow, SourceStatus, StoreError};
use crate::value::source::SourceKind;

pub(super) async fn write_outcome(
    batch: &mut Batch,
    ctx: &App,
    polled: Polled,
    now: DateTime<Utc>,
) -> Result<SourceReport, StoreError> {
    let Polled { source, result, .. } = polled;
    let interval = Duration::from_secs(source.interval_secs.max(60) as u64);
    let on_time = now + jittered(interval, &source.id);
    let failures = source.consecutive_failures as u32 + 1;
    let backoff_at = now + backoff(interval, failures);
    let mut record = FetchRecord {
        status: SourceStatus::Ok,
        http_status: None,
        error: None,
        etag: source.etag.clone(),
        last_modified: source.last_modified.clone(),
        moved_to: None,
        next_due: on_time,
        disable_reason: None,
        flagged: None,
    };
    let mut report = SourceReport {
        source: source.id.clone(),
        result: SourceResult::NotModified,
        new_items: Vec::new(),
        updated_items: Vec::new(),
    };
    match result {
        Ok(Outcome::Parsed(p)) => {
            let Parsed {
                items,
                validators,
                moved_to,
                http_status,
            } = *p;
            record.http_status = Some(http_status);
            match items {
                Ok(mut items) => {
                    if source.kind() == SourceKind::Page {
                        note_page_changes(batch, &source, &mut items).await?;
                    }
                    let cap = ctx.config.fetch.max_new_items_per_poll;
                    let stored = batch.store_items(&source.id, &items, now, cap).await?;
                    record.etag = validators.etag;
                    record.last_modified = validators.last_modified;
                    record.moved_to = moved_to.map(|u| u.to_string());
                    if stored.over_cap > 0 {
                        record.flagged = Some(format!(
                            "{} new items in one poll (cap {cap}); {} left for later polls — \
                             does this feed change its ids every time?",
                            stored.new.len() + stored.over_cap,
                            stored.over_cap
                        ));
                    }
                    report.result = SourceResult::Stored {
                        new: stored.new.len(),
                        updated: stored.updated.len(),
                        over_cap: stored.over_cap,
                    };
                    report.new_items = stored.new;
                    report.updated_items = stored.updated;
                }
                Err(e) => {
                    record.status = SourceStatus::Error;
                    record.error = Some(e.to_string());
                    record.next_due = backoff_at;
                    report.result = SourceResult::Failed {
                        error: e.to_string(),
                        retry_at: backoff_at,
                    };
                }
            }
        }
        Ok(Outcome::NotModified(v)) => {
            record.status = SourceStatus::NotModified;
            record.http_status = Some(304);
            record.etag = v.etag.or(record.etag);
            record.last_modified = v.last_modified.or(record.last_modified);
        }
        Ok(Outcome::RateLimited {
            status,
            retry_after,
        }) => {
            // Never sooner than the server asked, nor sooner than our own backoff.
            let until = retry_after.map_or(backoff_at, |r| r.resolve(now).max(backoff_at));
            record.status = SourceStatus::RateLimited;
            record.http_status = Some(status);
            record.error = Some(format!(
                "rate limited (HTTP {status}); retrying after {}",
                until.to_rfc3339()
            ));
            record.next_due = until;
            report.result = SourceResult::RateLimited { until };
        }
        Ok(Outcome::Gone) => {
            record.status = SourceStatus::Gone;
            record.http_status = Some(410);
            record.error = Some("the server says this feed is gone for good (410)".into());
            record.disable_reason = Some("410 Gone".into());
            report.result = SourceResult::Gone;
        }
        Err(e) => {
            record.status = SourceStatus::Error;
            record.error = Some(e.to_string());
            if let FetchError::Status(code) = e {
                record.http_status = Some(code);
            }
            record.next_due = backoff_at;
            report.result = SourceResult::Failed {
                error: e.to_string(),
                retry_at: backoff_at,
            };
        }
    }
    batch.record_fetch(&source.id, now, &record).await?;
    Ok(report)
}

/// A static reference: stored once from the config's own metadata, never fetched.
pub(super) async fn store_reference(
    ctx: &App,
    source: &SourceRow,
    now: DateTime<Utc>,
) -> Result<SourceReport, StoreError> {
    let cfg = ctx.config.source(&source.id);
    let item = NewItem {
        guid: source.url.clone(),
        url: Some(source.url.clone()),
        canonical_url: crate::value::canon::canonical_url(&source.url, None),
        title: source.title.clone(),
        summary: source.note.clone(),
        published_at: cfg.and_then(|c| c.date_utc()),
        content_hash: content_hash(&[
            source.title.as_deref(),
            Some(&source.url),
            source.note.as_deref(),
        ]),
        ..NewItem::default()
    };
    let stored = ctx.store.store_items(&source.id, &[item], now, 1).await?;
    let record = FetchRecord {
        status: SourceStatus::Ok,
        http_status: None,
        error: None,
        etag: None,
        last_modified: None,
        moved_to: None,
        next_due: now
            + jittered(
                Duration::from_secs(source.interval_secs.max(60) as u64),
                &source.id,
            ),
        disable_reason: None,
        flagged: None,
    };
    ctx.store.record_fetch(&source.id, now, &record).await?;
    Ok(SourceReport {
        source: source.id.clone(),
        result: SourceResult::Reference {
            stored: !stored.new.is_empty(),
        },
        new_items: stored.new,
        updated_items: stored.updated,
    })
}

/// A watched page is one item: say what changed since the stored version, so a digest can
/// print "1 paragraph added".
async fn note_page_changes(
    batch: &mut Batch,
    source: &SourceRow,
    items: &mut [NewItem],
) -> Result<(), StoreError> {
    let stored = batch.items_of_source(&source.id).await?;
    for it in items {
        let Some(old) = stored.iter().find(|o| o.guid == it.guid) else {
            continue;
        };
        if old.content_hash == it.content_hash {
            continue;
        }
        let before = crate::page::Revision {
            title: old.title.as_deref(),
            summary: old.summary.as_deref(),
            text: old.content.as_deref().unwrap_or_default(),
            published: old.published(),
        };
        let after = crate::page::Revision {
            title: it.title.as_deref(),
            summary: it.summary.as_deref(),
            text: it.content.as_deref().unwrap_or_default(),
            published: it.published_at,
        };
        it.change_note = crate::page::describe_update(&before, &after);
    }
    Ok(())
}
