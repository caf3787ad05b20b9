//! `storyline sources add URL`: one request, then a feed, a page's first advertised feed, or
//! the page itself.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use url::Url;

use super::discovery::{self, Found};
use super::{bad_input, interval_for, secs, source_exists, KindArg};
use crate::app::App;
use crate::fetch::{FetchOutcome, Validators};
use crate::value::source::{SourceId, SourceKind};

/// Add `raw_url` after fetching it exactly once. Everything that can be refused (a bad URL or
/// id, a URL already followed) is refused before the request.
pub(super) async fn add(
    ctx: &App,
    now: DateTime<Utc>,
    raw_url: &str,
    id: Option<&str>,
    kind: Option<KindArg>,
) -> anyhow::Result<ExitCode> {
    let url = match crate::value::source::parse_source_url(raw_url) {
        Ok(u) => u,
        Err(e) => return Ok(bad_input(e)),
    };
    // Everything that can be refused is refused before the one request is made.
    if let Some(existing) = ctx.store.source_by_url(url.as_str()).await? {
        return Ok(bad_input(format!(
            "{url} is already followed as \"{}\"",
            existing.id
        )));
    }
    let wanted_id = match id.map(SourceId::parse).transpose() {
        Ok(id) => id,
        Err(e) => return Ok(bad_input(format!("--id: {e}"))),
    };
    if let Some(id) = &wanted_id {
        if source_exists(ctx, id.as_str()).await? {
            return Ok(bad_input(format!(
                "a source with id \"{id}\" exists already"
            )));
        }
    }

    let fetched = match ctx.fetcher.fetch(&url, &Validators::default()).await {
        Ok(FetchOutcome::Fetched(f)) => f,
        Ok(FetchOutcome::RateLimited { status, .. }) => {
            eprintln!("error: {url}: the server is rate limiting us (HTTP {status}); not added, try later");
            return Ok(ExitCode::FAILURE);
        }
        Ok(FetchOutcome::Gone) => {
            eprintln!("error: {url}: the server says it is gone for good (410); not added");
            return Ok(ExitCode::FAILURE);
        }
        Ok(FetchOutcome::NotModified { .. }) => {
            eprintln!("error: {url}: the server answered 304 to a plain request; not added");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => {
            eprintln!("error: {url}: {e}; not added");
            return Ok(ExitCode::FAILURE);
        }
    };
    let found = match discovery::classify(
        &fetched.body,
        fetched.content_type.as_deref(),
        &fetched.final_url,
    ) {
        Ok(f) => f,
        Err(e) => {
            return Ok(bad_input(format!(
                "{url} is neither a feed nor an article page: {e}"
            )))
        }
    };

    let taken = ctx
        .store
        .sources()
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect::<Vec<_>>();
    let pick_id = |title: Option<&str>, for_url: &Url| match &wanted_id {
        Some(id) => Ok(id.clone()),
        None => discovery::derive_id(title, for_url, |c| taken.iter().any(|t| t == c)),
    };

    match (found, kind) {
        (Found::Feed(_), Some(KindArg::Page)) => Ok(bad_input(format!(
            "{url} is a feed, not an article page; add it without --kind page"
        ))),
        (Found::Page(_), Some(KindArg::Feed)) => Ok(bad_input(format!(
            "{url} is an HTML page that advertises no feed; add it with --kind page to watch it"
        ))),
        (Found::Feed(doc), _) => {
            let id = match pick_id(doc.title.as_deref(), &url) {
                Ok(id) => id,
                Err(e) => return Ok(bad_input(e)),
            };
            let interval = interval_for(&ctx.config, &url);
            ctx.store
                .add_source(
                    id.as_str(),
                    SourceKind::Feed,
                    url.as_str(),
                    doc.title.as_deref(),
                    secs(interval),
                    now,
                )
                .await?;
            let report = crate::refresh::ingest_fetched(ctx, id.as_str(), *fetched, now).await?;
            println!(
                "added feed \"{id}\": {}\n  {} items stored; next poll in about {}",
                doc.title.as_deref().unwrap_or("(untitled)"),
                report.new_items.len(),
                humantime::format_duration(interval)
            );
            Ok(ExitCode::SUCCESS)
        }
        (Found::PageWithFeeds(page), kind) if kind != Some(KindArg::Page) => {
            println!(
                "{url} is an HTML page that advertises {} feed(s):",
                page.feeds.len()
            );
            for f in &page.feeds {
                println!("  {f}");
            }
            let Some(first) = page.feeds.first() else {
                return Ok(bad_input("no feed to add"));
            };
            let feed_url = match crate::value::source::parse_source_url(&first.url) {
                Ok(u) => u,
                Err(e) => return Ok(bad_input(e)),
            };
            if let Some(existing) = ctx.store.source_by_url(feed_url.as_str()).await? {
                return Ok(bad_input(format!(
                    "{feed_url} is already followed as \"{}\"",
                    existing.id
                )));
            }
            let title = first.title.clone().or_else(|| page.meta.site_name.clone());
            let id = match pick_id(title.as_deref(), &feed_url) {
                Ok(id) => id,
                Err(e) => return Ok(bad_input(e)),
            };
            let interval = interval_for(&ctx.config, &feed_url);
            ctx.store
                .add_source(
                    id.as_str(),
                    SourceKind::Feed,
                    feed_url.as_str(),
                    title.as_deref(),
                    secs(interval),
                    now,
                )
                .await?;
            println!(
                "added feed \"{id}\": {feed_url}\n  not fetched yet (one request per add); the next poll reads it. \
                 To watch the page itself instead: storyline sources add {url} --kind page"
            );
            Ok(ExitCode::SUCCESS)
        }
        (Found::PageWithFeeds(page) | Found::Page(page), _) => {
            let title = page.meta.title.clone();
            let id = match pick_id(title.as_deref(), &url) {
                Ok(id) => id,
                Err(e) => return Ok(bad_input(e)),
            };
            let interval = interval_for(&ctx.config, &url);
            ctx.store
                .add_source(
                    id.as_str(),
                    SourceKind::Page,
                    url.as_str(),
                    title.as_deref(),
                    secs(interval),
                    now,
                )
                .await?;
            crate::refresh::ingest_fetched(ctx, id.as_str(), *fetched, now).await?;
            println!(
                "added page \"{id}\": {}\n  canonical URL {}; published {}; text hashed to notice edits; next check in about {}",
                title.as_deref().unwrap_or("(untitled)"),
                page.id(),
                page.meta.published.map_or("unknown".into(), |d| d.to_rfc3339()),
                humantime::format_duration(interval)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
