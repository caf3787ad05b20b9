//! Quiet hours: a daily window, in the config's time zone, in which an alert waits instead of
//! going out. What falls due in the window leaves when it ends; nothing is dropped.
//!
//! A value type, like `schedule`: the config reads `quiet_hours` into it at load, and alerts
//! ask it when to release. It lives outside `alert` so the config depends on no domain module.

use chrono::{DateTime, Duration, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;

/// `"22:00-07:00"`: from the first time to the second, wrapping past midnight when the
/// second is earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    pub fn parse(s: &str) -> Result<QuietHours, String> {
        let bad = || format!("\"{s}\" is not a window like \"22:00-07:00\" (HH:MM-HH:MM)");
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| bad());
        let (start, end) = (time(a)?, time(b)?);
        if start == end {
            return Err(format!(
                "\"{s}\": the window starts and ends at the same time"
            ));
        }
        Ok(QuietHours { start, end })
    }

    /// Is local time-of-day `t` inside the window?
    fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// When something due at `at` may go: `at` itself outside the window, else the window's
    /// end.
    pub fn release(&self, at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = at.with_timezone(&tz);
        let time = local.time();
        if !self.contains(time) {
            return at;
        }
        let mut day = local.date_naive();
        if self.start > self.end && time >= self.start {
            day = day.succ_opt().unwrap_or(day);
        }
        let end = day.and_time(self.end);
        // A daylight-saving jump can skip the end time; the first instant after the gap is
        // then the end.
        let resolved = tz.from_local_datetime(&end).earliest().or_else(|| {
            tz.from_local_datetime(&(end + Duration::hours(1)))
                .earliest()
        });
        resolved.map_or(at, |t| t.with_timezone(&Utc)).max(at)
    }
}

impl std::fmt::Display for QuietHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn windows_parse_and_bad_ones_say_why() {
        let q = QuietHours::parse("22:00-07:00").unwrap();
        assert_eq!(q.to_string(), "22:00-07:00");
        assert_eq!(
            QuietHours::parse(" 9:30 - 17:00 ").unwrap().to_string(),
            "09:30-17:00"
        );
        for bad in ["22-07", "22:00", "25:00-07:00", "night", "07:00-07:00"] {
            assert!(QuietHours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_window_across_midnight_holds_until_the_morning() {
        let q = QuietHours::parse("22:00-07:00").unwrap();
        let utc = chrono_tz::UTC;
        assert_eq!(
            q.release(at("2025-04-07T23:30:00Z"), utc),
            at("2025-04-08T07:00:00Z")
        );
        assert_eq!(
            q.release(at("2025-04-08T03:00:00Z"), utc),
            at("2025-04-08T07:00:00Z")
        );
        assert_eq!(
            q.release(at("2025-04-08T22:00:00Z"), utc),
            at("2025-04-09T07:00:00Z")
        );
        for free in [
            "2025-04-08T07:00:00Z",
            "2025-04-08T12:00:00Z",
            "2025-04-08T21:59:59Z",
        ] {
            assert_eq!(q.release(at(free), utc), at(free), "{free}");
        }
    }

    #[test]
    fn a_daytime_window_and_the_config_time_zone() {
        let q = QuietHours::parse("09:00-17:00").unwrap();
        let paris: Tz = "Europe/Paris".parse().unwrap();
        // 08:00 UTC is 10:00 in Paris (summer time): quiet until 17:00 Paris, 15:00 UTC.
        assert_eq!(
            q.release(at("2025-07-01T08:00:00Z"), paris),
            at("2025-07-01T15:00:00Z")
        );
        assert_eq!(
            q.release(at("2025-07-01T06:00:00Z"), paris),
            at("2025-07-01T06:00:00Z")
        );
    }

    #[test]
    fn an_end_time_skipped_by_daylight_saving_releases_after_the_gap() {
        // Europe/Paris skips 02:00-03:00 on 2025-03-30.
        let q = QuietHours::parse("01:00-02:30").unwrap();
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let released = q.release(at("2025-03-30T00:30:00Z"), paris);
        assert_eq!(released, at("2025-03-30T01:30:00Z"));
    }
}
