//! `storyline inspect`: parse one document exactly as the poller would and show what it sees.

use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use crate::config::Config;
use crate::parse::{self, Document, ParseError};

#[derive(Serialize)]
struct InspectJson<'a> {
    format: &'a str,
    title: Option<&'a str>,
    entries: Vec<InspectEntry<'a>>,
}

#[derive(Serialize)]
struct InspectEntry<'a> {
    id: &'a str,
    title: Option<&'a str>,
    link: Option<&'a str>,
    published: Option<String>,
}

pub(crate) async fn run(config: &Config, target: &str, json: bool) -> anyhow::Result<ExitCode> {
    let (body, content_type, base) = match read_target(config, target).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let doc = match parse::parse_feed(&body, content_type.as_deref(), base.as_ref()) {
        Ok(doc) => Ok(doc),
        Err(ParseError::HtmlPage) => {
            let base = base
                .clone()
                .unwrap_or_else(|| url::Url::parse("file:///").expect("static URL"));
            crate::page::read_page(&body, content_type.as_deref(), &base)
        }
        Err(e) => Err(e),
    };
    let doc = match doc {
        Ok(doc) => match &base {
            Some(b) => crate::sites::adapt(b, &body, doc),
            None => doc,
        },
        Err(e) => {
            eprintln!("error: {target}: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if json {
        println!("{}", inspect_json(&doc)?);
    } else {
        print_inspect(&doc);
    }
    Ok(ExitCode::SUCCESS)
}

fn inspect_json(doc: &Document) -> anyhow::Result<String> {
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
            })
            .collect(),
    };
    Ok(serde_json::to_string_pretty(&out)?)
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
    }
}

/// Read a file, or fetch a URL with the same fetcher the poller uses.
async fn read_target(
    config: &Config,
    target: &str,
) -> anyhow::Result<(Vec<u8>, Option<String>, Option<url::Url>)> {
    if target.starts_with("http://") || target.starts_with("https://") {
        let url = crate::source::parse_source_url(target).map_err(anyhow::Error::msg)?;
        let fetcher = crate::fetch::Fetcher::new(&config.fetch)?;
        match fetcher.fetch(&url, &Default::default()).await? {
            crate::fetch::FetchOutcome::Fetched(f) => {
                Ok((f.body, f.content_type, Some(f.final_url)))
            }
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
            .ok()
            .and_then(|p| url::Url::from_file_path(p).ok());
        Ok((body, None, base))
    }
}
