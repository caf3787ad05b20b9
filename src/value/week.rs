//! ISO weeks (`2025-W15`): the unit a digest covers, cut in the configured time zone.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsoWeek {
    pub year: i32,
    pub week: u32,
}

impl IsoWeek {
    pub fn new(year: i32, week: u32) -> Option<IsoWeek> {
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(|_| IsoWeek { year, week })
    }

    /// The week containing `t`, as seen in `tz`.
    pub fn containing(t: DateTime<Utc>, tz: chrono_tz::Tz) -> IsoWeek {
        let w = t.with_timezone(&tz).date_naive().iso_week();
        IsoWeek {
            year: w.year(),
            week: w.week(),
        }
    }

    /// The last week that has fully ended at `now`.
    pub fn last_complete(now: DateTime<Utc>, tz: chrono_tz::Tz) -> IsoWeek {
        IsoWeek::containing(now, tz).prev()
    }

    pub fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon)
            .expect("IsoWeek is only built from valid weeks")
    }

    /// `[start, end)` of the week in UTC, with the week cut at midnight in `tz`.
    pub fn range(self, tz: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = local_midnight(self.monday(), tz);
        let end = local_midnight(self.monday() + Duration::days(7), tz);
        (start, end)
    }

    pub fn contains(self, t: DateTime<Utc>, tz: chrono_tz::Tz) -> bool {
        let (s, e) = self.range(tz);
        t >= s && t < e
    }

    pub fn prev(self) -> IsoWeek {
        let d = self.monday() - Duration::days(7);
        let w = d.iso_week();
        IsoWeek {
            year: w.year(),
            week: w.week(),
        }
    }

    pub fn next(self) -> IsoWeek {
        let d = self.monday() + Duration::days(7);
        let w = d.iso_week();
        IsoWeek {
            year: w.year(),
            week: w.week(),
        }
    }
}

fn local_midnight(d: NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    // A DST gap at midnight is rare; take the earliest valid instant.
    tz.from_local_datetime(&naive)
        .earliest()
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive).with_timezone(&tz))
        .with_timezone(&Utc)
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-W{:02}", self.year, self.week)
    }
}

impl FromStr for IsoWeek {
    type Err = String;
    fn from_str(s: &str) -> Result<IsoWeek, String> {
        let bad = || format!("\"{s}\" is not an ISO week like 2025-W15");
        let (y, w) = s.trim().split_once(['W', 'w']).ok_or_else(bad)?;
        let year: i32 = y.trim_end_matches('-').parse().map_err(|_| bad())?;
        let week: u32 = w.parse().map_err(|_| bad())?;
        IsoWeek::new(year, week).ok_or_else(|| format!("{year} has no week {week}"))
    }
}

impl Serialize for IsoWeek {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let w: IsoWeek = "2025-W05".parse().unwrap();
        assert_eq!(w.to_string(), "2025-W05");
        assert!("2025-W54".parse::<IsoWeek>().is_err());
        assert!("soon".parse::<IsoWeek>().is_err());
        assert_eq!(
            "2020-W53".parse::<IsoWeek>().unwrap().next().to_string(),
            "2021-W01"
        );
        assert_eq!(
            "2025-W01".parse::<IsoWeek>().unwrap().prev().to_string(),
            "2024-W52"
        );
    }

    #[test]
    fn range_is_cut_in_the_time_zone() {
        let w: IsoWeek = "2025-W15".parse().unwrap();
        let (s, e) = w.range(chrono_tz::UTC);
        assert_eq!(s.to_rfc3339(), "2025-04-07T00:00:00+00:00");
        assert_eq!(e.to_rfc3339(), "2025-04-14T00:00:00+00:00");
        let (s, _) = w.range(chrono_tz::America::New_York);
        assert_eq!(s.to_rfc3339(), "2025-04-07T04:00:00+00:00");
    }

    #[test]
    fn last_complete_week() {
        let now = DateTime::parse_from_rfc3339("2025-04-14T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            IsoWeek::last_complete(now, chrono_tz::UTC).to_string(),
            "2025-W15"
        );
    }
}
