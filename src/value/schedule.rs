//! When digests are due: a cron line read in the configured time zone.
//!
//! Ordinary crontab syntax is accepted (`0 8 * * Mon`, `0 8 * * 1`: five fields, 1 = Monday,
//! weekday and month names), and a leading seconds field too (`0 0 8 * * Mon`). The `croner`
//! crate is used rather than `cron` because `cron` rejects five-field lines and numbers
//! weekdays Quartz-style (1 = Sunday), which surprises anyone who has written a crontab.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use croner::Cron;

/// A parsed digest schedule in a time zone.
#[derive(Clone)]
pub struct Schedule {
    text: String,
    cron: Cron,
    tz: chrono_tz::Tz,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?} in {})", self.text, self.tz)
    }
}

/// A line that is not a cron schedule. The cron crate's reason is short and part of the
/// message, so it is not also given as a `source` (it would be printed twice).
#[derive(Debug, thiserror::Error)]
#[error("\"{text}\" is not a cron schedule like \"0 8 * * Mon\" ({reason})")]
pub struct ScheduleError {
    text: String,
    reason: croner::errors::CronError,
}

impl Schedule {
    pub fn parse(text: &str, tz: chrono_tz::Tz) -> Result<Schedule, ScheduleError> {
        let cron = Cron::from_str(text.trim()).map_err(|reason| ScheduleError {
            text: text.to_string(),
            reason,
        })?;
        Ok(Schedule {
            text: text.trim().to_string(),
            cron,
            tz,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.tz
    }

    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&t.with_timezone(&self.tz), false)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The latest fire time at or before `t`.
    pub fn last_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&t.with_timezone(&self.tz), true)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The next `n` fire times after `t` (for `config check`).
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut cur = t;
        while out.len() < n {
            match self.next_after(cur) {
                Some(next) => {
                    out.push(next);
                    cur = next;
                }
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn five_fields_names_numbers_and_seconds_agree() {
        let from = at("2025-04-09T12:00:00Z"); // a Wednesday
        let expected = at("2025-04-14T08:00:00Z"); // the next Monday 08:00
        for text in ["0 8 * * Mon", "0 8 * * 1", "0 0 8 * * Mon", "0 8 * * MON"] {
            let s = Schedule::parse(text, chrono_tz::UTC).unwrap();
            assert_eq!(s.next_after(from), Some(expected), "{text}");
        }
    }

    #[test]
    fn fire_times_follow_the_time_zone() {
        let s = Schedule::parse("0 8 * * Mon", chrono_tz::Europe::Paris).unwrap();
        let next = s.next_after(at("2025-04-09T12:00:00Z")).unwrap();
        assert_eq!(
            next,
            at("2025-04-14T06:00:00Z"),
            "08:00 in Paris is 06:00 UTC in April"
        );
        let three = s.upcoming(at("2025-04-09T12:00:00Z"), 3);
        assert_eq!(three.len(), 3);
        assert_eq!(three[2], at("2025-04-28T06:00:00Z"));
    }

    #[test]
    fn last_fire_at_or_before() {
        let s = Schedule::parse("0 8 * * Mon", chrono_tz::UTC).unwrap();
        assert_eq!(
            s.last_at_or_before(at("2025-04-16T00:00:00Z")),
            Some(at("2025-04-14T08:00:00Z"))
        );
        assert_eq!(
            s.last_at_or_before(at("2025-04-14T08:00:00Z")),
            Some(at("2025-04-14T08:00:00Z"))
        );
    }

    #[test]
    fn nonsense_is_rejected_with_an_example() {
        let err = Schedule::parse("every monday", chrono_tz::UTC)
            .unwrap_err()
            .to_string();
        assert!(err.contains("0 8 * * Mon"), "{err}");
        assert!(Schedule::parse("0 25 * * *", chrono_tz::UTC).is_err());
    }
}
