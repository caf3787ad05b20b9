use super::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn reads(cases: &[(&str, &str)]) {
    for (input, want) in cases {
        assert_eq!(parse_date(input), Some(utc(want)), "{input:?}");
    }
}

fn rejects(cases: &[&str]) {
    for input in cases {
        assert_eq!(parse_date(input), None, "{input:?}");
    }
}

#[test]
fn what_feed_rs_read_is_still_read() {
    // The fixes feed-rs's own reader applied: UTC and -0000, a wrong or long weekday, long
    // months, month before day, single-digit hours, offsets without a colon, date only, " Z".
    reads(&[
        ("Wed, 02 Oct 2002 08:00:00 EST", "2002-10-02T13:00:00Z"),
        ("Wed, 02 Oct 2002 15:00:00 +0200", "2002-10-02T13:00:00Z"),
        ("Tue, 10 Jun 2003 04:00:00 -0000", "2003-06-10T04:00:00Z"),
        ("Wed, 25 Aug 2012 10:00:00 UTC", "2012-08-25T10:00:00Z"),
        ("Thurs, 13 Jul 2011 07:38:00 GMT", "2011-07-13T07:38:00Z"),
        ("Sat, 13 July 2011 07:38:00 GMT", "2011-07-13T07:38:00Z"),
        ("Jul 13 2011 07:38:00 GMT", "2011-07-13T07:38:00Z"),
        ("Wed, 13 Jul 2011 7:38:00 GMT", "2011-07-13T07:38:00Z"),
        ("2011-07-13T07:38:00+0100", "2011-07-13T06:38:00Z"),
        ("2011-07-13", "2011-07-13T00:00:00Z"),
        ("Tue, 15 Nov 2022 20:15:04 Z", "2022-11-15T20:15:04Z"),
        ("Mon, 07 Apr 2025 10:00:00 M", "2025-04-07T10:00:00Z"),
    ]);
}

#[test]
fn the_forms_pages_use_are_read() {
    reads(&[
        ("2019-07-03T04:22:07-04:00", "2019-07-03T08:22:07Z"),
        ("2026-06-12T18:11:51+0300", "2026-06-12T15:11:51Z"),
        ("2025-09-19T14:05:31.250", "2025-09-19T14:05:31.250Z"),
        ("2025-09-19T14:05", "2025-09-19T14:05:00Z"),
        ("  2025-09-19  ", "2025-09-19T00:00:00Z"),
    ]);
}

#[test]
fn zones_are_read_by_name_number_and_comment() {
    reads(&[
        (
            "Mon, 26 Jan 2004 16:31:00 +0000 GMT",
            "2004-01-26T16:31:00Z",
        ),
        ("Mon, 26 Jan 2004 16:31:00 GMT+0200", "2004-01-26T14:31:00Z"),
        ("Mon, 26 Jan 2004 16:31:00 UTC+2", "2004-01-26T14:31:00Z"),
        ("Mon, 26 Jan 2004 16:31:00 (PST)", "2004-01-27T00:31:00Z"),
        (
            "Mon, 26 Jan 2004 16:31:00 +0100 (CET)",
            "2004-01-26T15:31:00Z",
        ),
        ("Mon, 26 Jan 2004 16:31:00 Etc/UTC", "2004-01-26T16:31:00Z"),
        ("Mon, 26 Jan 2004 16:31:00 ACST", "2004-01-26T07:01:00Z"),
    ]);
    // Two different numeric zones, or unmatched parentheses, are no date.
    rejects(&[
        "Mon, 26 Jan 2004 16:31:00 +0100 -0500",
        "Mon, 26 Jan 2004 16:31:00 (UTC",
        "Mon, 26 Jan 2004 16:31:00 UTC)",
    ]);
}

#[test]
fn times_at_the_edges() {
    reads(&[
        // 24:00 is the next day's midnight; a leap second stays in its minute.
        ("2025-04-05T24:00:00Z", "2025-04-06T00:00:00Z"),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"),
        ("Mon, 07 Apr 2025 24:10:00 GMT", "2025-04-08T00:10:00Z"),
        ("2025-04-05 12:00 AM", "2025-04-05T00:00:00Z"),
        ("2025-04-05 12:30 p.m.", "2025-04-05T12:30:00Z"),
        ("April 5th, 2025 at 2:00pm", "2025-04-05T14:00:00Z"),
        ("5 Apr 2025 16:31 at", "2025-04-05T20:31:00Z"),
        ("2025-04-05T14:00:00,5+01:00", "2025-04-05T13:00:00.5Z"),
    ]);
    rejects(&[
        "2025-04-05T25:00:00Z",
        "2025-04-05T12:00:00.5.5Z",
        "2025-04-05 13:00 PM",
        "2025-04-05 PM",
        "2025-04-05T14:00:00+24:00",
    ]);
}

#[test]
fn korean_and_cjk_dates() {
    reads(&[
        ("2025년 4월 5일", "2025-04-04T15:00:00Z"),
        ("2025年4月5日 14:00", "2025-04-05T14:00:00Z"),
        ("2025年4月5日 14:00 +0900", "2025-04-05T05:00:00Z"),
    ]);
}

#[test]
fn other_numeric_forms() {
    reads(&[
        ("17.06.2025 14:03", "2025-06-17T14:03:00Z"),
        ("01-Jan-2004 10:00:00 GMT", "2004-01-01T10:00:00Z"),
        ("05-Apr-25", "2025-04-05T00:00:00Z"),
        ("2025-Apr-05", "2025-04-05T00:00:00Z"),
        ("20250405", "2025-04-05T00:00:00Z"),
        ("June 2025", "2025-06-01T00:00:00Z"),
    ]);
}

#[test]
fn what_is_not_clearly_one_date_is_none() {
    rejects(&[
        "",
        "   ",
        "yesterday",
        "3 days ago",
        "0",
        "2025-13-45",
        "2025-02-29",
        "05/04/2025",
        "04-05-2025",
        "Jun 2025 14:00",
        "17 Jun",
        "Jun Jul 17 2025",
        "17 Jun 2025 jui",
        "17 marketing 2025",
        "2025-04-05 2025-04-06",
        "14:00 15:00 17 Jun 2025",
        "17 Jun 2025 14:00 ###",
        "17th",
        "0000-01-01",
        "+0200",
    ]);
    rejects(&[&"9".repeat(200), &"Jun ".repeat(40)]);
}
