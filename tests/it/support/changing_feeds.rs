//! Feeds for the crash trials that change between runs, as real ones do: items are updated in
//! place (same guid, new title and text), items that did not mention the story start to, and
//! new items appear. Some items name the story (Llama 4, on one of a few developments), the
//! others do not; every title carries its version (`#vN`) so a test can tell which version
//! the store holds.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use super::crash::Rng;
use super::feed_server::{FeedServer, Route};

/// Developments of the story; items on one are worded alike, so they form one event.
const TOPICS: [&str; 6] = [
    "Scout and Maverick open weights released by Meta",
    "Behemoth training run delayed again",
    "Maverick benchmark results questioned by researchers",
    "license terms criticized by open source developers",
    "LlamaCon developer conference keynote announcements",
    "API pricing announced for cloud customers",
];
/// Things that are not the story.
const OTHER: [&str; 4] = [
    "Spring gardening tips for tomatoes",
    "City council approves the budget",
    "Local football club wins the derby",
    "Weather outlook for the weekend",
];

/// One item as the feed serves it now.
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub guid: String,
    /// The development it reports, when it names the story.
    pub topic: Option<usize>,
    pub version: u32,
    pub published: DateTime<Utc>,
}

impl FeedItem {
    pub fn title(&self) -> String {
        match self.topic {
            Some(t) => format!("Llama 4: {} ({}) #v{}", TOPICS[t], self.guid, self.version),
            None => format!(
                "{} ({}) #v{}",
                OTHER[self.guid.len() % OTHER.len()],
                self.guid,
                self.version
            ),
        }
    }

    fn description(&self) -> String {
        match self.topic {
            Some(t) => format!(
                "Meta and Llama 4: {}. Report {} in its version {}.",
                TOPICS[t], self.guid, self.version
            ),
            None => format!(
                "{}. Note {} in its version {}.",
                OTHER[self.guid.len() % OTHER.len()],
                self.guid,
                self.version
            ),
        }
    }
}

/// The version a stored title carries.
pub fn version_of(title: &str) -> Option<u32> {
    title.rsplit_once("#v")?.1.parse().ok()
}

/// Does this (stored or served) title name the story?
pub fn names_story(title: &str) -> bool {
    title.contains("Llama 4")
}

/// A trial's feeds: path -> items, in feed order.
pub struct ChangingFeeds {
    pub feeds: BTreeMap<String, Vec<FeedItem>>,
    prefix: String,
    next: usize,
    from: DateTime<Utc>,
    span_secs: u64,
}

impl ChangingFeeds {
    /// `feeds` feeds of `items` items each (inclusive ranges), published between `from` and
    /// `span` later; paths and guids start with `prefix`.
    pub fn new(
        rng: &mut Rng,
        prefix: &str,
        feeds: (u64, u64),
        items: (u64, u64),
        from: DateTime<Utc>,
        span: Duration,
    ) -> ChangingFeeds {
        let mut me = ChangingFeeds {
            feeds: BTreeMap::new(),
            prefix: prefix.to_string(),
            next: 0,
            from,
            span_secs: span.num_seconds().max(1) as u64,
        };
        for f in 0..rng.range(feeds.0, feeds.1) {
            let path = format!("/{prefix}/f{f}.xml");
            let list = (0..rng.range(items.0, items.1))
                .map(|_| me.fresh(rng))
                .collect();
            me.feeds.insert(path, list);
        }
        me
    }

    fn fresh(&mut self, rng: &mut Rng) -> FeedItem {
        self.next += 1;
        FeedItem {
            guid: format!("{}-i{}", self.prefix, self.next),
            topic: rng
                .chance(45)
                .then(|| rng.range(0, TOPICS.len() as u64 - 1) as usize),
            version: 1,
            published: self.from + Duration::seconds(rng.range(0, self.span_secs) as i64),
        }
    }

    /// Change the feeds as a publisher would between two polls: about a quarter of the
    /// items updated in place, a few that did not name the story now do, 0-2 new items per
    /// feed; with `every_feed`, at least one item of each feed. Returns how many items changed
    /// or appeared.
    pub fn change(&mut self, rng: &mut Rng, every_feed: bool) -> usize {
        let mut changed = 0;
        let paths: Vec<String> = self.feeds.keys().cloned().collect();
        for path in paths {
            let mut added = Vec::new();
            for _ in 0..rng.range(0, 2) {
                added.push(self.fresh(rng));
            }
            let list = self.feeds.get_mut(&path).unwrap();
            let mut here = 0;
            for it in list.iter_mut() {
                if rng.chance(25) {
                    it.version += 1;
                    if it.topic.is_none() && rng.chance(20) {
                        it.topic = Some(rng.range(0, TOPICS.len() as u64 - 1) as usize);
                    }
                    here += 1;
                }
            }
            if every_feed && here == 0 && added.is_empty() {
                // Nothing changed in this feed: its first item gets an update.
                if let Some(it) = list.first_mut() {
                    it.version += 1;
                    here += 1;
                }
            }
            changed += here;
            changed += added.len();
            list.extend(added);
        }
        changed
    }

    /// Serve the current versions (a changed feed gets a new ETag).
    pub fn serve(&self, server: &FeedServer) {
        for (path, items) in &self.feeds {
            server.route(path, Route::feed(self.rss(items)));
        }
    }

    fn rss(&self, items: &[FeedItem]) -> String {
        let body: String = items
            .iter()
            .map(|it| {
                format!(
                    "<item><guid>{g}</guid><title>{t}</title>\
                     <link>https://news.example.org/{g}</link>\
                     <description>{d}</description><pubDate>{p}</pubDate></item>",
                    g = it.guid,
                    t = it.title(),
                    d = it.description(),
                    p = it.published.to_rfc2822()
                )
            })
            .collect();
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{}</title>\
             <link>https://news.example.org/</link>{body}</channel></rss>",
            self.prefix
        )
    }

    /// guid -> the version served now.
    pub fn latest(&self) -> HashMap<String, u32> {
        self.feeds
            .values()
            .flatten()
            .map(|it| (it.guid.clone(), it.version))
            .collect()
    }

    pub fn paths(&self) -> impl Iterator<Item = &String> {
        self.feeds.keys()
    }

    pub fn len(&self) -> usize {
        self.feeds.len()
    }
}
