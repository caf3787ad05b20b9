//! One lenient reader for every date Storyline takes in: feed entries (feed-rs hands it each
//! date element, on the direct route and after the repair pass), JSON Feed, and article pages.
//!
//! It reads what Python feedparser's date handlers read, and a little more:
//! - RFC 822 / 2822 and their variants: weekday or not, long or short names, the day and
//!   month either way round (`Thu Aug 30 2012`), two-digit years, no seconds or no time at
//!   all, stray commas, zone names (`GMT`, `UTC`, `Etc/GMT`, `EST`, `EDT`, `ET`, `PT`, `MET`,
//!   `MEST`, `CET`, ...), `GMT-01:01`, `+hh:mm`, and a zone in a comment (`+0000 (UTC)`);
//! - asctime (`Sun Jan  4 16:29:06 2004`, also with an offset before the year);
//! - W3C-DTF / ISO 8601 / RFC 3339: `T`, `t` or a space between date and time, fractions,
//!   offsets with or without a colon, or a zone name; a bare year, year and month, ordinal
//!   days (`2025-095`), compact forms (`20031231T101455Z`, `031231`), two-digit years
//!   (`03-12-31`, `-0312`), Google's three-digit month (`2003-012-31`);
//! - `2006/09/15` (Perforce), `17.06.2025` and `01-Jan-2004`;
//! - month and weekday names in German, French, Spanish, Italian, Portuguese, Dutch,
//!   Hungarian and Greek, and Korean (and Chinese/Japanese) dates with 년월일 / 年月日, a.m./p.m.
//!   in English and Korean, ordinals (`17th`), and joining words (`17 de junio de 2025`).
//!
//! A date written without a zone is taken as UTC: the feed gives no better guess, and UTC
//! keeps such a date within a day of the truth. The one exception follows feedparser: the
//! Korean forms, written only by Korean sites, are Korea time.
//!
//! Two old habits are kept as feed-rs read them: a clock that runs on to `24:xx` is the next
//! day's first hour, and RFC 822's military zone letters after a time are UTC.
//!
//! Text that is not clearly one date gives `None`: an unknown word, a part left over, a day
//! and month order that depends on the country (`05/04/2025`), a field out of range. Nothing
//! panics.

mod names;
mod token;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};

use names::{Name, Unit};
use token::{tokenize, two_digit_year, Hms, Token};

/// No date is written in more characters; longer text is not a date.
const MAX_LEN: usize = 128;

/// Read a date as feeds and pages write it; see the module documentation for the forms.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_LEN {
        return None;
    }
    let (text, comments) = split_comments(text)?;
    let mut fields = Fields::read(&tokenize(&text)?)?;
    if fields.zones.is_empty() {
        // "+0000 (UTC)" names the zone twice; a zone named only in the comment counts too.
        fields.zones.extend(
            comments
                .iter()
                .filter_map(|c| match names::name(&folded(c.trim())) {
                    Some(Name::Zone(offset)) => Some((offset, false)),
                    _ => None,
                }),
        );
    }
    fields.instant()
}

/// The text outside parentheses, and what each pair held; `None` if they do not pair up.
fn split_comments(text: &str) -> Option<(String, Vec<String>)> {
    let mut outside = String::with_capacity(text.len());
    let mut comments = Vec::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => {
                if depth == 0 {
                    comments.push(String::new());
                }
                depth += 1;
            }
            ')' => depth = depth.checked_sub(1)?,
            c if depth > 0 => comments.last_mut()?.push(c),
            c => outside.push(c),
        }
        if c == ')' && depth == 0 {
            // A comment separates what is on either side of it.
            outside.push(' ');
        }
    }
    (depth == 0).then_some((outside, comments))
}

fn folded(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    word.chars().for_each(|c| names::fold_into(&mut out, c));
    out
}

/// The parts of a date as found, before they are checked against each other.
#[derive(Default)]
struct Fields {
    date: Option<NaiveDate>,
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    /// Months named in words, and whether the word could be a weekday instead.
    month_words: Vec<(u32, bool)>,
    /// Numbers standing alone, with their digit counts, in order.
    numbers: Vec<(u32, usize)>,
    time: Option<Hms>,
    /// Zones found: offset east of UTC in seconds, and whether it was written as a number.
    zones: Vec<(i32, bool)>,
    pm: Option<bool>,
    korean: bool,
}

impl Fields {
    fn read(tokens: &[Token]) -> Option<Fields> {
        let mut f = Fields::default();
        let mut i = 0;
        while let Some(token) = tokens.get(i) {
            i += 1;
            match token {
                Token::Number { value, digits } => {
                    let next = match tokens.get(i) {
                        Some(Token::Word(w)) => names::name(w),
                        _ => None,
                    };
                    match next {
                        Some(Name::Unit { unit, korean }) => {
                            f.korean |= korean;
                            match unit {
                                Unit::Year => set_once(&mut f.year, *value as i32)?,
                                Unit::Month => set_once(&mut f.month, *value)?,
                                Unit::Day => set_once(&mut f.day, *value)?,
                            }
                            i += 1;
                        }
                        Some(Name::Ordinal) if *digits <= 2 => {
                            set_once(&mut f.day, *value)?;
                            i += 1;
                        }
                        _ => f.numbers.push((*value, *digits)),
                    }
                }
                Token::Date(d) => set_once(&mut f.date, *d)?,
                Token::Time(t) => set_once(&mut f.time, *t)?,
                // An offset belongs after a time of day: in "2013-01-27-01" it is a fourth
                // date part, not a zone.
                Token::Offset(offset) => {
                    f.time?;
                    f.zones.push((*offset, true));
                }
                // RFC 2822 reads RFC 822's military zone letters as -0000 (RFC 822 had their
                // signs backwards), as feed-rs did.
                Token::Word(w) if f.time.is_some() && f.zones.is_empty() && is_military(w) => {
                    f.zones.push((0, false));
                }
                Token::Word(w) => match names::name(w)? {
                    Name::Month(m) => f.month_words.push((m, false)),
                    Name::MonthOrWeekday(m) => f.month_words.push((m, true)),
                    Name::Weekday | Name::Filler => {}
                    Name::Zone(offset) => f.zones.push((offset, false)),
                    Name::At => {
                        if f.time.is_some() && f.zones.is_empty() {
                            f.zones.push((-4 * 3600, false));
                        }
                    }
                    Name::Meridiem { pm, korean } => {
                        set_once(&mut f.pm, pm)?;
                        f.korean |= korean;
                    }
                    // A unit or ordinal with no number before it.
                    Name::Unit { .. } | Name::Ordinal => return None,
                },
            }
        }
        Some(f)
    }

    /// The month named in words: of several, the ones that could be weekdays are weekdays
    /// ("mar, 17 jun"); if all could be, the last is the month ("mar, 17 mar 2025").
    /// `Err` when two words name different months.
    fn month_word(&self) -> Result<Option<u32>, ()> {
        let mut definite = self.month_words.iter().filter(|(_, w)| !w).map(|(m, _)| *m);
        match (definite.next(), definite.next()) {
            (Some(_), Some(_)) => Err(()),
            (Some(m), None) => Ok(Some(m)),
            _ => Ok(self.month_words.last().map(|(m, _)| *m)),
        }
    }

    fn calendar_date(&self) -> Option<NaiveDate> {
        let month_word = self.month_word().ok()?;
        if let Some(date) = self.date {
            // A date written whole takes no other date parts.
            let more = month_word.is_some()
                || !self.numbers.is_empty()
                || self.year.is_some()
                || self.month.is_some()
                || self.day.is_some();
            return (!more).then_some(date);
        }
        if self.month.is_some() && month_word.is_some() {
            return None;
        }
        let month = self.month.or(month_word);
        let (mut year, mut day) = (self.year, self.day);
        for &(value, digits) in &self.numbers {
            match digits {
                4 if year.is_none() => year = Some(value as i32),
                1 | 2 if day.is_none() => day = Some(value),
                1 | 2 if year.is_none() => year = Some(two_digit_year(value)),
                _ => return None,
            }
        }
        let (month, day) = match (month, day) {
            (Some(m), Some(d)) => (m, d),
            // "June 2025": the first of the month, as W3C-DTF's "2025-06" is.
            (Some(m), None) if self.time.is_none() => (m, 1),
            // A year alone ("2003"), as in W3C-DTF.
            (None, None) if self.time.is_none() && self.numbers.len() == 1 => (1, 1),
            _ => return None,
        };
        NaiveDate::from_ymd_opt(year?, month, day)
    }

    fn time_of_day(&self) -> Option<Hms> {
        let mut t = self.time.unwrap_or_default();
        match self.pm {
            None => {}
            Some(_) if self.time.is_none() || t.hour == 0 || t.hour > 12 => return None,
            Some(true) if t.hour < 12 => t.hour += 12,
            Some(false) if t.hour == 12 => t.hour = 0,
            Some(_) => {}
        }
        Some(t)
    }

    /// The zone's offset: the one given, a number over a name where both are given
    /// ("+0200 GMT"), else UTC (Korea time for the Korean forms).
    fn offset(&self) -> Option<i32> {
        let Some(&(first, _)) = self.zones.first() else {
            return Some(if self.korean { 9 * 3600 } else { 0 });
        };
        if self.zones.iter().all(|(o, _)| *o == first) {
            return Some(first);
        }
        let mut numeric = self.zones.iter().filter(|(_, n)| *n).map(|(o, _)| *o);
        let chosen = numeric.next()?;
        numeric.all(|o| o == chosen).then_some(chosen)
    }

    fn instant(&self) -> Option<DateTime<Utc>> {
        let mut date = self.calendar_date()?;
        let t = self.time_of_day()?;
        let offset = self.offset()?;
        if !(1..=9999).contains(&date.year()) {
            return None;
        }
        let mut hour = t.hour;
        if hour == 24 {
            // ISO 8601's 24:00 ends the day: the next day's midnight. Some feeds' clocks run
            // on to 24:59; that is the next day's first hour too.
            date = date.succ_opt()?;
            hour = 0;
        }
        // A leap second (:60) is read as the second before it.
        let time = NaiveTime::from_hms_nano_opt(hour, t.minute, t.second.min(59), t.nanos)
            .filter(|_| t.second <= 60)?;
        let local = date.and_time(time);
        let utc = local.checked_sub_signed(TimeDelta::try_seconds(offset.into())?)?;
        Some(utc.and_utc())
    }
}

/// A single letter other than J, the military zone names.
fn is_military(word: &str) -> bool {
    let mut chars = word.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_ascii_lowercase() && c != 'j')
}

/// Fill `slot` once; a second value for the same field makes the text no date.
fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

#[cfg(test)]
mod tests;
