//! Judging one item: each field's tokens are searched for the story's names, other versions,
//! exclusions and ambiguous terms with their context words, and the evidence scored.

use super::*;

impl Matcher {
    /// Decide one item from its title and (plain-text) body.
    pub fn judge(&self, title: &str, body: &str) -> Verdict {
        if self.takes_everything {
            return Verdict {
                relevant: true,
                score: 0.0,
                reason: Reason::TakesEverything,
                evidence: Vec::new(),
            };
        }
        if let Some(t) = &self.triggers {
            if !t.is_match(title) && !t.is_match(body) {
                return Verdict::nothing();
            }
        }
        let mut evidence = Vec::new();
        let mut title_f = self.field(Field::Title, title);
        let mut body_f = self.field(Field::Body, body);
        self.mask_exclusions(&mut title_f, &mut evidence);
        self.mask_exclusions(&mut body_f, &mut evidence);
        let title_old = self.find_other_versions(&mut title_f, &mut evidence);
        let body_old = self.find_other_versions(&mut body_f, &mut evidence);
        let title_named = self.find_named(&title_f, &mut evidence);
        let body_named = self.find_named(&body_f, &mut evidence);
        let title_ctx = self.find_ambiguous(&title_f, &mut evidence);
        let body_ctx = self.find_ambiguous(&body_f, &mut evidence);
        let excluded = evidence
            .iter()
            .any(|e| matches!(e, Evidence::Excluded { .. }));
        let anchored = title_f
            .tokens
            .iter()
            .zip(&title_f.masked)
            .any(|(t, m)| !m && self.anchors.contains(t));

        let mut score = 0.0;
        if title_named > 0 {
            score += TITLE_NAMED;
        }
        if body_named > 0 {
            score += if anchored { BODY_NAMED } else { BODY_PASSING };
        }
        score += TITLE_CONTEXT * title_ctx as f32 + BODY_CONTEXT * body_ctx as f32;

        let named_any = title_named + body_named > 0;
        // Another version in the title outweighs anything but the story named there; in the
        // body, anything but the story named or in context in the title.
        let other_version =
            (title_old && title_named == 0) || (body_old && !named_any && title_ctx == 0);
        let (relevant, reason) = if other_version {
            (false, Reason::OtherVersion)
        } else if excluded && !named_any {
            (false, Reason::Excluded)
        } else if score >= THRESHOLD {
            let reason = if title_named > 0 || (body_named > 0 && anchored) {
                Reason::Named
            } else {
                Reason::InContext
            };
            (true, reason)
        } else if body_named > 0 {
            (false, Reason::PassingMention)
        } else if evidence.is_empty() {
            (false, Reason::Nothing)
        } else {
            (false, Reason::TooLittle)
        };
        Verdict {
            relevant,
            score,
            reason,
            evidence,
        }
    }

    fn field(&self, field: Field, text: &str) -> FieldText {
        let (tokens, capital): (Vec<String>, Vec<bool>) = tokenize_cased(text).into_iter().unzip();
        // Stems serve only the context windows of ambiguous terms; most fields have none.
        let any_ambiguous = self
            .ambiguous
            .iter()
            .any(|a| tokens.iter().any(|t| a.tokens.first() == Some(t)));
        let stems = if any_ambiguous {
            tokens.iter().map(|t| self.analyzer.stem(t)).collect()
        } else {
            vec![String::new(); tokens.len()]
        };
        let masked = vec![false; tokens.len()];
        FieldText {
            field,
            tokens,
            capital,
            stems,
            masked,
        }
    }

    fn mask_exclusions(&self, f: &mut FieldText, ev: &mut Vec<Evidence>) {
        for p in &self.exclude {
            let hits = find_seq(&f.tokens, &p.tokens);
            if !hits.is_empty() {
                ev.push(Evidence::Excluded {
                    phrase: p.label.clone(),
                    field: f.field,
                });
            }
            for start in hits {
                for m in &mut f.masked[start..start + p.tokens.len()] {
                    *m = true;
                }
            }
        }
    }

    /// Count named phrases; masks what they cover so ambiguous terms inside them are not
    /// counted twice.
    fn find_named(&self, f: &FieldText, ev: &mut Vec<Evidence>) -> usize {
        let mut n = 0;
        for p in &self.named {
            let hit = (0..f.tokens.len()).any(|i| {
                matches_versioned(&f.tokens[i..], &p.tokens)
                    && !f.masked[i..i + p.tokens.len()].iter().any(|m| *m)
            });
            if hit {
                n += 1;
                ev.push(Evidence::Named {
                    phrase: p.label.clone(),
                    alias: p.alias,
                    field: f.field,
                });
            }
        }
        n
    }

    /// Find another version of a versioned story name ("Llama 3.1" for "Llama 4", "2.0 Flash"
    /// for "2.5 Flash"), and mask it with the capitalized words that continue its name, so a
    /// story alias inside another version's name ("Gemini 2.0 Flash-Lite") does not count.
    fn find_other_versions(&self, f: &mut FieldText, ev: &mut Vec<Evidence>) -> bool {
        let mut found = false;
        for i in 0..f.tokens.len() {
            let t = &f.tokens[i];
            if !is_version(t) || f.masked[i] {
                continue;
            }
            let hit = self.versioned.iter().find(|v| {
                if same_version(t, &v.version) {
                    return false;
                }
                if v.name_first {
                    i > 0 && f.tokens[i - 1] == v.name && !f.masked[i - 1]
                } else {
                    // "10 Pro tips" is not a version of "2.5 Pro": only a dotted number is.
                    t.contains('.') && f.tokens.get(i + 1) == Some(&v.name)
                }
            });
            let Some(v) = hit else { continue };
            let (start, mut end) = if v.name_first {
                (i - 1, i + 1)
            } else {
                (i, i + 2)
            };
            while end < f.tokens.len() && end - i <= VERSION_NAME_WORDS && f.capital[end] {
                end += 1;
            }
            let words = f.tokens[start..(start + 2).min(f.tokens.len())].join(" ");
            let seen = ev.iter().any(
                |e| matches!(e, Evidence::OtherVersion { found, field } if *found == words && *field == f.field),
            );
            if !seen {
                ev.push(Evidence::OtherVersion {
                    found: words,
                    field: f.field,
                });
            }
            for m in &mut f.masked[start..end] {
                *m = true;
            }
            found = true;
        }
        found
    }

    /// Count distinct ambiguous terms that occur with context and without their other sense.
    fn find_ambiguous(&self, f: &FieldText, ev: &mut Vec<Evidence>) -> usize {
        let mut n = 0;
        for a in &self.ambiguous {
            let hits: Vec<usize> = find_seq(&f.tokens, &a.tokens)
                .into_iter()
                .filter(|&i| !f.masked[i..i + a.tokens.len()].iter().any(|m| *m))
                .collect();
            if hits.is_empty() {
                continue;
            }
            let named: Vec<usize> = hits
                .iter()
                .copied()
                .filter(|&i| !a.name || f.capital[i])
                .collect();
            if named.is_empty() {
                ev.push(Evidence::NotAName {
                    term: a.label.clone(),
                    field: f.field,
                });
                continue;
            }
            let mut found: Option<Evidence> = None;
            for &start in &named {
                let end = start + a.tokens.len();
                let (lo, hi) = match f.field {
                    Field::Title => (0, f.tokens.len()),
                    Field::Body => (
                        start.saturating_sub(BODY_WINDOW),
                        (end + BODY_WINDOW).min(f.tokens.len()),
                    ),
                };
                let window: Vec<(&str, bool)> = (lo..hi)
                    .filter(|&i| (i < start || i >= end) && !f.masked[i])
                    .map(|i| (f.stems[i].as_str(), f.capital[i]))
                    .collect();
                let near: Vec<&str> = (start.saturating_sub(AGAINST_WINDOW)
                    ..(end + AGAINST_WINDOW).min(f.tokens.len()))
                    .filter(|&i| i < start || i >= end)
                    .map(|i| f.stems[i].as_str())
                    .collect();
                let has = |w: &WordSet| {
                    w.stems.iter().zip(&w.names).all(|(s, name)| {
                        window
                            .iter()
                            .any(|(t, capital)| *t == s.as_str() && (*capital || !name))
                    })
                };
                let near_has = |w: &WordSet| w.stems.iter().all(|s| near.contains(&s.as_str()));
                if let Some(w) = a.against.iter().find(|w| near_has(w)) {
                    found = Some(Evidence::OtherSense {
                        term: a.label.clone(),
                        word: w.label.clone(),
                        field: f.field,
                    });
                    break;
                }
                // In a Title Case headline every word has a capital, so a name-like term
                // ("Tech Behemoth Meta Posts Record Revenue") may be the common word: it needs
                // two different context words to count.
                let needed = if a.name && f.field == Field::Title && title_case(f) {
                    2
                } else {
                    1
                };
                let mut near_words = a.context.iter().filter(|w| has(w));
                if let Some(w) = near_words.next() {
                    if 1 + near_words.count() >= needed {
                        found = Some(Evidence::InContext {
                            term: a.label.clone(),
                            context: w.label.clone(),
                            field: f.field,
                        });
                    }
                }
            }
            match found {
                Some(e @ Evidence::InContext { .. }) => {
                    n += 1;
                    ev.push(e);
                }
                Some(e) => ev.push(e),
                None => ev.push(Evidence::NoContext {
                    term: a.label.clone(),
                    field: f.field,
                }),
            }
        }
        n
    }
}

/// Is the field written in Title Case (most of its longer words capitalized)?
fn title_case(f: &FieldText) -> bool {
    let words: Vec<bool> = f
        .tokens
        .iter()
        .zip(&f.capital)
        .filter(|(t, _)| t.chars().count() >= 4 && t.chars().all(char::is_alphabetic))
        .map(|(_, c)| *c)
        .collect();
    words.len() >= 3 && words.iter().filter(|c| **c).count() * 5 >= words.len() * 4
}

/// Start positions of `pat` in `tokens`.
fn find_seq(tokens: &[String], pat: &[String]) -> Vec<usize> {
    if pat.is_empty() || tokens.len() < pat.len() {
        return Vec::new();
    }
    (0..=tokens.len() - pat.len())
        .filter(|&i| tokens[i..i + pat.len()] == *pat)
        .collect()
}

/// Does `tokens` start with `pat`, a final version number also matching its minor versions
/// ("llama 4" matches "llama 4.1")?
fn matches_versioned(tokens: &[String], pat: &[String]) -> bool {
    if tokens.len() < pat.len() {
        return false;
    }
    pat.iter()
        .zip(tokens)
        .enumerate()
        .all(|(i, (p, t))| p == t || (i + 1 == pat.len() && is_version(p) && same_version(t, p)))
}

/// "4", "3.1": digits and dots, starting with a digit.
pub(super) fn is_version(t: &str) -> bool {
    t.starts_with(|c: char| c.is_ascii_digit()) && t.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// `found` is the wanted version or one of its minor versions ("4.1" for "4").
fn same_version(found: &str, wanted: &str) -> bool {
    found == wanted
        || found
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('.'))
}
