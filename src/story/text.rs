//! Text as the story module reads it: HTML stripped to words, aggregator boilerplate removed,
//! tokens lowercased, stemmed for comparison, and a small stopword list.

use rust_stemmers::{Algorithm, Stemmer};

/// How many characters of a body are read; leads carry the news, and tokenizing whole
/// articles would make relevance cost grow with article length.
const BODY_CHARS: usize = 4000;

/// Words too common in news titles to say anything about which event a title reports.
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
    "at", "be", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does",
    "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is",
    "it", "its", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on",
    "once", "only", "or", "other", "our", "out", "over", "own", "same", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "you", "your", "yours", "says", "said", "say", "new", "via", "s", "t", "vs", "us", "get",
    "gets", "one", "two", "still", "yet", "ever", "really", "anyone", "everyone", "thing",
];

/// Stems words; one per caller, no global state.
pub struct Analyzer {
    stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new()
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Analyzer(english)")
    }
}

impl Analyzer {
    /// An English analyzer.
    pub fn new() -> Analyzer {
        Analyzer {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    /// The comparison form of a lowercase token: numbers stay as written, words are stemmed.
    pub fn stem(&self, token: &str) -> String {
        if token.chars().any(|c| c.is_ascii_digit()) {
            token.to_string()
        } else {
            self.stemmer.stem(token).into_owned()
        }
    }

    /// Stems of the content words of `text` (stopwords dropped).
    pub fn content_stems(&self, text: &str) -> Vec<String> {
        tokenize(text)
            .iter()
            .filter(|t| !is_stopword(t))
            .map(|t| self.stem(t))
            .collect()
    }
}

/// True for words that carry no topic.
pub fn is_stopword(token: &str) -> bool {
    STOPWORDS.contains(&token)
}

/// The readable text of an HTML fragment (entities decoded, tags read as spaces, whitespace
/// collapsed), from its first `BODY_CHARS * 2` bytes. Plain text passes through unchanged
/// apart from whitespace.
pub fn html_to_text(html: &str) -> String {
    crate::parse::html_words(html, BODY_CHARS * 2)
}

/// Remove what aggregators wrap around the news: hnrss' URL and score lines, Reddit's
/// "submitted by" footer, WordPress' "The post … appeared first on …", bare URLs.
pub fn strip_boilerplate(text: &str) -> String {
    let mut t = text.to_string();
    if let Some(i) = t
        .find("submitted by /u/")
        .or_else(|| t.find("submitted by  /u/"))
    {
        t.truncate(i);
    }
    if let Some(i) = t.find(" appeared first on ") {
        match t[..i].rfind("The post ") {
            Some(j) => t.truncate(j),
            None => t.truncate(i),
        }
    }
    let mut out: Vec<&str> = Vec::new();
    let mut skip_next = false;
    for w in t.split_whitespace() {
        if skip_next {
            skip_next = false;
            continue;
        }
        if w.starts_with("http://") || w.starts_with("https://") {
            continue;
        }
        match w {
            "Points:" | "URL:" => {
                // "Points: 12", "Article URL: https://…": the value goes too.
                if out
                    .last()
                    .is_some_and(|p| *p == "Article" || *p == "Comments")
                {
                    out.pop();
                }
                skip_next = w == "Points:";
                continue;
            }
            "Comments:" if out.last() == Some(&"#") => {
                out.pop();
                skip_next = true;
                continue;
            }
            "[link]" | "[comments]" => continue,
            _ => out.push(w),
        }
    }
    out.join(" ")
}

/// A title without a trailing " - Outlet Name" (Google News style). The suffix goes when it
/// equals the known outlet, or when it reads like a name: one to five capitalized words.
pub fn strip_outlet_suffix<'a>(title: &'a str, outlet: Option<&str>) -> &'a str {
    let title = title.trim();
    let Some(i) = title.rfind(" - ") else {
        return title;
    };
    let (head, tail) = (title[..i].trim_end(), title[i + 3..].trim());
    if head.split_whitespace().count() < 3 {
        return title;
    }
    if outlet.is_some_and(|o| o.trim().eq_ignore_ascii_case(tail)) {
        return head;
    }
    let words: Vec<&str> = tail.split_whitespace().collect();
    let name_like = (1..=5).contains(&words.len())
        && words.iter().all(|w| {
            w.chars().next().is_some_and(|c| c.is_uppercase())
                || matches!(*w, "of" | "the" | "and" | "&" | "for")
        })
        && !tail.ends_with('?');
    if name_like {
        head
    } else {
        title
    }
}

/// The tokens of the start of `text`, read in growing prefixes until `enough` says so or the
/// text ends: matching needs a body's first words, not all of them. Every token returned is
/// as [`tokenize`] gives it (the last, possibly cut, token of a prefix is not returned).
pub fn first_tokens(text: &str, enough: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut len = 512;
    loop {
        if len >= text.len() {
            return tokenize(text);
        }
        let mut tokens = tokenize(truncate_chars(text, len));
        tokens.pop();
        if enough(&tokens) {
            return tokens;
        }
        len *= 2;
    }
}

/// Lowercase word tokens. Letters and digits make words; `.` stays inside numbers (3.1);
/// a possessive `'s` is dropped; "llama4" splits into "llama" "4".
pub fn tokenize(text: &str) -> Vec<String> {
    tokenize_cased(text).into_iter().map(|(t, _)| t).collect()
}

/// As [`tokenize`], with whether each token was written with a capital (a name).
pub fn tokenize_cased(text: &str) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut capital = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() {
            if cur.is_empty() {
                capital = c.is_uppercase();
            }
            cur.extend(c.to_lowercase());
        } else if c == '.'
            && cur.chars().last().is_some_and(|p| p.is_ascii_digit())
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())
        {
            cur.push('.');
        } else if matches!(c, '\'' | '’') && !cur.is_empty() {
            let next = chars.get(i + 1).copied();
            let after = chars.get(i + 2).copied();
            if matches!(next, Some('s') | Some('S')) && !after.is_some_and(|a| a.is_alphanumeric())
            {
                // possessive: "Meta's" is "meta"
                i += 1;
            }
            // other apostrophes join: "wasn't" -> "wasnt"
        } else if !cur.is_empty() {
            push_token(&mut out, std::mem::take(&mut cur), capital);
        }
        i += 1;
    }
    if !cur.is_empty() {
        push_token(&mut out, cur, capital);
    }
    out
}

fn push_token(out: &mut Vec<(String, bool)>, tok: String, capital: bool) {
    // "llama4" -> "llama", "4": letters followed by a number name a version.
    if let Some(split) = tok.find(|c: char| c.is_ascii_digit()) {
        let (head, tail) = tok.split_at(split);
        if split >= 3
            && head.chars().all(char::is_alphabetic)
            && tail.chars().all(|c| c.is_ascii_digit() || c == '.')
        {
            out.push((head.to_string(), capital));
            out.push((tail.to_string(), false));
            return;
        }
    }
    out.push((tok, capital));
}

/// The words of a URL's last path segment when it is a readable slug
/// ("/2025/05/15/meta-delays-flagship-model" -> meta, delays, flagship, model). Numbers and
/// opaque ids are left out.
pub fn slug_words(url: &str) -> Vec<String> {
    let Ok(u) = url::Url::parse(url) else {
        return Vec::new();
    };
    let Some(seg) = u
        .path_segments()
        .and_then(|mut s| s.rfind(|p| !p.is_empty()))
    else {
        return Vec::new();
    };
    let seg = seg
        .trim_end_matches(".html")
        .trim_end_matches(".htm")
        .trim_end_matches(".php");
    let parts: Vec<&str> = seg.split(['-', '_']).filter(|p| !p.is_empty()).collect();
    // Readable slugs are lowercase words; opaque ids mix case and digits or run long.
    let opaque = parts.iter().any(|p| {
        p.len() > 20
            || (p.chars().any(|c| c.is_ascii_uppercase()) && p.chars().any(|c| c.is_ascii_digit()))
            || (p.chars().any(|c| c.is_ascii_alphabetic())
                && p.chars().any(|c| c.is_ascii_digit())
                && p.len() > 6)
    });
    if parts.len() < 3 || opaque {
        return Vec::new();
    }
    parts
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// Cut at a char boundary at most `max` bytes in.
pub fn truncate_chars(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The readable body of an item: summary, then content when it adds to the summary;
/// boilerplate removed, bounded in length.
pub fn item_body(summary: Option<&str>, content: Option<&str>) -> String {
    let s = summary.map(html_to_text).unwrap_or_default();
    let c = content.map(html_to_text).unwrap_or_default();
    // Feeds often repeat the summary at the start of the content, with other quotes or
    // entities; compare words, not bytes, and only as many as the shorter has.
    let (short, long) = if s.len() <= c.len() {
        (&s, &c)
    } else {
        (&c, &s)
    };
    let ts = tokenize(short);
    let tl = first_tokens(long, |t| t.len() > ts.len());
    let joined = if tl.starts_with(&ts) {
        long.clone()
    } else {
        format!("{s} {c}")
    };
    let cleaned = strip_boilerplate(&joined);
    truncate_chars(&cleaned, BODY_CHARS).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_versions_and_drop_possessives() {
        assert_eq!(
            tokenize("Meta's Llama-4 beats Llama 3.1; llama4 & GPT-4o"),
            vec!["meta", "llama", "4", "beats", "llama", "3.1", "llama", "4", "gpt", "4o"]
        );
        assert_eq!(tokenize("It wasn’t ready."), vec!["it", "wasnt", "ready"]);
        assert_eq!(tokenize("llama.cpp v0.2.1"), vec!["llama", "cpp", "v0.2.1"]);
    }

    #[test]
    fn html_is_read_as_text() {
        assert_eq!(
            html_to_text("<p>Scout &amp; Maverick</p><p>are&nbsp;out</p>"),
            "Scout & Maverick are\u{a0}out".replace('\u{a0}', " ")
        );
        assert_eq!(html_to_text("plain  text"), "plain text");
    }

    #[test]
    fn aggregator_boilerplate_is_removed() {
        let hn = "Article URL: https://x.example/a Comments URL: https://news.example/item?id=1 \
                  Points: 12 # Comments: 3";
        assert_eq!(strip_boilerplate(hn), "");
        let reddit = "Worth a look. submitted by /u/someone [link] [comments]";
        assert_eq!(strip_boilerplate(reddit), "Worth a look.");
        let wp = "Lead sentence. The post Big news appeared first on Site .";
        assert_eq!(strip_boilerplate(wp), "Lead sentence.");
    }

    #[test]
    fn outlet_suffixes_go_but_dashes_in_titles_stay() {
        assert_eq!(
            strip_outlet_suffix("Company ships a model today - The Daily Wire", None),
            "Company ships a model today"
        );
        assert_eq!(
            strip_outlet_suffix("Company ships a model - wire", Some("wire")),
            "Company ships a model"
        );
        let q = "New model is out - better than the old one?";
        assert_eq!(strip_outlet_suffix(q, None), q);
        let s = "Show HN: Tool - a self-hosted monitor";
        assert_eq!(strip_outlet_suffix(s, None), s);
    }

    #[test]
    fn slugs_give_words_only_when_readable() {
        assert_eq!(
            slug_words("https://x.example/2025/05/15/acme-delays-big-model-2025.html"),
            vec!["acme", "delays", "big", "model"]
        );
        assert!(slug_words("https://x.example/articles/CBMiabc?oc=5").is_empty());
        assert!(slug_words("https://x.example/rss/CBMin7fh-CLuEq4yQZ_ARm_Ikoq?oc=5").is_empty());
        assert!(slug_words("not a url").is_empty());
    }

    #[test]
    fn bodies_do_not_repeat_the_summary() {
        assert_eq!(
            item_body(
                Some("Meta’s lead."),
                Some("<p>Meta's lead.</p><p>More.</p>")
            ),
            "Meta's lead. More."
        );
        assert_eq!(item_body(Some("A summary."), None), "A summary.");
        assert_eq!(item_body(None, Some("<b>Only</b> content")), "Only content");
    }

    #[test]
    fn stems_match_inflections() {
        let a = Analyzer::new();
        assert_eq!(a.stem("delays"), a.stem("delayed"));
        assert_eq!(a.stem("models"), "model");
        assert_eq!(a.stem("3.1"), "3.1");
    }
}
