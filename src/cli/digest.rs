//! `storyline digest`: the one-off run. Compose a story's week, print it, write it to a file,
//! or mail it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use clap::ValueEnum;
use tokio_util::sync::CancellationToken;

use crate::app::{App, Settings};
use crate::config::Config;
use crate::digest::{self, MailHeaders};
use crate::refresh::{self, Selection, SourceReport, SourceResult};
use crate::story::{self, StoryDef};
use crate::value::clock::Clock;
use crate::value::week::IsoWeek;
use crate::weekly::{self, Edition, Period};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Html,
    Text,
    Eml,
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Text => "txt",
            Format::Eml => "eml",
            Format::Json => "json",
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// The story (default: the only or first one).
    #[arg(long)]
    story: Option<String>,
    /// The ISO week, e.g. 2025-W15 (default: the last complete week).
    #[arg(long, conflicts_with = "since")]
    week: Option<IsoWeek>,
    /// Everything from this date (YYYY-MM-DD, in the configured time zone) until now.
    #[arg(long)]
    since: Option<NaiveDate>,
    /// Run a polling round first, over the sources that are due (as `storyline poll` does).
    #[arg(long)]
    poll: bool,
    #[arg(long, value_enum, default_value = "html")]
    format: Format,
    /// Where to write it; `-` for standard output (default: digests/<story>-<week>.<ext>).
    #[arg(long, value_name = "PATH|-")]
    out: Option<String>,
    /// Mail it to the story's confirmed subscribers. A week already mailed resumes its outbox
    /// (only subscribers confirmed since get it); a week kept for the web archive but mailed to
    /// nobody is brought up to date and sent as a first send.
    #[arg(long)]
    send: bool,
    /// Mail it to this one address instead.
    #[arg(long, value_name = "ADDR")]
    to: Option<String>,
    /// Show who would get what, without sending (or storing anything).
    #[arg(long)]
    dry_run: bool,
    /// Compose and store every past week that has story items (all stories, or --story's),
    /// for the web archive and feeds. Mails nobody and queues nothing.
    #[arg(long, conflicts_with_all = ["week", "since", "send", "to", "dry_run", "out", "format"])]
    backfill: bool,
}

pub(crate) async fn run(
    settings: Settings,
    args: DigestArgs,
    clock: Clock,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    let app = App::build(settings, None, clock, now).await?;
    let (config, stories) = (&*app.config, &app.stories[..]);
    let tz = config.timezone;
    if args.backfill {
        let chosen = match &args.story {
            Some(id) => match pick_story(stories, Some(id)) {
                Ok(s) => vec![s.clone()],
                Err(msg) => {
                    eprintln!("error: {msg}");
                    return Ok(ExitCode::from(2));
                }
            },
            None => stories.to_vec(),
        };
        bring_up_to_date(&app, stories, args.poll, now).await?;
        return super::backfill::run(&app, &chosen, now).await;
    }
    let story = match pick_story(stories, args.story.as_deref()) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(2));
        }
    };
    bring_up_to_date(&app, stories, args.poll, now).await?;
    let period = match (args.week, args.since) {
        (Some(w), _) => Period::Week(w),
        (None, Some(d)) => match tz
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
        {
            Some(t) => Period::Since(t.with_timezone(&Utc)),
            None => anyhow::bail!("{d} has no midnight in {tz}"),
        },
        (None, None) => Period::Week(IsoWeek::last_complete(now, tz)),
    };
    let edition = weekly::make(&app.store, config, &app.templates, story, period, now).await?;

    if args.send || args.to.is_some() {
        if args.to.is_some() && !args.dry_run {
            keep(&app, story, period, &edition, now).await?;
        }
        return send(&app, story, &edition, &args, now).await;
    }
    let path = match args.out.as_deref() {
        Some("-") => None,
        explicit => Some(match explicit {
            Some(p) => PathBuf::from(p),
            None => config.digest.output_dir.join(format!(
                "{}-{}.{}",
                story.id,
                edition.week,
                args.format.extension()
            )),
        }),
    };
    let out: Box<dyn Write> = match &path {
        None => Box::new(std::io::stdout().lock()),
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Box::new(file)
        }
    };
    let mut out = std::io::BufWriter::new(out);
    match args.format {
        Format::Html => out.write_all(edition.rendered.html.as_bytes())?,
        Format::Text => out.write_all(edition.rendered.text.as_bytes())?,
        // The JSON report lists every item of the week: written as it is read.
        Format::Json => {
            let bounds = weekly::bounds(period, now, tz).1;
            story::week_json::write_period(&app.store, story, edition.week, bounds, tz, &mut out)
                .await?;
            out.write_all(b"\n")?;
        }
        Format::Eml => out.write_all(&eml(config, story, &edition, args.to.as_deref(), now)?)?,
    }
    out.flush().with_context(|| match &path {
        Some(p) => format!("cannot write {}", p.display()),
        None => "cannot write the digest".to_string(),
    })?;
    drop(out);
    if let Some(path) = path {
        println!("{}", path.display());
    }
    if !args.dry_run {
        keep(&app, story, period, &edition, now).await?;
    }
    app.store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Poll the sources that are due first (`--poll`), saying which failed and why, or just bring
/// the stories up to date with what is stored.
async fn bring_up_to_date(
    app: &App,
    stories: &[StoryDef],
    poll: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if !poll {
        story::process(&app.store, stories, now)
            .await
            .context("cannot bring the stories up to date")?;
        return Ok(());
    }
    let enabled = app
        .store
        .sources()
        .await?
        .iter()
        .filter(|s| s.enabled && s.disabled_reason.is_none())
        .count();
    let bar = super::poll::Bar::new();
    let report = refresh::run_cycle(app, now, &Selection::Due, &bar).await?;
    bar.finish();
    // Only the due ones: a source polled within its interval has nothing newer to give, and
    // one backing off after failures or a Retry-After is left alone (`poll --all` overrides).
    eprintln!(
        "polled the {} of {enabled} sources that were due: {} new, {} failed",
        report.sources.len(),
        report.new_items(),
        report.failed()
    );
    let failed = |s: &&SourceReport| {
        matches!(
            s.result,
            SourceResult::Failed { .. } | SourceResult::RateLimited { .. } | SourceResult::Gone
        )
    };
    for s in report.sources.iter().filter(failed) {
        eprintln!("  {}: {}", s.source, super::poll::describe(s));
    }
    Ok(())
}

/// Keep a complete week's edition for the web archive, and say what became of it.
async fn keep(
    app: &App,
    story: &StoryDef,
    period: Period,
    edition: &Edition,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Period::Week(week) = period else {
        return Ok(());
    };
    let kept =
        crate::weekly::archive::keep(&app.store, &app.config, story, week, edition, now).await?;
    eprintln!(
        "web archive, /digests/{}/{week}: {}",
        story.id,
        kept.describe()
    );
    Ok(())
}

fn pick_story<'a>(stories: &'a [StoryDef], id: Option<&str>) -> Result<&'a StoryDef, String> {
    let known = || {
        stories
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match id {
        Some(id) => stories
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| format!("no story \"{id}\" (stories: {})", known())),
        None => stories
            .first()
            .ok_or_else(|| "no story is defined".to_string()),
    }
}

/// The digest as a complete message, for `--format eml`.
fn eml(
    config: &Config,
    story: &StoryDef,
    edition: &Edition,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<u8>> {
    let headers = one_off_headers(config, story, edition, to, now);
    Ok(digest::to_eml(&edition.rendered, &headers)?)
}

fn one_off_headers(
    config: &Config,
    story: &StoryDef,
    edition: &Edition,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> MailHeaders {
    let host = config
        .web
        .base_url
        .host_str()
        .unwrap_or("localhost")
        .to_string();
    let from = config
        .smtp
        .as_ref()
        .map(|s| s.from.to_string())
        .unwrap_or_else(|| format!("Storyline <storyline@{host}>"));
    MailHeaders {
        to: vec![to.map_or_else(|| from.clone(), str::to_string)],
        from,
        message_id: format!("<{}.{}.one-off@{host}>", edition.week, story.id),
        list_id: format!("{} <{}.storyline.{host}>", story.title, story.id),
        date: now,
        extra: Vec::new(),
    }
}

async fn send(
    app: &App,
    story: &StoryDef,
    edition: &Edition,
    args: &DigestArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    let config = &*app.config;
    // Only the runs that send set mail up, so writing a file never needs the SMTP secrets.
    let Some(mail) =
        crate::mail::Mail::from_config(config, &app.stories, &crate::mail::process_env)?
    else {
        eprintln!("error: no [smtp] section in the config: nothing can be mailed");
        return Ok(ExitCode::from(2));
    };
    let subject = &edition.rendered.subject;
    if let Some(to) = &args.to {
        if args.dry_run {
            println!("would send \"{subject}\" to {to}");
            return Ok(ExitCode::SUCCESS);
        }
        let headers = one_off_headers(config, story, edition, Some(to), now);
        let message = digest::to_message(&edition.rendered, &headers)?;
        match mail.mailer.send(&message).await {
            Ok(reply) => println!("sent \"{subject}\" to {to}: {reply}"),
            Err(e) => {
                eprintln!("error: sending to {to} failed: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        let subscribers = app.store.confirmed_subscribers(&story.id).await?;
        println!(
            "would queue \"{subject}\" for {} confirmed subscriber(s):",
            subscribers.len()
        );
        for s in subscribers {
            println!("  {s}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let parts = crate::store::NewDigest {
        story_id: &story.id,
        week: edition.week,
        subject,
        text: &edition.rendered.text,
        html: &edition.rendered.email_html,
        chart_png: Some(&edition.rendered.chart_png),
    };
    let queued = crate::mail::queue_digest(&app.store, &mail.settings, &parts, now).await?;
    if !queued.created && queued.already > 0 {
        println!(
            "{} {}: already composed; resuming its outbox ({} new deliveries)",
            story.id, edition.week, queued.queued
        );
    } else if !queued.created {
        println!(
            "{} {}: kept for the web archive but mailed to nobody yet; queued for {} \
             subscriber(s)",
            story.id, edition.week, queued.queued
        );
    } else {
        println!(
            "{} {}: queued for {} subscriber(s)",
            story.id, edition.week, queued.queued
        );
    }
    // As `poll` does for alerts: the drain's clock starts at `now`, when the week was queued.
    let clock = Clock::tokio_from(now);
    let report = crate::mail::drain_outbox(
        &mail.mailer,
        &app.store,
        &mail.settings,
        &clock,
        &CancellationToken::new(),
    )
    .await?;
    println!(
        "sent {}, to retry {}, failed {}",
        report.sent, report.retried, report.failed
    );
    if report.held_elsewhere > 0 {
        println!(
            "{} being sent by another run (serve, or a drain); left to it",
            report.held_elsewhere
        );
    }
    if let Some(why) = report.stopped {
        eprintln!("stopped early: {why}");
        return Ok(ExitCode::FAILURE);
    }
    app.store.close().await;
    Ok(ExitCode::SUCCESS)
}
