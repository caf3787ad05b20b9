//! The integration tests, one binary so CI links the crate once. Each module is one concern
//! (its doc comment says which); `support/` holds the loopback servers and helpers they share.
//! Run one module with `cargo nextest run -E 'test(/^replay::/)'`, or by substring:
//! `cargo nextest run replay::`.

mod support;

mod alert_crash;
mod alert_replay;
mod alerts;
mod archive;
mod browser;
mod cli;
mod crash;
mod crash_serve;
mod daemon;
mod dates;
mod digest_cli;
mod feedparser_sample;
mod feeds;
mod fuzz_parse;
mod hostile;
mod ingest;
mod mail;
mod mail_tls;
mod outbox_lease;
mod pages;
mod parse_story_replay;
mod polite;
mod replay;
mod report_members;
mod schema_upgrade;
mod serve_e2e;
mod sources_cli;
mod ssrf;
mod ssrf_addresses;
mod story;
mod subscribe_web;
mod web_headers;
mod xss;
