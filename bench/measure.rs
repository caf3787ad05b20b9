//! Run one command as a child process and read what it cost from `wait4`.
//!
//! `wait4` on the child returns its rusage as the kernel accounts it at exit: user and system
//! CPU of the child *plus every descendant it waited for* (a tool that forks helpers is
//! charged for them), and `ru_maxrss`, the largest resident set of any single process in that
//! tree (not a sum). Wall time is measured from spawn to reap.
//!
//! The harness does not spawn tools itself: `exec` records the replaced address space's peak
//! RSS in the new program's `ru_maxrss`, and a spawned child starts in the spawner's address
//! space (vfork), so every tool would be charged the harness's own peak (hundreds of MB with
//! the corpus in memory). Instead [`run`] starts a fresh copy of this binary as a launcher
//! ([`launcher_main`]), still small, which spawns the tool, reaps it with `wait4` and writes
//! the numbers to a file. The launcher's own peak (a few MB) is the floor of the method.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The cost of one or more commands run one after another.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Cost {
    pub wall_s: f64,
    pub cpu_s: f64,
    pub peak_rss_mb: f64,
}

impl Cost {
    /// Sequential composition: times add up, the peak is the larger one.
    pub fn then(self, other: Cost) -> Cost {
        Cost {
            wall_s: self.wall_s + other.wall_s,
            cpu_s: self.cpu_s + other.cpu_s,
            peak_rss_mb: self.peak_rss_mb.max(other.peak_rss_mb),
        }
    }
}

/// The first argument that makes this binary a launcher.
pub const LAUNCHER_ARG: &str = "__measure";

/// Run `cmd` (through the launcher) with stdout and stderr appended to `log`; an error names
/// the command and its exit.
pub fn run(cmd: Command, log: &Path) -> Result<Cost, String> {
    let what = format!("{cmd:?}");
    let report = log.with_extension("cost");
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut launcher = Command::new(exe);
    launcher
        .arg(LAUNCHER_ARG)
        .arg(&report)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        launcher.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => launcher.env(k, v),
            None => launcher.env_remove(k),
        };
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    launcher.stdin(Stdio::null()).stdout(out).stderr(err);
    let status = launcher
        .status()
        .map_err(|e| format!("cannot start the launcher for {what}: {e}"))?;
    if !status.success() {
        return Err(format!("{what} failed ({status}); see {}", log.display()));
    }
    let text =
        std::fs::read_to_string(&report).map_err(|e| format!("no cost report for {what}: {e}"))?;
    let _ = std::fs::remove_file(&report);
    serde_json::from_str(&text).map_err(|e| format!("cost report for {what}: {e}"))
}

/// The launcher: `__measure REPORT PROGRAM ARGS...`. Runs PROGRAM (stdio inherited), writes
/// its [`Cost`] as JSON to REPORT, and exits with PROGRAM's status.
pub fn launcher_main(args: &[std::ffi::OsString]) -> std::process::ExitCode {
    let [report, program, rest @ ..] = args else {
        eprintln!("usage: {LAUNCHER_ARG} REPORT PROGRAM [ARGS...]");
        return std::process::ExitCode::from(2);
    };
    let mut cmd = Command::new(program);
    cmd.args(rest);
    match spawn_and_reap(cmd) {
        Ok((cost, code)) => {
            let json = serde_json::to_string(&cost).unwrap_or_default();
            if let Err(e) = std::fs::write(report, json) {
                eprintln!("cannot write {}: {e}", Path::new(report).display());
                return std::process::ExitCode::FAILURE;
            }
            std::process::ExitCode::from(code)
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Spawn `cmd`, reap it with `wait4`; its cost and exit code (1 when killed by a signal).
fn spawn_and_reap(mut cmd: Command) -> Result<(Cost, u8), String> {
    let what = format!("{cmd:?}");
    let start = Instant::now();
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own unreaped child; status and usage are valid for writes. std's
    // Child never waits by itself, so nothing else reaps it first.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall_s = start.elapsed().as_secs_f64();
    if reaped != pid {
        return Err(format!(
            "wait4 failed for {what}: {}",
            std::io::Error::last_os_error()
        ));
    }
    // The Child handle is dropped without waiting: the process is already reaped.
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) as u8
    } else {
        1
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cost = Cost {
        wall_s,
        cpu_s: secs(usage.ru_utime) + secs(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        peak_rss_mb: usage.ru_maxrss as f64 / 1024.0,
    };
    Ok((cost, code))
}

/// The load averages over 1, 5 and 15 minutes, from /proc/loadavg.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// Share of CPU time (0–1) the whole machine spent busy over `window`, from /proc/stat. The
/// harness is idle while it samples, so this is what other processes take.
pub fn busy_fraction(window: std::time::Duration) -> Option<f64> {
    fn sample() -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
        let fields: Vec<u64> = cpu
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal ...
        let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
        Some((fields.iter().take(8).sum(), idle))
    }
    let (t0, i0) = sample()?;
    std::thread::sleep(window);
    let (t1, i1) = sample()?;
    let total = t1.checked_sub(t0)?;
    (total > 0).then(|| 1.0 - (i1.saturating_sub(i0)) as f64 / total as f64)
}

/// Wait until other processes leave the CPUs mostly idle (busy below `threshold`, sampled over
/// one second), for at most `patience`; returns the last busy fraction seen. A threshold of
/// 1 or more never waits.
pub fn wait_for_quiet(threshold: f64, patience: std::time::Duration) -> Option<f64> {
    let start = Instant::now();
    loop {
        let busy = busy_fraction(std::time::Duration::from_secs(1));
        if threshold >= 1.0 || busy.is_none_or(|b| b < threshold) || start.elapsed() >= patience {
            return busy;
        }
        std::thread::sleep(std::time::Duration::from_secs(4));
    }
}
