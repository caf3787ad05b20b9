//! The site's security headers on every route in src/web/ (found by reading the source, so a
//! new route fails this test until it is listed here) and on the error answers around them:
//! bad tokens, missing digests, unknown paths, wrong methods. Every answer forbids framing
//! (`frame-ancestors 'none'`, `X-Frame-Options: DENY`) and sniffing and carries a
//! Content-Security-Policy with `default-src 'none'`; every page (HTML) is `no-store` and
//! sends no referrer. Only the chart PNG may be cached.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use storyline::metrics::Metrics;
use storyline::store::NewDigest;
use storyline::value::clock::Clock;
use storyline::web::{self, subscribe::SubscribeState, AppState};
use support::at;
use support::smtp_sink::SmtpSink;

const SECRET: &str = "web-test-secret-web-test-secret-web-test";

/// Every `.route("PATH", ...)` in src/web/.
fn routes_in_source() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for part in text.split(".route(\"").skip(1) {
            routes.insert(part.split('"').next().unwrap().to_string());
        }
    }
    routes
}

/// The requests this test makes: (route they exercise, method, path and query).
fn requests(unsubscribe: &str, confirm: &str) -> Vec<(&'static str, &'static str, String)> {
    let mut r: Vec<(&'static str, &'static str, String)> = vec![
        ("/healthz", "GET", "/healthz".into()),
        ("/metrics", "GET", "/metrics".into()),
        ("/", "GET", "/".into()),
        (
            "/digests/{story}/{week}",
            "GET",
            "/digests/llama-4/2025-W15".into(),
        ),
        (
            "/digests/{story}/{week}",
            "GET",
            "/digests/llama-4/2025-W16".into(),
        ),
        (
            "/digests/{story}/{week}",
            "GET",
            "/digests/llama-4/not-a-week".into(),
        ),
        (
            "/digests/{story}/{week}/chart.png",
            "GET",
            "/digests/llama-4/2025-W15/chart.png".into(),
        ),
        (
            "/digests/{story}/{week}/chart.png",
            "GET",
            "/digests/nope/2025-W15/chart.png".into(),
        ),
        ("/stories/{story}", "GET", "/stories/llama-4".into()),
        ("/stories/{story}", "GET", "/stories/nope".into()),
        (
            "/stories/{story}/feed.atom",
            "GET",
            "/stories/llama-4/feed.atom".into(),
        ),
        (
            "/stories/{story}/feed.atom",
            "GET",
            "/stories/nope/feed.atom".into(),
        ),
        (
            "/stories/{story}/events.atom",
            "GET",
            "/stories/llama-4/events.atom".into(),
        ),
        ("/subscribe", "GET", "/subscribe".into()),
        ("/subscribe", "POST", "/subscribe".into()),
        ("/confirm", "GET", "/confirm".into()),
        ("/confirm", "GET", "/confirm?token=forged".into()),
        ("/confirm", "POST", "/confirm?token=forged".into()),
        ("/unsubscribe", "GET", "/unsubscribe?token=forged".into()),
        ("/unsubscribe", "POST", "/unsubscribe".into()),
        ("", "GET", "/no-such-page".into()),
        ("", "GET", "/digests/llama-4".into()),
        ("/", "DELETE", "/".into()),
        ("/subscribe", "PUT", "/subscribe".into()),
        ("/healthz", "POST", "/healthz".into()),
    ];
    r.push(("/confirm", "GET", confirm.to_string()));
    r.push(("/confirm", "POST", confirm.to_string()));
    r.push(("/unsubscribe", "GET", unsubscribe.to_string()));
    r.push(("/unsubscribe", "POST", unsubscribe.to_string()));
    r
}

/// What is wrong with one answer's headers.
fn problems(what: &str, resp: &reqwest::Response) -> Vec<String> {
    let h = resp.headers();
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut found = Vec::new();
    let mut need = |ok: bool, why: &str| {
        if !ok {
            found.push(format!("{what} ({}): {why}", resp.status()));
        }
    };
    let csp = get("content-security-policy");
    need(
        csp.contains("default-src 'none'"),
        "CSP without default-src 'none'",
    );
    need(
        csp.contains("frame-ancestors 'none'"),
        "CSP without frame-ancestors 'none'",
    );
    need(get("x-frame-options") == "DENY", "no X-Frame-Options: DENY");
    need(get("x-content-type-options") == "nosniff", "no nosniff");
    // The chart and the Atom feeds are public and meant to be cached (the feeds answer
    // conditional requests); every other answer is not stored.
    let cached = get("content-type") == "image/png"
        || (resp.status().is_success() && get("content-type").starts_with("application/atom+xml"));
    if cached {
        need(
            get("cache-control").starts_with("public"),
            "cached answer not public",
        );
    } else {
        need(
            get("cache-control") == "no-store",
            "not Cache-Control: no-store",
        );
        need(
            get("referrer-policy") == "no-referrer",
            "no Referrer-Policy",
        );
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_and_error_answer_carries_the_security_headers() {
    let sink = SmtpSink::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[web]\nbase_url = \"{base}/\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout = \"5s\"\n\
         from = \"Storyline <digest@storyline.test>\"\n\
         [mail]\nsecret = \"{SECRET}\"\nrate_per_second = 1000\n\
         [[story]]\nid = \"llama-4\"\ntitle = \"Meta's Llama 4 release\"\n",
        sink.port()
    );
    let settings = support::settings(dir.path(), &toml);
    let store = settings.open_store().await.unwrap();
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    let now = at("2025-04-16T08:00:00Z");
    store
        .insert_digest_once(
            &NewDigest {
                story_id: "llama-4",
                week: "2025-W15".parse().unwrap(),
                subject: "Llama 4, week 15",
                text: "Llama 4 this week\n",
                html: "<html><body><p>Llama 4</p><img src=\"cid:chart@storyline\"></body></html>",
                chart_png: Some(b"\x89PNG\r\n\x1a\n"),
            },
            now,
        )
        .await
        .unwrap();
    let ada = "ada@example.org";
    let id = store
        .add_confirmed_subscriber(ada, &["llama-4".to_string()], now)
        .await
        .unwrap();
    let unsubscribe = mail.settings.unsubscribe_url(id, ada, "llama-4");
    let confirm = mail
        .settings
        .confirm_url(id, ada, &["llama-4".to_string()], chrono::Utc::now());
    let state = AppState {
        store: store.clone(),
        config: settings.config.clone(),
        stories: settings.stories.clone(),
        metrics: Arc::new(Metrics::default()),
        clock: Clock::System,
        heartbeat_max_age: Duration::from_secs(60),
        subscribe: Some(Arc::new(SubscribeState::new(mail.clone()))),
    };
    let app = web::router(state)
        .unwrap()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let local = |u: &url::Url| format!("{}?{}", u.path(), u.query().unwrap_or_default());
    let requests = requests(&local(&unsubscribe), &local(&confirm));
    let covered: BTreeSet<String> = requests
        .iter()
        .map(|(route, _, _)| route.to_string())
        .filter(|r| !r.is_empty())
        .collect();
    assert_eq!(
        covered,
        routes_in_source(),
        "a route this test does not request"
    );

    let mut found = Vec::new();
    let mut statuses = BTreeSet::new();
    for (_, method, path) in &requests {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = http
            .request(method.clone(), format!("{base}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .unwrap();
        statuses.insert(resp.status().as_u16());
        found.extend(problems(&format!("{method} {path}"), &resp));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    // The answers exercised: pages, refusals, not found, wrong method, and a 503 health.
    for s in [200, 400, 404, 405, 503] {
        assert!(statuses.contains(&s), "no {s} among {statuses:?}");
    }
}
