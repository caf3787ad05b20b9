//! A story's week as JSON (`storyline digest --format json`, `storyline events --json`),
//! written as it is read: the same bytes as `serde_json::to_vec_pretty` of the
//! [`WeekReport`](super::WeekReport), but one event and one item at a time, so a week of any
//! size is written in bounded memory. Each event's first members are read for its headline,
//! then its members in the week, straight to the writer.

use std::io::Write;

use chrono::SecondsFormat;
use serde::Serialize;

use super::definition::StoryDef;
use super::headline::{choose_headline, HEADLINE_POOL};
use crate::store::{from_ts, HeadlineMember, Section, SectionRow, Store, StoreError};
use crate::week::IsoWeek;

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
        let mut open = Open::default();
        store
            .each_section_row(&story.id, section, period, HEADLINE_POOL, |row| {
                if open.key.as_ref() != Some(&(row.event_first, row.event_id.clone())) {
                    open.close(out, &mut events, section, tz)?;
                    open.key = Some((row.event_first, row.event_id.clone()));
                }
                if row.part == 0 {
                    open.pool.push(row.headline_member());
                } else if section == Section::Developments && open.items.is_none() {
                    // A development's first items are its first members: its headline is
                    // written once they are in (or it ends).
                    open.pool.push(row.headline_member());
                    open.waiting.push(row);
                    if open.waiting.len() == HEADLINE_POOL {
                        open.flush(out, &mut events)?;
                    }
                } else {
                    open.item(out, &mut events, &row)?;
                }
                Ok::<_, WriteError>(())
            })
            .await?;
        open.close(out, &mut events, section, tz)?;
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

/// The event being written: its key (first report, id), its first members, the items
/// waiting for its headline, and its items array once started.
#[derive(Default)]
struct Open {
    key: Option<(i64, String)>,
    pool: Vec<HeadlineMember>,
    waiting: Vec<SectionRow>,
    items: Option<Array>,
}

impl Open {
    fn headline(&self) -> String {
        let refs: Vec<&HeadlineMember> = self.pool.iter().collect();
        choose_headline(&refs)
    }

    /// Start the event's object and its items array, on its first item.
    fn start(
        &mut self,
        out: &mut impl Write,
        events: &mut Array,
    ) -> Result<&mut Array, WriteError> {
        let items = match self.items.take() {
            Some(items) => items,
            None => {
                let (first, id) = self.key.clone().unwrap_or_default();
                events.next(out)?;
                write!(
                    out,
                    "    {{\n      \"id\": {},\n      \"headline\": {},\n      \
                     \"first_seen\": {},\n      \"items\": ",
                    json(&id)?,
                    json(&self.headline())?,
                    json(&from_ts(first).to_rfc3339_opts(SecondsFormat::Secs, true))?
                )?;
                Array::open(out, 6)?
            }
        };
        Ok(self.items.insert(items))
    }

    fn item(
        &mut self,
        out: &mut impl Write,
        events: &mut Array,
        row: &SectionRow,
    ) -> Result<(), WriteError> {
        let items = self.start(out, events)?;
        items.next(out)?;
        indented(out, 8, &pretty(&item_json(row))?)
    }

    /// Write the items that waited for the headline.
    fn flush(&mut self, out: &mut impl Write, events: &mut Array) -> Result<(), WriteError> {
        for row in std::mem::take(&mut self.waiting) {
            self.item(out, events, &row)?;
        }
        Ok(())
    }

    /// Finish the event: close its object, or write its timeline line; forget it.
    fn close(
        &mut self,
        out: &mut impl Write,
        events: &mut Array,
        section: Section,
        tz: chrono_tz::Tz,
    ) -> Result<(), WriteError> {
        self.flush(out, events)?;
        let done = std::mem::take(self);
        let Some((first, id)) = done.key.clone() else {
            return Ok(());
        };
        if section == Section::Timeline {
            let line = LineJson {
                id: &id,
                headline: &done.headline(),
                date: from_ts(first)
                    .with_timezone(&tz)
                    .format("%Y-%m-%d")
                    .to_string(),
            };
            events.next(out)?;
            indented(out, 4, &pretty(&line)?)?;
        } else if let Some(items) = done.items {
            items.close(out)?;
            out.write_all(b"\n    }")?;
        }
        Ok(())
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
