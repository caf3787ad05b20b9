//! The canonical document the repair pass hands to feed-rs: plain Atom 1.0, only the fields
//! Storyline keeps, text typed `text` or `html`, every character escaped.

/// A title, summary or content value and whether it is HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CanonText {
    pub value: String,
    pub html: bool,
}

impl CanonText {
    pub(crate) fn new(value: String, html: bool) -> Self {
        CanonText { value, html }
    }

    pub(crate) fn plain(value: String) -> Self {
        CanonText::new(value, false)
    }

    pub(crate) fn html(value: String) -> Self {
        CanonText::new(value, true)
    }
}

/// An author.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Person {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// One entry, fields as found (dates unparsed: feed-rs parses them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CanonEntry {
    pub id: Option<String>,
    pub title: Option<CanonText>,
    pub link: Option<String>,
    pub summary: Option<CanonText>,
    pub content: Option<CanonText>,
    pub author: Option<Person>,
    pub published: Option<String>,
    /// Atom 0.3's `created`: the publication date of last resort.
    pub created: Option<String>,
    pub updated: Option<String>,
}

/// The feed: its title and home link, and its entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CanonFeed {
    pub title: Option<CanonText>,
    pub link: Option<String>,
    pub entries: Vec<CanonEntry>,
}

/// Serialise `feed` as Atom 1.0.
pub(crate) fn write(feed: &CanonFeed) -> String {
    let mut out = String::with_capacity(256 + feed.entries.len() * 512);
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">");
    push_text_element(&mut out, "title", feed.title.as_ref());
    push_link(&mut out, feed.link.as_deref());
    for e in &feed.entries {
        out.push_str("<entry>");
        push_simple(&mut out, "id", e.id.as_deref());
        push_text_element(&mut out, "title", e.title.as_ref());
        push_link(&mut out, e.link.as_deref());
        push_text_element(&mut out, "summary", e.summary.as_ref());
        push_text_element(&mut out, "content", e.content.as_ref());
        if let Some(p) = &e.author {
            out.push_str("<author>");
            push_simple(&mut out, "name", p.name.as_deref());
            push_simple(&mut out, "email", p.email.as_deref());
            out.push_str("</author>");
        }
        push_simple(
            &mut out,
            "published",
            e.published.as_deref().or(e.created.as_deref()),
        );
        push_simple(&mut out, "updated", e.updated.as_deref());
        out.push_str("</entry>");
    }
    out.push_str("</feed>");
    out
}

fn push_simple(out: &mut String, name: &str, value: Option<&str>) {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return;
    };
    out.push('<');
    out.push_str(name);
    out.push('>');
    push_escaped(out, value, false);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn push_text_element(out: &mut String, name: &str, text: Option<&CanonText>) {
    let Some(text) = text.filter(|t| !t.value.trim().is_empty()) else {
        return;
    };
    out.push('<');
    out.push_str(name);
    out.push_str(if text.html {
        " type=\"html\">"
    } else {
        " type=\"text\">"
    });
    push_escaped(out, &text.value, false);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn push_link(out: &mut String, href: Option<&str>) {
    let Some(href) = href.filter(|h| !h.is_empty()) else {
        return;
    };
    out.push_str("<link href=\"");
    push_escaped(out, href, true);
    out.push_str("\"/>");
}

/// Append `s` escaped for XML text (or an attribute value), dropping characters XML forbids.
pub(crate) fn push_escaped(out: &mut String, s: &str, attribute: bool) {
    // Copy runs of ordinary text whole; only the rare special characters are handled one by one.
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let replacement = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' if attribute => "&quot;",
            '\t' | '\n' | '\r' => continue,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => "",
            _ => continue,
        };
        out.push_str(&s[run_start..i]);
        out.push_str(replacement);
        run_start = i + c.len_utf8();
    }
    out.push_str(&s[run_start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_escaped_atom_with_only_present_fields() {
        let feed = CanonFeed {
            title: Some(CanonText::plain("A & B".into())),
            link: None,
            entries: vec![CanonEntry {
                title: Some(CanonText::html("<b>x</b>\u{1}\u{FFFF}é".into())),
                link: Some("http://e.org/?a=1&b=\"2\"".into()),
                created: Some("2004-01-01".into()),
                ..CanonEntry::default()
            }],
        };
        assert_eq!(
            write(&feed),
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title type=\"text\">A &amp; B</title>\
             <entry><title type=\"html\">&lt;b&gt;x&lt;/b&gt;é</title>\
             <link href=\"http://e.org/?a=1&amp;b=&quot;2&quot;\"/>\
             <published>2004-01-01</published></entry></feed>"
        );
    }
}
