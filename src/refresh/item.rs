//! Entry → row: what a feed entry or page becomes in the store, and the hash that says when a
//! reader would see it change.

use sha2::{Digest as _, Sha256};
use url::Url;

use crate::parse::Entry;
use crate::store::NewItem;

/// Entry → row: canonical URL, outlet, and a content hash of what a reader would see change.
pub fn to_new_item(e: &Entry, base: &Url) -> NewItem {
    let canonical_url = e
        .link
        .as_deref()
        .and_then(|l| crate::value::canon::canonical_url(l, Some(base)));
    let published = e.published.map(|d| d.to_rfc3339());
    NewItem {
        guid: e.id.clone(),
        url: e.link.clone(),
        canonical_url,
        title: e.title.clone(),
        summary: e.summary.clone(),
        content: e.content.clone(),
        author: e.author.clone(),
        outlet_name: e.outlet.as_ref().map(|o| o.name.clone()),
        outlet_url: e.outlet.as_ref().and_then(|o| o.url.clone()),
        published_at: e.published,
        content_hash: content_hash(&[
            e.title.as_deref(),
            e.link.as_deref(),
            e.summary.as_deref(),
            e.content.as_deref(),
            published.as_deref(),
        ]),
        parent_guid: e.parent.clone(),
        points: e.points,
        comments: e.comments,
        discussion_url: e.discussion_url.clone(),
        change_note: None,
        quiet_under: None,
    }
}

/// A short hash of `parts`, each one delimited, so moving text between fields changes it.
pub fn content_hash(parts: &[Option<&str>]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.unwrap_or_default().as_bytes());
        h.update([0x1f]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
