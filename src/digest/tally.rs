//! What a digest shows of one event's reports, gathered one report at a time: how many there
//! are, who carried them, the headline's link and the first few reports (where an excerpt is
//! found). An event of any size is tallied without holding its reports, so a gatherer can
//! stream a huge week through it; composition reads only the tally.

use std::collections::HashSet;

use serde::Serialize;

use super::model::{ItemIn, Outlet};
use super::outlets::{outlet_name_of, safe_link};
use super::sanitize::collapse_whitespace;

/// Outlets listed under one development or update; the rest are counted.
pub const MAX_OUTLETS: usize = 20;
/// Reports examined for an excerpt; a big story's development can gather hundreds, and the
/// earliest ones are where a summary worth quoting is found.
pub const MAX_EXCERPT_CANDIDATES: usize = 25;

/// One event's reports, tallied in report order ([`report_order`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Every report added.
    pub count: usize,
    /// The first [`MAX_EXCERPT_CANDIDATES`] reports.
    pub first: Vec<ItemIn>,
    /// The first linkable report's URL: the headline's link.
    pub link: Option<String>,
    /// The first non-empty title, whitespace collapsed: the headline when the event has none.
    pub title: Option<String>,
    /// The first [`MAX_OUTLETS`] outlets in reporting order, each linked to its first
    /// linkable report.
    pub outlets: Vec<Outlet>,
    /// Every outlet's name, lowercased: "TechWire" and "techwire" are one outlet.
    #[serde(skip)]
    names: HashSet<String>,
}

impl Tally {
    /// The tally of `items`, in any order.
    pub fn of(items: Vec<ItemIn>) -> Tally {
        let mut items = items;
        items.sort_by(|a, b| report_order(a).cmp(&report_order(b)));
        let mut tally = Tally::default();
        for item in items {
            tally.add(item);
        }
        tally
    }

    /// Count one more report; reports must come in [`report_order`].
    pub fn add(&mut self, item: ItemIn) {
        self.count += 1;
        let url = safe_link(item.url.as_deref());
        if self.link.is_none() {
            self.link.clone_from(&url);
        }
        if self.title.is_none() {
            self.title = item
                .title
                .as_deref()
                .map(collapse_whitespace)
                .filter(|t| !t.is_empty());
        }
        let name = outlet_name_of(item.outlet.as_deref(), item.url.as_deref(), &item.source);
        let key = name.to_lowercase();
        if self.names.contains(&key) {
            // A listed outlet takes the first of its reports that has a usable link.
            if let Some(listed) = self
                .outlets
                .iter_mut()
                .find(|o| o.url.is_none() && o.name.to_lowercase() == key)
            {
                listed.url = url;
            }
        } else {
            self.names.insert(key);
            if self.outlets.len() < MAX_OUTLETS {
                self.outlets.push(Outlet { name, url });
            }
        }
        if self.first.len() < MAX_EXCERPT_CANDIDATES {
            self.first.push(item);
        }
    }

    /// How many outlets carried the event.
    pub fn outlet_count(&self) -> usize {
        self.names.len()
    }

    /// Every outlet's name, lowercased.
    pub fn outlet_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// The order reports are read in: earliest published first (undated last), then source and
/// guid, which identify an item.
pub fn report_order(i: &ItemIn) -> (bool, Option<chrono::DateTime<chrono::Utc>>, &str, &str) {
    (i.published.is_none(), i.published, &i.source, &i.guid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(source: &str, guid: &str, url: Option<&str>, outlet: Option<&str>) -> ItemIn {
        ItemIn {
            source: source.into(),
            guid: guid.into(),
            url: url.map(str::to_string),
            title: None,
            published: None,
            outlet: outlet.map(str::to_string),
            summary_html: None,
        }
    }

    #[test]
    fn outlets_are_listed_once_with_their_first_link_and_counted_past_the_cap() {
        let mut items = vec![
            item("s", "a", Some("javascript:x"), Some("TechWire")),
            item("s", "b", Some("https://tw.example/b"), Some("techwire")),
            item("s", "c", Some("https://www.other.example/c"), None),
        ];
        for k in 0..MAX_OUTLETS + 5 {
            items.push(item("t", &format!("z{k:02}"), None, Some(&format!("O{k}"))));
        }
        let t = Tally::of(items);
        assert_eq!(t.count, MAX_OUTLETS + 8);
        assert_eq!(t.outlet_count(), MAX_OUTLETS + 7);
        assert_eq!(t.outlets.len(), MAX_OUTLETS);
        assert_eq!(t.outlets[0].name, "TechWire");
        assert_eq!(t.outlets[0].url.as_deref(), Some("https://tw.example/b"));
        assert_eq!(t.outlets[1].name, "other.example");
        assert_eq!(t.link.as_deref(), Some("https://tw.example/b"));
        assert_eq!(t.first.len(), MAX_EXCERPT_CANDIDATES);
        assert_eq!(t.first[0].guid, "a");
    }
}
