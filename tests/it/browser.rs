//! The subscription pages in a real browser: headless Chromium, driven through chromedriver's
//! W3C WebDriver HTTP API, emulating a phone (390×844 CSS pixels) with JavaScript switched
//! off. It subscribes through the form, follows the link from the confirmation mail, confirms,
//! then unsubscribes from the link in a digest. Every page must fit the phone's width with
//! readable text and comfortable buttons; screenshots of each step are kept in
//! `target/test-output/browser/` for a human to look at.
//!
//! CI installs Debian's `chromium` and `chromium-driver`; without them this test fails unless
//! `STORYLINE_SKIP_BROWSER=1` is set.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::Utc;
use serde_json::{json, Value};
use storyline::mail::{self, Mail};
use storyline::metrics::Metrics;
use storyline::store::NewDigest;
use storyline::store::{Store, SubscriptionState};
use storyline::value::clock::Clock;
use storyline::web::{self, subscribe::SubscribeState, AppState};
use support::mime::Part;
use support::smtp_sink::SmtpSink;
use tokio_util::sync::CancellationToken;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const SECRET: &str = "browser-test-secret-browser-test-secret-0";
/// The W3C WebDriver key under which an element reference comes back.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// A phone: the CSS viewport the pages must fit.
const PHONE_WIDTH: u32 = 390;
const PHONE_HEIGHT: u32 = 844;
/// Long enough that it must wrap on a phone.
const READER: &str = "reader.with.a.rather.long.address.for.a.phone@example.org";

fn output_dir() -> PathBuf {
    // The test binary lives in target/<profile>/deps/; keep the output beside the build.
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|p| p.file_name().is_some_and(|n| n == "target"))
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("test-output").join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// chromedriver on a loopback port, killed when dropped.
struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    /// Killing chromedriver would leave its Chromium running; ask it to shut down (which
    /// closes the browsers of any session a failed assertion left open), then make sure.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://");
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                s,
                "GET /shutdown HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            );
            let _ = s.read_to_end(&mut Vec::new());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(log: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: http(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await
            {
                let v: Value = serde_json::from_slice(&r.bytes().await.unwrap_or_default())
                    .unwrap_or_default();
                if v["value"]["ready"] == true {
                    return driver;
                }
            }
            if let Some(status) = driver.child.try_wait().unwrap() {
                panic!("chromedriver exited ({status}); see {}", log.display());
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready within 30 s; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A headless Chromium emulating a phone, with JavaScript off for the pages (WebDriver's
    /// own scripts still run).
    async fn session(&self, profile: &Path) -> Session {
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--no-first-run",
                        "--hide-scrollbars",
                        format!("--user-data-dir={}", profile.display()),
                        format!("--window-size={PHONE_WIDTH},{PHONE_HEIGHT}"),
                    ],
                    // A mobile viewport honours the page's viewport meta tag (a page without
                    // one is laid out 980 px wide). Touch must be off explicitly: with it,
                    // chromedriver taps instead of clicking, and with scripts off a tap on a
                    // submit button never returns. A click then does not wait for the
                    // navigation it starts; `wait_for_title` does.
                    "mobileEmulation": { "deviceMetrics": {
                        "width": PHONE_WIDTH, "height": PHONE_HEIGHT,
                        "pixelRatio": 2.0, "mobile": true, "touch": false
                    }},
                    "prefs": { "profile.managed_default_content_settings.javascript": 2 }
                }
            }}
        });
        let v = call(
            &self.http,
            reqwest::Method::POST,
            &format!("{}/session", self.base),
            Some(caps),
        )
        .await;
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Session {
            url: format!("{}/session/{id}", self.base),
            http: self.http.clone(),
        }
    }
}

/// One WebDriver command; the `value` of the answer, or a panic with the driver's error.
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http.request(method.clone(), url);
    if method == reqwest::Method::POST {
        req = req
            .header("content-type", "application/json")
            .body(body.unwrap_or_else(|| json!({})).to_string());
    }
    let r = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = r.status();
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap())
        .unwrap_or_else(|e| panic!("{method} {url}: not JSON ({e})"));
    assert!(status.is_success(), "{method} {url}: {status} {v}");
    v["value"].clone()
}

/// A browser session.
struct Session {
    url: String,
    http: reqwest::Client,
}

impl Session {
    async fn post(&self, path: &str, body: Value) -> Value {
        call(
            &self.http,
            reqwest::Method::POST,
            &format!("{}{path}", self.url),
            Some(body),
        )
        .await
    }

    async fn get(&self, path: &str) -> Value {
        call(
            &self.http,
            reqwest::Method::GET,
            &format!("{}{path}", self.url),
            None,
        )
        .await
    }

    async fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await;
        v[ELEMENT].as_str().unwrap().to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.post(&format!("/element/{el}/value"), json!({ "text": text }))
            .await;
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.post(&format!("/element/{el}/click"), json!({})).await;
    }

    async fn text(&self) -> String {
        let body = self.find("body").await;
        self.get(&format!("/element/{body}/text"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Wait (bounded) until the page is the one titled `title`; its text comes back.
    async fn wait_for_title(&self, title: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let want = format!("{title} · Storyline");
        loop {
            let got = self.get("/title").await;
            if got.as_str() == Some(want.as_str()) {
                return self.text().await;
            }
            assert!(
                Instant::now() < deadline,
                "page title {got} is not {title:?}: {}",
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.get("/screenshot").await;
        let png = STANDARD.decode(b64.as_str().unwrap()).unwrap();
        let path = output_dir().join(name);
        std::fs::write(&path, &png).unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!(
            (img.width(), img.height()),
            (PHONE_WIDTH * 2, PHONE_HEIGHT * 2),
            "{name}: a phone-sized screenshot at 2x"
        );
        path
    }

    /// The page fits a phone: laid out at the phone's width (the viewport meta tag works),
    /// nothing wider than the screen, body text at least 16 px, every button and field inside
    /// the screen and at least 44 px tall, and no scripts.
    async fn assert_fits_a_phone(&self, page: &str) {
        let script = "\
            const box = e => { const r = e.getBoundingClientRect(); \
              return { left: r.left, right: r.right, height: r.height, tag: e.outerHTML.slice(0, 60) }; }; \
            return { \
              width: window.innerWidth, \
              scroll: document.documentElement.scrollWidth, \
              font: parseFloat(getComputedStyle(document.body).fontSize), \
              scripts: document.scripts.length, \
              controls: [...document.querySelectorAll('button, input[type=email]')].map(box) \
            };";
        let m = self
            .post("/execute/sync", json!({ "script": script, "args": [] }))
            .await;
        assert_eq!(
            m["width"], PHONE_WIDTH,
            "{page}: laid out for the phone: {m}"
        );
        assert!(
            m["scroll"].as_f64().unwrap() <= f64::from(PHONE_WIDTH),
            "{page}: wider than the screen: {m}"
        );
        assert!(
            m["font"].as_f64().unwrap() >= 16.0,
            "{page}: text too small: {m}"
        );
        assert_eq!(m["scripts"], 0, "{page}: works without scripts: {m}");
        for c in m["controls"].as_array().unwrap() {
            assert!(
                c["left"].as_f64().unwrap() >= 0.0
                    && c["right"].as_f64().unwrap() <= f64::from(PHONE_WIDTH),
                "{page}: control off screen: {c}"
            );
            assert!(
                c["height"].as_f64().unwrap() >= 44.0,
                "{page}: control too small to tap: {c}"
            );
        }
    }

    async fn quit(self) {
        call(&self.http, reqwest::Method::DELETE, &self.url, None).await;
    }
}

/// The site, in process, with mail going to a loopback SMTP sink.
struct Site {
    _dir: tempfile::TempDir,
    base: String,
    store: Store,
    mail: Mail,
    sink: SmtpSink,
}

impl Site {
    async fn start() -> Site {
        let sink = SmtpSink::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let toml = format!(
            "[web]\nbase_url = \"{base}\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout = \"5s\"\n\
             from = \"Storyline <digest@storyline.test>\"\n\
             [mail]\nsecret = \"{SECRET}\"\nrate_per_second = 1000\n",
            sink.port()
        );
        let settings = support::settings(dir.path(), &toml);
        let store = settings.open_store().await.unwrap();
        let mail = settings.mail(&|_| None).unwrap().unwrap();
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
        Site {
            _dir: dir,
            base,
            store,
            mail,
            sink,
        }
    }

    async fn state_of(&self, email: &str) -> Option<SubscriptionState> {
        let s = self.store.subscriber_by_email(email).await.ok()?;
        let subs = self.store.subscriptions_of(s.id).await.unwrap();
        subs.into_iter()
            .find(|r| r.story_id == "llama-4")
            .map(|r| r.state)
    }

    /// Mail this week's digest to the confirmed subscribers, now.
    async fn send_digest(&self) {
        let parts = NewDigest {
            story_id: "llama-4",
            week: "2025-W15".parse().unwrap(),
            subject: "Llama 4 this week",
            text: "News.",
            html: "<html><body><p>News.</p></body></html>",
            chart_png: None,
        };
        let q = mail::queue_digest(&self.store, &self.mail.settings, &parts, Utc::now())
            .await
            .unwrap();
        assert_eq!(q.queued, 1);
        let sent = mail::drain_outbox(
            &self.mail.mailer,
            &self.store,
            &self.mail.settings,
            &Clock::System,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(sent.sent, 1);
    }
}

/// Subscribe on the form, confirm from the mailed link, unsubscribe from the digest's link:
/// all by clicking, on a phone-sized screen, without JavaScript.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_subscribes_confirms_and_unsubscribes_in_chromium_on_a_phone() {
    if std::env::var("STORYLINE_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("STORYLINE_SKIP_BROWSER=1: skipping the headless Chromium subscribe flow");
        return;
    }
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(path).exists(),
            "this test needs {path} (Debian: apt-get install chromium chromium-driver; \
             .ci/run installs them). Set STORYLINE_SKIP_BROWSER=1 to skip it. Missing: {package}"
        );
    }
    let out = output_dir();
    for old in std::fs::read_dir(&out).unwrap().flatten() {
        let _ = std::fs::remove_file(old.path());
    }
    let site = Site::start().await;
    let driver = Driver::start(&out.join("chromedriver.log")).await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.session(profile.path()).await;

    // The form.
    browser.open(&format!("{}subscribe", site.base)).await;
    browser.wait_for_title("Subscribe").await;
    browser.screenshot("1-subscribe.png").await;
    browser.assert_fits_a_phone("subscribe").await;
    browser.type_into("input[name=email]", READER).await;
    browser.screenshot("2-subscribe-filled.png").await;
    browser.click("button[type=submit]").await;
    let text = browser.wait_for_title("Check your inbox").await;
    assert!(text.contains(READER), "{text}");
    browser.screenshot("3-check-your-inbox.png").await;
    browser.assert_fits_a_phone("check your inbox").await;
    assert_eq!(
        site.state_of(READER).await,
        Some(SubscriptionState::Pending)
    );

    // The confirmation mail's link opens a page with a button; the click confirms.
    assert!(
        site.sink.wait_for(1, Duration::from_secs(10)).await,
        "confirmation mail"
    );
    let confirmation = Part::parse(&site.sink.received()[0].data).text();
    let link = confirmation
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{}confirm?token=", site.base)))
        .unwrap_or_else(|| panic!("a confirmation link in {confirmation}"))
        .to_string();
    browser.open(&link).await;
    let text = browser.wait_for_title("Confirm your subscription").await;
    assert!(text.contains(READER), "{text}");
    browser.screenshot("4-confirm.png").await;
    browser.assert_fits_a_phone("confirm").await;
    assert_eq!(
        site.state_of(READER).await,
        Some(SubscriptionState::Pending),
        "opening the link alone confirms nothing"
    );
    browser.click("button[type=submit]").await;
    let text = browser.wait_for_title("Subscribed").await;
    assert!(text.contains("weekly digest"), "{text}");
    browser.screenshot("5-subscribed.png").await;
    browser.assert_fits_a_phone("subscribed").await;
    assert_eq!(
        site.state_of(READER).await,
        Some(SubscriptionState::Confirmed)
    );

    // A digest arrives; its unsubscribe link opens a page with a button; the click takes.
    site.send_digest().await;
    let digest = Part::parse(&site.sink.received()[1].data);
    let header = digest.header("List-Unsubscribe").unwrap();
    let unsubscribe = header
        .split(['<', '>'])
        .find(|s| s.starts_with(&format!("{}unsubscribe?token=", site.base)))
        .unwrap_or_else(|| panic!("a web unsubscribe link in {header}"))
        .to_string();
    browser.open(&unsubscribe).await;
    let text = browser.wait_for_title("Unsubscribe").await;
    assert!(text.contains(READER), "{text}");
    browser.screenshot("6-unsubscribe.png").await;
    browser.assert_fits_a_phone("unsubscribe").await;
    assert_eq!(
        site.state_of(READER).await,
        Some(SubscriptionState::Confirmed),
        "opening the link alone unsubscribes nobody"
    );
    browser.click("button[type=submit]").await;
    let text = browser.wait_for_title("Unsubscribed").await;
    assert!(text.contains("no more digests"), "{text}");
    browser.screenshot("7-unsubscribed.png").await;
    browser.assert_fits_a_phone("unsubscribed").await;
    assert_eq!(
        site.state_of(READER).await,
        Some(SubscriptionState::Unsubscribed)
    );

    browser.quit().await;
}
