//! A story's week as JSON (`storyline digest --format json`, `storyline events --json`),
//! written as it is read: the same bytes as `serde_json::to_vec_pretty` of the
//! [`WeekReport`](super::WeekReport), but one event and one item at a time, so a week of any
//! size is written in bounded memory ([`super::week_walk`]).

use std::io::Write;

use chrono::SecondsFormat;
use serde::Serialize;

use super::definition::StoryDef;
use super::week_walk::{walk, Piece};
use crate::store::{from_ts, Section, SectionRow, Store, StoreError};
use crate::value::week::IsoWeek;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the week: {0}")]
    Io(#[from] std::io::Error),
}

/// One item, as [`super::report::ReportItem`] serializes.
#[derive(Serialize)]
struct ItemJson<'a> {
    source: &'a str,
    guid: &'a str,
    url: Option<&'a str>,
    title: Option<&'a str>,
    published: Option<String>,
    outlet: Option<&'a str>,
}

/// One timeline line, as [`super::report::TimelineEntry`] serializes.
#[derive(Serialize)]
struct LineJson<'a> {
    id: &'a str,
    headline: &'a str,
    date: String,
}

/// Write the story's period `[start, end)`, labelled `week`, as pretty JSON (no final
/// newline), exactly as `serde_json::to_vec_pretty` writes its report.
pub async fn write_period(
    store: &Store,
    story: &StoryDef,
    week: IsoWeek,
    (start, end): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    tz: chrono_tz::Tz,
    out: &mut impl Write,
) -> Result<(), WriteError> {
    let period = (start.timestamp(), end.timestamp());
    write!(
        out,
        "{{\n  \"story\": {},\n  \"week\": {},\n",
        json(&story.id)?,
        json(&week)?
    )?;
    for (key, section) in [
        ("developments", Section::Developments),
        ("updates", Section::Updates),
        ("timeline", Section::Timeline),
    ] {
        write!(out, "  {}: ", json(key)?)?;
        let mut events = Array::open(out, 2)?;
        let mut items: Option<Array> = None;
        walk(store, &story.id, section, period, |piece| {
            match piece {
                Piece::Event {
                    id,
                    headline,
                    first,
                } => {
                    events.next(out)?;
                    write!(
                        out,
                        "    {{\n      \"id\": {},\n      \"headline\": {},\n      \
                         \"first_seen\": {},\n      \"items\": ",
                        json(id)?,
                        json(headline)?,
                        json(&from_ts(first).to_rfc3339_opts(SecondsFormat::Secs, true))?
                    )?;
                    items = Some(Array::open(out, 6)?);
                }
                Piece::Item(row) => {
                    if let Some(items) = &mut items {
                        items.next(out)?;
                        indented(out, 8, &pretty(&item_json(row))?)?;
                    }
                }
                Piece::End => {
                    if let Some(items) = items.take() {
                        items.close(out)?;
                    }
                    out.write_all(b"\n    }")?;
                }
                Piece::Line {
                    id,
                    headline,
                    first,
                } => {
                    let line = LineJson {
                        id,
                        headline,
                        date: from_ts(first)
                            .with_timezone(&tz)
                            .format("%Y-%m-%d")
                            .to_string(),
                    };
                    events.next(out)?;
                    indented(out, 4, &pretty(&line)?)?;
                }
            }
            Ok::<_, WriteError>(())
        })
        .await?;
        events.close(out)?;
        out.write_all(if section == Section::Timeline {
            b"\n}"
        } else {
            b",\n"
        })?;
    }
    Ok(())
}

fn item_json(row: &SectionRow) -> ItemJson<'_> {
    ItemJson {
        source: &row.source_id,
        guid: &row.guid,
        url: row.url.as_deref(),
        title: row.title.as_deref(),
        published: row
            .published_at
            .map(|t| from_ts(t).to_rfc3339_opts(SecondsFormat::Secs, true)),
        outlet: row.outlet_name.as_deref(),
    }
}

/// A JSON array being written, its closing bracket at `indent` spaces, as serde_json's
/// pretty printer writes one.
struct Array {
    indent: usize,
    started: bool,
}

impl Array {
    fn open(out: &mut impl Write, indent: usize) -> Result<Array, WriteError> {
        out.write_all(b"[")?;
        Ok(Array {
            indent,
            started: false,
        })
    }

    /// Before each element.
    fn next(&mut self, out: &mut impl Write) -> Result<(), WriteError> {
        out.write_all(if self.started { b",\n" } else { b"\n" })?;
        self.started = true;
        Ok(())
    }

    fn close(self, out: &mut impl Write) -> Result<(), WriteError> {
        if self.started {
            write!(out, "\n{}", " ".repeat(self.indent))?;
        }
        out.write_all(b"]")?;
        Ok(())
    }
}

fn json<T: Serialize + ?Sized>(v: &T) -> Result<String, WriteError> {
    serde_json::to_string(v).map_err(|e| WriteError::Io(e.into()))
}

fn pretty<T: Serialize>(v: &T) -> Result<String, WriteError> {
    serde_json::to_string_pretty(v).map_err(|e| WriteError::Io(e.into()))
}

/// `text` (pretty JSON, so no raw newline inside a string) with every line indented.
fn indented(out: &mut impl Write, indent: usize, text: &str) -> Result<(), WriteError> {
    let pad = " ".repeat(indent);
    for (k, line) in text.lines().enumerate() {
        if k > 0 {
            out.write_all(b"\n")?;
        }
        write!(out, "{pad}{line}")?;
    }
    Ok(())
}
