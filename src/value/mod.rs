//! Plain values with their rules, parsed at the edge and used everywhere; none of them does I/O.
//!
//! - [`source`]: source ids and kinds.
//! - [`canon`]: canonical URLs, so one article linked twice compares equal.
//! - [`week`]: ISO weeks, cut in the configured time zone.
//! - [`schedule`]: when digests are due (a cron line in the time zone).
//! - [`quiet`]: quiet hours, when alerts wait.
//! - [`clock`]: where "now" comes from (the system, or tokio's pausable time).
//! - [`secret`]: a string that never reaches a log or an error message.

pub mod canon;
pub mod clock;
pub mod quiet;
pub mod schedule;
pub mod secret;
pub mod source;
pub mod week;
