//! Which week tells readers about an item. An item counts for the week it happened in,
//! unless that week's digest was already cut when the item was placed in its event (its feed
//! was down, a page was found later, a report waited a round): then the first digest cut
//! after that shows it. After a definition change, items are placed as of when they were
//! first seen, so re-deciding everything moves nothing.

use crate::store::Cut;

/// A story's cut weeks, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Cuts(Vec<Cut>);

impl Cuts {
    pub fn new(mut cuts: Vec<Cut>) -> Cuts {
        cuts.sort_by_key(|c| c.week_start);
        Cuts(cuts)
    }

    /// When an item that counts at `at` and was placed at `placed` is shown: `at`, or the
    /// start of the first week after it that was not cut before `placed`.
    pub fn shown_at(&self, at: i64, placed: i64) -> i64 {
        let mut t = at;
        while let Some(c) = self.week_of(t) {
            if c.cut_at >= placed {
                break;
            }
            t = c.week_end;
        }
        t
    }

    fn week_of(&self, t: i64) -> Option<&Cut> {
        let i = self.0.partition_point(|c| c.week_start <= t);
        let c = self.0.get(i.checked_sub(1)?)?;
        (t < c.week_end).then_some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = 7 * 86_400;

    fn cut(week: i64, cut_at: i64) -> Cut {
        Cut {
            week_start: week * W,
            week_end: (week + 1) * W,
            cut_at,
        }
    }

    #[test]
    fn an_item_seen_before_its_week_was_cut_counts_when_it_happened() {
        let cuts = Cuts::new(vec![cut(10, 11 * W + 100)]);
        assert_eq!(cuts.shown_at(10 * W + 5, 11 * W + 100), 10 * W + 5);
        assert_eq!(Cuts::default().shown_at(42, 4242), 42);
    }

    #[test]
    fn a_late_item_shows_in_the_first_week_not_yet_cut_when_it_arrived() {
        // Week 10 was cut early in week 11; the item of week 10 arrives in week 12, when
        // week 11 was cut too: it shows in week 12.
        let cuts = Cuts::new(vec![cut(11, 12 * W + 50), cut(10, 11 * W + 50)]);
        assert_eq!(cuts.shown_at(10 * W + 5, 12 * W + 60), 12 * W);
        // Arriving before week 11 was cut, it shows in week 11.
        assert_eq!(cuts.shown_at(10 * W + 5, 11 * W + 60), 11 * W);
    }
}
