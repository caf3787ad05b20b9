//! Dates as pages write them in meta tags and JSON-LD: read by the same lenient reader as
//! feed dates, so a page and a feed entry give one date the same instant.

pub(crate) use crate::parse::parse_date;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

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
