//! The digest as an email: multipart/alternative(text/plain, multipart/related(text/html,
//! image/png chart by Content-ID)), built with lettre's message builder. The same rendered
//! digest and headers always give the same bytes: boundaries derive from the content.

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
use sha2::{Digest as _, Sha256};

use super::render::{Rendered, CHART_CONTENT_ID};
use super::DigestError;

/// The headers of one digest mail.
#[derive(Debug, Clone)]
pub struct MailHeaders {
    /// "Storyline <digest@example.org>".
    pub from: String,
    /// One or more recipients.
    pub to: Vec<String>,
    /// "<2025-W20.llama-4@storyline.example>"; angle brackets are added when missing.
    pub message_id: String,
    /// "Llama 4 digest <llama-4.storyline.example>" (RFC 2919), so readers can filter on it.
    pub list_id: String,
    pub date: DateTime<Utc>,
    /// More headers, e.g. `List-Unsubscribe`; values must be single lines.
    pub extra: Vec<(String, String)>,
}

/// Build the lettre `Message` (what a lettre transport sends).
pub fn to_message(rendered: &Rendered, headers: &MailHeaders) -> Result<Message, DigestError> {
    let mut builder = Message::builder()
        .from(parse_mailbox(&headers.from)?)
        .subject(single_line(&rendered.subject))
        .date(headers.date.into())
        .message_id(Some(message_id(&headers.message_id)?))
        .raw_header(raw_header("List-Id", &headers.list_id)?);
    if headers.to.is_empty() {
        return Err(DigestError::Address {
            address: String::new(),
            reason: "a digest needs at least one recipient".into(),
        });
    }
    for to in &headers.to {
        builder = builder.to(parse_mailbox(to)?);
    }
    for (name, value) in &headers.extra {
        builder = builder.raw_header(raw_header(name, value)?);
    }

    let seed = boundary_seed(rendered, headers);
    let chart = Attachment::new_inline(CHART_CONTENT_ID.to_string()).body(
        rendered.chart_png.clone(),
        ContentType::parse("image/png").map_err(|e| DigestError::Header {
            name: "Content-Type".into(),
            reason: e.to_string(),
        })?,
    );
    let related = MultiPart::related()
        .boundary(format!("storyline-rel-{seed}"))
        .singlepart(SinglePart::html(rendered.email_html.clone()))
        .singlepart(chart);
    let body = MultiPart::alternative()
        .boundary(format!("storyline-alt-{seed}"))
        .singlepart(SinglePart::plain(rendered.text.clone()))
        .multipart(related);
    Ok(builder.multipart(body)?)
}

/// The message as `.eml` bytes (RFC 5322, CRLF line ends).
pub fn to_eml(rendered: &Rendered, headers: &MailHeaders) -> Result<Vec<u8>, DigestError> {
    Ok(to_message(rendered, headers)?.formatted())
}

fn parse_mailbox(address: &str) -> Result<Mailbox, DigestError> {
    address
        .parse()
        .map_err(|e: lettre::address::AddressError| DigestError::Address {
            address: address.to_string(),
            reason: e.to_string(),
        })
}

/// Message-IDs are `<left@right>` with no spaces or brackets inside (RFC 5322 3.6.4).
fn message_id(id: &str) -> Result<String, DigestError> {
    let bare = id.trim().trim_start_matches('<').trim_end_matches('>');
    let valid = bare
        .split_once('@')
        .is_some_and(|(l, r)| !l.is_empty() && !r.is_empty())
        && bare
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | '(' | ')'));
    if valid {
        Ok(format!("<{bare}>"))
    } else {
        Err(DigestError::Header {
            name: "Message-ID".into(),
            reason: format!("{id:?} is not of the form <left@right>"),
        })
    }
}

/// A header from caller data; refuses anything that could end the header early (CR, LF or
/// other control characters) so no one can smuggle in headers.
fn raw_header(name: &str, value: &str) -> Result<HeaderValue, DigestError> {
    let bad = |reason: &str| DigestError::Header {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    let valid_name =
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid_name {
        return Err(bad("names are ASCII letters, digits and '-'"));
    }
    if value.chars().any(char::is_control) {
        return Err(bad("values must be one line without control characters"));
    }
    let header_name =
        HeaderName::new_from_ascii(name.to_string()).map_err(|_| bad("not a valid header name"))?;
    Ok(HeaderValue::new(header_name, value.trim().to_string()))
}

/// Subjects come from feed text; lettre encodes them, but a line break has no place there.
fn single_line(s: &str) -> String {
    s.split(char::is_control)
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A hex string that changes whenever the content does, so boundaries are reproducible and
/// (being a hash of the parts) cannot occur inside them.
fn boundary_seed(rendered: &Rendered, headers: &MailHeaders) -> String {
    let mut hash = Sha256::new();
    for part in [
        headers.message_id.as_bytes(),
        rendered.text.as_bytes(),
        rendered.email_html.as_bytes(),
        &rendered.chart_png,
    ] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
#[path = "mime_tests.rs"]
mod tests;
