//! Shared by the fuzz targets: report every panic, even one the parser catches itself.
//!
//! `parse_feed` runs under `catch_unwind`, so a panic inside it is not a crash; but each one is
//! still a bug to look at. The hook prints the first panic at each source location (once, so
//! the log stays readable) and counts the rest; `STORYLINE_FUZZ_ABORT_ON_PANIC=1` turns every
//! panic into a crash, to collect a reproducer for one.

use std::collections::HashMap;
use std::sync::{Mutex, Once};

static HOOK: Once = Once::new();
static SEEN: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);

pub fn install_panic_report() {
    HOOK.call_once(|| {
        let abort = std::env::var_os("STORYLINE_FUZZ_ABORT_ON_PANIC").is_some();
        std::panic::set_hook(Box::new(move |info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_else(|| "unknown".into());
            let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
            let count = seen
                .get_or_insert_with(HashMap::new)
                .entry(at.clone())
                .or_insert(0);
            *count += 1;
            if *count == 1 {
                eprintln!("CAUGHT-PANIC at {at}: {info}");
            }
            if abort {
                std::process::abort();
            }
        }));
    });
}
