//! The subscription pages over HTTP on 127.0.0.1, with confirmation mail going to a real SMTP
//! server: double opt-in, scanner-safe links, one-click unsubscribe (RFC 8058), and tokens
//! that cannot be forged, reused for another purpose, or used after they expire.

use crate::support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use storyline::mail::token::Purpose;
use storyline::mail::{self, Mail};
use storyline::metrics::Metrics;
use storyline::store::NewDigest;
use storyline::store::{Store, SubscriptionState};
use storyline::value::clock::Clock;
use storyline::web::{self, subscribe::SubscribeState, AppState};
use support::mime::Part;
use support::smtp_sink::SmtpSink;
use tokio_util::sync::CancellationToken;

const SECRET: &str = "web-test-secret-web-test-secret-web-test";
const ADA: &str = "ada@example.org";
const BOB: &str = "bob@example.org";

struct App {
    _dir: tempfile::TempDir,
    base: String,
    store: Store,
    mail: Mail,
    sink: SmtpSink,
    http: reqwest::Client,
}

struct Reply {
    status: u16,
    body: String,
}

impl App {
    /// The site with mail on, `stories` as (id, title).
    async fn start(stories: &[(&str, &str)]) -> App {
        let sink = SmtpSink::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}/", listener.local_addr().expect("address"));
        let dir = tempfile::tempdir().expect("temp dir");
        let story_toml: String = stories
            .iter()
            .map(|(id, title)| format!("[[story]]\nid = \"{id}\"\ntitle = \"{title}\"\n"))
            .collect();
        let toml = format!(
            "[web]\nbase_url = \"{base}\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout = \"5s\"\n\
             from = \"Storyline <digest@storyline.test>\"\n\
             [mail]\nsecret = \"{SECRET}\"\nrate_per_second = 1000\n{story_toml}",
            sink.port()
        );
        let settings = support::settings(dir.path(), &toml);
        let store = settings.open_store().await.expect("open store");
        let mail = settings
            .mail(&|_| None)
            .expect("mail config")
            .expect("mail config");
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
            .expect("templates")
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        App {
            _dir: dir,
            base,
            store,
            mail,
            sink,
            http: http_client(),
        }
    }

    async fn get(&self, url: &str) -> Reply {
        let r = self.http.get(url).send().await.expect("GET");
        Reply {
            status: r.status().as_u16(),
            body: r.text().await.expect("body"),
        }
    }

    async fn post(&self, url: &str, body: &str) -> Reply {
        let r = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .await
            .expect("POST");
        Reply {
            status: r.status().as_u16(),
            body: r.text().await.expect("body"),
        }
    }

    /// Load the form and post it with `fields` (already url-encoded) and its form token.
    async fn subscribe(&self, fields: &str) -> Reply {
        let form = self.get(&format!("{}subscribe", self.base)).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = between(&form.body, "name=\"csrf\" value=\"", "\"");
        self.post(
            &format!("{}subscribe", self.base),
            &format!("{fields}&csrf={csrf}"),
        )
        .await
    }

    async fn state_of(&self, email: &str, story: &str) -> Option<SubscriptionState> {
        let s = self.store.subscriber_by_email(email).await.ok()?;
        let subs = self
            .store
            .subscriptions_of(s.id)
            .await
            .expect("subscriptions");
        subs.into_iter()
            .find(|r| r.story_id == story)
            .map(|r| r.state)
    }

    async fn drain(&self) -> mail::DrainReport {
        mail::drain_outbox(
            &self.mail.mailer,
            &self.store,
            &self.mail.settings,
            &Clock::System,
            &CancellationToken::new(),
        )
        .await
        .expect("drain")
    }
}

/// reqwest is built without a default TLS provider; the app installs ring in its fetcher, and
/// these tests, which build no fetcher, do the same.
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let from = s.find(start).unwrap_or_else(|| panic!("{start:?} in {s}")) + start.len();
    let to = s[from..].find(end).expect("end marker") + from;
    &s[from..to]
}

/// The link in a confirmation mail's text.
fn confirm_link(raw: &[u8]) -> String {
    let text = Part::parse(raw).text();
    text.lines()
        .find(|l| l.contains("/confirm?token="))
        .unwrap_or_else(|| panic!("a confirmation link in {text}"))
        .trim()
        .to_string()
}

fn digest<'a>(week: &str) -> NewDigest<'a> {
    NewDigest {
        story_id: "llama-4",
        week: week.parse().expect("ISO week"),
        subject: "Llama 4 this week",
        text: "News.",
        html: "<html><body><p>News.</p></body></html>",
        chart_png: None,
    }
}

/// Form → pending + confirmation mail → link (GET changes nothing, POST confirms) → digest
/// → its List-Unsubscribe link (GET changes nothing, one-click POST unsubscribes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_confirm_receive_and_unsubscribe_in_one_click() {
    let app = App::start(&[("llama-4", "Meta's Llama 4 release")]).await;

    let r = app.subscribe("email=new%40example.org").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Check your inbox"), "{}", r.body);
    assert_eq!(
        app.state_of("new@example.org", "llama-4").await,
        Some(SubscriptionState::Pending)
    );
    let mails = app.sink.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, ["new@example.org"]);
    let m = Part::parse(&mails[0].data);
    assert!(m
        .header("Subject")
        .unwrap()
        .contains("Meta's Llama 4 release"));
    let link = confirm_link(&mails[0].data);
    assert!(
        link.starts_with(&format!("{}confirm?token=", app.base)),
        "{link}"
    );

    // A scanner following the link confirms nothing.
    let page = app.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<button"), "{}", page.body);
    assert!(page.body.contains("new@example.org"));
    assert_eq!(
        app.state_of("new@example.org", "llama-4").await,
        Some(SubscriptionState::Pending)
    );
    let action = between(&page.body, "action=\"", "\"").replace("&amp;", "&");
    let done = app.post(&format!("{}{action}", app.base), "").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Subscribed"));
    assert_eq!(
        app.state_of("new@example.org", "llama-4").await,
        Some(SubscriptionState::Confirmed)
    );
    // A second click is harmless.
    assert_eq!(app.post(&link, "").await.status, 200);

    // The digest arrives and carries a working one-click link.
    let q = mail::queue_digest(
        &app.store,
        &app.mail.settings,
        &digest("2025-W15"),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(q.queued, 1);
    assert_eq!(app.drain().await.sent, 1);
    let copy = Part::parse(&app.sink.received()[1].data);
    let lu = copy.header("List-Unsubscribe").unwrap();
    let one_click = between(&lu, "<", ">").to_string();
    assert!(one_click.starts_with(&format!("{}unsubscribe?token=", app.base)));

    let page = app.get(&one_click).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<button"));
    assert_eq!(
        app.state_of("new@example.org", "llama-4").await,
        Some(SubscriptionState::Confirmed),
        "a GET never unsubscribes"
    );
    // What a mail provider sends for List-Unsubscribe-Post.
    let gone = app.post(&one_click, "List-Unsubscribe=One-Click").await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert!(gone.body.contains("no more digests"), "{}", gone.body);
    assert_eq!(
        app.state_of("new@example.org", "llama-4").await,
        Some(SubscriptionState::Unsubscribed)
    );
    let next = mail::queue_digest(
        &app.store,
        &app.mail.settings,
        &digest("2025-W16"),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(next.queued, 0, "nothing is queued for someone who left");
    // Idempotent.
    assert_eq!(
        app.post(&one_click, "List-Unsubscribe=One-Click")
            .await
            .status,
        200
    );
}

/// Unsubscribing drops deliveries not yet sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribing_cancels_unsent_deliveries() {
    let app = App::start(&[("llama-4", "Llama 4")]).await;
    let now = Utc::now();
    let id = app
        .store
        .add_confirmed_subscriber("ada@example.org", &["llama-4".into()], now)
        .await
        .unwrap();
    mail::queue_digest(&app.store, &app.mail.settings, &digest("2025-W15"), now)
        .await
        .unwrap();
    let url = app
        .mail
        .settings
        .unsubscribe_url(id, "ada@example.org", "llama-4");
    assert_eq!(
        app.post(url.as_str(), "List-Unsubscribe=One-Click")
            .await
            .status,
        200
    );
    assert_eq!(app.drain().await.sent, 0);
    assert!(app.sink.received().is_empty());
}

/// Garbage, forged, expired and wrong-purpose tokens are all refused, and change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_expired_and_misused_tokens_are_refused() {
    let app = App::start(&[("llama-4", "Llama 4")]).await;
    let now = Utc::now();
    let key = &app.mail.settings.key;
    let ada = app
        .store
        .add_confirmed_subscriber("ada@example.org", &["llama-4".into()], now)
        .await
        .unwrap();
    let req = app
        .store
        .request_subscription(
            "bob@example.org",
            &["llama-4".into()],
            now,
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    let bob = req.subscriber_id;

    let other_key = storyline::mail::token::TokenKey::new(&storyline::value::secret::Secret::new(
        "x".repeat(40),
    ))
    .unwrap();
    let cases = [
        ("confirm", "garbage".to_string()),
        ("confirm", String::new()),
        // Signed with another key.
        (
            "confirm",
            other_key.sign(bob, BOB, &Purpose::Confirm(vec!["llama-4".into()]), None),
        ),
        // Expired.
        (
            "confirm",
            key.sign(
                bob,
                BOB,
                &Purpose::Confirm(vec!["llama-4".into()]),
                Some(now - chrono::Duration::minutes(1)),
            ),
        ),
        // An unsubscribe token used to confirm, a confirm token used to unsubscribe.
        (
            "confirm",
            key.sign(bob, BOB, &Purpose::Unsubscribe("llama-4".into()), None),
        ),
        (
            "unsubscribe",
            key.sign(ada, ADA, &Purpose::Confirm(vec!["llama-4".into()]), None),
        ),
        // A form token is not an unsubscribe token.
        ("unsubscribe", key.sign(ada, ADA, &Purpose::Csrf, None)),
        // A subscriber that does not exist.
        (
            "confirm",
            key.sign(9999, BOB, &Purpose::Confirm(vec!["llama-4".into()]), None),
        ),
    ];
    for (path, token) in &cases {
        let url = format!("{}{path}?token={token}", app.base);
        for r in [app.get(&url).await, app.post(&url, "").await] {
            assert_eq!(r.status, 400, "{path} {token}: {}", r.body);
        }
    }
    let expired = app
        .get(&format!("{}confirm?token={}", app.base, cases[3].1))
        .await;
    assert!(expired.body.contains("expired"), "{}", expired.body);
    assert_eq!(
        app.state_of("bob@example.org", "llama-4").await,
        Some(SubscriptionState::Pending)
    );
    assert_eq!(
        app.state_of("ada@example.org", "llama-4").await,
        Some(SubscriptionState::Confirmed)
    );

    // The form needs its own fresh token.
    let sub = format!("{}subscribe", app.base);
    let no_csrf = app.post(&sub, "email=eve%40example.org").await;
    assert_eq!(no_csrf.status, 400);
    let stale = key.sign(
        0,
        "",
        &Purpose::Csrf,
        Some(now - chrono::Duration::seconds(1)),
    );
    let old = app
        .post(&sub, &format!("email=eve%40example.org&csrf={stale}"))
        .await;
    assert_eq!(old.status, 400);
    let wrong = key.sign(ada, ADA, &Purpose::Unsubscribe("llama-4".into()), None);
    let misuse = app
        .post(&sub, &format!("email=eve%40example.org&csrf={wrong}"))
        .await;
    assert_eq!(misuse.status, 400);
    assert!(app.sink.received().is_empty());
    assert!(app
        .store
        .subscriber_by_email("eve@example.org")
        .await
        .is_err());
}

/// Someone else's address stays pending (and gets no digest) until its owner confirms; an
/// address already on the list gets the same answer and no mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_is_subscribed_without_confirming() {
    let app = App::start(&[("llama-4", "Llama 4")]).await;
    let now = Utc::now();
    app.store
        .add_confirmed_subscriber("old@example.org", &["llama-4".into()], now)
        .await
        .unwrap();

    let victim = app.subscribe("email=victim%40example.org").await;
    let known = app.subscribe("email=old%40example.org").await;

    assert_eq!(victim.status, 200);
    assert_eq!(known.status, 200);
    let strip = |b: &str, e: &str| b.replace(e, "ADDR");
    assert_eq!(
        strip(&victim.body, "victim@example.org"),
        strip(&known.body, "old@example.org"),
        "the answer does not tell who is subscribed"
    );
    let mails = app.sink.received();
    assert_eq!(mails.len(), 1, "only the new address gets a confirmation");
    assert_eq!(mails[0].rcpt_to, ["victim@example.org"]);
    let q = mail::queue_digest(&app.store, &app.mail.settings, &digest("2025-W15"), now)
        .await
        .unwrap();
    assert_eq!(q.queued, 1, "only the confirmed subscriber");
}

/// One confirmation per address per interval, and a per-client limit on the form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_requests_are_limited_per_address_and_per_client() {
    let app = App::start(&[("llama-4", "Llama 4")]).await;
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for email in ["a", "a", "a", "b", "c", "d"] {
            v.push(
                app.subscribe(&format!("email={email}%40example.org"))
                    .await
                    .status,
            );
        }
        v
    };
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    let to: Vec<String> = app
        .sink
        .received()
        .iter()
        .map(|r| r.rcpt_to.join(","))
        .collect();
    assert_eq!(to, ["a@example.org", "b@example.org", "c@example.org"]);
}

/// Bad addresses, including ones that try to add headers, are refused before anything is
/// stored or sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_addresses_are_refused() {
    let app = App::start(&[("llama-4", "Llama 4")]).await;
    for bad in [
        "a%40example.org%0D%0ABcc%3A%20evil%40attacker.example",
        "not-an-address",
        "a%40localhost",
        "",
    ] {
        let r = app.subscribe(&format!("email={bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert!(app.sink.received().is_empty());
    assert!(app.store.subscribers().await.unwrap().is_empty());
}

/// With several stories the form offers each; the confirmation covers only those chosen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_several_stories_people_choose() {
    let app = App::start(&[("llama-4", "Llama 4"), ("gemini", "Gemini <3> & co")]).await;
    let form = app.get(&format!("{}subscribe", app.base)).await;
    assert!(form.body.contains("value=\"gemini\""));
    assert!(
        form.body.contains("Gemini &lt;3&gt; &amp; co"),
        "titles are escaped"
    );
    assert_eq!(app.subscribe("email=x%40example.org").await.status, 400);
    let r = app
        .subscribe("email=x%40example.org&story=gemini&story=nope")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let link = confirm_link(&app.sink.received()[0].data);
    assert_eq!(app.post(&link, "").await.status, 200);
    assert_eq!(
        app.state_of("x@example.org", "gemini").await,
        Some(SubscriptionState::Confirmed)
    );
    assert_eq!(app.state_of("x@example.org", "llama-4").await, None);
}

/// Without mail configured the pages say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_mail_the_pages_answer_404() {
    let dir = tempfile::tempdir().unwrap();
    let settings = support::settings(dir.path(), "");
    let store = settings.open_store().await.unwrap();
    let state = AppState {
        store,
        config: settings.config.clone(),
        stories: settings.stories.clone(),
        metrics: Arc::new(Metrics::default()),
        clock: Clock::System,
        heartbeat_max_age: Duration::from_secs(60),
        subscribe: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, web::router(state).unwrap()).await });
    let r = http_client()
        .get(format!("{base}subscribe"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

/// A link made for one address never acts on another. SQLite gives a removed subscriber's id
/// to the next one (the highest rowid is reused), so the old confirmation link and the
/// never-expiring unsubscribe link of a removed address now carry the id of a new, different
/// person: neither may confirm nor unsubscribe them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_of_a_removed_address_never_act_on_whoever_gets_its_id() {
    let app = App::start(&[("llama-4", "Llama 4")]).await;
    let now = Utc::now();
    // Ada asks, gets her confirmation link, then is removed by the operator; her unsubscribe
    // link (from an earlier digest) never expires.
    assert_eq!(app.subscribe("email=ada%40example.org").await.status, 200);
    let ada_confirm = confirm_link(&app.sink.received()[0].data);
    let ada = app.store.subscriber_by_email(ADA).await.unwrap().id;
    let ada_unsubscribe = app.mail.settings.unsubscribe_url(ada, ADA, "llama-4");
    assert!(app.store.remove_subscriber(ADA).await.unwrap());
    // Bob subscribes and is handed Ada's old id.
    assert_eq!(app.subscribe("email=bob%40example.org").await.status, 200);
    let bob = app.store.subscriber_by_email(BOB).await.unwrap().id;
    assert_eq!(bob, ada, "precondition: SQLite reused the id");

    let confirmed = app.post(&ada_confirm, "").await;

    assert_eq!(confirmed.status, 400, "{}", confirmed.body);
    assert_eq!(
        app.state_of(BOB, "llama-4").await,
        Some(SubscriptionState::Pending),
        "Ada's link must not confirm Bob"
    );
    // Bob confirms with his own link; Ada's old unsubscribe link then leaves him alone.
    let bob_confirm = confirm_link(&app.sink.received()[1].data);
    assert_eq!(app.post(&bob_confirm, "").await.status, 200);
    let r = app
        .post(ada_unsubscribe.as_str(), "List-Unsubscribe=One-Click")
        .await;
    assert!(r.body.contains("not on the list"), "{}", r.body);
    assert_eq!(
        app.state_of(BOB, "llama-4").await,
        Some(SubscriptionState::Confirmed),
        "Ada's link must not unsubscribe Bob"
    );
    let q = mail::queue_digest(&app.store, &app.mail.settings, &digest("2025-W15"), now)
        .await
        .unwrap();
    assert_eq!(q.queued, 1);
}

/// The address a person types goes into one header of the confirmation mail and nowhere
/// else: line breaks (raw, encoded, Unicode) and extra addresses are refused before anything
/// is stored or sent, and a good address gets a mail with exactly one recipient.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_field_cannot_inject_headers_or_recipients() {
    let app = App::start(&[("llama-4", "Llama 4")]).await;
    let bad = [
        "a%40example.org%0ABcc%3A%20evil%40attacker.example",
        "a%40example.org%0D%0A%0D%0Abody",
        "a%40example.org%0DBcc%3Aevil%40attacker.example",
        "a%40example.org%E2%80%A8Bcc%3A%20evil%40attacker.example", // U+2028
        "a%40example.org%2C%20evil%40attacker.example",
        "a%40example.org%3B%20evil%40attacker.example",
        "%22a%40example.org%0D%0ABcc%3A%22%40example.org",
        "a%40example.org%00evil",
        "Ada%20%3Ca%40example.org%3E%2C%20evil%40attacker.example",
    ];
    for b in bad {
        let typed = url::form_urlencoded::parse(format!("email={b}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        assert!(
            storyline::mail::SubscriberEmail::parse(&typed).is_err(),
            "{typed:?} accepted"
        );
    }
    // Through the form too (the per-client limit allows five attempts at once).
    for b in &bad[..4] {
        let r = app.subscribe(&format!("email={b}")).await;
        assert_eq!(r.status, 400, "{b}: {}", r.body);
    }
    assert!(app.sink.received().is_empty());
    assert!(app.store.subscribers().await.unwrap().is_empty());

    assert_eq!(app.subscribe("email=ok%40example.org").await.status, 200);
    let got = app.sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, ["ok@example.org"]);
    let m = Part::parse(&got[0].data);
    assert_eq!(m.all("To"), ["ok@example.org"]);
    for h in ["Bcc", "Cc"] {
        assert!(m.header(h).is_none(), "{h}");
    }
}
