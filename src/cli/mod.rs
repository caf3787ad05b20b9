//! The `storyline` command line. Only this module (and `main.rs`) knows about clap.

mod inspect;
mod poll;
mod story;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::refresh::Selection;

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
    /// Parse one document exactly as the poller would and show what Storyline sees.
    Inspect {
        /// A file path or an http(s) URL.
        target: String,
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
        #[arg(long, value_parser = parse_week)]
        week: Option<crate::week::IsoWeek>,
        /// The story id (default: the first story of the config, or the built-in one).
        #[arg(long, value_name = "ID")]
        story: Option<String>,
        /// Print the week as one JSON object (the digest's JSON contract).
        #[arg(long)]
        json: bool,
    },
}

fn parse_week(s: &str) -> Result<crate::week::IsoWeek, String> {
    s.parse()
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("\"{s}\" is not an RFC 3339 time ({e})"))
}

/// Exit codes: 0 done, 1 failed at run time, 2 bad input (config, document, arguments).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_json);
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

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STORYLINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let now = cli.now.unwrap_or_else(Utc::now);
    match cli.command {
        Command::Inspect { target, json } => {
            let config = match load_config(cli.config.as_deref()) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            inspect::run(&config, &target, json).await
        }
        Command::Poll { all, source } => {
            let config = match load_config(cli.config.as_deref()) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let selection = if all {
                Selection::All
            } else if !source.is_empty() {
                Selection::Only(source)
            } else {
                Selection::Due
            };
            poll::run(config, now, &selection).await
        }
        Command::Explain { target } => {
            let config = match load_config(cli.config.as_deref()) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            story::explain(&config, &target, now).await
        }
        Command::Events { week, story, json } => {
            let config = match load_config(cli.config.as_deref()) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            story::events(&config, week, story.as_deref(), json, now).await
        }
    }
}

pub(crate) fn load_config(path: Option<&std::path::Path>) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}
