//! From response bytes to HTML text: is this an HTML page at all, and in which charset.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8};

use crate::parse::ParseError;

/// How many leading bytes are looked at for sniffing and `<meta charset>`.
const SNIFF_BYTES: usize = 2048;

/// Decode `body` as an HTML page, or say why it is not one.
///
/// The `Content-Type` header wins when it names a non-HTML type (a PDF, an image, JSON); when it
/// is missing or generic the body itself is sniffed, so that a feed served as `text/html` (as
/// static file servers do) is recognised for what it is.
pub(crate) fn decode_html<'a>(
    body: &'a [u8],
    content_type: Option<&str>,
) -> Result<Cow<'a, str>, ParseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let mime = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !mime.is_empty() && !is_htmlish_mime(&mime) {
        return Err(ParseError::NotAPage(format!("the server sent {mime}")));
    }
    let encoding = pick_encoding(body, content_type);
    let (text, _) = encoding.decode_with_bom_removal(body);
    match sniff(&text) {
        Sniffed::Html => Ok(text),
        Sniffed::Feed => Err(ParseError::NotAPage(
            "this is a feed; follow it as kind = \"feed\"".into(),
        )),
        Sniffed::Other => Err(ParseError::NotAPage(
            "the body does not look like HTML".into(),
        )),
    }
}

/// Types an HTML page can arrive as; `text/plain` and XML types are let through to sniffing
/// because misconfigured servers use them for HTML too.
fn is_htmlish_mime(mime: &str) -> bool {
    matches!(
        mime,
        "text/html"
            | "application/xhtml+xml"
            | "text/plain"
            | "application/octet-stream"
            | "text/xml"
            | "application/xml"
    )
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Html,
    Feed,
    Other,
}

/// Classify a document by its first tags.
pub(crate) fn sniff(text: &str) -> Sniffed {
    let head: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(SNIFF_BYTES)
        .collect::<String>()
        .to_ascii_lowercase();
    if !head.starts_with('<') {
        return Sniffed::Other;
    }
    match first_element_name(&head).as_deref() {
        Some("rss" | "feed" | "rdf:rdf") => Sniffed::Feed,
        Some(name) if is_html_element(name) => Sniffed::Html,
        _ if head.contains("<html") || head.contains("<body") || head.contains("<head") => {
            Sniffed::Html
        }
        _ => Sniffed::Other,
    }
}

/// Elements an HTML document (or a fragment served as a page) plausibly starts with.
fn is_html_element(name: &str) -> bool {
    matches!(
        name,
        "html"
            | "head"
            | "body"
            | "meta"
            | "title"
            | "link"
            | "script"
            | "style"
            | "base"
            | "div"
            | "p"
            | "main"
            | "article"
            | "section"
            | "header"
            | "nav"
            | "h1"
            | "h2"
            | "table"
    )
}

/// The name of the first real element, skipping the XML prolog, doctype and comments.
fn first_element_name(head: &str) -> Option<String> {
    let mut rest = head;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<?") {
            rest = r.split_once("?>")?.1;
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.split_once("-->")?.1;
        } else if let Some(r) = rest.strip_prefix("<!") {
            // A doctype: `<!doctype html>` settles it.
            if r.starts_with("doctype html") {
                return Some("html".into());
            }
            rest = r.split_once('>')?.1;
        } else if let Some(r) = rest.strip_prefix('<') {
            let name: String = r
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
                .collect();
            return (!name.is_empty()).then_some(name);
        } else {
            return None;
        }
    }
}

/// BOM, then the header's charset, then `<meta charset>` / `http-equiv`, else UTF-8.
fn pick_encoding(body: &[u8], content_type: Option<&str>) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(body) {
        return enc;
    }
    if let Some(enc) = content_type.and_then(charset_param) {
        return enc;
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(SNIFF_BYTES)]).to_ascii_lowercase();
    meta_charset(&head).unwrap_or(UTF_8)
}

fn charset_param(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset"))
            .then(|| Encoding::for_label(v.trim().trim_matches('"').as_bytes()))
            .flatten()
    })
}

/// `<meta charset="x">` or `<meta http-equiv="content-type" content="...; charset=x">`.
fn meta_charset(head: &str) -> Option<&'static Encoding> {
    let at = head.find("charset=")?;
    let value: String = head[at + "charset=".len()..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    let enc = Encoding::for_label(value.as_bytes())?;
    // A page that claims UTF-16 in ASCII-compatible bytes is lying; the HTML spec says the
    // same (a meta-declared UTF-16 means UTF-8).
    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        Some(UTF_8)
    } else {
        Some(enc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_recognised_with_or_without_a_doctype() {
        assert_eq!(sniff("<!DOCTYPE html><html><p>x"), Sniffed::Html);
        assert_eq!(sniff("  <!-- c --><html lang=en>"), Sniffed::Html);
        assert_eq!(sniff("<div>fragment</div>"), Sniffed::Html);
        assert_eq!(
            sniff("<?xml version=\"1.0\"?><rss version=\"2.0\">"),
            Sniffed::Feed
        );
        assert_eq!(
            sniff("<feed xmlns=\"http://www.w3.org/2005/Atom\">"),
            Sniffed::Feed
        );
        assert_eq!(sniff("{\"version\": \"x\"}"), Sniffed::Other);
        assert_eq!(sniff("<?xml version=\"1.0\"?><opml>"), Sniffed::Other);
    }

    #[test]
    fn non_html_types_are_refused_by_header() {
        let err = decode_html(b"%PDF-1.7", Some("application/pdf")).unwrap_err();
        assert!(err.to_string().contains("application/pdf"), "{err}");
        assert_eq!(decode_html(b"  \n", None).unwrap_err(), ParseError::Empty);
    }

    #[test]
    fn charset_comes_from_header_then_meta() {
        let latin1 = b"<html><head><meta charset=\"iso-8859-1\"></head><body>caf\xe9</body>";
        assert!(decode_html(latin1, None).unwrap().contains("café"));
        let header = b"<html><body>caf\xe9</body>";
        assert!(decode_html(header, Some("text/html; charset=windows-1252"))
            .unwrap()
            .contains("café"));
        assert!(decode_html("<html>café".as_bytes(), Some("text/html"))
            .unwrap()
            .contains("café"));
    }
}
