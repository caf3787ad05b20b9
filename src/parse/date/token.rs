//! A date's text cut into pieces: lone numbers, dates and times written as one piece, numeric
//! zone offsets, and words.

use chrono::NaiveDate;

use super::names::{self, fold_into};

/// A time of day as written; ranges are checked when the instant is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Hms {
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    /// Digits standing alone: a day or a year, or a number the next word qualifies (17th, 2004년).
    Number {
        value: u32,
        digits: usize,
    },
    /// A whole date written as one piece: 2025-04-05, 2006/09/15, 17.06.2025, 20250405,
    /// 2025-095, 2004-július-13, 01-Jan-2004, -0312.
    Date(NaiveDate),
    Time(Hms),
    /// A numeric offset in seconds east of UTC: +0200, -01:01, +02, GMT-01:01.
    Offset(i32),
    /// Letters, folded: "jun", "mardi", "est", "년".
    Word(String),
}

/// Cut `s` into tokens; `None` when a piece is malformed (a time with four fields, a sign
/// before letters, a character no date uses).
pub(super) fn tokenize(s: &str) -> Option<Vec<Token>> {
    let mut cur = Cursor {
        chars: s.chars().collect(),
        at: 0,
    };
    let mut out = Vec::new();
    // ISO 8601's truncated year and month (-0312, -03-12): the century left out.
    if cur.peek() == Some('-') && cur.digit_at(1) {
        cur.at += 1;
        out.push(Token::Date(cur.truncated_year_month()?));
    }
    while let Some(c) = cur.peek() {
        if c.is_whitespace() || c == ',' || c == '.' {
            cur.at += 1;
        } else if c.is_ascii_digit() {
            cur.numeric(&mut out)?;
        } else if c == '+' || c == '-' {
            out.push(Token::Offset(cur.offset()?));
        } else if c.is_alphabetic() {
            out.push(cur.word()?);
        } else {
            return None;
        }
    }
    Some(out)
}

/// Two-digit years as feedparser reads RFC 822 ones: 90 to 99 are the 1990s, the rest this
/// century.
pub(super) fn two_digit_year(yy: u32) -> i32 {
    let yy = yy as i32;
    if yy < 90 {
        2000 + yy
    } else {
        1900 + yy
    }
}

struct Cursor {
    chars: Vec<char>,
    at: usize,
}

/// One hyphen-separated part of a date.
enum Part {
    Num(u32, usize),
    Word(String),
}

impl Cursor {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn digit_at(&self, ahead: usize) -> bool {
        self.peek_at(ahead).is_some_and(|c| c.is_ascii_digit())
    }

    fn letter_at(&self, ahead: usize) -> bool {
        self.peek_at(ahead).is_some_and(char::is_alphabetic)
    }

    /// A run of digits and how many there were; `None` for none or more than nine (no date
    /// field is that long, and the value must fit).
    fn digits(&mut self) -> Option<(u32, usize)> {
        let start = self.at;
        let mut value = 0u32;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            if self.at - start == 9 {
                return None;
            }
            value = value * 10 + d;
            self.at += 1;
        }
        let n = self.at - start;
        (n > 0).then_some((value, n))
    }

    /// Letters only, folded (a part of a hyphenated date).
    fn letters(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_alphabetic()) {
            fold_into(&mut w, c);
            self.at += 1;
        }
        w
    }

    /// Something that starts with a digit.
    fn numeric(&mut self, out: &mut Vec<Token>) -> Option<()> {
        let (value, digits) = self.digits()?;
        match self.peek() {
            Some(':') => out.push(Token::Time(self.clock(value, digits)?)),
            Some('-') if self.digit_at(1) || self.letter_at(1) => {
                out.push(Token::Date(self.dashed(value, digits)?));
                self.time_after_t(out)?;
            }
            Some('/') if self.digit_at(1) => out.push(Token::Date(self.slashed(value, digits)?)),
            Some('.') if self.digit_at(1) => out.push(Token::Date(self.dotted(value, digits)?)),
            _ if digits == 8 => {
                let date = NaiveDate::from_ymd_opt(
                    (value / 10_000) as i32,
                    value / 100 % 100,
                    value % 100,
                )?;
                out.push(Token::Date(date));
                self.time_after_t(out)?;
            }
            _ if digits == 6 => {
                let date = NaiveDate::from_ymd_opt(
                    two_digit_year(value / 10_000),
                    value / 100 % 100,
                    value % 100,
                )?;
                out.push(Token::Date(date));
                self.time_after_t(out)?;
            }
            _ => out.push(Token::Number { value, digits }),
        }
        Some(())
    }

    /// The date parts after the first, joined by hyphens (the cursor is on the first hyphen).
    fn dashed(&mut self, first: u32, first_digits: usize) -> Option<NaiveDate> {
        let mut rest = Vec::new();
        while rest.len() < 2 && self.peek() == Some('-') && (self.digit_at(1) || self.letter_at(1))
        {
            self.at += 1;
            rest.push(if self.digit_at(0) {
                let (v, n) = self.digits()?;
                Part::Num(v, n)
            } else {
                Part::Word(self.letters())
            });
        }
        let year = first as i32;
        match (first_digits, rest.as_slice()) {
            (4, [Part::Num(m, 1..=2)]) => NaiveDate::from_ymd_opt(year, *m, 1),
            (4, [Part::Num(ordinal, 3)]) => NaiveDate::from_yo_opt(year, *ordinal),
            // A three-digit month is Google's old "2003-012-31".
            (4, [Part::Num(m, 1..=3), Part::Num(d, 1..=2)]) => {
                NaiveDate::from_ymd_opt(year, *m, *d)
            }
            (4, [Part::Word(w)]) => NaiveDate::from_ymd_opt(year, names::month(w)?, 1),
            // Hungarian: 2004-július-13.
            (4, [Part::Word(w), Part::Num(d, 1..=2)]) => {
                NaiveDate::from_ymd_opt(year, names::month(w)?, *d)
            }
            (2, [Part::Num(m, 2), Part::Num(d, 2)]) => {
                NaiveDate::from_ymd_opt(two_digit_year(first), *m, *d)
            }
            // 01-Jan-2004, 01-Jan-04.
            (1..=2, [Part::Word(w), Part::Num(y, n @ (2 | 4))]) => {
                let y = if *n == 2 {
                    two_digit_year(*y)
                } else {
                    *y as i32
                };
                NaiveDate::from_ymd_opt(y, names::month(w)?, first)
            }
            _ => None,
        }
    }

    /// Year first with slashes (2006/09/15). Day and month first are left alone: 05/04/2025
    /// is April in one country and May in another.
    fn slashed(&mut self, first: u32, first_digits: usize) -> Option<NaiveDate> {
        let parts = self.separated('/')?;
        match (first_digits, parts) {
            (4, [(m, 1..=2), (d, 1..=2)]) => NaiveDate::from_ymd_opt(first as i32, m, d),
            _ => None,
        }
    }

    /// Day first with dots (17.06.2025), as Europe writes it.
    fn dotted(&mut self, first: u32, first_digits: usize) -> Option<NaiveDate> {
        let parts = self.separated('.')?;
        match (first_digits, parts) {
            (1..=2, [(m, 1..=2), (y, 4)]) => NaiveDate::from_ymd_opt(y as i32, m, first),
            (1..=2, [(m, 1..=2), (y, 2)]) => NaiveDate::from_ymd_opt(two_digit_year(y), m, first),
            _ => None,
        }
    }

    /// Two more numbers, each after `sep`.
    fn separated(&mut self, sep: char) -> Option<[(u32, usize); 2]> {
        let mut parts = [(0, 0); 2];
        for part in &mut parts {
            if self.peek() != Some(sep) || !self.digit_at(1) {
                return None;
            }
            self.at += 1;
            *part = self.digits()?;
        }
        Some(parts)
    }

    /// -0312 or -03-12 (the hyphen already read).
    fn truncated_year_month(&mut self) -> Option<NaiveDate> {
        let (first, digits) = self.digits()?;
        let (yy, mm) = match digits {
            4 => (first / 100, first % 100),
            2 if self.peek() == Some('-') => {
                self.at += 1;
                match self.digits()? {
                    (mm, 2) => (first, mm),
                    _ => return None,
                }
            }
            _ => return None,
        };
        NaiveDate::from_ymd_opt(two_digit_year(yy), mm, 1)
    }

    /// A time right after a date, joined by `T`: 2003-12-31T10:14:55, 20031231T101455.
    fn time_after_t(&mut self, out: &mut Vec<Token>) -> Option<()> {
        if matches!(self.peek(), Some('T' | 't')) && self.digit_at(1) {
            self.at += 1;
            let (value, digits) = self.digits()?;
            let time = if self.peek() == Some(':') {
                self.clock(value, digits)?
            } else {
                self.compact_time(value, digits)?
            };
            out.push(Token::Time(time));
        }
        Some(())
    }

    /// hh:mm, hh:mm:ss and hh:mm:ss.fff (the hour already read; the cursor is on the colon).
    fn clock(&mut self, hour: u32, hour_digits: usize) -> Option<Hms> {
        if hour_digits > 2 {
            return None;
        }
        let mut fields = [hour, 0, 0];
        let mut read = 1;
        while self.peek() == Some(':') {
            if read == 3 || !self.digit_at(1) {
                // 1:2:3:4, or 09:xx
                return None;
            }
            self.at += 1;
            let (v, n) = self.digits()?;
            if n > 2 {
                return None;
            }
            fields[read] = v;
            read += 1;
        }
        if read < 2 {
            return None;
        }
        let nanos = if read == 3 { self.fraction() } else { 0 };
        Some(Hms {
            hour: fields[0],
            minute: fields[1],
            second: fields[2],
            nanos,
        })
    }

    /// hh, hhmm or hhmmss right after a `T`, then perhaps a fraction.
    fn compact_time(&mut self, value: u32, digits: usize) -> Option<Hms> {
        let (hour, minute, second) = match digits {
            2 => (value, 0, 0),
            4 => (value / 100, value % 100, 0),
            6 => (value / 10_000, value / 100 % 100, value % 100),
            _ => return None,
        };
        let nanos = if digits == 6 { self.fraction() } else { 0 };
        Some(Hms {
            hour,
            minute,
            second,
            nanos,
        })
    }

    /// `.1234` or `,1234` after the seconds, as nanoseconds (digits past the ninth dropped).
    fn fraction(&mut self) -> u32 {
        if !matches!(self.peek(), Some('.' | ',')) || !self.digit_at(1) {
            return 0;
        }
        self.at += 1;
        let mut nanos = 0;
        let mut scale = 100_000_000;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            nanos += d * scale;
            scale /= 10;
            self.at += 1;
        }
        nanos
    }

    /// +hh, +hhmm or +hh:mm (either sign) in seconds east of UTC; hours beyond 23 are no zone.
    fn offset(&mut self) -> Option<i32> {
        let sign = if self.peek()? == '-' { -1 } else { 1 };
        self.at += 1;
        let (first, digits) = self.digits()?;
        let (hours, minutes) = match digits {
            1 | 2 if self.peek() == Some(':') => {
                self.at += 1;
                match self.digits()? {
                    (m, 2) => (first, m),
                    _ => return None,
                }
            }
            1 | 2 => (first, 0),
            4 => (first / 100, first % 100),
            _ => return None,
        };
        if hours > 23 || minutes > 59 {
            return None;
        }
        Some(sign * (hours * 3600 + minutes * 60) as i32)
    }

    /// Letters, with a dot, slash or hyphen between letters kept in the word ("a.m.", Etc/GMT,
    /// terça-feira; dots are dropped). An offset right after a UTC name is the zone itself.
    fn word(&mut self) -> Option<Token> {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            if c.is_alphabetic() {
                fold_into(&mut w, c);
            } else if matches!(c, '.' | '/' | '-') && self.letter_at(1) {
                if c != '.' {
                    w.push(c);
                }
            } else {
                break;
            }
            self.at += 1;
        }
        if names::is_utc_name(&w) && matches!(self.peek(), Some('+' | '-')) && self.digit_at(1) {
            return self.offset().map(Token::Offset);
        }
        Some(Token::Word(w))
    }
}
