//! Canonical URLs: the same article linked from two feeds compares equal.

use url::Url;

/// Query parameters that only track the reader and never change the page.
fn is_tracking_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || matches!(
            n.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "msclkid"
                | "mc_cid"
                | "mc_eid"
                | "igshid"
                | "_ga"
                | "_gl"
                | "yclid"
                | "ref_src"
                | "ref_url"
                | "cmpid"
                | "ocid"
                | "sr_share"
                | "smid"
        )
}

/// Resolve `link` against `base`, drop the fragment and tracking parameters, lowercase the
/// host. Returns `None` for links that are not http(s) URLs.
pub fn canonical_url(link: &str, base: Option<&Url>) -> Option<String> {
    let link = link.trim();
    let mut url = match base {
        Some(b) => b.join(link).ok()?,
        None => Url::parse(link).ok()?,
    };
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !is_tracking_param(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_parameters_are_removed() {
        assert_eq!(
            canonical_url(
                "https://Example.org/a/?utm_source=feed&utm_medium=rss&id=3#comments",
                None
            )
            .as_deref(),
            Some("https://example.org/a/?id=3")
        );
        assert_eq!(
            canonical_url("https://example.org/a?fbclid=xyz", None).as_deref(),
            Some("https://example.org/a")
        );
    }

    #[test]
    fn relative_links_resolve_against_the_base() {
        let base = Url::parse("https://techwire.example/feed/").unwrap();
        assert_eq!(
            canonical_url("/2025/04/llama/", Some(&base)).as_deref(),
            Some("https://techwire.example/2025/04/llama/")
        );
        assert_eq!(canonical_url("mailto:a@b", None), None);
    }
}
