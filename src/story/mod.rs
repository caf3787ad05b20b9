//! Stories: which items belong to a story (relevance), which items report the same
//! development (events), and a story's week (report).
//!
//! [`process`] runs after every polling round: it decides the items that have no decision
//! yet (or changed), places the relevant ones into events, and writes it all in one
//! transaction per story. It is idempotent, resumes after a crash, and costs one indexed query
//! per story when nothing is new.
//!
//! - [`definition`]: story definitions and the built-in Llama 4 story.
//! - [`relevance`]: the per-item decision and its evidence.
//! - [`cluster`]: events from canonical URLs and text similarity.
//! - [`text`]: HTML to words, tokens, stems.
//! - [`report`]: the week as data (the JSON contract).
//! - [`explain`]: why an item is where it is.
//! - `process`: one round of deciding and placing; `timing`: when an item counts.
//! - [`terms`]: the words and pages clustering compares.

pub mod cluster;
pub mod definition;
pub mod explain;
mod process;
pub mod relevance;
pub mod report;
pub mod terms;
pub mod text;
mod timing;

pub use definition::StoryDef;
pub use process::process;
pub use report::{period_report, week_report, WeekReport};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Definition(#[from] definition::BuiltinError),
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
