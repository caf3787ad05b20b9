//! The `storyline` command line. Only this module (and `main.rs`) knows about clap.

mod alerts;
mod backfill;
mod config_cmd;
mod digest;
mod inspect;
mod mail;
mod poll;
mod sources;
mod story;
mod subscribers;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::app::{App, Settings};
use crate::refresh::Selection;
use crate::value::clock::Clock;

#[derive(Debug, Parser)]
#[command(
    name = "storyline",
    version,
    about = "Follow one news story across the web; mail a weekly digest"
)]
pub struct Cli {
    /// Config file (default: $STORYLINE_CONFIG, else ./storyline.toml, else the built-in preset).
    #[arg(long, global = true, env = "STORYLINE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Pretend it is this time (RFC 3339); for replays and tests.
    #[arg(long, global = true, env = "STORYLINE_NOW", value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one polling round over the sources that are due.
    Poll {
        /// Poll every enabled source now, whatever its due time.
        #[arg(long, conflicts_with = "source")]
        all: bool,
        /// Poll just this source (repeatable).
        #[arg(long = "source", value_name = "ID")]
        source: Vec<String>,
    },
    /// Compose a story's week: print it, write it to a file, or mail it.
    Digest(digest::DigestArgs),
    /// Run the daemon: poll on time and serve the web site until SIGTERM/SIGINT.
    Serve,
    /// Add, list, remove, import and export sources.
    Sources {
        #[command(subcommand)]
        command: sources::SourcesCommand,
    },
    /// Write the preset out as a config file, or check a config.
    Config {
        #[command(subcommand)]
        command: config_cmd::ConfigCommand,
    },
    /// Manage who gets the weekly digest by mail.
    Subscribers {
        #[command(subcommand)]
        action: subscribers::Action,
    },
    /// Send mail: a test message, or whatever the outbox holds.
    Mail {
        #[command(subcommand)]
        action: mail::Action,
    },
    /// Alerts when the story moves: send a test, list deliveries, send what is due.
    Alerts {
        #[command(subcommand)]
        action: alerts::Action,
    },
    /// Read one document as the poller reads its source and show what Storyline sees.
    ///
    /// The kind comes from --kind, else from the configured source with this URL; a file or
    /// URL of no known kind is sniffed (an HTML page is read as a page, anything else as a feed).
    Inspect {
        /// A file path or an http(s) URL.
        target: String,
        /// Read the document as this kind of source, as the poller would.
        #[arg(long, value_enum)]
        kind: Option<sources::KindArg>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Show why an item is in or out of each story, and which event it belongs to.
    Explain {
        /// An item id (as `storyline events` and `inspect` show) or the item's URL.
        #[arg(value_name = "ITEM_ID|URL")]
        target: String,
    },
    /// A story's week: developments first reported in it, updates, and the timeline so far.
    Events {
        /// The ISO week, like 2025-W15 (default: the last complete week).
        #[arg(long)]
        week: Option<crate::value::week::IsoWeek>,
        /// The story id (default: the first story of the config, or the built-in one).
        #[arg(long, value_name = "ID")]
        story: Option<String>,
        /// Print the week as one JSON object (the digest's JSON contract).
        #[arg(long)]
        json: bool,
    },
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("\"{s}\" is not an RFC 3339 time ({e})"))
}

/// Exit codes: 0 done, 1 failed at run time, 2 bad input (config, document, arguments).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon narrates its work; one-off commands only speak up about problems.
    let default_level = if matches!(cli.command, Command::Serve) {
        "info"
    } else {
        "warn"
    };
    init_logging(cli.log_json, default_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(json: bool, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STORYLINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    // Colours only on a terminal: under systemd, stderr goes to the journal, where escape
    // codes would show up as noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let now = cli.now.unwrap_or_else(Utc::now);
    // With --now the clock starts there and runs at normal speed (for replays).
    let clock = match cli.now {
        Some(start) => Clock::tokio_from(start),
        None => Clock::System,
    };
    // `config init` writes the config file and has none to read yet.
    if let Command::Config { command } = cli.command {
        return Ok(config_cmd::run(command, cli.config.as_deref(), now));
    }
    let settings = match load_settings(cli.config.as_deref()) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    match cli.command {
        Command::Inspect { target, kind, json } => {
            inspect::run(&settings.config, &target, kind, json).await
        }
        Command::Serve => serve(settings, clock, now).await,
        Command::Poll { all, source } => {
            let selection = if all {
                Selection::All
            } else if !source.is_empty() {
                Selection::Only(source)
            } else {
                Selection::Due
            };
            poll::run(settings, clock, now, &selection).await
        }
        Command::Sources { command } => sources::run(settings, clock, now, command).await,
        Command::Subscribers { action } => subscribers::run(&settings, action, now).await,
        Command::Mail { action } => mail::run(&settings, action, clock).await,
        Command::Alerts { action } => alerts::run(&settings, action, clock).await,
        Command::Digest(args) => digest::run(settings, args, clock, now).await,
        Command::Explain { target } => story::explain(&settings, &target, now).await,
        Command::Events { week, story, json } => {
            story::events(&settings, week, story.as_deref(), json, now).await
        }
        Command::Config { .. } => unreachable!("handled above"),
    }
}

/// The config, checked and resolved; a bad one is reported and exits 2.
pub(crate) fn load_settings(path: Option<&std::path::Path>) -> Result<Settings, ExitCode> {
    Settings::load(path).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

async fn serve(settings: Settings, clock: Clock, now: DateTime<Utc>) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let listen = settings.config.web.listen;
    // Secrets the config names (SMTP password, signing key) are checked before anything is
    // opened, bound or fetched: a daemon that cannot mail should not half start.
    let mail = settings.mail(&crate::mail::process_env)?;
    let app = App::build(settings, mail, clock, now).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    crate::daemon::run(app, listener, crate::daemon::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
