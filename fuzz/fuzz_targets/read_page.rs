//! Any bytes as an article page: `read_page` must return an error or a page, never panic,
//! hang or abort (pages have no `catch_unwind` of their own).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::install_panic_report();
    let url = url::Url::parse("https://news.example/2025/04/story.html").expect("valid URL");
    let _ = storyline::page::read_page(data, Some("text/html"), &url);
});
