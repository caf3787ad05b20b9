//! What the crash trials (tests/it/crash.rs, tests/it/crash_serve.rs) share: a seeded PRNG, running
//! the real binary and killing it with SIGKILL at a random moment, and reading the file the
//! killed process left without migrating it.
//!
//! `STORYLINE_CRASH_TRIALS` sets the trials of every kind (each kind has its own default);
//! `STORYLINE_CRASH_SEED` replays a run (the seed is printed).

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::str::FromStr as _;
use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, SqliteConnection};

use super::smtp_sink::{Fault, SmtpSink};

pub const DEFAULT_SEED: u64 = 0x5709_11e5;
/// Kills a trial may add, aimed at the middle of the work, when none of its random ones
/// landed there: every trial then proves something, at any trial count.
pub const MAX_AIMED_KILLS: usize = 12;

/// SplitMix64: a seeded, dependency-free PRNG, so a failing run can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.range(1, 100) <= percent
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Trials of one kind: `STORYLINE_CRASH_TRIALS`, else that kind's default.
pub fn trials(default: usize) -> usize {
    env_or("STORYLINE_CRASH_TRIALS", default)
}

pub fn seed() -> u64 {
    env_or("STORYLINE_CRASH_SEED", DEFAULT_SEED)
}

/// `storyline --config CONFIG ARGS…` with a clean environment, output piped, logging errors
/// only (`STORYLINE_CRASH_LOG` changes that).
pub fn storyline(config: &Path, args: &[&str]) -> Child {
    let log = std::env::var("STORYLINE_CRASH_LOG").unwrap_or_else(|_| "error".into());
    storyline_logging(config, args, &log)
}

fn storyline_logging(config: &Path, args: &[&str], log: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .env_remove("STORYLINE_SECRET")
        .env("STORYLINE_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start storyline")
}

/// When to kill a run.
#[derive(Debug, Clone, Copy)]
pub enum Moment {
    /// This long after the start: kills during start-up (opening and migrating the file).
    After(Duration),
    /// When `progress()` reaches `at`, then `extra` later: kills in the middle of the work
    /// however fast or loaded the machine is.
    Progress { at: usize, extra: Duration },
}

impl Moment {
    /// A kill in start-up one time in five, else after `0..=steps` steps of progress and up to
    /// `max_extra_ms` more.
    pub fn pick(rng: &mut Rng, steps: usize, max_extra_ms: u64) -> Moment {
        if rng.range(0, 4) == 0 {
            Moment::After(Duration::from_millis(rng.range(0, 40)))
        } else {
            Moment::Progress {
                at: rng.range(0, steps as u64) as usize,
                extra: Duration::from_millis(rng.range(0, max_extra_ms)),
            }
        }
    }

    /// A kill aimed at the middle of the work: after `from..steps` steps (`from` at most
    /// `steps - 1`) and up to `max_extra_ms` more.
    pub fn aimed(rng: &mut Rng, from: usize, steps: usize, max_extra_ms: u64) -> Moment {
        let last = steps.saturating_sub(1).max(1);
        Moment::Progress {
            at: rng.range(from.min(last) as u64, last as u64) as usize,
            extra: Duration::from_millis(rng.range(0, max_extra_ms)),
        }
    }
}

/// How a run that was to be killed ended.
#[derive(Debug)]
pub enum Ended {
    /// SIGKILL landed while it ran.
    Killed,
    /// It had finished by itself first.
    Finished(Output),
}

impl Ended {
    pub fn landed(&self) -> bool {
        matches!(self, Ended::Killed)
    }

    /// A run that finished by itself must have succeeded.
    pub fn assert_ok(&self, what: &str) {
        if let Ended::Finished(out) = self {
            assert!(
                out.status.success(),
                "{what}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// A run that makes no progress for this long has nothing left to do (a daemon idles
/// instead of exiting): it is killed there.
const IDLE: Duration = Duration::from_secs(2);

/// SIGKILL `child` at `moment`, unless it finishes first (or idles: see [`IDLE`]). Either way
/// the child is reaped, so its pid is free afterwards.
pub async fn kill_at(mut child: Child, moment: Moment, progress: impl Fn() -> usize) -> Ended {
    let started = Instant::now();
    let (at, extra) = match moment {
        Moment::After(d) => (0, d),
        Moment::Progress { at, extra } => (at, extra),
    };
    let mut reached: Option<Instant> = None;
    let mut last = (progress(), Instant::now());
    loop {
        if child.try_wait().unwrap().is_some() {
            return Ended::Finished(child.wait_with_output().unwrap());
        }
        let p = progress();
        if p != last.0 {
            last = (p, Instant::now());
        }
        if reached.is_none() && (p >= at || last.1.elapsed() >= IDLE) {
            reached = Some(Instant::now());
        }
        if reached.is_some_and(|t| t.elapsed() >= extra) {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "storyline neither progressed nor exited: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let _ = child.wait();
    Ended::Killed
}

/// Wait for `child` to finish (at most a minute), without blocking the runtime's threads.
pub async fn finish(mut child: Child) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let waiting = where_threads_wait(child.id());
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "storyline did not finish in a minute; its threads wait in {waiting}\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.wait_with_output().unwrap()
}

/// Each thread's name, state and kernel wait channel, to tell a hang's cause.
fn where_threads_wait(pid: u32) -> String {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return "(unknown)".into();
    };
    let mut out = Vec::new();
    for t in tasks.flatten() {
        let p = t.path();
        let read = |f: &str| std::fs::read_to_string(p.join(f)).unwrap_or_default();
        let stat = read("stat");
        let state = stat
            .rsplit_once(')')
            .map_or("", |(_, r)| r.trim())
            .chars()
            .next();
        out.push(format!(
            "{} {:?} {}",
            read("comm").trim(),
            state.unwrap_or('?'),
            read("wchan")
        ));
    }
    out.join("; ")
}

/// Run to the end; panics with its output (logged at `info`) unless it succeeded.
pub async fn run_ok(config: &Path, args: &[&str]) -> String {
    let out = finish(storyline_logging(config, args, "info")).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "storyline {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Make the SMTP server hold every answer to a message for `delay`: the window in which the
/// message has arrived and its sender does not know it yet. Aimed kills widen it (40 ms), so
/// they catch a message in flight however loaded the machine is.
pub fn ack_delay(sink: &SmtpSink, delay: Duration) {
    sink.clear_faults();
    sink.add_fault(Fault::DelayAck {
        to: String::new(),
        delay,
        times: None,
    });
}

/// How long an aimed kill's SMTP server holds each answer (see [`ack_delay`]), and how far
/// apart its feed server spaces its answers.
pub const AIMED_DELAY: Duration = Duration::from_millis(40);

/// A plain connection to the file as the killed process left it: no migration, nothing
/// written but what SQLite's own recovery does (which the next run would do too).
pub async fn connect(db: &Path) -> Option<SqliteConnection> {
    if !db.exists() {
        return None;
    }
    let opts = SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(db)
        .create_if_missing(false);
    Some(opts.connect().await.unwrap())
}

pub async fn integrity(conn: &mut SqliteConnection) -> String {
    let (s,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    s
}

/// Does the schema have this table yet? (A kill in start-up may leave a file before or in
/// the middle of the migrations.)
pub async fn has_table(conn: &mut SqliteConnection, table: &str) -> bool {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1")
            .bind(table)
            .fetch_optional(&mut *conn)
            .await
            .unwrap();
    row.is_some()
}
