//! The web archive of weekly editions: a rendered week kept without mailing anyone
//! (`storyline digest --week W`, the schedule without mail), and every past week with story
//! items composed and kept at once (`storyline digest --backfill`).
//!
//! Keeping an edition never queues a delivery: mail goes out only through
//! [`crate::mail::queue_digest`], which the schedule calls for the last complete week when it
//! fires and `digest --send` for the week it is given. An edition kept here and mailed to
//! nobody yet is brought up to date by the next keep or send; one that has gone out by mail
//! stays as subscribers got it.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::{Edition, Period, WeeklyError};
use crate::config::Config;
use crate::digest::Templates;
use crate::store::{EditionStored, NewDigest, Store, StoreError};
use crate::story::StoryDef;
use crate::value::week::IsoWeek;

/// What keeping one week did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    Stored(EditionStored),
    /// The week is not over: an edition of half a week would be what the schedule mails.
    Unfinished,
    /// Nothing on the story that week (no development, no update), and `[digest] send_empty`
    /// is off.
    Empty,
}

impl Kept {
    /// A few words for the command line.
    pub fn describe(self) -> &'static str {
        match self {
            Kept::Stored(EditionStored::Created) => "stored",
            Kept::Stored(EditionStored::Replaced) => "updated (it was mailed to nobody)",
            Kept::Stored(EditionStored::Unchanged) => "already stored, unchanged",
            Kept::Stored(EditionStored::KeptMailed) => "kept as mailed",
            Kept::Unfinished => "not stored: the week is not over",
            Kept::Empty => "not stored: nothing on the story that week",
        }
    }
}

/// Keep `edition` of `week` as the story's archive edition when the week is over and something
/// happened on the story (or `[digest] send_empty` asks for empty weeks too). A quiet week
/// with only updates is kept even though it is not mailed unless `send_empty` is on.
pub async fn keep(
    store: &Store,
    config: &Config,
    story: &StoryDef,
    week: IsoWeek,
    edition: &Edition,
    now: DateTime<Utc>,
) -> Result<Kept, StoreError> {
    if week.range(config.timezone).1 > now {
        return Ok(Kept::Unfinished);
    }
    let empty = edition.digest.quiet && edition.digest.updates.is_empty();
    if empty && !config.digest.send_empty {
        return Ok(Kept::Empty);
    }
    let r = &edition.rendered;
    let (_, stored) = store
        .store_edition(
            &NewDigest {
                story_id: &story.id,
                week,
                subject: &r.subject,
                text: &r.text,
                html: &r.email_html,
                chart_png: Some(&r.chart_png),
            },
            now,
        )
        .await?;
    Ok(Kept::Stored(stored))
}

/// Compose and keep every complete week, oldest first, in which the story has items. Mails
/// nobody and queues nothing.
pub async fn backfill(
    store: &Store,
    config: &Config,
    templates: &Templates,
    story: &StoryDef,
    now: DateTime<Utc>,
) -> Result<Vec<(IsoWeek, Kept)>, WeeklyError> {
    let tz = config.timezone;
    let current = IsoWeek::containing(now, tz);
    let times = store
        .story_item_times(&story.id, i64::MIN, current.range(tz).0.timestamp())
        .await?;
    let weeks: BTreeSet<IsoWeek> = times
        .into_iter()
        .map(|t| IsoWeek::containing(crate::store::from_ts(t), tz))
        .collect();
    let mut out = Vec::with_capacity(weeks.len());
    for week in weeks {
        let edition = super::make(store, config, templates, story, Period::Week(week), now).await?;
        out.push((week, keep(store, config, story, week, &edition, now).await?));
    }
    Ok(out)
}
