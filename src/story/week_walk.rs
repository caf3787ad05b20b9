//! A story's week report walked section by section as the store reads it, for the writers that
//! print it without holding it (`week_json`, `week_text`): each event's headline is chosen from
//! its first members as soon as they are in, then its items pass straight through. At most
//! [`HEADLINE_POOL`] rows of one event are held at a time.

use super::headline::{choose_headline, HEADLINE_POOL};
use crate::store::{HeadlineMember, Section, SectionRow, Store, StoreError};

/// What a section walk hands over, in the report's order.
pub(super) enum Piece<'a> {
    /// A development or an update begins: its id, headline and first report's time.
    Event {
        id: &'a str,
        headline: &'a str,
        first: i64,
    },
    /// One item of the event begun last.
    Item(&'a SectionRow),
    /// The event begun last has no more items.
    End,
    /// A timeline line: its event's id, headline and first report's time.
    Line {
        id: &'a str,
        headline: &'a str,
        first: i64,
    },
}

/// Walk one section of the story's period `[from, until)`, handing each piece to `f`.
pub(super) async fn walk<E: From<StoreError>>(
    store: &Store,
    story_id: &str,
    section: Section,
    period: (i64, i64),
    mut f: impl FnMut(Piece<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut open = Open::default();
    store
        .each_section_row(story_id, section, period, HEADLINE_POOL, |row| {
            if open.key.as_ref() != Some(&(row.event_first, row.event_id.clone())) {
                open.close(section, &mut f)?;
                open.key = Some((row.event_first, row.event_id.clone()));
            }
            if row.part == 0 {
                open.pool.push(row.headline_member());
            } else if section == Section::Developments && open.headline.is_none() {
                // A development's first items are its first members: its headline is
                // known once they are in (or it ends).
                open.pool.push(row.headline_member());
                open.waiting.push(row);
                if open.waiting.len() == HEADLINE_POOL {
                    open.flush(&mut f)?;
                }
            } else {
                open.begin(&mut f)?;
                f(Piece::Item(&row))?;
            }
            Ok::<(), E>(())
        })
        .await?;
    open.close(section, &mut f)
}

/// The event being walked: its key (first report, id), its first members, the items waiting
/// for its headline, and its headline once it has begun.
#[derive(Default)]
struct Open {
    key: Option<(i64, String)>,
    pool: Vec<HeadlineMember>,
    waiting: Vec<SectionRow>,
    headline: Option<String>,
}

impl Open {
    fn choose(&self) -> String {
        let refs: Vec<&HeadlineMember> = self.pool.iter().collect();
        choose_headline(&refs)
    }

    /// Begin the event, on its first item.
    fn begin<E>(&mut self, f: &mut impl FnMut(Piece<'_>) -> Result<(), E>) -> Result<(), E> {
        if self.headline.is_none() {
            let headline = self.choose();
            let (first, id) = self.key.clone().unwrap_or_default();
            f(Piece::Event {
                id: &id,
                headline: &headline,
                first,
            })?;
            self.headline = Some(headline);
        }
        Ok(())
    }

    /// Hand over the items that waited for the headline.
    fn flush<E>(&mut self, f: &mut impl FnMut(Piece<'_>) -> Result<(), E>) -> Result<(), E> {
        let waiting = std::mem::take(&mut self.waiting);
        if !waiting.is_empty() {
            self.begin(f)?;
        }
        for row in &waiting {
            f(Piece::Item(row))?;
        }
        Ok(())
    }

    /// Finish the event: end it, or hand over its timeline line; forget it.
    fn close<E>(
        &mut self,
        section: Section,
        f: &mut impl FnMut(Piece<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.flush(f)?;
        let done = std::mem::take(self);
        let Some((first, id)) = &done.key else {
            return Ok(());
        };
        if section == Section::Timeline {
            f(Piece::Line {
                id,
                headline: &done.choose(),
                first: *first,
            })
        } else if done.headline.is_some() {
            f(Piece::End)
        } else {
            Ok(())
        }
    }
}
