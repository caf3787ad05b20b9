//! Python checkers kept in tests/ (mail_check.py, feed_check.py), run as a second, independent
//! reader of what Storyline writes. python3 is on every CI machine and `.ci/run` installs
//! feedparser; a machine without them fails these tests with the reason, never skips them.

use std::path::Path;
use std::process::{Command, Output};

/// `python3 tests/<script> args...`; panics with an install hint when python3 cannot start or
/// a module the script needs is missing.
pub fn run_script(script: &str, args: &[&Path]) -> Output {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(script);
    let out = Command::new("python3")
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 for {script} ({e}): install Python 3 (CI has it)")
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("ModuleNotFoundError") {
        panic!(
            "{script} needs a Python module that is missing: {stderr}\n\
             install it as .ci/run does: python3 -m pip install feedparser==6.0.11"
        );
    }
    out
}
