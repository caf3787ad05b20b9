//! Clustering on hand-written items (none copied from the replay fixture).

use super::*;
use crate::story::text::Analyzer;

fn url_keys(url: &str) -> Vec<String> {
    page_keys([url])
}

const H: i64 = 3600;
const D: i64 = 24 * H;

struct Case {
    analyzer: Analyzer,
    docs: Vec<Doc>,
}

impl Case {
    fn new() -> Case {
        Case {
            analyzer: Analyzer::new(),
            docs: Vec::new(),
        }
    }

    fn item(&mut self, at: i64, title: &str, body: &str, url: &str) -> usize {
        let terms = Terms::from_item(&self.analyzer, title, None, body, Some(url));
        let id = self.docs.len() as i64 + 1;
        self.docs.push(Doc {
            item_id: id,
            at,
            terms,
            url_keys: url_keys(url),
        });
        self.docs.len() - 1
    }

    /// Place every item as one polling round, long after the fact.
    fn run(&self) -> Vec<(String, Join)> {
        self.run_rounds(&[(0..self.docs.len()).collect()], i64::MAX)
    }

    /// Place the items round by round (each round a list of indices), `after` seconds after
    /// each round's newest item.
    fn run_rounds(&self, rounds: &[Vec<usize>], after: i64) -> Vec<(String, Join)> {
        let mut idf = Idf::default();
        for d in &self.docs {
            idf.add(&d.terms);
        }
        let mut c = Clusterer::new(idf);
        let mut out = vec![(String::new(), Join::Founded); self.docs.len()];
        let mut waiting: Vec<usize> = Vec::new();
        for round in rounds {
            waiting.extend(round);
            let docs: Vec<Doc> = waiting.iter().map(|&i| self.docs[i].clone()).collect();
            let newest = docs.iter().map(|d| d.at).max().unwrap_or(0);
            let now = newest.saturating_add(after);
            let placed = c.place_batch(&docs, now, &mut |d| format!("ev-{}", d.item_id));
            let mut still = Vec::new();
            for (k, p) in placed.into_iter().enumerate() {
                match p {
                    Some(p) => out[waiting[k]] = (p.event_id, p.join),
                    None => still.push(waiting[k]),
                }
            }
            waiting = still;
        }
        assert!(waiting.is_empty(), "items still waiting: {waiting:?}");
        out
    }
}

/// Background coverage of the same story, so document frequencies look like a real story's:
/// the story's own name is everywhere and weighs little.
fn background(c: &mut Case) {
    let t0 = 100 * D;
    for (k, (title, body)) in [
        (
            "Orbital Labs shows its Condor rocket engine test",
            "Orbital Labs fired the Condor engine for two minutes.",
        ),
        (
            "Orbital Labs hires a new chief engineer for Condor",
            "The Condor programme gets a veteran engineer from a rival.",
        ),
        (
            "Condor rocket gets a launch licence from regulators",
            "Orbital Labs may now fly Condor from its coastal pad.",
        ),
        (
            "Orbital Labs raises money for the Condor programme",
            "Investors put in fresh funds for the rocket.",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        c.item(
            t0 + k as i64 * 20 * D,
            title,
            body,
            &format!("https://bg.example/story-{k}-news-item"),
        );
    }
}

#[test]
fn the_same_page_merges_whatever_the_tracking_parameters() {
    let mut c = Case::new();
    let a = c.item(
        0,
        "Condor launch slips to spring",
        "",
        "https://wire.example/2030/01/condor-launch-slips/",
    );
    let b = c.item(
        5 * H,
        "Newsletter: what the slip means",
        "",
        "https://wire.example/2030/01/condor-launch-slips/?utm_source=letter&utm_medium=email",
    );
    let r = c.run_rounds(&[vec![a], vec![b]], H);
    assert_eq!(r[a].0, r[b].0);
    assert_eq!(r[b].1, Join::SamePage { item_id: 1 });
}

#[test]
fn similar_titles_from_two_outlets_merge() {
    let mut c = Case::new();
    background(&mut c);
    let t = 300 * D;
    let a = c.item(
        t,
        "Orbital Labs delays first Condor launch after engine fire",
        "A fire during a ground test pushed the maiden flight back by months.",
        "https://one.example/orbital-delays-condor-after-fire",
    );
    let b = c.item(
        t + 9 * H,
        "Engine fire forces Orbital Labs to push back Condor's maiden flight",
        "The company said the first launch is delayed after the test-stand fire.",
        "https://two.example/engine-fire-condor-delay",
    );
    let r = c.run();
    assert_eq!(r[a].0, r[b].0, "{:?}", r[b].1);
    assert!(matches!(r[b].1, Join::Similar { .. }));
}

#[test]
fn unrelated_items_of_the_same_week_stay_apart() {
    let mut c = Case::new();
    background(&mut c);
    let t = 300 * D;
    let a = c.item(
        t,
        "Orbital Labs delays first Condor launch after engine fire",
        "A fire during a ground test pushed the maiden flight back.",
        "https://one.example/orbital-delays-condor-after-fire",
    );
    let b = c.item(
        t + D,
        "Orbital Labs signs satellite deal with a weather agency",
        "The agency books three Condor flights for its new satellites.",
        "https://two.example/orbital-weather-satellite-deal",
    );
    let r = c.run();
    assert_ne!(r[a].0, r[b].0);
}

#[test]
fn a_clear_follow_up_joins_and_a_loose_one_does_not() {
    let mut c = Case::new();
    background(&mut c);
    let t = 300 * D;
    let a = c.item(
        t,
        "Orbital Labs delays first Condor launch after engine fire",
        "A fire during a ground test pushed the maiden flight back by months.",
        "https://one.example/orbital-delays-condor-after-fire",
    );
    let follow = c.item(
        t + 8 * D,
        "After the engine fire: what the Condor launch delay means",
        "A week after the fire, the delayed maiden flight reshapes Orbital Labs' year.",
        "https://three.example/after-engine-fire-condor-delay",
    );
    let loose = c.item(
        t + 9 * D,
        "Orbital Labs opens a visitor centre",
        "Tourists can now watch Condor tests from a viewing deck.",
        "https://four.example/orbital-visitor-centre",
    );
    let r = c.run();
    assert_eq!(r[a].0, r[follow].0, "{:?}", r[follow].1);
    assert_ne!(r[a].0, r[loose].0);
}

#[test]
fn similar_news_months_later_is_a_new_event() {
    let mut c = Case::new();
    background(&mut c);
    let t = 300 * D;
    let a = c.item(
        t,
        "Orbital Labs delays first Condor launch after engine fire",
        "",
        "https://one.example/orbital-delays-condor-after-fire",
    );
    let b = c.item(
        t + 120 * D,
        "Orbital Labs delays Condor launch again after a second engine fire",
        "",
        "https://one.example/orbital-delays-condor-again",
    );
    let r = c.run();
    assert_ne!(r[a].0, r[b].0);
}

#[test]
fn front_pages_are_not_pages_of_one_article() {
    assert_eq!(page_key("https://tool.example/"), None);
    assert_eq!(
        page_key("https://x.example/a/b?utm_source=z").as_deref(),
        Some("https://x.example/a/b")
    );
    assert!(page_key("t3_abc").is_none());
}

#[test]
fn terms_round_trip_and_event_ids_are_stable() {
    let t = Terms {
        title: vec!["a".into(), "b".into()],
        slug: vec![],
        lead: vec!["c".into()],
    };
    assert_eq!(Terms::decode(&t.encode()), t);
    assert_eq!(
        Terms::decode("garbage"),
        Terms {
            title: vec!["garbage".into()],
            ..Terms::default()
        }
    );
    assert_eq!(event_id("s", "src", "g"), event_id("s", "src", "g"));
    assert_ne!(event_id("s", "src", "g"), event_id("s", "src", "h"));
    assert!(event_id("s", "src", "g").starts_with("ev-"));
}

#[test]
fn a_burst_weeks_later_is_a_new_development_not_a_follow_up() {
    let mut c = Case::new();
    background(&mut c);
    let t = 300 * D;
    let a = c.item(
        t,
        "Orbital Labs launches Condor on its first flight",
        "The Condor rocket reached orbit on its maiden launch.",
        "https://one.example/condor-first-flight-orbit",
    );
    let b1 = c.item(
        t + 25 * D,
        "Condor rocket now offered for rideshare launches to orbit",
        "Small satellite makers can book Condor rideshare flights from next year.",
        "https://two.example/condor-rideshare-offer",
    );
    let b2 = c.item(
        t + 25 * D + 5 * H,
        "Orbital Labs opens Condor rideshare bookings",
        "Rideshare slots on Condor flights go on sale to small satellite makers.",
        "https://three.example/condor-rideshare-bookings",
    );
    let weekly = c.run_rounds(&[vec![a], vec![b1, b2]], 10 * H);
    assert_ne!(weekly[a].0, weekly[b1].0);
    assert_eq!(weekly[b1].0, weekly[b2].0);
    // Polled hourly, the first rideshare report waits for the second instead of joining
    // the launch as a follow-up.
    let hourly = c.run_rounds(&[vec![a], vec![b1], vec![b2]], H);
    assert_ne!(hourly[a].0, hourly[b1].0);
    assert_eq!(hourly[b1].0, hourly[b2].0);
}

/// Time only makes joining harder: a lone report needs no more similarity a day after an
/// event's first report than a week after (the bar used to drop after three days, so late
/// pieces of one development founded events of their own).
#[test]
fn a_lone_report_s_bar_never_falls_as_the_event_ages() {
    let mut last = 0.0;
    for hours in 0..=60 * 24 {
        let bar = join_bar(1, hours * H);
        assert!(bar >= last, "bar falls at {hours}h: {last} -> {bar}");
        last = bar;
    }
    assert!(
        join_bar(1, D) < join_bar(3, D),
        "a lone report joins a fresh event more easily"
    );
    assert!(
        join_bar(3, D) < join_bar(3, 10 * D),
        "a later burst is its own development"
    );
}

/// Past its limit the clusterer forgets the events whose latest item is oldest and keeps
/// the recent ones whole: memory follows the open events, not the round.
#[test]
fn shedding_keeps_the_recent_events_and_bounds_what_is_held() {
    let mut c = Case::new();
    let mut ids = Vec::new();
    for k in 0..40 {
        let t = (10 + k * 3) * D;
        for o in 0..3 {
            ids.push(c.item(
                t + o * H,
                &format!("Orbital Labs mission {k} reaches milestone number {k} today"),
                &format!("Mission {k} story from outlet {o}"),
                &format!("https://outlet{o}.example/mission-{k}-milestone-news"),
            ));
        }
    }
    let mut idf = Idf::default();
    for d in &c.docs {
        idf.add(&d.terms);
    }
    let mut cl = Clusterer::new(idf);
    cl.place_batch(&c.docs, i64::MAX, &mut |d| format!("ev-{}", d.item_id));
    assert_eq!(cl.members(), 120);
    cl.shed(30);
    assert!(cl.members() <= 15, "{}", cl.members());
    let last = *ids.last().unwrap() as i64 + 1;
    assert!(cl.event_of(last).is_some(), "the newest event is kept");
    assert!(cl.event_of(1).is_none(), "the oldest is forgotten");
}
