//! Stories: which items belong to a story (relevance), which items report the same
//! development (events), and a story's week (report).
//!
//! [`process`] runs after every polling round: it decides the items that have no decision
//! yet (or changed), places the relevant ones into events, and writes it all in one
//! transaction per story. It reads what to look at from a queue the store fills as items are
//! stored or changed, so a round with nothing new costs one indexed query; it is idempotent
//! and resumes after a crash.
//!
//! - [`definition`]: story definitions and the built-in Llama 4 story.
//! - [`relevance`]: the per-item decision and its evidence.
//! - [`cluster`]: events from canonical URLs and text similarity.
//! - [`text`]: HTML to words, tokens, stems.
//! - [`report`]: the week as data (the JSON contract).
//! - [`explain`]: why an item is where it is.
//! - `process`: one round of deciding and placing; `timing`: when an item counts.
//! - [`terms`]: the words and pages clustering compares.
//! - [`Screen`]: at ingest, which new items no story could take.

pub mod cluster;
pub mod decide;
pub mod definition;
pub mod explain;
mod judged;
mod page;
mod placing;
mod process;
pub mod relevance;
pub mod report;
mod rows;
mod screen;
pub mod shown;
pub mod terms;
pub mod text;
mod timing;
mod touched;

pub use definition::StoryDef;
pub use process::{process, process_with, Limits};
pub use report::{period_report, week_report, WeekReport};
pub use screen::Screen;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one round of processing did, summed over stories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessReport {
    /// Items decided (new or changed).
    pub decided: usize,
    /// Of those, relevant to a story.
    pub relevant: usize,
    /// Events founded.
    pub new_events: usize,
    /// Items that joined an existing event.
    pub joined: usize,
    /// Changed pages recorded as updates.
    pub updates: usize,
}
