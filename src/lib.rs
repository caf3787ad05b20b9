//! Storyline follows one unfolding news story across feeds and article pages, stores what it
//! finds in SQLite, and tells the story's progress in a weekly digest.
//!
//! # Layout
//! - [`config`]: the TOML file, parsed once into typed values.
//! - [`fetch`]: polite, guarded HTTP; returns outcomes, never touches the database.
//! - [`parse`]: bytes to entries; lenient, panic-proof.
//! - [`page`]: article pages without feeds.
//! - [`forum`]: discussion sites' host rules (Reddit, Hacker News, Lobsters), one owner.
//! - [`sites`]: site-specific readings (Reddit, Google News, hnrss, GitHub releases).
//! - [`read`]: fetched bytes to a feed or page, one way for the poller, `inspect` and `sources add`.
//! - [`store`]: all SQL.
//! - [`digest`]: compose, render and package the weekly digest.
//! - [`story`]: relevance, events (clusters) and the week report of each story.
//! - [`refresh`]: `run_cycle(now)`, one polling round, used by the CLI, daemon and tests.
//! - [`alert`]: pushes (webhook, ntfy, Matrix) when a story moves; an outbox like mail's.
//! - [`archive`]: weekly editions kept for the web archive and feeds, without mailing.
//! - [`mail`]: subscribers' addresses, signed links, the outbox and SMTP delivery.
//! - [`daemon`]: `storyline serve`, its loops and graceful shutdown; [`web`] its pages.
//! - [`cli`]: the `storyline` command line.

pub mod alert;
pub mod app;
pub mod archive;
pub mod canon;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod digest;
pub mod discovery;
pub mod fetch;
pub mod forum;
pub mod mail;
pub mod metrics;
pub mod opml;
pub mod page;
pub mod parse;
pub mod read;
pub mod refresh;
pub mod schedule;
pub mod secret;
pub mod sites;
pub mod source;
pub mod store;
pub mod story;
pub mod web;
pub mod week;
pub mod weekly;
