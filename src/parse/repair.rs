//! The repair pass: any RSS, RDF or Atom dialect, well-formed or not, rewritten as the one
//! canonical Atom 1.0 document feed-rs reads exactly.
//!
//! It reads the forgiving tree from [`soup`](super::soup) the way feedparser reads feeds: every
//! `<item>` (RSS, RDF, CDF) or `<entry>` (Atom) is an entry wherever it sits; element names
//! are matched without regard to case; the feed vocabularies' old namespaces count as their
//! own; Atom 0.3's `issued`/`modified`, `mode="escaped"`/`"base64"` and MIME-typed text are
//! mapped to Atom 1.0; xml:base is applied to links; RSS 1.0's `rdf:about` and CDF's `href`
//! stand in for a missing guid and link.

use url::Url;

use super::canonical::{self, CanonEntry, CanonFeed, CanonText};
use super::construct::{atom_text, inner_markup, link_of, non_empty, person_of};
use super::ns::{Ns, Scope};
use super::soup::{self, Element};
use super::{resolve_link, Format, ParseError};

/// Rewrite `text` (decoded; its root sniffed as a `format` feed) as canonical Atom.
pub(crate) fn repair(text: &str, base: Option<&Url>, format: Format) -> Result<String, ParseError> {
    let root = soup::parse_tree(text).ok_or(ParseError::NotAFeed("no markup found".into()))?;
    let outer = Scope::default();
    let scope = outer.enter(&root);
    let base = xml_base(base.cloned(), &root);
    let mut feed = CanonFeed::default();
    let walker = Walker { format };
    walker.read_feed_level(&root, &scope, base.as_ref(), &mut feed);
    if is_entry_name(root.local_name()) {
        feed.entries
            .push(walker.read_entry(&root, &scope, base.as_ref()));
    } else {
        walker.collect_entries(&root, &scope, base.as_ref(), &mut feed.entries, 0);
    }
    Ok(canonical::write(&feed))
}

/// The base URL inside `element`, given the one outside it.
fn xml_base(outer: Option<Url>, element: &Element) -> Option<Url> {
    let Some(value) = element.attr("xml:base").map(str::trim) else {
        return outer;
    };
    let joined = match &outer {
        Some(outer) => outer.join(value).ok(),
        None => Url::parse(value).ok(),
    };
    // A malformed xml:base is ignored rather than fatal.
    joined.or(outer)
}

struct Walker {
    format: Format,
}

/// How deep to look for items below the root (feeds nest them two or three levels down).
const MAX_ITEM_DEPTH: usize = 8;

impl Walker {
    /// Every item/entry below `element`, in document order, not looking inside entries.
    fn collect_entries(
        &self,
        element: &Element,
        scope: &Scope,
        base: Option<&Url>,
        out: &mut Vec<CanonEntry>,
        depth: usize,
    ) {
        if depth > MAX_ITEM_DEPTH {
            return;
        }
        for child in element.elements() {
            let inner = scope.enter(child);
            let child_base = xml_base(base.cloned(), child);
            if inner.of(child) == Ns::Feed && is_entry_name(child.local_name()) {
                out.push(self.read_entry(child, &inner, child_base.as_ref()));
            } else {
                self.collect_entries(child, &inner, child_base.as_ref(), out, depth + 1);
            }
        }
    }

    /// The feed's own title and link: children of the channel (RSS, RDF) or of the root.
    fn read_feed_level(
        &self,
        root: &Element,
        scope: &Scope,
        base: Option<&Url>,
        feed: &mut CanonFeed,
    ) {
        let channel = match self.format {
            Format::Atom => None,
            _ if root.local_name().eq_ignore_ascii_case("channel") => None,
            _ => root
                .elements()
                .find(|e| e.local_name().eq_ignore_ascii_case("channel")),
        };
        let (holder, scope, base) = match channel {
            Some(c) => (c, scope.enter(c), xml_base(base.cloned(), c)),
            None => (root, std::borrow::Cow::Borrowed(scope), base.cloned()),
        };
        let mut links = LinkChoice::default();
        for child in holder.elements() {
            let inner = scope.enter(child);
            let ns = inner.of(child);
            let name = child.local_name().to_ascii_lowercase();
            let child_base = xml_base(base.clone(), child);
            match (ns, name.as_str()) {
                (Ns::Feed | Ns::Dc, "title") if feed.title.is_none() => {
                    feed.title = Some(self.text_construct(child));
                }
                (Ns::Feed, "link") => links.consider(child, child_base.as_ref()),
                _ => {}
            }
        }
        // CDF puts the channel's link in an attribute.
        feed.link = links
            .best()
            .or_else(|| holder.attr("href").map(|h| resolve_link(h, base.as_ref())));
    }

    fn read_entry(&self, item: &Element, scope: &Scope, base: Option<&Url>) -> CanonEntry {
        let mut e = CanonEntry::default();
        let mut links = LinkChoice::default();
        for child in item.elements() {
            let inner = scope.enter(child);
            let child_base = xml_base(base.cloned(), child);
            let name = child.local_name().to_ascii_lowercase();
            self.read_entry_child(
                &mut e,
                &mut links,
                child,
                inner.of(child),
                &name,
                child_base.as_ref(),
            );
        }
        // Media RSS's title is the fallback for an entry without one.
        if e.title.is_none() {
            e.title = media_title(item, scope, 0).map(|t| CanonText::plain(t.text()));
        }
        // Identity and link stand-ins: RSS 1.0's rdf:about, CDF's href.
        if e.id.is_none() {
            e.id = item
                .attr("rdf:about")
                .or_else(|| item.attr("about"))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
        }
        e.link = links
            .best()
            .or_else(|| item.attr("href").map(|h| resolve_link(h, base)));
        if self.format == Format::Rss && e.updated.is_none() {
            // feed-rs dates an RSS 2.0 item's update by its publication; so must this route.
            e.updated.clone_from(&e.published);
        }
        e
    }

    fn read_entry_child(
        &self,
        e: &mut CanonEntry,
        links: &mut LinkChoice,
        child: &Element,
        ns: Ns,
        name: &str,
        base: Option<&Url>,
    ) {
        match (ns, name) {
            (Ns::Feed, "id" | "guid") if e.id.is_none() => e.id = non_empty(child.text()),
            (Ns::Feed, "title") if e.title.is_none() => e.title = Some(self.text_construct(child)),
            (Ns::Dc, "title") if e.title.is_none() => e.title = Some(self.text_construct(child)),
            (Ns::Feed, "link") => links.consider(child, base),
            (Ns::Feed, "description" | "summary" | "abstract") | (Ns::Dc, "description")
                if e.summary.is_none() =>
            {
                e.summary = Some(self.body_construct(child));
            }
            (Ns::Feed, "content" | "body" | "fullitem")
            | (Ns::Content, "encoded")
            | (Ns::Xhtml, "body")
                if e.content.is_none() && child.attr("src").is_none() =>
            {
                e.content = Some(self.body_construct(child));
            }
            (Ns::Feed, "pubdate" | "published" | "issued")
            | (Ns::Dc, "date")
            | (Ns::Dcterms, "issued" | "created")
                if e.published.is_none() =>
            {
                e.published = non_empty(child.text());
            }
            (Ns::Feed, "created") if e.created.is_none() => e.created = non_empty(child.text()),
            (Ns::Feed, "updated" | "modified") | (Ns::Dcterms, "modified")
                if e.updated.is_none() =>
            {
                e.updated = non_empty(child.text());
            }
            (Ns::Feed, "author") | (Ns::Dc, "creator" | "author") if e.author.is_none() => {
                e.author = person_of(child);
            }
            _ => {}
        }
    }

    /// A title-like element: plain text unless typed or written as markup.
    fn text_construct(&self, element: &Element) -> CanonText {
        match self.format {
            Format::Atom => atom_text(element, false),
            _ if element.has_elements() => CanonText::html(inner_markup(element)),
            _ => CanonText::plain(element.text()),
        }
    }

    /// A description or content element: HTML unless Atom says otherwise.
    fn body_construct(&self, element: &Element) -> CanonText {
        match self.format {
            Format::Atom => atom_text(element, true),
            _ if element.has_elements() => CanonText::html(inner_markup(element)),
            _ => CanonText::html(element.text()),
        }
    }
}

/// The page an entry (or the feed) points to: its first text `<link>` (RSS), else its first
/// alternate `<link href>` (Atom, or Atom inside RSS); links to related resources (self,
/// enclosure, replies) are not it.
#[derive(Default)]
struct LinkChoice {
    text: Option<String>,
    alternate: Option<String>,
}

impl LinkChoice {
    fn consider(&mut self, link: &Element, base: Option<&Url>) {
        let is_alternate = link
            .attr("rel")
            .is_none_or(|r| r.trim().eq_ignore_ascii_case("alternate"));
        if !is_alternate {
            return;
        }
        let slot = if link.attr("href").is_some() {
            &mut self.alternate
        } else {
            &mut self.text
        };
        if slot.is_none() {
            *slot = link_of(link, base);
        }
    }

    fn best(self) -> Option<String> {
        self.text.or(self.alternate)
    }
}

/// The first Media RSS title in an entry, also inside `<media:group>` or `<media:content>`.
fn media_title<'e>(element: &'e Element, scope: &Scope, depth: usize) -> Option<&'e Element> {
    if depth > 2 {
        return None;
    }
    element.elements().find_map(|child| {
        let inner = scope.enter(child);
        match inner.of(child) {
            Ns::Media if child.local_name().eq_ignore_ascii_case("title") => Some(child),
            Ns::Media => media_title(child, &inner, depth + 1),
            _ => None,
        }
    })
}

/// feedparser takes `<item>` and `<entry>` as entries in every dialect.
fn is_entry_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("item") || name.eq_ignore_ascii_case("entry")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_base_resolves_and_a_malformed_one_is_ignored() {
        let outer = Url::parse("http://example.org/feed/").ok();
        let relative = soup::parse_tree("<feed xml:base=\"sub/\"/>").unwrap();
        assert_eq!(
            xml_base(outer.clone(), &relative).map(String::from),
            Some("http://example.org/feed/sub/".to_string())
        );
        let broken = soup::parse_tree("<feed xml:base=\"http://[broken/\"/>").unwrap();
        assert_eq!(xml_base(outer.clone(), &broken), outer);
        assert_eq!(xml_base(None, &broken), None);
    }
}
