//! Counters the daemon keeps, rendered in the Prometheus text format at `/metrics`.
//!
//! Counters live in memory (they restart at zero, as Prometheus expects); per-source gauges
//! are read from the database at scrape time so they are never stale.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use crate::refresh::{CycleReport, SourceResult};
use crate::store::{AlertCount, OutboxCounts, SourceRow};

#[derive(Debug, Default)]
pub struct Metrics {
    polls: AtomicU64,
    fetch_stored: AtomicU64,
    fetch_not_modified: AtomicU64,
    fetch_failed: AtomicU64,
    fetch_rate_limited: AtomicU64,
    fetch_gone: AtomicU64,
    items_new: AtomicU64,
    items_updated: AtomicU64,
    digests_sent: AtomicU64,
    alerts_sent: AtomicU64,
    alerts_retried: AtomicU64,
    alerts_failed: AtomicU64,
    heartbeat: AtomicI64,
}

impl Metrics {
    /// Count one polling round.
    pub fn record_cycle(&self, report: &CycleReport) {
        self.polls.fetch_add(1, Ordering::Relaxed);
        for s in &report.sources {
            let counter = match s.result {
                SourceResult::Stored { .. } | SourceResult::Reference { .. } => &self.fetch_stored,
                SourceResult::NotModified => &self.fetch_not_modified,
                SourceResult::Failed { .. } => &self.fetch_failed,
                SourceResult::RateLimited { .. } => &self.fetch_rate_limited,
                SourceResult::Gone => &self.fetch_gone,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.items_new
            .fetch_add(report.new_items() as u64, Ordering::Relaxed);
        self.items_updated
            .fetch_add(report.updated_items() as u64, Ordering::Relaxed);
    }

    /// Count digest copies delivered.
    pub fn record_deliveries(&self, sent: u64) {
        self.digests_sent.fetch_add(sent, Ordering::Relaxed);
    }

    /// Count alert attempts by outcome.
    pub fn record_alerts(&self, report: &crate::alert::DrainReport) {
        self.alerts_sent.fetch_add(report.sent, Ordering::Relaxed);
        self.alerts_retried
            .fetch_add(report.retried, Ordering::Relaxed);
        self.alerts_failed
            .fetch_add(report.failed, Ordering::Relaxed);
    }

    /// The scheduler calls this every turn; `/healthz` checks it is recent.
    pub fn beat(&self, now: DateTime<Utc>) {
        self.heartbeat.store(now.timestamp(), Ordering::Relaxed);
    }

    pub fn last_beat(&self) -> Option<DateTime<Utc>> {
        match self.heartbeat.load(Ordering::Relaxed) {
            0 => None,
            t => DateTime::from_timestamp(t, 0),
        }
    }

    /// The Prometheus text exposition of the counters, per-source state and the outboxes.
    pub fn render(
        &self,
        sources: &[SourceRow],
        outbox: &OutboxCounts,
        alerts: &[AlertCount],
    ) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        counter(
            &mut out,
            "storyline_polls_total",
            "Polling rounds run.",
            &[("", get(&self.polls))],
        );
        counter(
            &mut out,
            "storyline_fetches_total",
            "Source fetches by outcome.",
            &[
                ("outcome=\"stored\"", get(&self.fetch_stored)),
                ("outcome=\"not_modified\"", get(&self.fetch_not_modified)),
                ("outcome=\"failed\"", get(&self.fetch_failed)),
                ("outcome=\"rate_limited\"", get(&self.fetch_rate_limited)),
                ("outcome=\"gone\"", get(&self.fetch_gone)),
            ],
        );
        counter(
            &mut out,
            "storyline_items_stored_total",
            "Items stored, new or updated.",
            &[
                ("change=\"new\"", get(&self.items_new)),
                ("change=\"updated\"", get(&self.items_updated)),
            ],
        );
        counter(
            &mut out,
            "storyline_digests_sent_total",
            "Digest deliveries completed.",
            &[("", get(&self.digests_sent))],
        );
        let _ = writeln!(
            out,
            "# HELP storyline_deliveries Deliveries in the outbox by state."
        );
        let _ = writeln!(out, "# TYPE storyline_deliveries gauge");
        for (state, n) in [
            ("pending", outbox.pending),
            ("sending", outbox.sending),
            ("sent", outbox.sent),
            ("failed", outbox.failed),
        ] {
            let _ = writeln!(out, "storyline_deliveries{{state=\"{state}\"}} {n}");
        }
        counter(
            &mut out,
            "storyline_alert_attempts_total",
            "Alert sends by outcome: sent, retry (failed for now), failed (given up).",
            &[
                ("outcome=\"sent\"", get(&self.alerts_sent)),
                ("outcome=\"retry\"", get(&self.alerts_retried)),
                ("outcome=\"failed\"", get(&self.alerts_failed)),
            ],
        );
        let _ = writeln!(
            out,
            "# HELP storyline_alert_deliveries Alert deliveries by alert and state."
        );
        let _ = writeln!(out, "# TYPE storyline_alert_deliveries gauge");
        for a in alerts {
            let _ = writeln!(
                out,
                "storyline_alert_deliveries{{alert=\"{}\",state=\"{}\"}} {}",
                escape(&a.alert_id),
                escape(&a.state),
                a.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP storyline_source_last_success_timestamp_seconds Last successful poll per source."
        );
        let _ = writeln!(
            out,
            "# TYPE storyline_source_last_success_timestamp_seconds gauge"
        );
        for s in sources {
            if let Some(t) = s.last_success_at {
                let _ = writeln!(
                    out,
                    "storyline_source_last_success_timestamp_seconds{{source=\"{}\"}} {t}",
                    escape(&s.id)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP storyline_source_consecutive_failures Failures in a row per source."
        );
        let _ = writeln!(out, "# TYPE storyline_source_consecutive_failures gauge");
        for s in sources {
            let _ = writeln!(
                out,
                "storyline_source_consecutive_failures{{source=\"{}\"}} {}",
                escape(&s.id),
                s.consecutive_failures
            );
        }
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, values: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    for (labels, v) in values {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {v}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    }
}

/// Label values escape backslash, quote and newline.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
