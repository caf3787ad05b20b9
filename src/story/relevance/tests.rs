//! Relevance on hand-written titles (none copied from the replay fixture).

use super::*;
use crate::config::AmbiguousTerm;

fn llama() -> Matcher {
    Matcher::new(&StoryDef::builtin().unwrap())
}

fn judge(title: &str, body: &str) -> Verdict {
    llama().judge(title, body)
}

fn assert_in(title: &str, body: &str) {
    let v = judge(title, body);
    assert!(v.relevant, "expected in: {title:?} / {body:?}\n{v:#?}");
}

fn assert_out(title: &str, body: &str) -> Verdict {
    let v = judge(title, body);
    assert!(!v.relevant, "expected out: {title:?} / {body:?}\n{v:#?}");
    v
}

#[test]
fn naming_the_story_is_enough() {
    assert_in("Hands-on with Llama 4: first impressions", "");
    assert_in("Llama-4 weights leak a day early", "");
    assert_in("Benchmarks: llama4 against the field", "");
    assert_in("Llama 4.1 rumoured for the autumn", "");
}

#[test]
fn story_items_that_do_not_name_it_get_in() {
    assert_in("Zuckerberg's new AI lab has no deadlines", "");
    assert_in("Meta quietly shelves its flagship AI model", "");
    assert_in("Behemoth training run stalls at Meta, sources say", "");
    assert_in("Ranking used a tuned Maverick, critics say of Meta", "");
    assert_in(
        "Zuckerberg recruits a dozen researchers for superintelligence push",
        "",
    );
    assert_in(
        "Meta's open-weight plans, explained",
        "The company's long-awaited Llama 4 release was the week's headline.",
    );
}

/// Words alone are not enough when no context word is near: whether "Meta's largest model"
/// reports the story is decided against the story's recent events (story processing), not
/// here.
#[test]
fn a_story_word_without_context_is_too_little_on_its_own() {
    let v = assert_out("Meta's largest model slips again", "");
    assert_eq!(v.reason, Reason::TooLittle);
}

#[test]
fn other_senses_of_story_words_stay_out() {
    assert_out("A llama named Pancake wins the county fair", "");
    assert_out("Behemoth: a sprawling co-op VR game arrives on Steam", "");
    let v = assert_out("Scout, an open-source tool to watch your cron jobs", "");
    assert_eq!(v.reason, Reason::TooLittle);
    assert_out(
        "Maverick sequel breaks box office records",
        "Top Gun fans lined up.",
    );
    assert_out("Ford Maverick hybrid gets a price cut", "");
    assert_out("A meta-analysis of 80 sleep studies", "");
    assert_out("Meta Quest headset gets a holiday discount", "");
    assert_out("Talent scout apps come to grassroots football", "");
    assert_out("Meta's AI chatbot app adds voice mode", "");
    assert_out("Meta signs a large data center lease in Ohio", "");
}

#[test]
fn common_nouns_and_nearby_other_senses_do_not_count() {
    let v = assert_out("Tech behemoth Meta posts record ad revenue", "");
    assert!(v
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::NotAName { .. })));
    assert_out("Tech Behemoth Meta Posts Record Ad Revenue", "");
    assert_out("A maverick founder takes on Meta in court", "");
    // The other-sense word far from the term does not veto it.
    assert_in(
        "Meta's Behemoth slips again, rattling investors in the tech sector",
        "",
    );
    assert_in("Meta delays its next big AI model to the autumn", "");
}

#[test]
fn exclusions_and_other_senses_are_explained() {
    let v = assert_out("Behemoth game patch adds Meta Quest 3 support", "");
    assert!(
        v.evidence
            .iter()
            .any(|e| matches!(e, Evidence::Excluded { .. } | Evidence::OtherSense { .. })),
        "{v:#?}"
    );
    let v = assert_out("New meta-learning method for robots", "");
    assert_eq!(v.reason, Reason::Excluded);
}

#[test]
fn older_versions_are_not_this_story() {
    let v = assert_out("Fine-tuning Llama 3.1 8B on a laptop", "");
    assert_eq!(v.reason, Reason::OtherVersion);
    assert_out(
        "Llama 3.3 lands with a 70B model",
        "Meta says it rivals its largest model.",
    );
    assert_out(
        "Release notes: tokenizer fixes",
        "Fixes for Llama 3.1 and 3.2 tokenizers.",
    );
    // Both named: the story wins.
    assert_in("Llama 4 against Llama 3.3: is the upgrade worth it?", "");
}

#[test]
fn a_passing_mention_in_the_body_is_not_enough() {
    let v = assert_out(
        "Qwen ships a faster reasoning model",
        "It edges past Llama 4 on two coding benchmarks.",
    );
    assert_eq!(v.reason, Reason::PassingMention);
}

#[test]
fn llama_cpp_is_not_the_story() {
    assert_out("llama.cpp adds a new quantization format", "");
}

#[test]
fn evidence_names_the_context_that_made_a_term_count() {
    let v = judge("Meta holds back Behemoth", "");
    assert!(v.relevant);
    assert!(
        v.evidence.iter().any(|e| matches!(e,
            Evidence::InContext { term, context, field: Field::Title }
                if term == "Behemoth" && context == "Meta")),
        "{v:#?}"
    );
    assert!(v.summary().starts_with("in:"), "{}", v.summary());
}

#[test]
fn body_context_must_be_near_the_term() {
    let far = format!(
        "Scout {} Meta",
        "words that say nothing at all about anything in particular here ".repeat(3)
    );
    assert_out("Weekly notes", &far);
}

#[test]
fn a_story_with_nothing_to_match_takes_everything() {
    let def = StoryDef {
        id: "all".into(),
        title: "All".into(),
        short_title: None,
        phrases: vec![],
        aliases: vec![],
        ambiguous: vec![],
        exclude: vec![],
        sources: vec![],
    };
    let v = Matcher::new(&def).judge("Anything at all", "");
    assert!(v.relevant);
    assert_eq!(v.reason, Reason::TakesEverything);
}

#[test]
fn matching_is_generic_over_definitions() {
    let def = StoryDef {
        id: "rover".into(),
        title: "Rover".into(),
        short_title: None,
        phrases: vec!["Perseverance rover".into()],
        aliases: vec![],
        ambiguous: vec![AmbiguousTerm {
            term: "Jezero".into(),
            context: vec!["Mars".into(), "NASA".into()],
            against: vec![],
        }],
        exclude: vec![],
        sources: vec![],
    };
    let m = Matcher::new(&def);
    assert!(m.judge("Perseverance rover finds organics", "").relevant);
    assert!(m.judge("NASA maps Jezero delta", "").relevant);
    assert!(!m.judge("Jezero is a town in Bosnia", "").relevant);
}

fn acme() -> Matcher {
    let def = StoryDef {
        id: "acme".into(),
        title: "Acme 2.5".into(),
        short_title: None,
        phrases: vec!["Acme 2.5".into()],
        aliases: vec!["Turbo-Lite".into()],
        ambiguous: vec![AmbiguousTerm {
            term: "2.5 Turbo".into(),
            context: vec!["Acme".into(), "model".into()],
            against: vec![],
        }],
        exclude: vec![],
        sources: vec![],
    };
    Matcher::new(&def)
}

/// Another version of any versioned story name keeps an item out, whether the name comes
/// before the number ("Acme 2.0") or after it ("2.0 Turbo"), and an alias inside another
/// version's name ("Acme 2.0 Turbo-Lite") is that version's.
#[test]
fn other_versions_are_found_on_either_side_of_the_number() {
    let m = acme();
    let v = m.judge("Acme 2.0 Turbo-Lite reaches general availability", "");
    assert!(!v.relevant, "{v:#?}");
    assert_eq!(v.reason, Reason::OtherVersion);
    let v = m.judge("Acme's research tool moves to 2.0 Turbo for free users", "");
    assert!(!v.relevant, "{v:#?}");
    assert!(v
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::OtherVersion { found, .. } if found == "2.0 turbo")));
    assert!(m.judge("Turbo-Lite joins the Acme 2.5 family", "").relevant);
    // "10 Turbo tips" has a number, not a version of "2.5 Turbo".
    let v = m.judge("10 Turbo tips for the new Acme model", "");
    assert!(!v
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::OtherVersion { .. })));
}

/// In a Title Case headline capitals say nothing, so a name-like term needs two context
/// words; a context word written as a name counts only capitalized in running text.
#[test]
fn capitals_count_only_where_they_mean_a_name() {
    assert_out("Tech Behemoth Meta Posts Record Ad Revenue", "");
    assert_in("Meta Delays Behemoth, Its Biggest Llama Model", "");
    assert_out("A tech behemoth and Meta talk about data centres", "");
}
