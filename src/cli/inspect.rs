//! `storyline inspect`: read one document exactly as the poller would and show what it sees.
//!
//! A document of known kind (`--kind`, or the configured source with its URL) is read as that
//! kind, as the poller reads it; only a file or URL of unknown kind is sniffed.

use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use url::Url;

use super::sources::KindArg;
use crate::config::Config;
use crate::page::{Page, PageMeta};
use crate::parse::Document;
use crate::read::Reading;
use crate::value::source::SourceKind;

#[derive(Serialize)]
struct InspectJson<'a> {
    format: &'a str,
    title: Option<&'a str>,
    entries: Vec<InspectEntry<'a>>,
    /// Only for article pages: everything the page watcher extracted.
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<PageJson<'a>>,
}

#[derive(Serialize)]
struct InspectEntry<'a> {
    id: &'a str,
    title: Option<&'a str>,
    link: Option<&'a str>,
    published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outlet: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    points: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comments: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discussion_url: Option<&'a str>,
}

#[derive(Serialize)]
struct PageJson<'a> {
    #[serde(flatten)]
    meta: &'a PageMeta,
    text_paragraphs: usize,
    text_chars: usize,
    feeds: &'a [crate::page::FeedLink],
}

pub(crate) async fn run(
    config: &Config,
    target: &str,
    kind: Option<KindArg>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (body, content_type, base) = match read_target(config, target).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let kind = kind
        .map(source_kind)
        .or_else(|| configured_kind(config, &base));
    let (doc, page) = match crate::read::read_body(&body, content_type.as_deref(), &base, kind) {
        Ok(Reading::Feed(doc)) => (doc, None),
        Ok(Reading::Page(page)) => (page.clone().into_document(), Some(*page)),
        Err(e) => {
            eprintln!("error: {target}: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if json {
        println!("{}", inspect_json(&doc, page.as_ref())?);
    } else {
        print_inspect(&doc);
        if let Some(page) = &page {
            print_page(page);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn source_kind(kind: KindArg) -> SourceKind {
    match kind {
        KindArg::Feed => SourceKind::Feed,
        KindArg::Page => SourceKind::Page,
    }
}

/// The kind of the configured source at `url`, so a followed URL is read as its source is.
fn configured_kind(config: &Config, url: &Url) -> Option<SourceKind> {
    config
        .sources
        .iter()
        .find(|s| s.url == *url)
        .map(|s| s.kind)
}

fn inspect_json(doc: &Document, page: Option<&Page>) -> anyhow::Result<String> {
    let out = InspectJson {
        format: doc.format.map_or("unknown", |f| f.as_str()),
        title: doc.title.as_deref(),
        entries: doc
            .entries
            .iter()
            .map(|e| InspectEntry {
                id: &e.id,
                title: e.title.as_deref(),
                link: e.link.as_deref(),
                published: e.published.map(|d| d.to_rfc3339()),
                updated: e.updated.map(|d| d.to_rfc3339()),
                outlet: e.outlet.as_ref().map(|o| o.name.as_str()),
                parent: e.parent.as_deref(),
                points: e.points,
                comments: e.comments,
                discussion_url: e.discussion_url.as_deref(),
            })
            .collect(),
        page: page.map(|p| PageJson {
            meta: &p.meta,
            text_paragraphs: paragraph_count(&p.text),
            text_chars: p.text.chars().count(),
            feeds: &p.feeds,
        }),
    };
    Ok(serde_json::to_string_pretty(&out)?)
}

fn paragraph_count(text: &str) -> usize {
    text.split("\n\n").filter(|p| !p.trim().is_empty()).count()
}

fn print_inspect(doc: &Document) {
    println!("format:  {}", doc.format.map_or("unknown", |f| f.as_str()));
    println!("title:   {}", doc.title.as_deref().unwrap_or("(none)"));
    println!("entries: {}", doc.entries.len());
    for (i, e) in doc.entries.iter().enumerate() {
        println!();
        println!(
            "{:>3}. {}",
            i + 1,
            e.title.as_deref().unwrap_or("(untitled)")
        );
        println!("     id:        {}", e.id);
        println!("     link:      {}", e.link.as_deref().unwrap_or("(none)"));
        println!(
            "     published: {}",
            e.published.map_or("(none)".into(), |d| d.to_rfc3339())
        );
        let optional = [
            ("updated", e.updated.map(|d| d.to_rfc3339())),
            ("outlet", e.outlet.as_ref().map(|o| o.name.clone())),
            ("parent", e.parent.clone()),
            ("points", e.points.map(|n| n.to_string())),
            ("comments", e.comments.map(|n| n.to_string())),
            ("discussion", e.discussion_url.clone()),
        ];
        for (label, value) in optional {
            if let Some(v) = value {
                println!("     {:<10} {v}", format!("{label}:"));
            }
        }
    }
}

/// What the page watcher extracted beyond the entry itself.
fn print_page(page: &Page) {
    let m = &page.meta;
    let show = |v: Option<&str>| v.unwrap_or("(none)").to_string();
    println!();
    println!("page watcher:");
    println!("     site:        {}", show(m.site_name.as_deref()));
    println!("     author:      {}", show(m.author.as_deref()));
    println!("     description: {}", show(m.description.as_deref()));
    println!(
        "     modified:    {}",
        m.modified.map_or("(none)".into(), |d| d.to_rfc3339())
    );
    println!("     image:       {}", show(m.image.as_deref()));
    println!(
        "     main text:   {} paragraphs, {} characters (hashed to detect updates)",
        paragraph_count(&page.text),
        page.text.chars().count()
    );
    if page.feeds.is_empty() {
        println!("     feeds:       (none advertised)");
    }
    for f in &page.feeds {
        println!("     feed:        {f}");
    }
}

/// Read a file, or fetch a URL with the same fetcher the poller uses; the URL is the one the
/// body came from (after redirects), or the file's.
async fn read_target(
    config: &Config,
    target: &str,
) -> anyhow::Result<(Vec<u8>, Option<String>, Url)> {
    if target.starts_with("http://") || target.starts_with("https://") {
        let url = crate::value::source::parse_source_url(target).map_err(anyhow::Error::msg)?;
        let fetcher = crate::fetch::Fetcher::new(&config.fetch)?;
        match fetcher.fetch(&url, &Default::default()).await? {
            crate::fetch::FetchOutcome::Fetched(f) => Ok((f.body, f.content_type, f.final_url)),
            crate::fetch::FetchOutcome::NotModified { .. } => {
                anyhow::bail!("server answered 304 Not Modified")
            }
            crate::fetch::FetchOutcome::RateLimited { status, .. } => {
                anyhow::bail!("server is rate limiting us (HTTP {status}); try later")
            }
            crate::fetch::FetchOutcome::Gone => anyhow::bail!("server says it is gone (410)"),
        }
    } else {
        let body = std::fs::read(target).with_context(|| format!("cannot read {target}"))?;
        let base = std::fs::canonicalize(target)
            .or_else(|_| std::path::absolute(target))
            .ok()
            .and_then(|p| Url::from_file_path(p).ok())
            .with_context(|| format!("{target} has no file URL"))?;
        Ok((body, None, base))
    }
}
