//! Alerts in-process, against loopback feeds and a loopback receiver: one alert per new
//! development and never another for a later report of it, `min_outlets`, signatures, the
//! ntfy and Matrix shapes, retries and permanent failures, quiet hours, leases and the SSRF
//! guard. Rounds are run as the daemon runs them: `run_cycle`, `decide`, `drain`.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use chrono::{DateTime, Duration, Utc};
use storyline::alert::{self, Alerts, DecideReport, DrainReport, Sender};
use storyline::app::{App, Settings};
use storyline::fetch::AddressPolicy;
use storyline::refresh::{self, Quiet, Selection};
use storyline::value::clock::Clock;
use support::alert_sink::{AlertSink, Reply};
use support::feed_server::{FeedServer, Route};
use support::{at, open};

use tokio_util::sync::CancellationToken;

const SECRET: &str = "alert-test-secret-0123456789abcdef";

/// One report: (guid, title, body, link, outlet host, hours before the round).
type Report<'a> = (&'a str, &'a str, &'a str, &'a str);

fn rss(items: &[(Report<'_>, DateTime<Utc>)]) -> String {
    let body: String = items
        .iter()
        .map(|((guid, title, desc, link), t)| {
            format!(
                "<item><guid>{guid}</guid><title>{title}</title><description>{desc}</description>\
                 <link>{link}</link><pubDate>{}</pubDate></item>",
                t.to_rfc2822()
            )
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>{body}</channel></rss>")
}

const LAUNCH_WIRE: Report = (
    "w1",
    "Acme launches Rocket X9 into orbit from its Texas pad",
    "Acme launched the Rocket X9 into low Earth orbit from its Texas pad on Monday, \
     carrying twelve weather satellites for the national forecast service.",
    "https://wire.example/acme-x9-orbit",
);
const LAUNCH_DESK: Report = (
    "d1",
    "Rocket X9 reaches orbit from Texas with twelve weather satellites",
    "The Acme Rocket X9 reached low Earth orbit from the Texas pad, placing twelve weather \
     satellites for the national forecast service.",
    "https://desk.example/x9-reaches-orbit",
);
const LAUNCH_POST: Report = (
    "p1",
    "Acme Rocket X9 orbit launch from Texas puts twelve weather satellites up",
    "Twelve weather satellites for the national forecast service rode the Acme Rocket X9 \
     from Texas into low Earth orbit.",
    "https://post.example/news/x9-launch",
);
const FIRE_WIRE: Report = (
    "w2",
    "Rocket X9 fleet grounded after an engine fire in a static test",
    "Regulators grounded every Rocket X9 after a turbopump fire destroyed an engine during a \
     static firing in Nevada; investigators blame a cracked valve.",
    "https://wire.example/x9-grounded-fire",
);
const STORY: &str =
    "[[story]]\nid = \"rocket\"\ntitle = \"Acme's Rocket X9\"\nphrases = [\"Rocket X9\"]\n";

const CAFETERIA: &str = "Acme opened a cafeteria for its staff in Ohio.";
const PAGE_LAUNCH: &str = "Acme launched the Rocket X9 into low Earth orbit from its Texas pad \
     on Monday, carrying twelve weather satellites for the national forecast service.";

/// An article page (the outlet's own site, watched as a page) with these paragraphs.
fn page(title: &str, paragraphs: &[&str]) -> Route {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    let html = format!(
        "<!DOCTYPE html><html><head><title>{title} - Site News</title>\
         <link rel=\"canonical\" href=\"https://site.example/x9-orbit\">\
         <meta property=\"og:site_name\" content=\"Site News\">\
         <meta property=\"article:published_time\" content=\"2025-06-02T07:00:00Z\">\
         </head><body><main><article><h1>{title}</h1>{body}</article></main>\
         </body></html>"
    );
    let mut r = Route::feed(html);
    if let Route::Feed { content_type, .. } = &mut r {
        *content_type = "text/html; charset=utf-8";
    }
    r
}

const NEAR_MISS: Report = (
    "w3",
    "Acme opens a new cafeteria in Ohio",
    "The company behind the X9 rocket said its Ohio cafeteria serves lunch.",
    "https://wire.example/cafeteria",
);

struct World {
    feeds: FeedServer,
    sink: AlertSink,
    ctx: App,
    alerts: Alerts,
    sender: Sender,
    _dir: tempfile::TempDir,
}

impl World {
    /// Three feeds (wire, desk, post) feeding the "rocket" story, and `alert` TOML naming
    /// `SINK` for the receiver's address.
    async fn new(alert: &str, sink: AlertSink) -> World {
        World::with(alert, sink, "5s").await
    }

    /// As `new`, with this fetch (and alert) timeout.
    async fn with(alert: &str, sink: AlertSink, timeout: &str) -> World {
        let feeds = FeedServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut toml = format!(
            "database = \"{}\"\ntimezone = \"Europe/Paris\"\n\
             [fetch]\nallow_private_addresses = true\ntimeout = \"{timeout}\"\n\
             [web]\nbase_url = \"https://news.example.org/\"\n",
            dir.path().join("test.db").display()
        );
        for f in ["wire", "desk", "post"] {
            feeds.route(&format!("/{f}.xml"), Route::feed(rss(&[])));
            toml.push_str(&format!(
                "[[source]]\nid = \"{f}\"\nurl = \"{}\"\n",
                feeds.url(&format!("/{f}.xml"))
            ));
        }
        feeds.route("/site.html", page("A new cafeteria", &[CAFETERIA]));
        toml.push_str(&format!(
            "[[source]]\nid = \"site\"\nkind = \"page\"\nurl = \"{}\"\n",
            feeds.url("/site.html")
        ));
        toml.push_str(STORY);
        toml.push_str(&alert.replace("SINK", &format!("http://{}", sink.addr)));
        let config = storyline::config::Config::parse(
            &toml,
            storyline::config::Origin::File("test.toml".into()),
        )
        .unwrap();
        let env = |k: &str| match k {
            "HOOK_SECRET" => Some(SECRET.to_string()),
            "MATRIX_TOKEN" => Some("syt_matrix_token".to_string()),
            _ => None,
        };
        let ctx = open(config, at("2025-06-02T00:00:00Z")).await;
        let alerts = Alerts::from_config(&ctx.config, &ctx.stories, &env).unwrap();
        let sender = Sender::new(&ctx.config.fetch, AddressPolicy::LoopbackOnly).unwrap();
        World {
            feeds,
            sink,
            ctx,
            alerts,
            sender,
            _dir: dir,
        }
    }

    fn serve(&self, feed: &str, reports: &[(Report<'_>, DateTime<Utc>)]) {
        self.feeds
            .route(&format!("/{feed}.xml"), Route::feed(rss(reports)));
    }

    /// A polling round at `now`, then what the daemon does after one.
    async fn round(&self, now: DateTime<Utc>) -> (DecideReport, DrainReport) {
        refresh::run_cycle(&self.ctx, now, &Selection::All, &Quiet)
            .await
            .unwrap();
        let d = alert::decide(&self.ctx.store, &self.alerts, now)
            .await
            .unwrap();
        (d, self.drain(now).await)
    }

    async fn drain(&self, now: DateTime<Utc>) -> DrainReport {
        alert::drain(
            &self.sender,
            &self.ctx.store,
            &self.alerts,
            &Clock::tokio_from(now),
            &CancellationToken::new(),
        )
        .await
        .unwrap()
    }

    async fn state(&self) -> Vec<(String, String, i64, Option<String>)> {
        sqlx::query_as(
            "SELECT event_id, state, attempts, last_reply FROM alert_deliveries ORDER BY id",
        )
        .fetch_all(self.ctx.store.pool())
        .await
        .unwrap()
    }
}

fn h(hours: i64, now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::hours(hours)
}

const HOOK: &str = "[[alert]]\nid = \"hook\"\nstory = \"rocket\"\nkind = \"webhook\"\n\
                    url = \"SINK/hook\"\nsecret_env = \"HOOK_SECRET\"\n";

/// A development alerts once, in the round that first decides it, signed, with its
/// headline, first link, outlets and the story page; later reports of it never alert again,
/// a second development alerts once more, and an item that is not the story never alerts.
#[tokio::test]
async fn each_development_alerts_once_signed_and_later_reports_never_again() {
    let w = World::new(HOOK, AlertSink::start().await).await;
    let r1 = at("2025-06-02T09:00:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(5, r1)), (NEAR_MISS, h(4, r1))]);
    let (d, s) = w.round(r1).await;
    assert_eq!((d.queued, s.sent), (1, 1));

    let r2 = r1 + Duration::hours(1);
    w.serve("desk", &[(LAUNCH_DESK, h(1, r2))]);
    w.serve("post", &[(LAUNCH_POST, h(1, r2))]);
    let (d, s) = w.round(r2).await;
    assert_eq!((d.queued, s.sent), (0, 0), "later reports of the launch");

    let r3 = r2 + Duration::hours(30);
    w.serve(
        "wire",
        &[
            (LAUNCH_WIRE, h(35, r3)),
            (NEAR_MISS, h(34, r3)),
            (FIRE_WIRE, h(2, r3)),
        ],
    );
    let (d, s) = w.round(r3).await;
    assert_eq!(
        (d.queued, s.sent),
        (1, 1),
        "the engine fire is a new development"
    );
    let (d, s) = w.round(r3 + Duration::hours(1)).await;
    assert_eq!((d.queued, s.sent), (0, 0), "nothing new");

    let got = w.sink.received();
    assert_eq!(got.len(), 2);
    for r in &got {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/hook"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(
            r.signature_is_valid(SECRET),
            "{:?}",
            r.header("storyline-signature")
        );
        assert!(!r.signature_is_valid("another-secret-another-secret-00"));
        let v = r.json();
        assert_eq!(r.header("idempotency-key"), v["id"].as_str());
        assert_eq!(v["alert"], "hook");
        assert_eq!(v["type"], "development");
        assert_eq!(v["story"]["id"], "rocket");
        assert_eq!(v["story"]["url"], "https://news.example.org/stories/rocket");
    }
    let first = got[0].json();
    assert!(first["event"]["headline"]
        .as_str()
        .unwrap()
        .contains("Rocket X9"));
    assert_eq!(first["event"]["link"], LAUNCH_WIRE.3);
    assert_eq!(
        first["event"]["outlets"],
        serde_json::json!(["wire.example"])
    );
    assert_eq!(first["event"]["items"][0]["guid"], "w1");
    let second = got[1].json();
    assert_eq!(second["event"]["link"], FIRE_WIRE.3);
    assert_ne!(first["id"], second["id"]);
    assert_ne!(first["event"]["id"], second["event"]["id"]);
    let tampered = support::alert_sink::Received {
        body: [&got[0].body[..], b" "].concat(),
        ..got[0].clone()
    };
    assert!(!tampered.signature_is_valid(SECRET), "the body is signed");
}

/// With `min_outlets = 3` the launch alerts in the round its third outlet reports it, with
/// all three outlets, and never again.
#[tokio::test]
async fn min_outlets_alerts_in_the_round_the_nth_outlet_reports() {
    let w = World::new(
        &format!("{HOOK}min_outlets = 3\n"),
        AlertSink::start().await,
    )
    .await;
    let r1 = at("2025-06-02T09:00:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(5, r1))]);
    let (d, _) = w.round(r1).await;
    assert_eq!((d.queued, d.waiting), (0, 1));
    let r2 = r1 + Duration::hours(1);
    w.serve("desk", &[(LAUNCH_DESK, h(1, r2))]);
    let (d, _) = w.round(r2).await;
    assert_eq!((d.queued, d.waiting), (0, 1), "two outlets");
    let r3 = r2 + Duration::hours(1);
    w.serve("post", &[(LAUNCH_POST, h(1, r3))]);
    let (d, s) = w.round(r3).await;
    assert_eq!((d.queued, s.sent), (1, 1), "the third outlet");
    let (d, _) = w.round(r3 + Duration::hours(1)).await;
    assert_eq!(d.queued, 0);
    let got = w.sink.received();
    assert_eq!(got.len(), 1);
    let v = got[0].json();
    assert_eq!(
        v["event"]["outlets"],
        serde_json::json!(["wire.example", "desk.example", "post.example"])
    );
    assert_eq!(v["event"]["reports"], 3);
}

/// A development first reported longer than `max_age` before it is decided (old news found
/// late) does not alert; nor does one decided before the alert began.
#[tokio::test]
async fn old_news_and_developments_from_before_the_alert_do_not_alert() {
    let w = World::new(
        &format!("{HOOK}max_age = \"2d\"\n"),
        AlertSink::start().await,
    )
    .await;
    let r1 = at("2025-06-02T09:00:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(24 * 5, r1))]);
    let (d, _) = w.round(r1).await;
    assert_eq!(d.queued, 0, "five days old");

    // A story followed without alerts for a while, then an alert is added.
    let late = World::new("", AlertSink::start().await).await;
    late.serve("wire", &[(LAUNCH_WIRE, h(2, r1))]);
    late.round(r1).await;
    let text = format!(
        "{STORY}{}",
        HOOK.replace("SINK", &format!("http://{}", late.sink.addr))
    );
    let with_alert = Settings::from_config(support::config(late._dir.path(), &text))
        .unwrap()
        .alerts(&|_| Some(SECRET.into()))
        .unwrap();
    let r2 = r1 + Duration::hours(30);
    let d = alert::decide(&late.ctx.store, &with_alert, r2)
        .await
        .unwrap();
    assert_eq!(d.queued, 0, "the launch was decided before the alert began");
    late.serve("wire", &[(LAUNCH_WIRE, h(32, r2)), (FIRE_WIRE, h(1, r2))]);
    refresh::run_cycle(&late.ctx, r2 + Duration::hours(1), &Selection::All, &Quiet)
        .await
        .unwrap();
    let d = alert::decide(&late.ctx.store, &with_alert, r2 + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(d.queued, 1, "the fire came after");
}

/// 503, 500 and a timeout are retried with backoff, each time with the same idempotency key
/// and body; then the alert goes through once.
#[tokio::test]
async fn server_errors_and_timeouts_are_retried_with_the_same_key() {
    let sink = AlertSink::start().await;
    sink.script([
        Reply::status(503, "busy").with_header("retry-after", "120"),
        Reply::status(500, "oops"),
        Reply::slow(std::time::Duration::from_secs(4)),
    ]);
    let w = World::with(HOOK, sink, "1s").await;
    let r1 = at("2025-06-02T09:00:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(1, r1))]);
    let (d, s) = w.round(r1).await;
    assert_eq!((d.queued, s.sent, s.retried), (1, 0, 1));
    let state = w.state().await;
    assert_eq!(state[0].1, "pending");
    assert!(
        state[0].3.as_deref().unwrap().contains("HTTP 503"),
        "{state:?}"
    );
    // Retry-After: 120 is later than the first backoff (30s).
    assert_eq!(w.drain(r1 + Duration::seconds(119)).await.retried, 0);
    assert_eq!(w.drain(r1 + Duration::seconds(120)).await.retried, 1);
    let s = w.drain(r1 + Duration::seconds(240)).await;
    assert_eq!(s.retried, 1, "the timeout");
    assert!(w.state().await[0]
        .3
        .as_deref()
        .unwrap()
        .contains("timed out"));
    assert_eq!(
        w.drain(r1 + Duration::seconds(300)).await.sent,
        0,
        "backing off"
    );
    let s = w.drain(r1 + Duration::seconds(480)).await;
    assert_eq!(s.sent, 1);
    let got = w.sink.received();
    assert_eq!(got.len(), 4);
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same body every time"
    );
    let keys: std::collections::HashSet<_> =
        got.iter().map(|r| r.header("idempotency-key")).collect();
    assert_eq!(keys.len(), 1);
    assert!(got.iter().all(|r| r.signature_is_valid(SECRET)));
    let state = w.state().await;
    assert_eq!((state[0].1.as_str(), state[0].2), ("sent", 4));
}

/// A 4xx other than 408 and 429 fails at once, with the reply kept for `alerts list`; 408
/// and 429 are retried.
#[tokio::test]
async fn client_errors_fail_at_once_except_408_and_429() {
    let sink = AlertSink::start().await;
    sink.script([
        Reply::status(429, "slow down"),
        Reply::status(408, "too slow"),
        Reply::status(410, "this hook was deleted"),
    ]);
    let w = World::new(HOOK, sink).await;
    let r1 = at("2025-06-02T09:00:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(1, r1))]);
    let (_, s) = w.round(r1).await;
    assert_eq!(s.retried, 1);
    assert_eq!(w.drain(r1 + Duration::minutes(1)).await.retried, 1);
    let s = w.drain(r1 + Duration::minutes(5)).await;
    assert_eq!((s.failed, s.sent), (1, 0));
    let state = w.state().await;
    assert_eq!(state[0].1, "failed");
    assert_eq!(
        state[0].3.as_deref(),
        Some("HTTP 410 Gone: this hook was deleted")
    );
    assert_eq!(
        w.drain(r1 + Duration::hours(5)).await.sent,
        0,
        "failed is final"
    );
    let counts = w.ctx.store.alert_counts().await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].state.as_str(), counts[0].count), ("failed", 1));
}

/// Alerts due in quiet hours (in the config's time zone) wait until the hours end and then
/// go out; nothing is dropped.
#[tokio::test]
async fn quiet_hours_hold_alerts_until_they_end() {
    let alert = format!("{HOOK}quiet_hours = \"22:00-07:00\"\n");
    let w = World::new(&alert, AlertSink::start().await).await;
    // 21:30 UTC is 23:30 in Paris (summer time).
    let r1 = at("2025-06-02T21:30:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(1, r1))]);
    let (d, s) = w.round(r1).await;
    assert_eq!((d.queued, s.sent), (1, 0));
    assert_eq!(
        w.drain(at("2025-06-03T04:59:00Z")).await.sent,
        0,
        "06:59 in Paris"
    );
    assert_eq!(w.sink.count(), 0);
    assert_eq!(
        w.drain(at("2025-06-03T05:00:00Z")).await.sent,
        1,
        "07:00 in Paris"
    );
    assert_eq!(w.sink.count(), 1);
}

/// ntfy gets plain text with Title, Click and Tags, and the key as X-Sequence-ID.
#[tokio::test]
async fn ntfy_alerts_are_text_with_title_click_and_tags() {
    let alert = "[[alert]]\nid = \"phone\"\nstory = \"rocket\"\nkind = \"ntfy\"\n\
                 url = \"SINK/rocket-news\"\n";
    let w = World::new(alert, AlertSink::start_ntfy().await).await;
    let r1 = at("2025-06-02T09:00:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(2, r1))]);
    w.serve("desk", &[(LAUNCH_DESK, h(1, r1))]);
    let (_, s) = w.round(r1).await;
    assert_eq!(s.sent, 1);
    let got = w.sink.received();
    let r = &got[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/rocket-news")
    );
    assert!(r.header("title").unwrap().contains("Rocket X9"));
    assert_eq!(r.header("click"), Some(LAUNCH_WIRE.3));
    assert_eq!(r.header("tags"), Some("newspaper,rocket"));
    assert_eq!(r.header("x-sequence-id"), r.header("idempotency-key"));
    let text = r.text();
    assert!(
        text.starts_with("Acme's Rocket X9: new development, reported by 2 outlets"),
        "{text}"
    );
    assert!(text.contains("Story: https://news.example.org/"), "{text}");
}

/// Matrix gets a PUT into the room with the key as the transaction id and the token as a
/// bearer token.
#[tokio::test]
async fn matrix_alerts_are_put_into_the_room_with_the_key_as_txn_id() {
    let alert = "[[alert]]\nid = \"room\"\nstory = \"rocket\"\nkind = \"matrix\"\n\
                 url = \"SINK/\"\nroom = \"!news:example.org\"\ntoken_env = \"MATRIX_TOKEN\"\n";
    let w = World::new(alert, AlertSink::start().await).await;
    let r1 = at("2025-06-02T09:00:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(1, r1))]);
    assert_eq!(w.round(r1).await.1.sent, 1);
    let r = &w.sink.received()[0];
    assert_eq!(r.method, "PUT");
    let key = r.header("idempotency-key").unwrap();
    assert_eq!(
        r.path,
        format!("/_matrix/client/v3/rooms/!news:example.org/send/m.room.message/{key}")
    );
    assert_eq!(r.header("authorization"), Some("Bearer syt_matrix_token"));
    let v = r.json();
    assert_eq!(v["msgtype"], "m.text");
    assert_eq!(v["org.storyline.alert"]["id"], key);
    assert!(v["body"].as_str().unwrap().contains("Rocket X9"));
}

/// A row claimed by one sender is not taken by another until the lease runs out; then it is
/// taken over, and the first sender can no longer record an outcome for it.
#[tokio::test]
async fn a_claimed_alert_is_only_taken_over_after_its_lease() {
    let w = World::new(HOOK, AlertSink::start().await).await;
    let r1 = at("2025-06-02T09:00:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(1, r1))]);
    refresh::run_cycle(&w.ctx, r1, &Selection::All, &Quiet)
        .await
        .unwrap();
    alert::decide(&w.ctx.store, &w.alerts, r1).await.unwrap();
    let store = &w.ctx.store;
    let lease = r1 + Duration::minutes(2);
    let a = store.claim_alert("a", lease, r1).await.unwrap().unwrap();
    assert!(store.claim_alert("b", lease, r1).await.unwrap().is_none());
    assert_eq!(
        w.drain(r1 + Duration::seconds(119)).await.sent,
        0,
        "a's lease runs"
    );
    let b = store
        .claim_alert("b", lease + Duration::minutes(2), lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b.id, b.attempts), (a.id, 2));
    assert_eq!(b.idempotency_key, a.idempotency_key);
    let sent = storyline::store::AlertOutcome::Sent {
        status: 200,
        reply: "ok",
    };
    assert!(!store.record_alert(a.id, "a", &sent, lease).await.unwrap());
    assert!(store.record_alert(b.id, "b", &sent, lease).await.unwrap());
    assert_eq!(w.state().await[0].1, "sent");
}

/// With `updates = true` a changed page of an announced development alerts once; without,
/// it does not.
#[tokio::test]
async fn page_updates_alert_only_when_asked() {
    for updates in [false, true] {
        let alert = format!("{HOOK}updates = {updates}\n");
        let w = World::new(&alert, AlertSink::start().await).await;
        let r1 = at("2025-06-02T09:00:00Z");
        w.serve("wire", &[(LAUNCH_WIRE, h(1, r1))]);
        w.feeds.route(
            "/site.html",
            page("Rocket X9 reaches orbit", &[PAGE_LAUNCH]),
        );
        let (d, _) = w.round(r1).await;
        assert_eq!(
            d.queued, 1,
            "one development, reported by the wire and the site"
        );
        let r2 = r1 + Duration::hours(3);
        let update = "<strong>Update:</strong> all twelve satellites now answer the ground.";
        w.feeds.route(
            "/site.html",
            page("Rocket X9 reaches orbit", &[PAGE_LAUNCH, update]),
        );
        let (d, _) = w.round(r2).await;
        let n = w.sink.count();
        if updates {
            assert_eq!((d.queued, n), (1, 2));
            let v = w.sink.received()[1].json();
            assert_eq!(v["type"], "update");
            assert_eq!(v["update"]["item"]["source"], "site");
            assert_eq!(v["update"]["note"], "1 paragraph added");
            assert!(w.sink.received()[1].signature_is_valid(SECRET));
            w.round(r2 + Duration::hours(1)).await;
            assert_eq!(w.sink.count(), 2, "once");
        } else {
            assert_eq!((d.queued, n), (0, 1));
        }
    }
}

/// Without `allow_private_addresses` an alert URL that resolves to loopback is refused by
/// the guard, fails with the reason, and nothing reaches the receiver.
#[tokio::test]
async fn the_ssrf_guard_refuses_alert_urls_on_private_addresses() {
    let sink = AlertSink::start().await;
    let port = sink.addr.port();
    let alert = format!(
        "[[alert]]\nid = \"hook\"\nstory = \"rocket\"\nkind = \"webhook\"\n\
         url = \"http://localhost:{port}/hook\"\n"
    );
    let mut w = World::new(&alert, sink).await;
    w.sender = Sender::new(&w.ctx.config.fetch, AddressPolicy::PublicOnly).unwrap();
    let r1 = at("2025-06-02T09:00:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(1, r1))]);
    let (_, s) = w.round(r1).await;
    assert_eq!((s.sent, s.failed), (0, 1));
    assert_eq!(w.sink.count(), 0);
    let state = w.state().await;
    assert!(
        state[0]
            .3
            .as_deref()
            .unwrap()
            .contains("refused to connect to"),
        "{state:?}"
    );
}

/// A development founded by a round whose process died before deciding alerts still alerts
/// when the next run decides, because the alert's start was noted before the round.
#[tokio::test]
async fn a_development_founded_just_before_a_crash_still_alerts() {
    let w = World::new(HOOK, AlertSink::start().await).await;
    let r1 = at("2025-06-02T09:00:00Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(1, r1))]);
    alert::begin(&w.ctx.store, &w.alerts, r1).await.unwrap();
    refresh::run_cycle(&w.ctx, r1, &Selection::All, &Quiet)
        .await
        .unwrap();
    // The process dies here; the next one starts later.
    let r2 = r1 + Duration::minutes(10);
    alert::begin(&w.ctx.store, &w.alerts, r2).await.unwrap();
    let (d, s) = w.round(r2).await;
    assert_eq!((d.queued, s.sent), (1, 1));
}

/// `storyline serve`, in-process: the poller decides after its round and wakes the alert
/// loop, which holds the alert through quiet hours and sends it on its timer when they end;
/// `/metrics` then counts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_sends_alerts_after_a_round_and_on_its_timer() {
    let alert = "[[alert]]\nid = \"hook\"\nstory = \"rocket\"\nkind = \"webhook\"\n\
                 url = \"SINK/hook\"\nquiet_hours = \"22:00-07:00\"\n";
    let w = World::new(alert, AlertSink::start().await).await;
    // 06:59:57 in Paris: the quiet hours end three seconds after the first round.
    let start = at("2025-06-03T04:59:57Z");
    w.serve("wire", &[(LAUNCH_WIRE, h(1, start))]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let app = App {
        clock: Clock::tokio_from(start),
        ..w.ctx.clone()
    };
    let daemon = tokio::spawn(storyline::daemon::run(app, listener, async {
        let _ = stop_rx.await;
    }));
    let waited = std::time::Instant::now();
    let mut queued = false;
    while waited.elapsed() < std::time::Duration::from_secs(10) && !queued {
        queued = w.ctx.store.next_alert_due().await.unwrap().is_some();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(queued, "the round decided the alert");
    assert_eq!(w.sink.count(), 0, "held in quiet hours");
    while waited.elapsed() < std::time::Duration::from_secs(10) && w.sink.count() == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(w.sink.count(), 1, "sent when the quiet hours ended");
    assert!(waited.elapsed() >= std::time::Duration::from_secs(2));
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("storyline_alert_deliveries{alert=\"hook\",state=\"sent\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("storyline_alert_attempts_total{outcome=\"sent\"} 1"),
        "{metrics}"
    );
    stop_tx.send(()).unwrap();
    daemon.await.unwrap().unwrap();
}

fn cli(config: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The commands: `config check` shows alerts (secrets named, never shown; paths hidden),
/// `alerts test` sends a signed sample and says what the receiver answered, `poll` decides
/// and sends, `alerts list` shows a failure with the receiver's reply, and a missing secret
/// stops `poll` before it fetches anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alerts_commands_test_list_and_send() {
    let sink = AlertSink::start().await;
    let feeds = FeedServer::start().await;
    feeds.route(
        "/wire.xml",
        Route::feed(rss(&[(LAUNCH_WIRE, h(1, at("2025-06-02T09:00:00Z")))])),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("storyline.toml");
    std::fs::write(
        &config,
        format!(
            "database = \"{}\"\n[fetch]\nallow_private_addresses = true\ntimeout = \"5s\"\n\
             [[source]]\nid = \"wire\"\nurl = \"{}\"\n{STORY}{}min_outlets = 1\n\
             quiet_hours = \"23:00-06:30\"\n",
            dir.path().join("cli.db").display(),
            feeds.url("/wire.xml"),
            HOOK.replace("SINK", &format!("http://{}", sink.addr))
                .replace("/hook", "/hook/secret-path")
        ),
    )
    .unwrap();
    let env = [("HOOK_SECRET", SECRET)];

    let check = cli(&config, &["config", "check"], &[]);
    let text = stdout(&check);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(
        text.contains(&format!(
            "alert:    hook: webhook http://127.0.0.1:{}/… for story rocket, signed with \
             $HOOK_SECRET (not shown), every new development, up to 7days old, quiet \
             23:00-06:30 (UTC)",
            sink.addr.port()
        )),
        "{text}"
    );
    assert!(!text.contains("secret-path") && !text.contains(SECRET));

    let missing = cli(&config, &["poll", "--all"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("$HOOK_SECRET is not set"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(feeds.hits().len(), 0, "nothing fetched");

    let test = cli(&config, &["alerts", "test", "hook"], &env);
    assert!(test.status.success(), "{}", stderr(&test));
    assert!(
        stdout(&test).starts_with("sent to webhook http://127.0.0.1:"),
        "{}",
        stdout(&test)
    );
    let sample = &sink.received()[0];
    assert_eq!(sample.json()["type"], "test");
    assert!(sample.signature_is_valid(SECRET));
    sink.script([Reply::status(404, "no such hook")]);
    let test = cli(&config, &["alerts", "test", "hook"], &env);
    assert_eq!(test.status.code(), Some(1));
    assert!(
        stderr(&test).contains("HTTP 404 Not Found: no such hook"),
        "{}",
        stderr(&test)
    );
    let unknown = cli(&config, &["alerts", "test", "nope"], &env);
    assert_eq!(unknown.status.code(), Some(2));

    sink.script([Reply::status(403, "forbidden: bad token")]);
    let poll = cli(
        &config,
        &["--now", "2025-06-02T09:00:00Z", "poll", "--all"],
        &env,
    );
    assert!(poll.status.success(), "{}", stderr(&poll));
    assert!(
        stdout(&poll).contains("alerts: 1 new, 0 sent, 0 to retry, 1 failed"),
        "{}",
        stdout(&poll)
    );
    let list = cli(&config, &["alerts", "list"], &[]);
    let text = stdout(&list);
    assert!(text.contains("hook (webhook http://127.0.0.1:"), "{text}");
    assert!(text.contains(": 0 sent, 0 pending, 1 failed"), "{text}");
    assert!(text.contains("failed  attempts 1"), "{text}");
    assert!(text.contains("Rocket X9"), "{text}");
    assert!(
        text.contains("last reply: HTTP 403 Forbidden: forbidden: bad token"),
        "{text}"
    );
}
