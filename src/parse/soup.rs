//! A forgiving XML reader: turns any text into a tree of elements and never fails.
//!
//! It recovers what feedparser's loose parser recovers: unclosed and mis-nested tags (an end tag
//! closes everything opened inside it; an end tag that matches nothing is dropped), bare `&` and
//! `<`, unquoted or unterminated attributes, tags cut off by the end of the document, undefined
//! HTML entities, and `<!ENTITY>` declarations in the DOCTYPE. Nesting is capped so that hostile
//! input cannot exhaust the stack in the recursive walks that follow.
//!
//! Over 400 lines on purpose: the tokenizer and the tree builder share one recovery policy, and
//! split apart each would half-describe it.

use std::collections::HashMap;

use super::entity::resolve_reference;

/// Deeper elements are flattened into their ancestor at this depth.
const MAX_DEPTH: usize = 128;

/// An element as written: qualified name, attributes (values decoded), children.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// A child of an element: an element, or text with references decoded and CDATA unwrapped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    /// The value of attribute `name` (qualified, compared without regard to ASCII case).
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The element's name without its namespace prefix.
    pub(crate) fn local_name(&self) -> &str {
        local_part(&self.name)
    }

    /// The namespace prefix of the element's name, if any.
    pub(crate) fn prefix(&self) -> Option<&str> {
        self.name.split_once(':').map(|(p, _)| p)
    }

    /// Child elements.
    pub(crate) fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Whether the element has child elements (as opposed to text only).
    pub(crate) fn has_elements(&self) -> bool {
        self.elements().next().is_some()
    }

    /// The element's text, with the text of any child elements included.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        self.push_text(&mut out, 0);
        out
    }

    fn push_text(&self, out: &mut String, depth: usize) {
        for child in &self.children {
            match child {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) if depth < MAX_DEPTH => e.push_text(out, depth + 1),
                Node::Element(_) => {}
            }
        }
    }
}

fn is_entry_tag(name: &str) -> bool {
    let local = local_part(name);
    local.eq_ignore_ascii_case("item") || local.eq_ignore_ascii_case("entry")
}

/// The part of a qualified name after its prefix.
pub(crate) fn local_part(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, local)| local)
}

/// Read `text` into a tree rooted at its first element; `None` when there is no element.
pub(crate) fn parse_tree(text: &str) -> Option<Element> {
    let mut builder = TreeBuilder::default();
    let mut pos = 0;
    let bytes = text.as_bytes();
    while pos < text.len() {
        let Some(lt) = memchr_lt(&bytes[pos..]).map(|i| pos + i) else {
            builder.text(&text[pos..]);
            break;
        };
        if lt > pos {
            builder.text(&text[pos..lt]);
        }
        pos = read_markup(text, lt, &mut builder);
    }
    builder.finish()
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'<')
}

/// Read the markup at `lt` (a `<`) and return where reading continues.
fn read_markup(text: &str, lt: usize, builder: &mut TreeBuilder) -> usize {
    let rest = &text[lt..];
    if let Some(body) = rest.strip_prefix("<!--") {
        return lt + 4 + body.find("-->").map_or(body.len(), |end| end + 3);
    }
    if let Some(body) = rest.strip_prefix("<![CDATA[") {
        let end = body.find("]]>").unwrap_or(body.len());
        builder.raw_text(&body[..end]);
        return lt + 9 + (end + 3).min(body.len());
    }
    if rest.starts_with("<!") {
        let len = declaration_len(rest);
        builder.declaration(&rest[..len]);
        return lt + len;
    }
    if let Some(body) = rest.strip_prefix("<?") {
        return lt + 2 + body.find("?>").map_or(body.len(), |end| end + 2);
    }
    if let Some(body) = rest.strip_prefix("</") {
        let name_len = name_len(body);
        if name_len == 0 {
            builder.text("<");
            return lt + 1;
        }
        builder.end(&body[..name_len]);
        return lt + 2 + body.find('>').map_or(body.len(), |end| end + 1);
    }
    let body = &rest[1..];
    let name_len = name_len(body);
    if name_len == 0 || !body.starts_with(|c: char| c.is_alphabetic() || c == '_' || c == ':') {
        builder.text("<");
        return lt + 1;
    }
    let (attrs, self_closing, consumed) = read_attributes(&body[name_len..], builder);
    builder.start(&body[..name_len], attrs, self_closing);
    lt + 1 + name_len + consumed
}

/// Length of a `<!...>` declaration, skipping a bracketed internal subset.
fn declaration_len(rest: &str) -> usize {
    let mut in_subset = false;
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices().skip(2) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if in_subset => quote = Some(c),
            (None, '[') => in_subset = true,
            (None, ']') => in_subset = false,
            (None, '>') if !in_subset => return i + 1,
            _ => {}
        }
    }
    rest.len()
}

fn name_len(s: &str) -> usize {
    s.find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '<' | '=' | '"' | '\''))
        .unwrap_or(s.len())
}

/// Parse attributes up to the end of a start tag; returns them, whether the tag closed
/// itself, and how many bytes were consumed (through the `>`, or to the end of the text).
fn read_attributes(s: &str, builder: &mut TreeBuilder) -> (Vec<(String, String)>, bool, usize) {
    let mut attrs: Vec<(String, String)> = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &s[pos..];
        let trimmed = rest.trim_start();
        pos += rest.len() - trimmed.len();
        if trimmed.is_empty() {
            return (attrs, false, s.len());
        }
        if trimmed.starts_with('>') {
            return (attrs, false, pos + 1);
        }
        if trimmed.starts_with("/>") {
            return (attrs, true, pos + 2);
        }
        if trimmed.starts_with('<') {
            // A tag cut short by the next one: end it here.
            return (attrs, false, pos);
        }
        let name_len = name_len(trimmed).max(1);
        let name = &trimmed[..name_len];
        pos += name_len;
        let after = s[pos..].trim_start();
        let mut value = String::new();
        if let Some(v) = after.strip_prefix('=') {
            let v = v.trim_start();
            pos = s.len() - v.len();
            let (raw, consumed) = attribute_value(v);
            value = builder.decode(raw);
            pos += consumed;
        }
        let name = name.trim_matches(['"', '\'', '/']);
        let named = name.starts_with(|c: char| c.is_alphabetic() || c == '_' || c == ':');
        if named && !attrs.iter().any(|(k, _)| k == name) {
            attrs.push((name.to_string(), value));
        }
    }
}

/// An attribute value (quoted, or bare up to whitespace or `>`) and the bytes it used.
fn attribute_value(v: &str) -> (&str, usize) {
    match v.chars().next() {
        Some(q @ ('"' | '\'')) => match v[1..].find(q) {
            Some(end) => (&v[1..1 + end], end + 2),
            // Unterminated: the value runs to the end of the tag.
            None => {
                let end = v[1..].find('>').unwrap_or(v.len() - 1);
                (&v[1..1 + end], 1 + end)
            }
        },
        _ => {
            let end = v
                .find(|c: char| c.is_whitespace() || c == '>')
                .unwrap_or(v.len());
            (&v[..end], end)
        }
    }
}

struct TreeBuilder {
    /// Open elements; the root is never popped, so content after a premature root end tag
    /// still lands in the tree (feedparser keeps reading past it too).
    stack: Vec<Element>,
    root_seen: bool,
    /// Elements ignored because the depth cap was reached.
    ignored_depth: usize,
    entities: HashMap<String, String>,
    /// Bytes that DOCTYPE entities may still add to the document.
    expansion_budget: usize,
}

/// Longest DOCTYPE entity value kept.
const MAX_ENTITY_VALUE: usize = 1024;

/// Total bytes DOCTYPE entities may add to one document.
const ENTITY_EXPANSION_BUDGET: usize = 1 << 20;

impl Default for TreeBuilder {
    fn default() -> Self {
        TreeBuilder {
            stack: Vec::new(),
            root_seen: false,
            ignored_depth: 0,
            entities: HashMap::new(),
            expansion_budget: ENTITY_EXPANSION_BUDGET,
        }
    }
}

impl TreeBuilder {
    fn start(&mut self, name: &str, attrs: Vec<(String, String)>, self_closing: bool) {
        if self.stack.is_empty() && self.root_seen {
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            if !self_closing {
                self.ignored_depth += 1;
            }
            return;
        }
        self.root_seen = true;
        if is_entry_tag(name) {
            // Entries never nest: an unclosed <item> ends where the next one starts, as in
            // feedparser, which opens a new entry at every <item>/<entry> start tag.
            if let Some(open) = self.stack.iter().rposition(|e| is_entry_tag(&e.name)) {
                while self.stack.len() > open.max(1) {
                    self.close_top();
                }
            }
        }
        let element = Element {
            name: name.to_string(),
            attrs,
            children: Vec::new(),
        };
        if self_closing && !self.stack.is_empty() {
            self.append(Node::Element(element));
        } else {
            self.stack.push(element);
        }
    }

    fn end(&mut self, name: &str) {
        if self.ignored_depth > 0 {
            self.ignored_depth -= 1;
            return;
        }
        let Some(pos) = self
            .stack
            .iter()
            .rposition(|e| e.name.eq_ignore_ascii_case(name))
        else {
            return;
        };
        // Close everything opened inside the matched element, then the element itself
        // (but never the root).
        while self.stack.len() > pos.max(1) {
            self.close_top();
        }
    }

    fn close_top(&mut self) {
        if let Some(done) = self.stack.pop() {
            self.append(Node::Element(done));
        }
    }

    fn append(&mut self, node: Node) {
        let Some(parent) = self.stack.last_mut() else {
            return;
        };
        match (parent.children.last_mut(), node) {
            (Some(Node::Text(prev)), Node::Text(t)) => prev.push_str(&t),
            (_, node) => parent.children.push(node),
        }
    }

    fn text(&mut self, raw: &str) {
        if self.stack.is_empty() {
            return;
        }
        let decoded = self.decode(raw);
        self.append(Node::Text(decoded));
    }

    fn raw_text(&mut self, raw: &str) {
        if !self.stack.is_empty() {
            self.append(Node::Text(raw.to_string()));
        }
    }

    /// Decode references, using the DOCTYPE's entities as well as HTML's.
    fn decode(&mut self, raw: &str) -> String {
        self.decode_with(raw, true)
    }

    /// Decode references; `custom` allows the DOCTYPE's entities, within the expansion budget
    /// (so that entities defined by entities cannot blow a small document up).
    fn decode_with(&mut self, raw: &str, custom: bool) -> String {
        if !raw.contains('&') {
            return raw.to_string();
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(pos) = rest.find('&') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            let end = after
                .find(|c: char| c == ';' || c == '&' || c == '<' || c.is_whitespace())
                .filter(|&end| after[end..].starts_with(';') && end > 0);
            let resolved = end.and_then(|end| {
                let name = &after[..end];
                let declared = self
                    .entities
                    .get(name)
                    .filter(|v| custom && v.len() <= self.expansion_budget);
                match declared {
                    Some(v) => {
                        self.expansion_budget -= v.len();
                        Some(v.clone())
                    }
                    None => resolve_reference(name).map(|c| {
                        let mut s = String::new();
                        c.push_to(&mut s);
                        s
                    }),
                }
                .map(|v| (v, end))
            });
            match resolved {
                Some((v, end)) => {
                    out.push_str(&v);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('&');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Note `<!ENTITY name "value">` declarations from a DOCTYPE's internal subset.
    fn declaration(&mut self, decl: &str) {
        let mut rest = decl;
        while let Some(pos) = rest.find("<!ENTITY") {
            rest = &rest[pos + 8..];
            let mut words = rest.trim_start().splitn(2, char::is_whitespace);
            let (Some(name), Some(tail)) = (words.next(), words.next()) else {
                break;
            };
            if name == "%" {
                continue;
            }
            let tail = tail.trim_start();
            if let Some(q @ ('"' | '\'')) = tail.chars().next() {
                if let Some(end) = tail[1..].find(q).filter(|&end| end <= MAX_ENTITY_VALUE) {
                    let value = self.decode_with(&tail[1..1 + end], false);
                    self.entities.entry(name.to_string()).or_insert(value);
                }
            }
        }
    }

    fn finish(mut self) -> Option<Element> {
        while self.stack.len() > 1 {
            self.close_top();
        }
        self.stack.pop()
    }
}

#[cfg(test)]
#[path = "soup_tests.rs"]
mod tests;
