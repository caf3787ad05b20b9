//! Leases on deliveries: which run has a message on the wire, and when another run may take
//! it back.
//!
//! Several runs can work on one outbox: `serve`, `storyline mail drain`, `digest --send`. Each
//! drain is a [`Holder`] (this process plus a random token). It claims a delivery for itself
//! with a lease that ends after [`lease_length`], and renews it every [`renew_every`] while
//! the message is on its way. Another run leaves a `sending` delivery alone while both hold:
//! the lease has not run out and its holder may be alive. It takes the delivery back (to be
//! resent with the same Message-ID and bytes) when the lease has run out, or at once when the
//! holder is provably gone: [`is_gone`] is true only for a process on this machine, in this
//! process namespace, that no longer exists (or whose pid now names another process).
//!
//! Lease length: one send is at most three steps, each bounded by `[smtp] timeout` (check the
//! open connection, connect and log in, transfer the message). The lease covers all three
//! plus a minute, so a send whose renewals cannot be written (another process holding the
//! database's write lock) still keeps its claim to the end: 4 minutes with the default 60 s
//! timeout. A holder that cannot be checked (another machine, or a /proc that hides other
//! users' processes) is waited for that long after its last renewal.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// Added to the three timeouts of one send.
const LEASE_SLACK: Duration = Duration::from_secs(60);
/// Shortest renewal period, so a tiny timeout does not turn into a busy loop of writes.
const MIN_RENEW: Duration = Duration::from_secs(1);

/// How long a claim holds without renewal, for an SMTP timeout of `smtp_timeout`.
pub fn lease_length(smtp_timeout: Duration) -> Duration {
    smtp_timeout.saturating_mul(3).saturating_add(LEASE_SLACK)
}

/// How often a holder renews its lease while a message is on its way: once per timeout,
/// so at least two renewals fit in one lease.
pub fn renew_every(smtp_timeout: Duration) -> Duration {
    smtp_timeout.max(MIN_RENEW)
}

/// One sending run: who it is for people, and the process it runs in for the liveness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    owner: String,
    process: Option<String>,
}

impl Holder {
    /// This process with a fresh random token: every drain is its own holder, so two drains
    /// in one process never take each other's deliveries either.
    pub fn this_process() -> Holder {
        let mut bytes = [0u8; 6];
        // Without randomness the pid alone still tells processes apart.
        let _ = getrandom::getrandom(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let host = read_trimmed(Path::new("/proc/sys/kernel/hostname"))
            .unwrap_or_else(|| "unknown-host".into());
        Holder {
            owner: format!("{host} pid {} ({token})", std::process::id()),
            process: this_process_mark().clone(),
        }
    }

    /// "host pid 1234 (token)": unique per run.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The liveness mark ([`is_gone`] reads it), when this system allows the check.
    pub fn process(&self) -> Option<&str> {
        self.process.as_deref()
    }
}

/// True when the process named by `mark` (a [`Holder::process`]) provably no longer runs:
/// same boot of the same machine, same pid namespace, and its pid is free, a zombie, or a
/// process started at another moment. False whenever that cannot be shown.
pub fn is_gone(mark: &str) -> bool {
    let Some(here) = machine() else {
        return false;
    };
    let parts: Vec<&str> = mark.split(' ').collect();
    let ["linux", boot, pid_ns, pid, start] = parts[..] else {
        return false;
    };
    if boot != here.boot || pid_ns != here.pid_ns {
        return false;
    }
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        Ok(stat) => match parse_stat(&stat) {
            Some((state, started)) => {
                matches!(state, 'Z' | 'X') || start.parse::<u64>().ok() != Some(started)
            }
            None => false,
        },
    }
}

/// This boot of this machine, as seen from this pid namespace.
#[derive(Debug)]
struct Machine {
    boot: String,
    pid_ns: String,
}

/// `None` when processes cannot be checked here: not Linux, a /proc that is not this
/// namespace's, or one mounted to hide other users' processes (then a missing pid proves
/// nothing).
fn machine() -> Option<&'static Machine> {
    static MACHINE: OnceLock<Option<Machine>> = OnceLock::new();
    MACHINE
        .get_or_init(|| {
            let boot = read_trimmed(Path::new("/proc/sys/kernel/random/boot_id"))?;
            let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
            let ns = ns.to_str()?.replace(' ', "_");
            // /proc/self must be this process as numbered in this namespace.
            let self_pid: u32 = std::fs::read_link("/proc/self")
                .ok()?
                .to_str()?
                .parse()
                .ok()?;
            if self_pid != std::process::id() {
                return None;
            }
            // With `hidepid`, other users' processes are missing from /proc; pid 1 always
            // exists, so seeing it shows that nothing is hidden from us.
            if !Path::new("/proc/1/stat").exists() {
                return None;
            }
            Some(Machine { boot, pid_ns: ns })
        })
        .as_ref()
}

fn this_process_mark() -> &'static Option<String> {
    static MARK: OnceLock<Option<String>> = OnceLock::new();
    MARK.get_or_init(|| {
        let here = machine()?;
        let (_, started) = parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        Some(format!(
            "linux {} {} {} {started}",
            here.boot,
            here.pid_ns,
            std::process::id()
        ))
    })
}

/// State and start time (clock ticks after boot) from a `/proc/PID/stat` line. The command
/// name is in parentheses and may hold anything, so fields are counted after the last ')'.
fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 of proc(5) is the state, field 22 the start time.
    let state = fields.first()?.chars().next()?;
    let started = fields.get(22 - 3)?.parse().ok()?;
    Some((state, started))
}

fn read_trimmed(path: &Path) -> Option<String> {
    let s = std::fs::read_to_string(path).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_covers_three_timeouts_and_a_minute() {
        assert_eq!(
            lease_length(Duration::from_secs(60)),
            Duration::from_secs(240)
        );
        assert_eq!(
            lease_length(Duration::from_secs(5)),
            Duration::from_secs(75)
        );
        assert_eq!(renew_every(Duration::from_secs(5)), Duration::from_secs(5));
        assert_eq!(renew_every(Duration::from_millis(10)), MIN_RENEW);
        assert!(renew_every(Duration::from_secs(60)) * 2 < lease_length(Duration::from_secs(60)));
    }

    #[test]
    fn stat_lines_are_read_after_the_command_name() {
        let line = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 \
                    1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat(line), Some(('S', 987_654)));
        assert_eq!(parse_stat("4242 (no fields)"), None);
    }

    #[test]
    fn every_run_is_its_own_holder() {
        let (a, b) = (Holder::this_process(), Holder::this_process());
        assert_ne!(a.owner(), b.owner());
        assert!(a.owner().contains(&format!("pid {}", std::process::id())));
        assert_eq!(a.process(), b.process());
    }

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_gone() {
        let Some(me) = Holder::this_process().process().map(str::to_string) else {
            // Not checkable on this system: nothing may ever count as gone.
            assert!(!is_gone("linux a b 1 2"));
            return;
        };
        assert!(!is_gone(&me));
        // A child that has exited and been reaped: its pid is free (or reused by a process
        // with another start time).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
        child.wait().unwrap();
        if let Some((_, started)) = stat.as_deref().and_then(parse_stat) {
            let parts: Vec<&str> = me.split(' ').collect();
            let mark = format!("linux {} {} {pid} {started}", parts[1], parts[2]);
            assert!(is_gone(&mark), "{mark}");
        }
        // Our own pid with another start time: the pid was reused.
        let parts: Vec<&str> = me.split(' ').collect();
        let reused = format!("linux {} {} {} 1", parts[1], parts[2], parts[3]);
        assert!(is_gone(&reused));
        // Another machine, another namespace, garbage: never provably gone.
        let other_boot = format!("linux other {} 999999999 1", parts[2]);
        assert!(!is_gone(&other_boot));
        let other_ns = format!("linux {} pid:[1] 999999999 1", parts[1]);
        assert!(!is_gone(&other_ns));
        assert!(!is_gone("garbage"));
        assert!(!is_gone(""));
    }
}
