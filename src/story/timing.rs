//! When an item counts. A published date wins (never later than when the item was first
//! seen: a feed's future dates are clock trouble). An undated item, or a page's change, was
//! seen at a fetch but appeared somewhere since the fetch before; it counts at the middle of
//! that gap (at most half a week back), so a weekly poll on Monday morning files the past
//! week's undated items under the past week, and an hourly poll barely moves them.

use crate::store::{FetchMarks, ItemRow};

/// Longest step back from when something was seen.
const MAX_BACK: i64 = 7 * 86_400 / 2;

/// The time an item counts at, in unix seconds.
pub fn item_time(item: &ItemRow, marks: Option<&FetchMarks>) -> i64 {
    match item.published_at {
        Some(p) => p.min(item.first_seen_at),
        None => observed_time(item.first_seen_at, marks),
    }
}

/// The time something seen at `seen` counts at, given the source's fetch marks.
pub fn observed_time(seen: i64, marks: Option<&FetchMarks>) -> i64 {
    let Some(prev) = marks.and_then(|m| m.prev) else {
        return seen;
    };
    if prev >= seen {
        return seen;
    }
    seen - ((seen - prev) / 2).min(MAX_BACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undated_items_count_between_two_fetches() {
        let week = 7 * 86_400;
        let m = FetchMarks {
            last: 10 * week,
            prev: Some(9 * week),
        };
        assert_eq!(observed_time(10 * week, Some(&m)), 10 * week - week / 2);
        let hourly = FetchMarks {
            last: 1000 + 3600,
            prev: Some(1000),
        };
        assert_eq!(observed_time(4600, Some(&hourly)), 4600 - 1800);
        let long_gap = FetchMarks {
            last: 100 * week,
            prev: Some(0),
        };
        assert_eq!(
            observed_time(100 * week, Some(&long_gap)),
            100 * week - MAX_BACK
        );
        assert_eq!(observed_time(500, None), 500);
    }
}
