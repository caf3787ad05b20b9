//! Where "now" comes from. Loops read the clock once per turn and pass `now` down; nothing
//! deeper calls `Utc::now()`.

use chrono::{DateTime, Utc};

/// A source of the current time.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The system clock.
    System,
    /// Wall time that follows tokio's clock from a fixed start, so tests that pause and
    /// advance tokio time move it too.
    Tokio {
        start: DateTime<Utc>,
        at: tokio::time::Instant,
    },
}

impl Clock {
    /// A clock that reads `start` now and advances with tokio's (pausable) time.
    pub fn tokio_from(start: DateTime<Utc>) -> Clock {
        Clock::Tokio {
            start,
            at: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Tokio { start, at } => {
                let elapsed = tokio::time::Instant::now().saturating_duration_since(*at);
                *start + chrono::Duration::from_std(elapsed).unwrap_or_default()
            }
        }
    }
}
