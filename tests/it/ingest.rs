//! The ingest pipeline end to end: loopback server → fetch → parse → SQLite.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use storyline::refresh::{run_cycle, run_cycle_with, Limits, Quiet, Selection, SourceResult};
use support::feed_server::{FeedServer, Route};
use support::{at, config, fixture, open};

fn rss(items: &[(&str, &str)]) -> String {
    let body: String = items
        .iter()
        .map(|(guid, title)| {
            format!(
                "<item><guid>{guid}</guid><title>{title}</title><link>http://example.org/{guid}</link>\
                 <pubDate>Mon, 07 Apr 2025 10:00:00 GMT</pubDate></item>"
            )
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>{body}</channel></rss>")
}

fn source(id: &str, url: &str) -> String {
    format!("[[source]]\nid = \"{id}\"\nurl = \"{url}\"\n")
}

/// An unchanged feed is fetched with validators the second time, gets 304, and stores nothing.
#[tokio::test]
async fn second_poll_of_unchanged_feed_sends_validators_and_stores_nothing() {
    let server = FeedServer::start().await;
    let body = std::fs::read(fixture("real/meta_ai_blog_rss2_olshansk.xml")).unwrap();
    server.route("/meta.xml", Route::feed(body));
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(
        config(dir.path(), &source("meta", &server.url("/meta.xml"))),
        at("2025-04-07T09:00:00Z"),
    )
    .await;

    let first = run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(first.new_items(), 88);
    let second = run_cycle(&ctx, at("2025-04-07T10:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();

    assert_eq!(second.sources[0].result, SourceResult::NotModified);
    let hits = server.hits_on("/meta.xml");
    assert_eq!(hits.len(), 2);
    assert!(hits[0].if_none_match.is_none());
    assert!(hits[1].if_none_match.is_some(), "validators sent back");
    assert_eq!(hits[1].status, 304);
    assert_eq!(ctx.store.count_items().await.unwrap(), 88);
    let ua = hits[0].user_agent.clone().unwrap_or_default();
    assert!(ua.starts_with("storyline/"), "honest user agent, got {ua}");
}

/// Only due sources are polled by a plain round; the next due time follows the interval.
#[tokio::test]
async fn due_round_skips_sources_that_are_not_due() {
    let server = FeedServer::start().await;
    server.route("/a.xml", Route::feed(rss(&[("a1", "A one")])));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("{}interval = \"1h\"\n", source("a", &server.url("/a.xml")));
    let ctx = open(config(dir.path(), &extra), at("2025-04-07T09:00:00Z")).await;

    run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::Due, &Quiet)
        .await
        .unwrap();
    let r = run_cycle(&ctx, at("2025-04-07T09:30:00Z"), &Selection::Due, &Quiet)
        .await
        .unwrap();
    assert!(r.sources.is_empty(), "not due after 30 minutes");
    let r = run_cycle(&ctx, at("2025-04-07T10:10:00Z"), &Selection::Due, &Quiet)
        .await
        .unwrap();
    assert_eq!(r.sources.len(), 1, "due again after interval + jitter");
    assert_eq!(server.hits_on("/a.xml").len(), 2);
}

/// 429 and 503 honour Retry-After in both its forms.
#[tokio::test]
async fn retry_after_is_honoured_in_seconds_and_as_a_date() {
    let server = FeedServer::start().await;
    server.route(
        "/busy",
        Route::status(429).with_header("retry-after", "7200"),
    );
    server.route(
        "/down",
        Route::status(503).with_header("retry-after", "Tue, 08 Apr 2025 12:00:00 GMT"),
    );
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}{}",
        source("busy", &server.url("/busy")),
        source("down", &server.url("/down"))
    );
    let now = at("2025-04-07T09:00:00Z");
    let ctx = open(config(dir.path(), &extra), now).await;

    let r = run_cycle(&ctx, now, &Selection::All, &Quiet).await.unwrap();
    assert_eq!(r.failed(), 2);
    let busy = ctx.store.source("busy").await.unwrap();
    assert_eq!(busy.last_status.as_deref(), Some("rate_limited"));
    assert!(
        busy.next_due() >= at("2025-04-07T11:00:00Z"),
        "{:?}",
        busy.next_due()
    );
    let down = ctx.store.source("down").await.unwrap();
    assert!(
        down.next_due() >= at("2025-04-08T12:00:00Z"),
        "{:?}",
        down.next_due()
    );
    assert_eq!(down.consecutive_failures, 1);
}

/// 410 disables the source with a recorded reason; it is not fetched again.
#[tokio::test]
async fn gone_disables_the_source() {
    let server = FeedServer::start().await;
    server.route("/gone", Route::status(410));
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(
        config(dir.path(), &source("gone", &server.url("/gone"))),
        at("2025-04-07T09:00:00Z"),
    )
    .await;

    let r = run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(r.sources[0].result, SourceResult::Gone);
    let s = ctx.store.source("gone").await.unwrap();
    assert_eq!(s.disabled_reason.as_deref(), Some("410 Gone"));
    run_cycle(&ctx, at("2026-01-01T00:00:00Z"), &Selection::Due, &Quiet)
        .await
        .unwrap();
    run_cycle(&ctx, at("2026-01-01T00:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(server.hits_on("/gone").len(), 1);
}

/// A permanent redirect moves the stored URL; a temporary one does not.
#[tokio::test]
async fn permanent_redirect_updates_the_stored_url() {
    let server = FeedServer::start().await;
    server.route("/new.xml", Route::feed(rss(&[("n1", "New home")])));
    server.route("/old.xml", Route::redirect(301, "/new.xml"));
    server.route("/temp.xml", Route::redirect(302, "/new.xml"));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}{}",
        source("moved", &server.url("/old.xml")),
        source("temp", &server.url("/temp.xml"))
    );
    let ctx = open(config(dir.path(), &extra), at("2025-04-07T09:00:00Z")).await;

    run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(
        ctx.store.source("moved").await.unwrap().url,
        server.url("/new.xml")
    );
    assert_eq!(
        ctx.store.source("temp").await.unwrap().url,
        server.url("/temp.xml")
    );
    run_cycle(&ctx, at("2025-04-07T12:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(
        server.hits_on("/old.xml").len(),
        1,
        "moved source goes straight to the new URL"
    );
}

/// A redirect loop ends after 5 hops with an error, not a hang.
#[tokio::test]
async fn redirect_loop_is_cut_off() {
    let server = FeedServer::start().await;
    server.route("/a", Route::redirect(302, "/b"));
    server.route("/b", Route::redirect(302, "/a"));
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(
        config(dir.path(), &source("loop", &server.url("/a"))),
        at("2025-04-07T09:00:00Z"),
    )
    .await;
    let r = run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    match &r.sources[0].result {
        SourceResult::Failed { error, .. } => assert!(error.contains("redirects"), "{error}"),
        other => panic!("expected failure, got {other:?}"),
    }
    assert_eq!(server.hits().len(), 6);
}

/// A body over the cap is refused and nothing is stored.
#[tokio::test]
async fn body_over_the_cap_is_refused() {
    let server = FeedServer::start().await;
    let many: Vec<(String, String)> = (0..2000)
        .map(|i| (format!("g{i}"), format!("Item {i}")))
        .collect();
    let refs: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    server.route("/big.xml", Route::feed(rss(&refs)));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "max_body_bytes = 4096\n{}",
        source("big", &server.url("/big.xml"))
    );
    let ctx = open(config(dir.path(), &extra), at("2025-04-07T09:00:00Z")).await;

    let r = run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    match &r.sources[0].result {
        SourceResult::Failed { error, .. } => assert!(error.contains("4096 byte limit"), "{error}"),
        other => panic!("expected failure, got {other:?}"),
    }
    assert_eq!(ctx.store.count_items().await.unwrap(), 0);
}

/// An HTML page where a feed should be is an error, never items.
#[tokio::test]
async fn html_instead_of_a_feed_is_an_error() {
    let server = FeedServer::start().await;
    let html = std::fs::read(fixture("real/article_theverge_og_jsonld_2019.html")).unwrap();
    server.route("/feed", Route::feed(html));
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(
        config(dir.path(), &source("blocked", &server.url("/feed"))),
        at("2025-04-07T09:00:00Z"),
    )
    .await;

    let r = run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    let s = ctx.store.source("blocked").await.unwrap();
    assert_eq!(
        s.last_error.as_deref(),
        Some("not a feed: got an HTML page")
    );
    assert_eq!(r.new_items(), 0);
    assert_eq!(ctx.store.count_items().await.unwrap(), 0);
}

/// Broken sources never stop a round: the good ones land, the bad ones record an error and
/// back off further each time.
#[tokio::test]
async fn broken_feeds_next_to_good_ones_do_not_stop_the_round() {
    let server = FeedServer::start().await;
    server.route(
        "/good.xml",
        Route::feed(std::fs::read(fixture("real/hnrss_newest_q_AI_4items_trimmed.xml")).unwrap()),
    );
    server.route(
        "/broken.xml",
        Route::feed("<rss version=\"2.0\"><channel><item><title>oops"),
    );
    server.route("/error", Route::status(500));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}{}{}{}",
        source("good", &server.url("/good.xml")),
        source("broken", &server.url("/broken.xml")),
        source("error", &server.url("/error")),
        source("nothing", &server.url("/missing.xml")),
    );
    let ctx = open(config(dir.path(), &extra), at("2025-04-07T09:00:00Z")).await;

    let r = run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(r.sources.len(), 4);
    assert_eq!(ctx.store.items_of_source("good").await.unwrap().len(), 4);
    let err = ctx.store.source("error").await.unwrap();
    assert_eq!(
        err.last_error.as_deref(),
        Some("server answered 500 Internal Server Error")
    );
    assert_eq!(err.consecutive_failures, 1);
    let first_due = err.next_due();

    run_cycle(
        &ctx,
        at("2025-04-07T12:00:00Z"),
        &Selection::Only(vec!["error".into()]),
        &Quiet,
    )
    .await
    .unwrap();
    let err = ctx.store.source("error").await.unwrap();
    assert_eq!(err.consecutive_failures, 2);
    assert!(
        err.next_due() - at("2025-04-07T12:00:00Z") > first_due - at("2025-04-07T09:00:00Z"),
        "backoff grows"
    );
    assert_eq!(err.failing_since(), Some(at("2025-04-07T09:00:00Z")));
}

/// The same guid with a changed title is updated in place, never duplicated.
#[tokio::test]
async fn changed_item_is_updated_in_place() {
    let server = FeedServer::start().await;
    server.route(
        "/f.xml",
        Route::feed(rss(&[("g1", "First title"), ("g2", "Other")])),
    );
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(
        config(dir.path(), &source("f", &server.url("/f.xml"))),
        at("2025-04-07T09:00:00Z"),
    )
    .await;
    run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();

    server.route(
        "/f.xml",
        Route::feed(rss(&[("g1", "Corrected title"), ("g2", "Other")])),
    );
    let r = run_cycle(&ctx, at("2025-04-07T10:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();

    assert_eq!(
        r.sources[0].result,
        SourceResult::Stored {
            new: 0,
            updated: 1,
            over_cap: 0
        }
    );
    let items = ctx.store.items_of_source("f").await.unwrap();
    assert_eq!(items.len(), 2);
    let g1 = items.iter().find(|i| i.guid == "g1").unwrap();
    assert_eq!(g1.title.as_deref(), Some("Corrected title"));
    assert_eq!(g1.updated_at, Some(at("2025-04-07T10:00:00Z").timestamp()));
    assert_eq!(g1.first_seen(), at("2025-04-07T09:00:00Z"));
}

/// A feed that floods new ids is capped per poll and flagged.
#[tokio::test]
async fn new_items_per_poll_are_capped_and_flagged() {
    let server = FeedServer::start().await;
    let many: Vec<(String, String)> = (0..40)
        .map(|i| (format!("g{i}"), format!("Item {i}")))
        .collect();
    let refs: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    server.route("/flood.xml", Route::feed(rss(&refs)));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "max_new_items_per_poll = 25\n{}",
        source("flood", &server.url("/flood.xml"))
    );
    let ctx = open(config(dir.path(), &extra), at("2025-04-07T09:00:00Z")).await;

    let r = run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    assert_eq!(
        r.sources[0].result,
        SourceResult::Stored {
            new: 25,
            updated: 0,
            over_cap: 15
        }
    );
    let s = ctx.store.source("flood").await.unwrap();
    assert!(
        s.flagged.as_deref().unwrap_or_default().contains("cap 25"),
        "{:?}",
        s.flagged
    );
}

/// Without allow_private_addresses the guard refuses loopback sources before any request.
#[tokio::test]
async fn private_addresses_are_refused_by_default() {
    let server = FeedServer::start().await;
    server.route("/a.xml", Route::feed(rss(&[("a1", "A")])));
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "database = \"{}\"\n{}",
        dir.path().join("t.db").display(),
        source("local", &server.url("/a.xml"))
    );
    let settings =
        storyline::app::Settings::parse(&text, storyline::config::Origin::Preset).unwrap();
    let clock = storyline::value::clock::Clock::System;
    let ctx = storyline::app::App::build(settings, None, clock, at("2025-04-07T09:00:00Z"))
        .await
        .unwrap();

    let r = run_cycle(&ctx, at("2025-04-07T09:00:00Z"), &Selection::All, &Quiet)
        .await
        .unwrap();
    match &r.sources[0].result {
        SourceResult::Failed { error, .. } => {
            assert!(error.contains("refused to connect to 127.0.0.1"), "{error}")
        }
        other => panic!("expected refusal, got {other:?}"),
    }
    assert!(server.hits().is_empty(), "no request reached the server");
}

/// Polling a source id that is not configured is an error, not a silent no-op.
#[tokio::test]
async fn unknown_source_id_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = open(config(dir.path(), ""), at("2025-04-07T09:00:00Z")).await;
    let r = run_cycle(
        &ctx,
        at("2025-04-07T09:00:00Z"),
        &Selection::Only(vec!["nope".into()]),
        &Quiet,
    )
    .await;
    assert!(matches!(r, Err(storyline::refresh::CycleError::UnknownSource(id)) if id == "nope"));
}

/// A round allowed to hold a single fetched body at a time, writing one source per
/// transaction, stores exactly what a round with the default room stores: every item of every
/// feed, and the same fetch state for good, broken and failing sources. (Were a body's room
/// never given back, the narrow round would stall after its first feed.)
#[tokio::test]
async fn a_round_held_to_one_body_in_flight_stores_what_a_wide_one_does() {
    let server = FeedServer::start().await;
    let mut extra = String::from("per_host_concurrency = 8\n");
    let mut total = 0;
    for f in 0..40 {
        let items: Vec<(String, String)> = (0..5 + f % 7)
            .map(|i| (format!("f{f}-{i}"), format!("Feed {f} reports item {i}")))
            .collect();
        total += items.len();
        let items: Vec<(&str, &str)> = items
            .iter()
            .map(|(g, t)| (g.as_str(), t.as_str()))
            .collect();
        server.route(&format!("/f{f}.xml"), Route::feed(rss(&items)));
        extra.push_str(&source(
            &format!("f{f}"),
            &server.url(&format!("/f{f}.xml")),
        ));
    }
    server.route(
        "/broken.xml",
        Route::feed("<rss version=\"2.0\"><channel><item>"),
    );
    server.route("/error", Route::status(500));
    extra.push_str(&source("broken", &server.url("/broken.xml")));
    extra.push_str(&source("error", &server.url("/error")));

    let now = at("2025-04-07T09:00:00Z");
    let mut stored = Vec::new();
    for limits in [
        Limits::default(),
        Limits {
            in_flight_bytes: 1,
            write_group: 1,
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let ctx = open(config(dir.path(), &extra), now).await;
        let round = run_cycle_with(&ctx, now, &Selection::All, &Quiet, limits);
        let r = tokio::time::timeout(std::time::Duration::from_secs(60), round)
            .await
            .expect("the round finishes")
            .unwrap();
        assert_eq!(r.sources.len(), 42, "{limits:?}");
        assert!(r.new_items() >= total, "{limits:?}");
        assert!(r.failed() >= 1, "{limits:?}");
        let mut state = vec![(format!("{} {}", r.new_items(), r.failed()), Vec::new())];
        for s in ctx.store.sources().await.unwrap() {
            let mut items: Vec<String> = ctx
                .store
                .items_of_source(&s.id)
                .await
                .unwrap()
                .into_iter()
                .map(|mut it| {
                    it.id = 0; // row ids follow the order sources happen to finish in
                    format!("{it:?}")
                })
                .collect();
            items.sort();
            state.push((format!("{s:?}"), items));
        }
        state.sort();
        stored.push(state);
    }
    assert_eq!(stored[0].len(), 43);
    assert_eq!(stored[0], stored[1]);
}
