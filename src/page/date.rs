//! Dates as pages write them in meta tags and JSON-LD.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parse the date forms seen in `article:published_time`, JSON-LD and `<time datetime>`:
/// RFC 3339, ISO 8601 without a colon in the offset or without any offset (taken as UTC),
/// a space instead of `T`, a bare date (midnight UTC), and RFC 2822.
pub(crate) fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let t = s.replacen(' ', "T", 1);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(&t, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    let naive = t.trim_end_matches('Z');
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(d.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|dt| dt.and_utc());
    }
    DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_forms_pages_use_are_read() {
        let cases = [
            ("2019-07-03T04:22:07-04:00", "2019-07-03T08:22:07Z"),
            ("2020-01-19T12:25:36Z", "2020-01-19T12:25:36Z"),
            ("2026-06-12T18:11:51+0300", "2026-06-12T15:11:51Z"),
            ("2025-09-19 14:05:31", "2025-09-19T14:05:31Z"),
            ("2025-09-19T14:05:31.250", "2025-09-19T14:05:31.250Z"),
            ("2025-09-19T14:05", "2025-09-19T14:05:00Z"),
            ("2025-09-19", "2025-09-19T00:00:00Z"),
            ("Fri, 25 Sep 2026 13:53:48 GMT", "2026-09-25T13:53:48Z"),
        ];
        for (input, want) in cases {
            assert_eq!(parse_date(input), Some(utc(want)), "{input}");
        }
    }

    #[test]
    fn junk_is_none() {
        for s in ["", "yesterday", "2025-13-45", "0", &"9".repeat(200)] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }
}
