//! What clustering compares: an item's stemmed words (title, link slug, lead), weighted by
//! how rare they are in the story, and the pages it is or links to.

use std::collections::{HashMap, HashSet};

use super::text::{first_tokens, is_stopword, slug_words, strip_outlet_suffix, Analyzer};

/// Body words read for similarity: the lead.
const LEAD_WORDS: usize = 40;
/// Terms in more than this share of the story's items say nothing about one event; they are
/// not used to look up candidates.
const COMMON_SHARE: f32 = 0.5;

/// The words of an item that clustering compares, stemmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms {
    pub title: Vec<String>,
    /// Words of the link's slug that the title lacks (a link aggregator's only text).
    pub slug: Vec<String>,
    /// The lead of the body.
    pub lead: Vec<String>,
}

impl Terms {
    /// Read an item's title, plain-text body and link.
    pub fn from_item(
        analyzer: &Analyzer,
        title: &str,
        outlet: Option<&str>,
        body: &str,
        url: Option<&str>,
    ) -> Terms {
        let title = analyzer.content_stems(strip_outlet_suffix(title, outlet));
        let slug: Vec<String> = url
            .map(slug_words)
            .unwrap_or_default()
            .iter()
            .filter(|w| !is_stopword(w))
            .map(|w| analyzer.stem(w))
            .filter(|s| !title.contains(s))
            .collect();
        let content = |t: &[String]| t.iter().filter(|t| !is_stopword(t)).count() >= LEAD_WORDS;
        let mut lead: Vec<String> = first_tokens(body, content)
            .iter()
            .filter(|t| !is_stopword(t))
            .take(LEAD_WORDS)
            .map(|t| analyzer.stem(t))
            .collect();
        // A body that mostly repeats the title (Google News: title and outlet) adds nothing.
        let repeated = lead.iter().filter(|w| title.contains(w)).count();
        if repeated * 5 >= lead.len() * 4 {
            lead.clear();
        }
        Terms { title, slug, lead }
    }

    /// Compact stored form: "title words|slug words|lead words".
    pub fn encode(&self) -> String {
        format!(
            "{}|{}|{}",
            self.title.join(" "),
            self.slug.join(" "),
            self.lead.join(" ")
        )
    }

    /// The inverse of [`Terms::encode`]; anything unreadable reads as no words.
    pub fn decode(s: &str) -> Terms {
        let mut parts = s.splitn(3, '|');
        let mut words = || -> Vec<String> {
            parts
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect()
        };
        Terms {
            title: words(),
            slug: words(),
            lead: words(),
        }
    }

    fn distinct(&self) -> impl Iterator<Item = &String> {
        let mut seen = HashSet::new();
        self.title
            .iter()
            .chain(&self.slug)
            .chain(&self.lead)
            .filter(move |t| seen.insert(t.as_str()))
    }
}

/// Document frequencies over a story's items.
#[derive(Debug, Clone, Default)]
pub struct Idf {
    docs: u32,
    df: HashMap<String, u32>,
    /// The words that name the story, and how many items the story is assumed to have beyond
    /// those counted (see [`Idf::naming`]).
    named: HashSet<String>,
    prior: u32,
}

/// The items a story is assumed to have before it has them: enough that a word met once is
/// rare and the story's own name is common from its first round, as they will be.
const PRIOR_ITEMS: u32 = 20;

impl Idf {
    /// Frequencies that know from the start what a grown story teaches: the stems that name
    /// it (`named`) are in every item and say nothing about which development an item
    /// reports, and the story has many items. Without this, a young story's first few items
    /// share its name and little else, and a new development two days later looks like the
    /// first one.
    pub fn naming(named: HashSet<String>) -> Idf {
        Idf {
            named,
            prior: PRIOR_ITEMS,
            ..Idf::default()
        }
    }

    /// Count one item's terms.
    pub fn add(&mut self, terms: &Terms) {
        self.docs += 1;
        for t in terms.distinct() {
            *self.df.entry(t.clone()).or_default() += 1;
        }
    }

    /// Smoothed inverse document frequency; unseen terms weigh most.
    pub fn weight(&self, term: &str) -> f32 {
        let (docs, df) = self.counts(term);
        ((1.0 + docs) / (1.0 + df)).ln() + 1.0
    }

    /// In so many of the story's items that it cannot tell events apart.
    pub fn common(&self, term: &str) -> bool {
        let (docs, df) = self.counts(term);
        docs >= 20.0 && df > COMMON_SHARE * docs
    }

    /// Documents, and documents holding `term`, with the prior counted in.
    fn counts(&self, term: &str) -> (f32, f32) {
        let df = self.df.get(term).copied().unwrap_or(0);
        let named = if self.named.contains(term) {
            self.prior
        } else {
            0
        };
        ((self.docs + self.prior) as f32, (df + named) as f32)
    }
}

/// A weighted, normalised term vector, sorted by term id.
#[derive(Debug, Clone, Default)]
pub struct Vector(pub Vec<(u32, f32)>);

impl Vector {
    /// Cosine with another normalised vector.
    pub fn dot(&self, other: &Vector) -> f32 {
        let (mut i, mut j, mut s) = (0, 0, 0.0);
        while i < self.0.len() && j < other.0.len() {
            match self.0[i].0.cmp(&other.0[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    s += self.0[i].1 * other.0[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        s
    }

    /// Cosine with an unnormalised sparse sum (an event's centroid) of norm `norm`.
    pub fn cosine_with_sum(&self, sum: &HashMap<u32, f32>, norm: f32) -> f32 {
        if norm <= 0.0 {
            return 0.0;
        }
        self.0
            .iter()
            .map(|(t, w)| w * sum.get(t).copied().unwrap_or(0.0))
            .sum::<f32>()
            / norm
    }
}

/// One vector spread over a dense array by term id, to take many dot products with it: each
/// costs one lookup per term of the other vector instead of a merge of both. The sum runs
/// over the same matching terms in the same order as [`Vector::dot`], so the results are
/// bit-for-bit the same.
#[derive(Debug, Default)]
pub struct Spread {
    weights: Vec<f32>,
    loaded: Vec<u32>,
}

impl Spread {
    /// Spread `v`, replacing what was spread before.
    pub fn load(&mut self, v: &Vector) {
        for &t in &self.loaded {
            self.weights[t as usize] = 0.0;
        }
        self.loaded.clear();
        for &(t, w) in &v.0 {
            let i = t as usize;
            if i >= self.weights.len() {
                self.weights.resize(i + 1, 0.0);
            }
            self.weights[i] = w;
            self.loaded.push(t);
        }
    }

    /// The loaded vector's dot product with `other`.
    pub fn dot(&self, other: &Vector) -> f32 {
        let mut s = 0.0;
        for &(t, w) in &other.0 {
            if let Some(&x) = self.weights.get(t as usize) {
                if x != 0.0 {
                    s += x * w;
                }
            }
        }
        s
    }
}

/// Term ids and weights for a round of clustering. It owns the story's document frequencies,
/// so a round processed in pages can count each page's items before placing them.
#[derive(Debug)]
pub struct Weighting {
    idf: Idf,
    vocab: HashMap<String, u32>,
    names: Vec<String>,
    /// Which term ids are too common to look candidates up by, as of the last count.
    common: HashSet<u32>,
}

impl Weighting {
    pub fn new(idf: Idf) -> Weighting {
        Weighting {
            idf,
            vocab: HashMap::new(),
            names: Vec::new(),
            common: HashSet::new(),
        }
    }

    /// Count more of the story's items (a page's relevant items, before they are placed).
    pub fn count(&mut self, terms: &[&Terms]) {
        if terms.is_empty() {
            return;
        }
        for t in terms {
            self.idf.add(t);
        }
        self.common = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, name)| self.idf.common(name))
            .map(|(i, _)| i as u32)
            .collect();
    }

    /// Title words count twice, slug words once, lead words half per use (at most once).
    pub fn vector(&mut self, terms: &Terms) -> Vector {
        let mut tf: HashMap<&str, f32> = HashMap::new();
        for t in &terms.title {
            tf.insert(t, 2.0);
        }
        for t in &terms.slug {
            *tf.entry(t).or_default() += 1.0;
        }
        let mut lead: HashMap<&str, f32> = HashMap::new();
        for t in &terms.lead {
            let c = lead.entry(t).or_default();
            *c = (*c + 1.0).min(2.0);
        }
        for (t, c) in lead {
            *tf.entry(t).or_default() += c;
        }
        let mut v: Vec<(u32, f32)> = tf
            .into_iter()
            .map(|(t, f)| (self.term_id(t), f * self.idf.weight(t)))
            .collect();
        v.sort_unstable_by_key(|(t, _)| *t);
        let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, w) in &mut v {
                *w /= norm;
            }
        }
        Vector(v)
    }

    /// Is this term too common to look candidates up by?
    pub fn is_common(&self, id: u32) -> bool {
        self.common.contains(&id)
    }

    /// The word a term id stands for.
    pub fn term(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }

    fn term_id(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.vocab.get(term) {
            return id;
        }
        let id = self.vocab.len() as u32;
        self.vocab.insert(term.to_string(), id);
        self.names.push(term.to_string());
        if self.idf.common(term) {
            self.common.insert(id);
        }
        id
    }
}

/// The comparison form of a page URL: canonical (tracking parameters and fragment gone), and
/// only for pages that are articles, not a site's front page, which unrelated items share.
pub fn page_key(url: &str) -> Option<String> {
    let canon = crate::value::canon::canonical_url(url, None)?;
    let parsed = url::Url::parse(&canon).ok()?;
    let is_front = parsed.path().trim_matches('/').is_empty() && parsed.query().is_none();
    (!is_front).then_some(canon)
}

/// The pages an item is or points to: its link, canonical link and discussion page, and its
/// guid when that is a URL.
pub fn page_keys<'u>(urls: impl IntoIterator<Item = &'u str>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    // An item's link, canonical link and guid are often the same string: parse it once.
    let mut read: Vec<&str> = Vec::new();
    for u in urls {
        if read.contains(&u) {
            continue;
        }
        read.push(u);
        if let Some(k) = page_key(u) {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}
