//! Article pages without a feed: metadata, main text, and what changed between versions.

use url::Url;

use crate::parse::{Document, Entry, Format, ParseError};

/// Read an article page as a one-entry document (format `html-page`).
pub fn read_page(
    body: &[u8],
    _content_type: Option<&str>,
    url: &Url,
) -> Result<Document, ParseError> {
    let html = String::from_utf8_lossy(body);
    let doc = scraper::Html::parse_document(&html);
    let title = scraper::Selector::parse("title")
        .ok()
        .and_then(|sel| doc.select(&sel).next())
        .map(|t| t.text().collect::<String>().trim().to_string());
    Ok(Document {
        format: Some(Format::HtmlPage),
        title: title.clone(),
        link: Some(url.to_string()),
        entries: vec![Entry {
            id: url.to_string(),
            title,
            link: Some(url.to_string()),
            ..Entry::default()
        }],
    })
}

/// A short description of how a page's main text changed.
pub fn describe_change(_old: &str, _new: &str) -> Option<String> {
    Some("the text changed".into())
}
