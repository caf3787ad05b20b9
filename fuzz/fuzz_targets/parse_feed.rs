//! Any bytes, any Content-Type, with and without a base URL, into the feed parser: it must
//! return (never hang, abort or overflow its stack), and panics it catches are reported.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/rss+xml"),
    Some("application/atom+xml; charset=iso-8859-1"),
    Some("text/xml; charset=utf-16"),
    Some("application/feed+json"),
    Some("text/html; charset=windows-1252"),
];

fuzz_target!(|data: &[u8]| {
    common::install_panic_report();
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    let base = url::Url::parse("https://news.example/feeds/a/").ok();
    let base = if selector & 0x80 == 0 {
        base.as_ref()
    } else {
        None
    };
    let _ = storyline::parse::parse_feed(body, content_type, base);
});
