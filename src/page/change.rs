//! What changed between two versions of a watched page, in a few words a digest can print
//! ("1 paragraph added", "title changed; 2 paragraphs changed").

/// Above this many paragraph pairs the diff compares paragraph sets instead of sequences, so a
/// huge page cannot make a poll slow or memory-hungry.
const MAX_DIFF_CELLS: usize = 4_000_000;

/// One version of a page, as stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct Revision<'a> {
    pub title: Option<&'a str>,
    pub summary: Option<&'a str>,
    pub text: &'a str,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
}

/// Describe a page update: metadata changes first, then the main text's paragraphs.
/// `None` when nothing a reader would notice changed.
pub fn describe_update(old: &Revision<'_>, new: &Revision<'_>) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if norm(old.title) != norm(new.title) {
        parts.push("title changed".into());
    }
    if norm(old.summary) != norm(new.summary) {
        parts.push("description changed".into());
    }
    if old.published != new.published {
        parts.push("publication date changed".into());
    }
    if let Some(text) = describe_change(old.text, new.text) {
        parts.push(text);
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn norm(s: Option<&str>) -> String {
    s.unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A short description of how a page's main text changed: paragraphs added, changed and
/// removed. Paragraphs are separated by blank lines, as `read_page` stores them.
pub fn describe_change(old: &str, new: &str) -> Option<String> {
    let a = paragraphs(old);
    let b = paragraphs(new);
    if a == b {
        return None;
    }
    let (added, changed, removed) = if a.len().saturating_mul(b.len()) <= MAX_DIFF_CELLS {
        count_hunks(&a, &b)
    } else {
        count_by_set(&a, &b)
    };
    let mut parts = Vec::new();
    for (n, what) in [(added, "added"), (changed, "changed"), (removed, "removed")] {
        if n > 0 {
            let noun = if n == 1 { "paragraph" } else { "paragraphs" };
            parts.push(format!("{n} {noun} {what}"));
        }
    }
    if parts.is_empty() {
        // Same paragraphs in another order.
        parts.push("paragraphs reordered".into());
    }
    Some(parts.join(", "))
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Longest common subsequence of paragraphs; each run of differences is a hunk where
/// paired removals and additions count as changes.
fn count_hunks(a: &[String], b: &[String]) -> (usize, usize, usize) {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j] = LCS length of a[i..] and b[j..], flattened.
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if a[i] == b[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut added, mut changed, mut removed) = (0, 0, 0);
    let (mut hunk_del, mut hunk_add) = (0usize, 0usize);
    let mut flush = |del: &mut usize, add: &mut usize| {
        let pairs = (*del).min(*add);
        changed += pairs;
        removed += *del - pairs;
        added += *add - pairs;
        *del = 0;
        *add = 0;
    };
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            flush(&mut hunk_del, &mut hunk_add);
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[at(i, j + 1)] >= lcs[at(i + 1, j)]) {
            hunk_add += 1;
            j += 1;
        } else {
            hunk_del += 1;
            i += 1;
        }
    }
    flush(&mut hunk_del, &mut hunk_add);
    (added, changed, removed)
}

/// Order-blind fallback for very long pages.
fn count_by_set(a: &[String], b: &[String]) -> (usize, usize, usize) {
    use std::collections::HashSet;
    let sa: HashSet<&String> = a.iter().collect();
    let sb: HashSet<&String> = b.iter().collect();
    let del = a.iter().filter(|p| !sb.contains(p)).count();
    let add = b.iter().filter(|p| !sa.contains(p)).count();
    let pairs = del.min(add);
    (add - pairs, pairs, del - pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_added_changed_and_removed_paragraphs() {
        let v1 = "Intro.\n\nMiddle.\n\nEnd.";
        assert_eq!(describe_change(v1, v1), None);
        assert_eq!(
            describe_change(v1, "Intro.\n\nMiddle.\n\nEnd.\n\nUpdate: more.").as_deref(),
            Some("1 paragraph added")
        );
        assert_eq!(
            describe_change(v1, "Intro!\n\nMiddle.\n\nEnd?").as_deref(),
            Some("2 paragraphs changed")
        );
        assert_eq!(
            describe_change(v1, "Intro.\n\nEnd.").as_deref(),
            Some("1 paragraph removed")
        );
        assert_eq!(
            describe_change(v1, "New lead.\n\nIntro.\n\nMiddle, edited.\n\nEnd.").as_deref(),
            Some("1 paragraph added, 1 paragraph changed")
        );
        assert_eq!(
            describe_change("", "First text.").as_deref(),
            Some("1 paragraph added")
        );
    }

    #[test]
    fn whitespace_alone_is_not_a_change() {
        assert_eq!(describe_change("A  b.\n\nC.", "A b.\n\n\n\nC. "), None);
        assert_eq!(
            describe_change("A.\n\nB.", "B.\n\nA.").as_deref(),
            Some("1 paragraph added, 1 paragraph removed")
        );
    }

    #[test]
    fn metadata_changes_are_named_before_text_changes() {
        let old = Revision {
            title: Some("Old"),
            text: "A.",
            ..Revision::default()
        };
        let new = Revision {
            title: Some("New"),
            text: "A.\n\nB.",
            ..Revision::default()
        };
        assert_eq!(
            describe_update(&old, &new).as_deref(),
            Some("title changed; 1 paragraph added")
        );
        assert_eq!(describe_update(&old, &old), None);
    }

    #[test]
    fn huge_pages_use_the_set_fallback() {
        let a: String = (0..2100).map(|i| format!("p{i}\n\n")).collect();
        let b = format!("{a}extra");
        assert_eq!(
            describe_change(&a, &b).as_deref(),
            Some("1 paragraph added")
        );
    }
}
