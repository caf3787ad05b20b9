//! README's "How polling behaves" claims that had no test, through a real polling round
//! (`refresh::run_cycle`) against loopback servers: Reddit's 403 is rate limiting (elsewhere
//! a 403 is an error), brotli and deflate bodies are decoded (and capped after decoding), and
//! no more than `per_host_concurrency` requests are in flight to one host, as the server
//! counts them. Host names are answered by the test (all 127.0.0.1), so the polite rules
//! that go by host name apply as they would to the real sites.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Response};
use storyline::app::App;
use storyline::fetch::guard::Lookup;
use storyline::fetch::{AddressPolicy, Fetcher};
use storyline::refresh::{run_cycle, CycleReport, Quiet, Selection, SourceResult};
use support::feed_server::{FeedServer, Route};
use support::{at, config, open};

const NOW: &str = "2025-04-07T09:00:00Z";

fn rss_items(n: usize, prefix: &str) -> String {
    let items: String = (0..n)
        .map(|i| format!("<item><guid>{prefix}-{i}</guid><title>{prefix} {i}</title></item>"))
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{prefix}</title>{items}</channel></rss>")
}

fn sources(list: &[(&str, String)]) -> String {
    list.iter()
        .map(|(id, url)| format!("[[source]]\nid = \"{id}\"\nurl = \"{url}\"\n"))
        .collect()
}

/// Every name resolves to 127.0.0.1; the client may reach nothing else.
fn loopback_names() -> Lookup {
    Arc::new(|_host: String| Box::pin(async { Ok(vec![SocketAddr::from(([127, 0, 0, 1], 0))]) }))
}

/// The app for `extra` config, its fetcher answering every name with 127.0.0.1.
async fn app(dir: &std::path::Path, extra: &str) -> App {
    let mut ctx = open(config(dir, extra), at(NOW)).await;
    ctx.fetcher = Fetcher::with_lookup(
        &ctx.config.fetch,
        AddressPolicy::LoopbackOnly,
        loopback_names(),
    )
    .unwrap();
    ctx
}

fn result<'a>(report: &'a CycleReport, id: &str) -> &'a SourceResult {
    &report
        .sources
        .iter()
        .find(|s| s.source == id)
        .unwrap_or_else(|| panic!("{id} in the report"))
        .result
}

/// Reddit answers clients it wants to slow down with 403: the source is rate limited until
/// the time Reddit asked (or the backoff), not failed. The same 403 from another site is an
/// error, and a look-alike host is not Reddit.
#[tokio::test]
async fn reddits_403_is_rate_limiting_and_anyone_elses_is_an_error() {
    let server = FeedServer::start().await;
    let port = server.addr.port();
    server.route(
        "/r/LocalLLaMA/new.rss",
        Route::status(403).with_header("retry-after", "7200"),
    );
    server.route("/r/singularity/new.rss", Route::status(403));
    server.route("/feed", Route::status(403));
    let dir = tempfile::tempdir().unwrap();
    let extra = sources(&[
        (
            "reddit",
            format!("http://www.reddit.com:{port}/r/LocalLLaMA/new.rss"),
        ),
        (
            "old-reddit",
            format!("http://old.reddit.com:{port}/r/singularity/new.rss"),
        ),
        ("elsewhere", format!("http://news.example:{port}/feed")),
        ("look-alike", format!("http://notreddit.com:{port}/feed")),
    ]);
    let ctx = app(dir.path(), &extra).await;

    let report = run_cycle(&ctx, at(NOW), &Selection::All, &Quiet)
        .await
        .unwrap();

    // Asked for two hours: exactly that.
    let asked = at("2025-04-07T11:00:00Z");
    assert_eq!(
        result(&report, "reddit"),
        &SourceResult::RateLimited { until: asked }
    );
    let row = ctx.store.source("reddit").await.unwrap();
    assert_eq!(row.next_due(), asked);
    // No Retry-After: rate limited until the source's own backoff (the 1 h interval).
    assert!(
        matches!(result(&report, "old-reddit"), SourceResult::RateLimited { until } if *until > at(NOW)),
        "{:?}",
        result(&report, "old-reddit")
    );
    for id in ["elsewhere", "look-alike"] {
        match result(&report, id) {
            SourceResult::Failed { error, .. } => {
                assert_eq!(error, "server answered 403 Forbidden", "{id}")
            }
            other => panic!("{id}: expected a failure, got {other:?}"),
        }
    }
    assert_eq!(server.hits().len(), 4);
}

fn encoded(encoding: &'static str, body: Vec<u8>) -> Route {
    Route::Status {
        code: 200,
        headers: vec![
            ("content-type", "application/rss+xml".into()),
            ("content-encoding", encoding.into()),
        ],
        body: body.into(),
    }
}

fn brotli(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(raw).unwrap();
    }
    out
}

/// HTTP's "deflate" is the zlib format (RFC 9110 8.4.1.2).
fn deflate(raw: &[u8]) -> Vec<u8> {
    let mut w = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    w.write_all(raw).unwrap();
    w.finish().unwrap()
}

/// brotli and deflate bodies are decoded before parsing, and the body cap applies to the
/// decoded bytes: a small compressed body that inflates past `max_body_bytes` is refused.
#[tokio::test]
async fn brotli_and_deflate_bodies_are_decoded_and_capped_after_decoding() {
    let server = FeedServer::start().await;
    server.route("/br", encoded("br", brotli(rss_items(3, "br").as_bytes())));
    server.route(
        "/deflate",
        encoded("deflate", deflate(rss_items(4, "deflate").as_bytes())),
    );
    let zeros = vec![b' '; 4 * 1024 * 1024];
    let (br_bomb, deflate_bomb) = (brotli(&zeros), deflate(&zeros));
    assert!(br_bomb.len() < 64 * 1024 && deflate_bomb.len() < 64 * 1024);
    server.route("/br-bomb", encoded("br", br_bomb));
    server.route("/deflate-bomb", encoded("deflate", deflate_bomb));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "max_body_bytes = 1048576\n{}",
        sources(&[
            ("br", server.url("/br")),
            ("deflate", server.url("/deflate")),
            ("br-bomb", server.url("/br-bomb")),
            ("deflate-bomb", server.url("/deflate-bomb")),
        ])
    );
    let ctx = app(dir.path(), &extra).await;

    let report = run_cycle(&ctx, at(NOW), &Selection::All, &Quiet)
        .await
        .unwrap();

    for (id, n) in [("br", 3), ("deflate", 4)] {
        let items = ctx.store.items_of_source(id).await.unwrap();
        assert_eq!(items.len(), n, "{id}: {:?}", result(&report, id));
        assert!(items
            .iter()
            .all(|i| i.title.as_deref().is_some_and(|t| t.starts_with(id))));
    }
    for id in ["br-bomb", "deflate-bomb"] {
        match result(&report, id) {
            SourceResult::Failed { error, .. } => {
                assert_eq!(error, "response larger than the 1048576 byte limit", "{id}")
            }
            other => panic!("{id}: expected the cap, got {other:?}"),
        }
    }
}

/// Requests in flight, per Host header, as the server sees them.
#[derive(Default)]
struct InFlight {
    now: HashMap<String, usize>,
    max: HashMap<String, usize>,
    total_now: usize,
    total_max: usize,
}

/// A server that holds every request for `hold` and counts how many overlap, per host.
async fn slow_server(hold: Duration) -> (u16, Arc<Mutex<InFlight>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts = Arc::new(Mutex::new(InFlight::default()));
    let state = counts.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let state = state.clone();
        async move {
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            {
                let mut c = state.lock().unwrap();
                let n = c.now.entry(host.clone()).or_default();
                *n += 1;
                let n = *n;
                let m = c.max.entry(host.clone()).or_default();
                *m = (*m).max(n);
                c.total_now += 1;
                c.total_max = c.total_max.max(c.total_now);
            }
            tokio::time::sleep(hold).await;
            {
                let mut c = state.lock().unwrap();
                *c.now.get_mut(&host).unwrap() -= 1;
                c.total_now -= 1;
            }
            Response::builder()
                .header("content-type", "application/rss+xml")
                .body(Body::from(rss_items(1, &host)))
                .unwrap()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, counts)
}

/// Eight sources on each of two hosts, `per_host_concurrency = 2`: the server never sees
/// more than two requests at once from one host, sees exactly two (the limit is used, not
/// just kept), and sees both hosts served side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_per_host_concurrency_requests_reach_one_host_at_once() {
    let hold = Duration::from_millis(150);
    let (port, counts) = slow_server(hold).await;
    let list: Vec<(String, String)> = ["a.test", "b.test"]
        .iter()
        .flat_map(|host| {
            (0..8).map(move |i| {
                (
                    format!("{}-{i}", &host[..1]),
                    format!("http://{host}:{port}/feed/{i}.xml"),
                )
            })
        })
        .collect();
    let list: Vec<(&str, String)> = list.iter().map(|(i, u)| (i.as_str(), u.clone())).collect();
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "per_host_concurrency = 2\nconcurrency = 32\n{}",
        sources(&list)
    );
    let ctx = app(dir.path(), &extra).await;

    let started = Instant::now();
    let report = run_cycle(&ctx, at(NOW), &Selection::All, &Quiet)
        .await
        .unwrap();
    let took = started.elapsed();

    assert_eq!(report.sources.len(), 16);
    let c = counts.lock().unwrap();
    eprintln!(
        "per host at most {:?} in flight, {} in all; 16 requests held {hold:?} each took {took:?}",
        c.max, c.total_max
    );
    for host in ["a.test", "b.test"] {
        assert_eq!(c.max.get(host), Some(&2), "{host}: {:?}", c.max);
    }
    assert!(c.total_max >= 3, "the two hosts were served side by side");
    // Eight requests per host, two at a time, take at least four holds.
    assert!(took >= hold * 4, "{took:?}");
}
