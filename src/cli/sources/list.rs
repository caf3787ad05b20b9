//! `storyline sources list`: each source's state in words, or as JSON.

use super::*;

/// One row of `sources list --json`.
#[derive(Debug, Serialize)]
struct ListedSource<'a> {
    id: &'a str,
    kind: &'a str,
    origin: &'a str,
    url: &'a str,
    title: Option<&'a str>,
    enabled: bool,
    poll: bool,
    interval_secs: i64,
    items: i64,
    last_fetch: Option<String>,
    status: String,
    http_status: Option<i64>,
    consecutive_failures: i64,
    failing_since: Option<String>,
    last_error: Option<&'a str>,
    next_due: Option<String>,
    flagged: Option<&'a str>,
}

/// The state of a source in plain words.
fn status_words(s: &SourceRow) -> String {
    if !s.poll {
        return "static reference".into();
    }
    if let Some(reason) = &s.disabled_reason {
        return format!("disabled: {reason}");
    }
    if !s.enabled {
        return if s.origin == "config" {
            "disabled (no longer in the config)".into()
        } else {
            "disabled".into()
        };
    }
    match (s.last_status.as_deref(), s.last_http_status) {
        (None, _) => "never fetched".into(),
        (Some("ok"), _) => "ok".into(),
        (Some("not_modified"), _) => "ok (not modified)".into(),
        (Some("rate_limited"), Some(code)) => format!("rate limited (HTTP {code})"),
        (Some("rate_limited"), None) => "rate limited".into(),
        (Some("gone"), _) => "gone (HTTP 410)".into(),
        (Some("error"), Some(code)) => format!("failing (HTTP {code})"),
        (Some("error"), None) => "failing".into(),
        (Some(other), _) => other.replace('_', " "),
    }
}

fn next_due_words(s: &SourceRow, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (s.enabled && s.poll && s.disabled_reason.is_none()).then(|| s.next_due().max(now))
}

/// A static reference is recorded, never fetched: it has no last fetch to show.
fn last_fetch(s: &SourceRow) -> Option<DateTime<Utc>> {
    s.poll.then(|| s.last_fetch()).flatten()
}

fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

pub(super) async fn list(ctx: &App, now: DateTime<Utc>, json: bool) -> anyhow::Result<ExitCode> {
    let sources = ctx.store.sources().await?;
    let counts = ctx.store.item_counts().await?;
    if json {
        let rows: Vec<ListedSource<'_>> = sources
            .iter()
            .map(|s| ListedSource {
                id: &s.id,
                kind: &s.kind,
                origin: &s.origin,
                url: &s.url,
                title: s.title.as_deref(),
                enabled: s.enabled,
                poll: s.poll,
                interval_secs: s.interval_secs,
                items: counts.get(&s.id).copied().unwrap_or(0),
                last_fetch: last_fetch(s).map(|t| t.to_rfc3339()),
                status: status_words(s),
                http_status: s.last_http_status,
                consecutive_failures: s.consecutive_failures,
                failing_since: s.failing_since().map(|t| t.to_rfc3339()),
                last_error: s.last_error.as_deref(),
                next_due: next_due_words(s, now).map(|t| t.to_rfc3339()),
                flagged: s.flagged.as_deref(),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if sources.is_empty() {
        println!("no sources; add one with `storyline sources add URL`");
        return Ok(ExitCode::SUCCESS);
    }
    let width = sources.iter().map(|s| s.id.len()).max().unwrap_or(2).max(2);
    println!(
        "{:width$}  {:4}  {:6}  {:16}  {:>5}  {:>5}  {:16}  STATUS",
        "ID", "KIND", "ORIGIN", "LAST FETCH (UTC)", "FAILS", "ITEMS", "NEXT DUE (UTC)"
    );
    for s in &sources {
        let next = match next_due_words(s, now) {
            Some(t) if t <= now => "now".to_string(),
            Some(t) => fmt_time(t),
            None => "-".into(),
        };
        println!(
            "{:width$}  {:4}  {:6}  {:16}  {:>5}  {:>5}  {:16}  {}",
            s.id,
            s.kind,
            s.origin,
            last_fetch(s).map_or("-".into(), fmt_time),
            s.consecutive_failures,
            counts.get(&s.id).copied().unwrap_or(0),
            next,
            status_words(s)
        );
        if let (Some(err), true) = (&s.last_error, s.consecutive_failures > 0) {
            let since = s
                .failing_since()
                .map(|t| format!(" (failing since {})", fmt_time(t)))
                .unwrap_or_default();
            println!("{:width$}  last error: {err}{since}", "");
        }
        if let Some(flag) = &s.flagged {
            println!("{:width$}  note: {flag}", "");
        }
    }
    Ok(ExitCode::SUCCESS)
}
