use super::*;
use crate::digest::history::CHART_WEEKS;
use crate::digest::model::Outlet;
use crate::digest::sample::{at, event, item, quiet_input, sample_input, week};
use crate::value::week::IsoWeek;

fn names(outlets: &[Outlet]) -> Vec<&str> {
    outlets.iter().map(|o| o.name.as_str()).collect()
}

#[test]
fn most_covered_development_comes_first_and_names_the_subject() {
    let d = compose(&sample_input());
    let ids: Vec<&str> = d.developments.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["E06", "E99"]);
    assert_eq!(d.subject, "Llama 4 · week 20, 2025: Meta delays Behemoth");
    assert_eq!(d.period_label, "12–18 May 2025");
    assert!(!d.quiet);
    assert_eq!(
        d.summary,
        "2 new developments reported by 7 outlets; 1 update; 3 discussion threads."
    );
}

#[test]
fn outlets_are_deduplicated_in_reporting_order_with_host_fallback() {
    let d = compose(&sample_input());
    let top = &d.developments[0];
    assert_eq!(
        names(&top.outlets),
        [
            "The Financial Ledger",
            "reddit.com",
            "ledger.example",
            "Global Newswire",
            "TechWire",
            "AIM"
        ]
    );
    assert_eq!(top.item_count, 7);
    assert_eq!(
        top.outlets[2].url.as_deref(),
        Some("https://ledger.example/tech/ai/meta-flagship-model-delay-behemoth-2025-05-15")
    );
    assert_eq!(top.date_label, "Thu 15 May");
    assert_eq!(
        top.url.as_deref(),
        Some("https://news.google.com/rss/articles/CBMiQ4d1?oc=5")
    );
}

#[test]
fn excerpt_skips_aggregator_summaries_and_is_sanitized_to_two_sentences() {
    let d = compose(&sample_input());
    assert_eq!(
        d.developments[0].excerpt,
        "The largest Llama 4 model is reportedly on hold because it has not improved enough \
         over earlier versions to justify a release. Engineers struggled to show gains over \
         Maverick."
    );
    let pricing = &d.developments[1];
    assert_eq!(
        pricing.excerpt,
        "A month after launch, Scout and Maverick are on every major cloud. Here is what they \
         cost per million tokens."
    );
}

#[test]
fn ties_are_broken_by_items_then_earliest_then_id() {
    let one = |id: &str, seen: &str, n: usize| {
        let items = (0..n)
            .map(|i| item("s", &format!("{id}{i}"), "https://same.example/a", seen))
            .collect();
        event(id, id, seen, items)
    };
    let mut input = sample_input();
    input.developments = vec![
        one("c", "2025-05-13T00:00:00Z", 1),
        one("b", "2025-05-12T00:00:00Z", 1),
        one("a", "2025-05-13T00:00:00Z", 1),
        one("d", "2025-05-14T00:00:00Z", 3),
    ];
    let ids: Vec<String> = compose(&input)
        .developments
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, ["d", "b", "a", "c"]);
}

#[test]
fn composing_is_deterministic_whatever_the_input_order() {
    let a = sample_input();
    let mut b = sample_input();
    b.developments.reverse();
    for ev in &mut b.developments {
        ev.items.reverse();
    }
    b.discussions.reverse();
    b.timeline.reverse();
    b.weekly_counts.reverse();
    b.failing_sources.reverse();
    assert_eq!(compose(&a), compose(&b));
    assert_eq!(compose(&a), compose(&a));
}

#[test]
fn discussions_keep_the_top_five_by_points() {
    let mut input = sample_input();
    for p in [1, 2, 3, 4, 5, 6] {
        let mut extra = input.discussions[0].clone();
        extra.points = Some(p);
        extra.title = format!("thread {p}");
        input.discussions.push(extra);
    }
    let d = compose(&input);
    let points: Vec<i64> = d.discussions.iter().filter_map(|t| t.points).collect();
    assert_eq!(points, [980, 412, 55, 6, 5]);
    assert_eq!(d.discussions[0].site, "Reddit");
    assert_eq!(
        d.discussions[0].url.as_deref(),
        Some("https://www.reddit.com/t/980")
    );
}

#[test]
fn timeline_stops_at_the_week_and_flags_this_weeks_developments() {
    let d = compose(&sample_input());
    let lines: Vec<(&str, bool)> = d
        .timeline
        .iter()
        .map(|t| (t.id.as_str(), t.this_week))
        .collect();
    // E07 is after the week; E99 was missing from the timeline and is added.
    assert_eq!(
        lines,
        [
            ("E01", false),
            ("E03", false),
            ("E04", false),
            ("E99", true),
            ("E06", true)
        ]
    );
    assert_eq!(d.timeline[0].date_label, "19 Dec 2024");
    assert_eq!(d.timeline[1].date_label, " 5 Apr 2025");
    assert_eq!(d.updates[0].what, "Page updated: 1 paragraph added");
}

#[test]
fn chart_has_twelve_weeks_ending_this_week_with_zeros_filled() {
    let d = compose(&sample_input());
    let c = &d.chart;
    assert_eq!(c.bars.len(), CHART_WEEKS);
    assert_eq!(c.bars[0].week, week("2025-W09"));
    assert_eq!(c.bars[11].week, week("2025-W20"));
    assert!(c.bars[11].this_week && !c.bars[10].this_week);
    let counts: Vec<u32> = c.bars.iter().map(|b| b.count).collect();
    assert_eq!(counts, [0, 0, 0, 0, 0, 9, 8, 3, 0, 6, 2, 9]);
    assert_eq!((c.max, c.total, c.this_week), (9, 37, 9));
    assert_eq!(
        c.alt,
        "Items per week on the story, last 12 weeks (2025-W09 to 2025-W20): \
         0, 0, 0, 0, 0, 9, 8, 3, 0, 6, 2, 9."
    );
    assert_eq!(c.bars[0].label, "W09");
}

#[test]
fn chart_crosses_year_boundaries() {
    let mut input = sample_input();
    input.week = week("2025-W03");
    input.weekly_counts = vec![(week("2024-W52"), 4), (week("2025-W03"), 1)];
    let c = compose(&input).chart;
    assert_eq!(c.bars[0].week, week("2024-W44"));
    assert_eq!(c.bars[8].week, week("2024-W52"));
    assert_eq!(c.bars[8].count, 4);
    assert_eq!(c.bars[11].count, 1);
}

#[test]
fn only_sources_failing_for_more_than_a_day_are_named() {
    let d = compose(&sample_input());
    assert_eq!(d.failing_sources.len(), 1);
    assert_eq!(
        d.failing_sources[0].sentence,
        "ML Papers has been failing since 16 May (2 days): server answered 503 Service \
         Unavailable."
    );
}

#[test]
fn quiet_week_says_no_new_developments() {
    let d = compose(&quiet_input());
    assert!(d.quiet);
    assert_eq!(d.subject, "Llama 4 · week 21, 2025: no new developments");
    assert_eq!(
        d.summary,
        "No new developments this week; 3 discussion threads."
    );
    assert!(d.timeline.iter().all(|t| !t.this_week));
    assert!(!d.should_send(false));
    assert!(d.should_send(true));
    assert!(compose(&sample_input()).should_send(false));
}

#[test]
fn short_title_defaults_to_the_story_title() {
    let mut input = quiet_input();
    input.short_title = Some("  ".into());
    assert_eq!(
        compose(&input).subject,
        "Meta's Llama 4 release · week 21, 2025: no new developments"
    );
}

#[test]
fn unsafe_links_are_dropped_and_hostile_text_stays_text() {
    let mut input = sample_input();
    let mut bad = item("s", "g", "javascript:alert(1)", "2025-05-14T00:00:00Z");
    bad.outlet = Some("Evil\nOutlet".into());
    let mut data = item("s", "h", "data:text/html,hi", "2025-05-14T00:00:00Z");
    data.url = Some("data:text/html,hi".into());
    input.developments = vec![event(
        "X",
        "Headline with\r\nInjected: header",
        "2025-05-14T00:00:00Z",
        vec![bad, data],
    )];
    input.discussions[0].url = "javascript:alert(1)".into();
    let d = compose(&input);
    let dev = &d.developments[0];
    assert_eq!(dev.url, None);
    assert_eq!(dev.outlets[0].name, "Evil Outlet");
    assert_eq!(dev.outlets[0].url, None);
    assert!(dev.outlets.iter().all(|o| o.url.is_none()));
    assert_eq!(
        d.subject,
        "Llama 4 · week 20, 2025: Headline with Injected: header"
    );
    assert!(d
        .discussions
        .iter()
        .all(|t| t.url.as_deref().is_none_or(|u| u.starts_with("https://"))));
}

#[test]
fn empty_headline_falls_back_to_an_item_title() {
    let mut input = sample_input();
    let mut it = item("s", "g", "https://x.example/a", "2025-05-14T00:00:00Z");
    it.title = Some("From the item".into());
    input.developments = vec![event("X", " ", "2025-05-14T00:00:00Z", vec![it])];
    assert_eq!(compose(&input).developments[0].headline, "From the item");
    input.developments[0].items.clear();
    assert_eq!(
        compose(&input).developments[0].headline,
        "Untitled development"
    );
}

#[test]
fn period_labels_span_months_and_years() {
    let (s, e) = week("2025-W18").range(chrono_tz::UTC);
    assert_eq!(period_label(s, e, chrono_tz::UTC), "28 Apr – 4 May 2025");
    let (s, e) = week("2026-W01").range(chrono_tz::UTC);
    assert_eq!(
        period_label(s, e, chrono_tz::UTC),
        "29 Dec 2025 – 4 Jan 2026"
    );
    let tz = chrono_tz::America::New_York;
    let (s, e) = week("2025-W20").range(tz);
    assert_eq!(period_label(s, e, tz), "12–18 May 2025");
}

#[test]
fn dates_are_shown_in_the_digest_time_zone() {
    let mut input = sample_input();
    input.timezone = chrono_tz::Australia::Sydney;
    input.generated_at = at("2025-05-19T08:00:00Z");
    let d = compose(&input);
    // 20:30 UTC on the 15th is the morning of the 16th in Sydney.
    assert_eq!(d.developments[0].date_label, "Fri 16 May");
    assert_eq!(d.generated_label, "19 May 2025, 18:00 AEST");
}

#[test]
fn impossible_weeks_and_extreme_dates_do_not_panic() {
    let mut input = sample_input();
    input.week = IsoWeek {
        year: 2025,
        week: 60,
    };
    input.week_start = DateTime::<Utc>::MIN_UTC;
    input.week_end = DateTime::<Utc>::MIN_UTC;
    input.generated_at = DateTime::<Utc>::MAX_UTC;
    let d = compose(&input);
    assert!(d.chart.bars.is_empty());
    assert_eq!(d.subject, "Llama 4 · week 60, 2025: Meta delays Behemoth");
}

#[test]
fn aggregator_only_development_gets_no_excerpt() {
    let mut input = sample_input();
    let gnews_only: Vec<ItemIn> = input.developments[1]
        .items
        .iter()
        .filter(|i| i.source == "gnews-llama4")
        .cloned()
        .collect();
    assert!(gnews_only.iter().any(|i| i.summary_html.is_some()));
    input.developments[1].items = gnews_only;
    let d = compose(&input);
    let dev = d.developments.iter().find(|d| d.id == "E06").unwrap();
    assert_eq!(dev.excerpt, "");
    assert_eq!(
        names(&dev.outlets),
        ["The Financial Ledger", "Global Newswire"]
    );
}
