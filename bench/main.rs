//! `cargo bench --bench compare`: Storyline against the tools users would pick instead
//! (rss2email, newsboat, and curl as the floor), all on loopback. See bench/README.md.
//!
//! For each size N it serves N synthetic feeds (`corpus`) from an in-process HTTP server
//! (`server`), runs each tool as a child process for three rounds (cold, idle, +5 items per
//! feed) and reads what each round cost (`measure`), what the server was asked and what the
//! SMTP sink (`smtp`) received. Then it times Storyline's parser against feedparser
//! (`parse_speed`) and writes the table, a JSON file and the plot (`report`).

mod corpus;
mod measure;
mod parse_speed;
mod report;
mod server;
mod smtp;
mod tools;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::Parser;

use report::{Conditions, Results, Row};
use tools::{Env, Round, Tool, ToolRun};

#[derive(Debug, Parser)]
#[command(about = "Benchmark Storyline against rss2email, newsboat and curl on loopback")]
struct Args {
    /// Feed counts, run in ascending order.
    #[arg(long, value_delimiter = ',', default_values_t = [100, 1000, 10_000])]
    sizes: Vec<usize>,
    /// Tools to run (all by default).
    #[arg(long, value_delimiter = ',', value_enum)]
    tools: Vec<Tool>,
    /// A tool whose three rounds at a size would take longer than this in all (linear estimate
    /// from the previous size) is reported as not run at that size.
    #[arg(long, default_value_t = 600.0)]
    max_size_secs: f64,
    /// Feeds in the parser-throughput corpus (0 skips that part).
    #[arg(long, default_value_t = 1000)]
    parse_feeds: usize,
    /// Passes over the parse corpus; each parser's best pass counts.
    #[arg(long, default_value_t = 3)]
    parse_repeat: usize,
    /// Where results.md, results.json, wall-vs-n.png and the run directories go.
    #[arg(long, default_value = "target/bench-compare")]
    out: PathBuf,
    /// Before each round, wait until other processes keep the CPUs below this busy share
    /// (0–1, sampled over one second) ...
    #[arg(long, default_value_t = 0.10)]
    quiet_below: f64,
    /// ... for at most this many seconds, then measure anyway (the row records the share).
    #[arg(long, default_value_t = 300)]
    quiet_patience: u64,
    /// Keep each tool's run directory (databases, caches, logs) after its size is done.
    #[arg(long)]
    keep: bool,
    /// Only serve N feeds (and the SMTP sink) for trying a tool by hand: prints the addresses,
    /// then reads commands from stdin: `publish K` (serve the feeds after K new items),
    /// `counts` (print and zero the request counts); ends at end of input.
    #[arg(long, value_name = "N")]
    serve: Option<usize>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == measure::LAUNCHER_ARG) {
        return measure::launcher_main(&argv[2..]);
    }
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(mut args: Args) -> Result<(), String> {
    if args.tools.is_empty() {
        args.tools = vec![Tool::Storyline, Tool::Curl, Tool::Newsboat, Tool::Rss2email];
    }
    args.sizes.sort_unstable();
    args.sizes.dedup();
    corpus::self_check().map_err(|e| format!("corpus self-check: {e}"))?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("mkdir {}: {e}", args.out.display()))?;
    // Tools run in their own directories: every path handed to them is absolute.
    args.out =
        std::path::absolute(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    // The server and the sink share one runtime with a thread per core: they answer from
    // memory, so they are never what a tool waits on.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let max = args.serve.or(args.sizes.last().copied()).unwrap_or(0);
    let server = server::FeedServer::start(&rt, max).map_err(|e| format!("feed server: {e}"))?;
    let sink = smtp::SmtpSink::start(&rt).map_err(|e| format!("SMTP sink: {e}"))?;
    if args.serve.is_some() {
        return serve_by_hand(&server, &sink, max);
    }
    let python = python()?;
    let env = Env {
        storyline: PathBuf::from(env!("CARGO_BIN_EXE_storyline")),
        curl: which("curl")?,
        newsboat: which("newsboat")?,
        r2e: python
            .parent()
            .map(|d| d.join("r2e"))
            .filter(|p| p.exists())
            .map_or_else(|| which("r2e"), Ok)?,
        smtp: sink.addr,
        storyline_digest: storyline_has_digest(),
    };
    let floor = measure::run(Command::new("true"), &args.out.join("floor.log"))?;
    let mut results = Results::new(&env, &python, max, floor);
    println!("{}", results.machine_markdown());
    println!("{}", report::ROW_HEADER);
    // The last measured wall time of each (tool, round), to estimate the next size.
    let mut last: HashMap<(Tool, Round), (usize, f64)> = HashMap::new();
    for &n in &args.sizes {
        results.load_at_start.push((n, measure::load_average()));
        for &tool in &args.tools {
            let rows = run_tool(tool, n, &args, &env, &rt, &server, &sink, &mut last)?;
            for row in rows {
                println!("{}", row.markdown());
                results.rows.push(row);
            }
        }
        results.load_at_end.push((n, measure::load_average()));
        results.write(&args.out)?;
    }
    if args.parse_feeds > 0 {
        let dir = args.out.join("parse-corpus");
        parse_speed::write_corpus(&dir, args.parse_feeds)?;
        results
            .parse
            .push(parse_speed::storyline(&dir, args.parse_repeat)?);
        results
            .parse
            .push(parse_speed::feedparser(&python, &dir, args.parse_repeat)?);
        for p in &results.parse {
            println!("{}", report::parse_markdown(p));
        }
    }
    results.write(&args.out)?;
    println!("\n{}", results.targets_markdown());
    println!("written: {}", args.out.display());
    Ok(())
}

fn serve_by_hand(
    server: &server::FeedServer,
    sink: &smtp::SmtpSink,
    n: usize,
) -> Result<(), String> {
    println!(
        "feeds: {} .. {}",
        server.url(0),
        server.url(n.saturating_sub(1))
    );
    println!("smtp: {}", sink.addr);
    for line in std::io::stdin().lines() {
        let line = line.map_err(|e| format!("stdin: {e}"))?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["publish", k] => match k.parse() {
                Ok(k) => {
                    server.publish(k);
                    println!("serving the feeds after {k} new items");
                }
                Err(_) => println!("publish K: K is a number"),
            },
            ["counts"] => println!("{:?}, mails {:?}", server.take_counts(), sink.take_counts()),
            _ => println!("commands: publish K | counts"),
        }
    }
    Ok(())
}

/// One tool's three rounds at size `n`, or "not run" for each when they are estimated to take
/// longer than `--max-size-secs` together.
#[allow(clippy::too_many_arguments)]
fn run_tool(
    tool: Tool,
    n: usize,
    args: &Args,
    env: &Env,
    rt: &tokio::runtime::Runtime,
    server: &server::FeedServer,
    sink: &smtp::SmtpSink,
    last: &mut HashMap<(Tool, Round), (usize, f64)>,
) -> Result<Vec<Row>, String> {
    let dir = args.out.join("runs").join(format!("{n}")).join(tool.name());
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("rm {}: {e}", dir.display()))?;
    }
    server.publish(0);
    let urls = (0..n).map(|i| server.url(i)).collect();
    let run = ToolRun::setup(tool, &dir, urls, env)?;
    server.take_counts();
    sink.take_counts();
    let estimate = |round| {
        last.get(&(tool, round))
            .map(|&(m, wall): &(usize, f64)| wall * n as f64 / m as f64)
    };
    let total: f64 = Round::ALL.iter().filter_map(|&r| estimate(r)).sum();
    if total > args.max_size_secs {
        return Ok(Round::ALL
            .iter()
            .map(|&r| Row::not_run(n, tool, r, estimate(r)))
            .collect());
    }
    let mut rows = Vec::new();
    let mut stored_before = 0;
    for round in Round::ALL {
        if round == Round::Plus5 {
            server.publish(5);
        }
        let busy = measure::wait_for_quiet(
            args.quiet_below,
            std::time::Duration::from_secs(args.quiet_patience),
        );
        let load = measure::load_average();
        let (cost, steps) = run.round(round, env)?;
        let counts = server.take_counts();
        let (messages, _) = sink.take_counts();
        let stored = rt.block_on(run.stored())?;
        let new_items = stored.map(|s| s.saturating_sub(stored_before));
        stored_before = stored.unwrap_or(0);
        last.insert((tool, round), (n, cost.wall_s));
        rows.push(Row::measured(
            n,
            tool,
            round,
            cost,
            counts,
            new_items,
            messages,
            Conditions { load, busy },
        ));
        if let Some(m) = rows.last_mut().and_then(|r| r.measured.as_mut()) {
            m.steps = steps;
        }
    }
    server.publish(0);
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(rows)
}

/// The Python interpreter that has rss2email and feedparser (pyenv shims resolved, so the
/// shim's own start-up is not measured).
fn python() -> Result<PathBuf, String> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, feedparser, rss2email; print(sys.executable)",
        ])
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !out.status.success() {
        return Err("python3 cannot import feedparser and rss2email: run bench/setup.sh".into());
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn which(program: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{program} not found in PATH: run bench/setup.sh"))
}

/// Whether this build has `storyline digest` (being wired separately).
fn storyline_has_digest() -> bool {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args(["digest", "--help"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Version lines of the tools, for the record.
pub fn version(program: &Path, arg: &str) -> String {
    Command::new(program)
        .arg(arg)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "unknown".into())
}
