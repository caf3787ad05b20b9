//! A hand-built week of the Llama 4 story (2025-W20, the Behemoth delay), shared by the digest
//! tests. Wording follows the story-replay fixture; feed HTML is as feeds send it, hostile bits
//! included.

use chrono::{DateTime, Utc};

use super::model::{
    DigestInput, DiscussionIn, EventIn, FailingSource, ItemIn, TimelineIn, UpdateIn,
};
use crate::value::week::IsoWeek;

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn week(s: &str) -> IsoWeek {
    s.parse().unwrap()
}

pub fn item(source: &str, guid: &str, url: &str, published: &str) -> ItemIn {
    ItemIn {
        source: source.into(),
        guid: guid.into(),
        url: Some(url.into()),
        title: None,
        published: Some(at(published)),
        outlet: None,
        summary_html: None,
    }
}

pub fn event(id: &str, headline: &str, first_seen: &str, items: Vec<ItemIn>) -> EventIn {
    EventIn {
        id: id.into(),
        headline: headline.into(),
        first_seen: at(first_seen),
        items,
    }
}

fn behemoth_delay() -> EventIn {
    let mut gnews = item(
        "gnews-llama4",
        "CBMiQ4d1",
        "https://news.google.com/rss/articles/CBMiQ4d1?oc=5",
        "2025-05-15T20:30:05Z",
    );
    gnews.outlet = Some("The Financial Ledger".into());
    gnews.title = Some(
        "Report: Meta delays Llama 4 Behemoth as engineers struggle to show significant gains \
         - The Financial Ledger"
            .into(),
    );
    gnews.summary_html = Some(
        r##"<a href="https://news.google.com/rss/articles/CBMiQ4d1?oc=5" target="_blank">Report: Meta delays Llama 4 Behemoth as engineers struggle to show significant gains</a>&nbsp;&nbsp;<font color="#6f6f6f">The Financial Ledger</font>"##
            .into(),
    );
    let mut gnews2 = item(
        "gnews-llama4",
        "CBMiArlK",
        "https://news.google.com/rss/articles/CBMiArlK?oc=5",
        "2025-05-16T01:05:03Z",
    );
    gnews2.outlet = Some("Global Newswire".into());
    let mut techwire = item(
        "techwire",
        "https://techwire.example/?p=53557",
        "https://techwire.example/2025/05/16/metas-behemoth-delay-raises-questions-about-its-ai-strategy/",
        "2025-05-16T18:00:15Z",
    );
    techwire.outlet = Some("TechWire".into());
    techwire.summary_html = Some(
        "<p>The largest Llama 4 model is reportedly on hold because it has not improved enough \
         over earlier versions to justify a release.<script>alert('x')</script> Engineers \
         <b onmouseover=\"alert(1)\">struggled</b> to show gains over Maverick. A third sentence \
         never shows.</p><p>The post <a href=\"javascript:alert(1)\">Meta&#8217;s Behemoth \
         delay</a> appeared first on TechWire.</p>"
            .into(),
    );
    let mut aim = item(
        "aim",
        "https://aimag.example/?p=159797",
        "https://aimag.example/ai-news/meta-pushes-back-llama-4-behemoth/?utm_source=rss",
        "2025-05-17T09:00:43Z",
    );
    aim.outlet = Some("AIM".into());
    let reddit = item(
        "reddit-localllama",
        "t3_1ks7u3v",
        "https://www.reddit.com/r/LocalLLaMA/comments/1ks7u3v/report_llama_4_behemoth_delayed/",
        "2025-05-15T22:40:06Z",
    );
    let hn = item(
        "hn-llama",
        "https://news.ycombinator.com/item?id=44018534",
        "https://ledger.example/tech/ai/meta-flagship-model-delay-behemoth-2025-05-15",
        "2025-05-16T00:10:00Z",
    );
    // A second report from the same outlet must not list it twice.
    let mut ledger_again = item(
        "hn-llama",
        "https://news.ycombinator.com/item?id=44018999",
        "https://www.ledger.example/tech/ai/behemoth-follow-up",
        "2025-05-16T03:00:00Z",
    );
    ledger_again.outlet = Some("ledger.example".into());
    event(
        "E06",
        "Meta delays Behemoth",
        "2025-05-15T20:30:05Z",
        vec![techwire, gnews, gnews2, aim, reddit, hn, ledger_again],
    )
}

fn pricing_roundup() -> EventIn {
    let mut tw = item(
        "techwire",
        "https://techwire.example/?p=53413",
        "https://techwire.example/2025/05/12/where-to-run-llama-4/",
        "2025-05-12T16:00:37Z",
    );
    tw.outlet = Some("TechWire".into());
    tw.summary_html = Some(
        "<p>A month after launch, Scout and Maverick are on every major cloud. Here is what \
         they cost per million tokens.</p>"
            .into(),
    );
    let mut aiw = item(
        "aiweekly-json",
        "aiw-03180",
        "https://aiweekly.example/p/llama-4-prices/",
        "2025-05-13T12:00:00Z",
    );
    aiw.outlet = Some("AI Weekly".into());
    event(
        "E99",
        "Where to run Llama 4: cloud prices compared",
        "2025-05-12T16:00:37Z",
        vec![tw, aiw],
    )
}

/// The full week: two developments, an update, three discussions, a timeline that runs past
/// the week, counts with a gap, and two failing sources (one only for a few hours).
pub fn sample_input() -> DigestInput {
    let w = week("2025-W20");
    let (week_start, week_end) = w.range(chrono_tz::UTC);
    DigestInput {
        story_id: "llama-4".into(),
        story_title: "Meta's Llama 4 release".into(),
        short_title: Some("Llama 4".into()),
        week: w,
        week_start,
        week_end,
        timezone: chrono_tz::UTC,
        developments: vec![pricing_roundup(), behemoth_delay()],
        updates: vec![UpdateIn {
            event_id: "E03".into(),
            headline: "Meta releases Llama 4 Scout and Maverick".into(),
            what: "page updated: 1 paragraph added".into(),
            when: at("2025-05-14T10:00:00Z"),
            items: vec![item(
                "meta-ai-blog",
                "https://ai.meta.com/blog/llama-4-herd-scout-maverick/",
                "https://ai.meta.com/blog/llama-4-herd-scout-maverick/",
                "2025-04-05T18:00:00Z",
            )],
        }],
        discussions: vec![
            discussion("Llama 4 Behemoth delayed", "Hacker News", 412, 388, 120),
            discussion(
                "Report: Behemoth on hold <b>again</b>",
                "Reddit",
                980,
                301,
                301,
            ),
            discussion("Is Scout worth running locally?", "Reddit", 55, 40, 12),
        ],
        timeline: vec![
            timeline(
                "E01",
                "Meta's year-end post names Llama 4",
                "2024-12-19T17:00:00Z",
            ),
            timeline(
                "E03",
                "Meta releases Llama 4 Scout and Maverick",
                "2025-04-05T18:00:00Z",
            ),
            timeline(
                "E04",
                "Leaderboard controversy over Maverick",
                "2025-04-07T09:00:00Z",
            ),
            timeline("E06", "Meta delays Behemoth", "2025-05-15T20:30:05Z"),
            timeline("E07", "Meta invests in Scale AI", "2025-06-12T12:00:00Z"),
        ],
        weekly_counts: vec![
            (week("2025-W14"), 9),
            (week("2025-W15"), 8),
            (week("2025-W16"), 3),
            (week("2025-W18"), 6),
            (week("2025-W19"), 2),
            (week("2025-W20"), 9),
            (week("2024-W50"), 40),
        ],
        failing_sources: vec![
            FailingSource {
                id: "mlpapers-rdf".into(),
                title: Some("ML Papers".into()),
                since: at("2025-05-16T09:00:00Z"),
                error: "server answered 503 Service Unavailable".into(),
            },
            FailingSource {
                id: "gh-llama-models".into(),
                title: None,
                since: at("2025-05-19T06:00:00Z"),
                error: "timed out after 30s".into(),
            },
        ],
        generated_at: at("2025-05-19T08:00:00Z"),
    }
}

fn discussion(title: &str, site: &str, points: i64, comments: i64, new: i64) -> DiscussionIn {
    DiscussionIn {
        title: title.into(),
        url: format!(
            "https://{}/t/{}",
            if site == "Reddit" {
                "www.reddit.com"
            } else {
                "news.ycombinator.com"
            },
            points
        ),
        site: site.into(),
        points: Some(points),
        comments: Some(comments),
        new_comments: new,
    }
}

fn timeline(id: &str, headline: &str, date: &str) -> TimelineIn {
    TimelineIn {
        id: id.into(),
        headline: headline.into(),
        date: at(date),
    }
}

/// The same story in a week where nothing new was reported.
pub fn quiet_input() -> DigestInput {
    let mut input = sample_input();
    let w = week("2025-W21");
    let (week_start, week_end) = w.range(chrono_tz::UTC);
    input.week = w;
    input.week_start = week_start;
    input.week_end = week_end;
    input.developments.clear();
    input.updates.clear();
    input.generated_at = at("2025-05-26T08:00:00Z");
    input
}
