//! A story's week as text (`storyline events`), written as it is read: each section's size
//! is counted in SQL first, then its events and items stream to the writer
//! ([`super::week_walk`]), so a week of any size is printed in bounded memory.

use std::io::Write;

use chrono::{Duration, SecondsFormat};

use super::definition::StoryDef;
use super::week_json::WriteError;
use super::week_walk::{walk, Piece};
use crate::store::{from_ts, Section, Store};
use crate::value::week::IsoWeek;

/// Write the story's period `[start, end)`, labelled `week`: a title line, then the
/// developments and updates with their items, then the timeline, each under its count.
pub async fn write_period(
    store: &Store,
    story: &StoryDef,
    week: IsoWeek,
    (start, end): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    tz: chrono_tz::Tz,
    out: &mut impl Write,
) -> Result<(), WriteError> {
    let period = (start.timestamp(), end.timestamp());
    writeln!(
        out,
        "{} ({}), week {} ({} to {})",
        story.title,
        story.id,
        week,
        start.with_timezone(&tz).format("%Y-%m-%d"),
        (end - Duration::seconds(1))
            .with_timezone(&tz)
            .format("%Y-%m-%d")
    )?;
    for (label, section) in [
        ("Developments", Section::Developments),
        ("Updates", Section::Updates),
        ("Timeline", Section::Timeline),
    ] {
        let count = store
            .section_event_count(&story.id, section, period)
            .await?;
        writeln!(out, "\n{label} ({count})")?;
        walk(store, &story.id, section, period, |piece| {
            match piece {
                Piece::Event {
                    id,
                    headline,
                    first,
                } => {
                    // The UTC date of the first report, as the JSON report's `first_seen`.
                    let day = from_ts(first).to_rfc3339_opts(SecondsFormat::Secs, true);
                    writeln!(out, "  {id}  {}  {headline}", &day[..10])?;
                }
                Piece::Item(i) => writeln!(
                    out,
                    "      {:<18} {}",
                    i.source_id,
                    i.title.as_deref().unwrap_or("(untitled)")
                )?,
                Piece::End => {}
                Piece::Line {
                    id,
                    headline,
                    first,
                } => {
                    let date = from_ts(first).with_timezone(&tz).format("%Y-%m-%d");
                    writeln!(out, "  {date}  {id}  {headline}")?;
                }
            }
            Ok::<_, WriteError>(())
        })
        .await?;
    }
    Ok(())
}
