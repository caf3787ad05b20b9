//! The weekly digest: what a busy reader gets each week about one story.
//!
//! - [`model`]: the plain input (`DigestInput`, gathered by the caller) and output (`Digest`).
//! - [`tally`]: one event's reports, counted as they are read: what a digest shows of them.
//! - [`compose()`]: pure; orders, words and sanitizes everything into a `Digest`.
//! - [`sanitize`]: ammonia on feed HTML, then plain-text excerpts.
//! - [`chart`]: the items-per-week PNG.
//! - [`render`](mod@render): tera templates (embedded defaults, user overrides) to subject, HTML and text.
//! - [`mime`]: the `.eml` message: text, HTML and the chart by Content-ID.

pub mod chart;
pub mod compose;
pub mod history;
pub mod mime;
pub mod model;
mod outlets;
pub mod render;
pub mod sanitize;
pub mod tally;

#[cfg(test)]
mod browser_tests;
#[cfg(test)]
mod sample;

pub use compose::compose;
pub use mime::{to_eml, to_message, MailHeaders};
pub use model::{
    Chart, ChartBar, Development, Digest, DigestInput, Discussion, DiscussionIn, EventIn,
    FailingSource, ItemIn, Outlet, SourceNote, TimelineEntry, TimelineIn, Unlisted, Update,
    UpdateIn,
};
pub use outlets::{coverage, outlet_name_of, safe_link};
pub use render::{render, render_html, Rendered, Templates, CHART_CONTENT_ID};
pub use tally::Tally;

use std::path::PathBuf;

/// What can go wrong turning a composed digest into files or mail.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("cannot read template {path}: {source}")]
    TemplateRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    TemplateDir { path: PathBuf, reason: String },
    /// An override file failed to parse; the chain says where.
    #[error("template {path} does not parse")]
    TemplateParse {
        path: PathBuf,
        #[source]
        source: tera::Error,
    },
    /// A template failed to parse or render; the chain names the template and the spot.
    #[error("template error: {0}")]
    Template(#[from] tera::Error),
    #[error("cannot inline CSS: {0}")]
    Css(#[from] css_inline::InlineError),
    #[error("cannot draw the chart: {0}")]
    Chart(String),
    #[error("invalid mail address {address:?}: {reason}")]
    Address { address: String, reason: String },
    #[error("invalid mail header {name:?}: {reason}")]
    Header { name: String, reason: String },
    #[error("cannot build the message: {0}")]
    Message(#[from] lettre::error::Error),
}
