//! Storyline follows one unfolding news story across feeds and article pages, stores what it
//! finds in SQLite, and tells the story's progress in a weekly digest.
//!
//! # Layout
//! Wiring and the edges:
//! - [`app`]: the app built once (`Settings::load` checks the config, `App::build` opens the rest).
//! - [`config`]: the TOML file, parsed once into plain typed values (types, parsing, validation).
//! - [`cli`]: the `storyline` command line; `cli/sources/` adds sources (discovery) and moves OPML.
//! - [`daemon`]: `storyline serve`, its loops and graceful shutdown.
//! - [`web`]: the daemon's site (health, metrics, subscriptions, story pages and feeds).
//!
//! Services:
//! - [`fetch`]: polite, guarded HTTP; returns outcomes, never touches the database.
//! - [`refresh`]: `run_cycle(now)`, one polling round, used by the CLI, daemon and tests.
//! - [`store`]: all SQL.
//! - [`story`]: relevance, events (clusters) and the week report of each story.
//! - [`weekly`]: one story's week as a digest: gathered, composed, kept (`weekly::archive`,
//!   also `--backfill`) and queued; the one owner of the digest path, `digest` its pure half.
//! - [`digest`]: compose, render and package the weekly digest (pure).
//! - [`mail`]: subscribers' addresses, signed links, the outbox and SMTP delivery.
//! - [`alert`]: pushes (webhook, ntfy, Matrix) when a story moves; an outbox like mail's.
//! - [`metrics`]: the daemon's counters in the Prometheus text format.
//! - [`opml`]: OPML import and export of sources.
//!
//! Readers (pure):
//! - [`parse`]: bytes to entries; lenient, panic-proof.
//! - [`page`]: article pages without feeds.
//! - [`forum`]: discussion sites' host rules (Reddit, Hacker News, Lobsters), one owner.
//! - [`sites`]: site-specific readings (Reddit, Google News, hnrss, GitHub releases).
//! - [`read`]: fetched bytes to a feed or page, one way for the poller, `inspect` and `sources add`.
//!
//! Values ([`value`]): source ids and kinds, canonical URLs, ISO weeks, the digest schedule,
//! quiet hours, the clock, secrets.
//!
//! # Words
//! - a **round** is one pass over the due sources: fetch, store, decide
//!   (`refresh::run_cycle`); `storyline poll` runs one by hand, the daemon one per tick;
//! - an **item** is one entry of a feed or one article page; a **decision** says whether it is
//!   the story's; an **event** is one development, reported by one or more items;
//! - an **edition** is one story's week as a digest, stored once; a **delivery** is that
//!   edition to one subscriber; an **alert** is one development pushed as it happens;
//! - the **week report** is what `weekly` reads from the store for an edition; other
//!   `…Report` types say what one run did (a round, a drain, a story step).

pub mod alert;
pub mod app;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod digest;
pub mod fetch;
pub mod forum;
pub mod mail;
pub mod metrics;
pub mod opml;
pub mod page;
pub mod parse;
pub mod read;
pub mod refresh;
pub mod sites;
pub mod store;
pub mod story;
pub mod value;
pub mod web;
pub mod weekly;
