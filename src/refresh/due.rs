//! When a source is due again: its interval with a fixed per-source spread, and backoff after
//! failures.

use std::time::Duration;

use sha2::{Digest as _, Sha256};

/// Longest wait between retries of a failing source.
const MAX_BACKOFF: Duration = Duration::from_secs(7 * 24 * 3600);

/// The source's interval plus up to 10% spread, fixed per source, so 200 sources with the
/// same interval do not all fire in the same second.
pub(super) fn jittered(interval: Duration, id: &str) -> chrono::Duration {
    let h = Sha256::digest(id.as_bytes());
    let frac = u16::from_le_bytes([h[0], h[1]]) as f64 / u16::MAX as f64;
    let secs = interval.as_secs_f64() * (1.0 + 0.1 * frac);
    chrono::Duration::seconds(secs as i64)
}

/// Exponential backoff from the interval: 1×, 2×, 4×… capped at 7 days.
pub fn backoff(interval: Duration, failures: u32) -> chrono::Duration {
    let factor = 2u64.saturating_pow(failures.saturating_sub(1).min(20));
    let secs = interval
        .as_secs()
        .saturating_mul(factor)
        .min(MAX_BACKOFF.as_secs());
    chrono::Duration::seconds(secs as i64)
}
