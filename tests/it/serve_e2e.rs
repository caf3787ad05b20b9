//! The real `storyline serve` binary, end to end on 127.0.0.1: a config pointing at a loopback
//! feed server and a loopback SMTP server that requires a login, a subscriber added with the
//! CLI, a digest schedule that fires every two seconds. The daemon must become healthy, poll,
//! compose the last complete week, mail it, expose all of it in `/metrics`, keep its secrets
//! out of the log, and exit 0 within the grace period on SIGTERM (and on SIGINT).

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Duration as Span, Utc};
use support::feed_server::{FeedServer, Route};
use support::mime::Part;
use support::smtp_sink::SmtpSink;

const BIN: &str = env!("CARGO_BIN_EXE_storyline");
const SMTP_USER: &str = "storyline";
const SMTP_PASSWORD: &str = "e2e-smtp-password-do-not-log-7f3a9c";
const PASSWORD_ENV: &str = "STORYLINE_E2E_SMTP_PASSWORD";
const MAIL_SECRET: &str = "e2e-mail-secret-do-not-log-0123456789abcdef";
/// `[daemon] shutdown_grace` in these configs; a clean exit must come sooner.
const GRACE: Duration = Duration::from_secs(5);

/// A `storyline` process whose stderr is collected line by line as it runs.
struct Daemon {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Daemon {
    /// `storyline --config CONFIG [extra...] serve`, in `dir`, with a clean environment.
    fn spawn(dir: &Path, config: &Path, extra: &[&str]) -> Daemon {
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(config)
            .args(extra)
            .arg("serve")
            .current_dir(dir)
            .env_remove("STORYLINE_CONFIG")
            .env_remove("STORYLINE_NOW")
            .env_remove("STORYLINE_LOG")
            .env_remove("STORYLINE_SECRET")
            .env(PASSWORD_ENV, SMTP_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start storyline serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        Daemon {
            child,
            log,
            reader: Some(reader),
        }
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Wait (bounded) for a log line containing `needle`.
    async fn wait_for_log(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("storyline exited ({status}) early:\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?} within {within:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Send `signal` and wait for the exit, at most `within`; the whole log comes back with
    /// the status and how long the exit took.
    async fn stop(mut self, signal: i32, within: Duration) -> (ExitStatus, Duration, String) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        let asked = Instant::now();
        // SAFETY: kill(2) on our own child's pid; the child has not been reaped yet, so the
        // pid cannot have been reused.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "signal sent");
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if asked.elapsed() > within + Duration::from_secs(5) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "storyline did not exit within {within:?} of signal {signal}:\n{}",
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let took = asked.elapsed();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (status, took, self.log_text())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // A failed assertion must not leave the daemon running.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A loopback port that was free a moment ago (the daemon binds it right after; the log
/// line `listening address=...` confirms it got it).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Run a one-off `storyline` command with the same config; returns stdout.
fn run_cli(config: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .env_remove("STORYLINE_LOG")
        .env(PASSWORD_ENV, SMTP_PASSWORD)
        .output()
        .expect("run storyline");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "storyline {args:?}: {stderr}");
    assert!(!stderr.contains(SMTP_PASSWORD) && !stderr.contains(MAIL_SECRET));
    String::from_utf8(out.stdout).unwrap()
}

/// reqwest is built without a default TLS provider (the app installs ring in its fetcher);
/// this test process builds no fetcher, so it installs ring itself.
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn get(url: &str) -> (u16, String) {
    match http().get(url).send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
        Err(_) => (0, String::new()),
    }
}

/// Poll `url` until it answers 200 with a body for which `ok` holds (bounded).
async fn wait_for_page(url: &str, within: Duration, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + within;
    let mut last = (0, String::new());
    while Instant::now() < deadline {
        last = get(url).await;
        if last.0 == 200 && ok(&last.1) {
            return last.1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{url} not as expected within {within:?}: {} {}",
        last.0, last.1
    );
}

/// The value of an unlabelled or labelled metric line, e.g. `storyline_polls_total`.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Noon on the Wednesday of the ISO week before the one `now` is in.
fn mid_previous_week(now: DateTime<Utc>) -> DateTime<Utc> {
    let monday = now.date_naive() - Span::days(i64::from(now.weekday().num_days_from_monday()));
    (monday - Span::days(5))
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
}

/// An RSS feed with one Llama 4 development in the last complete week and one earlier today
/// (so the digest still has a development if the week turns while the test runs).
fn feed(now: DateTime<Utc>) -> String {
    let item = |guid: &str, title: &str, at: DateTime<Utc>| {
        format!(
            "<item><guid>{guid}</guid><title>{title}</title>\
             <link>https://news.example.org/{guid}</link><pubDate>{}</pubDate></item>",
            at.to_rfc2822()
        )
    };
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Loopback news</title>\
         <link>https://news.example.org/</link>{}{}</channel></rss>",
        item(
            "scout",
            "Meta releases Llama 4 Scout and Maverick open weights",
            mid_previous_week(now)
        ),
        item(
            "behemoth",
            "Llama 4 Behemoth training run delayed again",
            now - Span::hours(1)
        ),
    )
}

/// Write a config for the daemon in `dir`.
fn write_config(dir: &Path, port: u16, feed_url: &str, smtp_port: Option<u16>) -> PathBuf {
    let smtp = smtp_port.map_or(String::new(), |p| {
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {p}\ntls = \"none\"\ntimeout = \"5s\"\n\
             username = \"{SMTP_USER}\"\npassword_env = \"{PASSWORD_ENV}\"\n\
             from = \"Storyline <digest@storyline.test>\"\n\
             [mail]\nsecret = \"{MAIL_SECRET}\"\nrate_per_second = 100\n"
        )
    });
    let text = format!(
        "database = \"{db}\"\n\
         [fetch]\nallow_private_addresses = true\n\
         [web]\nlisten = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}/\"\n\
         [daemon]\nshutdown_grace = \"{grace}s\"\ntick = \"1s\"\n\
         [digest]\nschedule = \"*/2 * * * * *\"\nsend_empty = false\noutput_dir = \"{out}\"\n\
         {smtp}\
         [[source]]\nid = \"loopback-news\"\nurl = \"{feed_url}\"\n",
        db = dir.join("storyline.db").display(),
        grace = GRACE.as_secs(),
        out = dir.join("digests").display(),
    );
    let path = dir.join("storyline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Healthy, polls, composes the last complete week on schedule, mails it to the subscriber
/// (logged in with the password from the environment), shows it all in /metrics, honours the
/// one-click unsubscribe from the mail, and exits 0 within the grace period on SIGTERM with
/// no secret in its log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_polls_mails_the_digest_and_stops_cleanly_on_sigterm() {
    // Arrange: the feed, the mail server, a config, a confirmed subscriber.
    let now = Utc::now();
    let feeds = FeedServer::start().await;
    feeds.route("/news.xml", Route::feed(feed(now)));
    let sink = SmtpSink::start().await;
    sink.require_auth(SMTP_USER, SMTP_PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, &feeds.url("/news.xml"), Some(sink.port()));
    let added = run_cli(&config, &["subscribers", "add", "ada@example.org"]);
    assert!(added.contains("ada@example.org: confirmed"), "{added}");

    // Act: run the daemon.
    let mut daemon = Daemon::spawn(dir.path(), &config, &[]);
    let base = format!("http://127.0.0.1:{port}");

    // Assert: it listens where it was told, and says so.
    let listening = daemon
        .wait_for_log("listening", Duration::from_secs(30))
        .await;
    assert!(
        listening.contains(&format!("address=127.0.0.1:{port}")),
        "{listening}"
    );
    wait_for_page(&format!("{base}/healthz"), Duration::from_secs(30), |b| {
        b == "ok\n"
    })
    .await;

    let metrics = wait_for_page(&format!("{base}/metrics"), Duration::from_secs(30), |m| {
        metric(m, "storyline_items_stored_total{change=\"new\"}") == Some(2.0)
    })
    .await;
    assert!(
        metric(&metrics, "storyline_polls_total") >= Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "storyline_fetches_total{outcome=\"stored\"}"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "storyline_fetches_total{outcome=\"failed\"}"),
        Some(0.0),
        "{metrics}"
    );
    assert!(
        metric(
            &metrics,
            "storyline_source_last_success_timestamp_seconds{source=\"loopback-news\"}"
        )
        .is_some_and(|t| t >= now.timestamp() as f64),
        "{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            "storyline_source_consecutive_failures{source=\"loopback-news\"}"
        ),
        Some(0.0),
        "{metrics}"
    );

    // The schedule fires every 2 s: the first fire only starts the clock, the next composes.
    assert!(
        sink.wait_for(1, Duration::from_secs(30)).await,
        "no digest arrived:\n{}",
        daemon.log_text()
    );
    let got = &sink.received()[0];
    assert_eq!(got.rcpt_to, ["ada@example.org"]);
    assert_eq!(got.user.as_deref(), Some(SMTP_USER), "logged in first");
    let mail = Part::parse(&got.data);
    let subject = mail.header("Subject").unwrap();
    assert!(subject.contains("Llama 4"), "{subject}");
    let text = mail.text();
    assert!(
        text.contains("Scout and Maverick") || text.contains("Behemoth"),
        "a real development: {text}"
    );
    assert!(!text.contains("no new developments"), "{text}");
    let one_click = mail
        .header("List-Unsubscribe")
        .unwrap()
        .split(['<', '>'])
        .find(|s| s.starts_with(&format!("{base}/unsubscribe?token=")))
        .expect("a one-click link on this daemon")
        .to_string();

    let metrics = wait_for_page(&format!("{base}/metrics"), Duration::from_secs(10), |m| {
        metric(m, "storyline_digests_sent_total") == Some(1.0)
    })
    .await;
    assert_eq!(
        metric(&metrics, "storyline_deliveries{state=\"sent\"}"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "storyline_deliveries{state=\"failed\"}"),
        Some(0.0),
        "{metrics}"
    );

    // The next fire composes the same week again: it finds the stored digest and queues
    // nothing, so nobody gets a second copy.
    let again = daemon
        .wait_for_log("created=false", Duration::from_secs(10))
        .await;
    assert!(again.contains("queued=0"), "{again}");

    // RFC 8058: what a mail provider posts for List-Unsubscribe-Post.
    let r = http()
        .post(&one_click)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("Unsubscribed"));

    let (status, took, log) = daemon.stop(libc::SIGTERM, GRACE).await;
    assert_eq!(sink.received().len(), 1, "one digest, one copy");
    assert!(status.success(), "exit status {status}:\n{log}");
    assert!(took < GRACE, "took {took:?} to stop:\n{log}");
    assert!(
        log.contains("shutdown requested") && log.contains("stopped"),
        "{log}"
    );
    assert!(
        !log.contains(SMTP_PASSWORD),
        "SMTP password in the log:\n{log}"
    );
    assert!(!log.contains(MAIL_SECRET), "mail secret in the log:\n{log}");
    // The outbox loop ran every tick (1 s) here; idle turns must not fill the journal.
    assert!(
        !log.lines()
            .any(|l| l.contains("outbox drained") && l.contains("sent=0 ")),
        "idle outbox turns logged at info:\n{log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log that is not a terminal:\n{log}"
    );

    // Committed: the next process sees the delivery and the unsubscription.
    let list: serde_json::Value =
        serde_json::from_str(&run_cli(&config, &["subscribers", "list", "--json"])).unwrap();
    assert_eq!(list[0]["email"], "ada@example.org");
    assert_eq!(list[0]["sent"], 1);
    assert_eq!(list[0]["subscriptions"][0]["state"], "unsubscribed");
}

/// With `--log-json` every line on stderr is one JSON object with a level and a message; SIGINT
/// stops the daemon as cleanly as SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_json_lines_and_stops_cleanly_on_sigint() {
    let feeds = FeedServer::start().await;
    feeds.route("/news.xml", Route::feed(feed(Utc::now())));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, &feeds.url("/news.xml"), None);

    let mut daemon = Daemon::spawn(dir.path(), &config, &["--log-json"]);
    let base = format!("http://127.0.0.1:{port}");
    wait_for_page(&format!("{base}/healthz"), Duration::from_secs(30), |b| {
        b == "ok\n"
    })
    .await;
    daemon
        .wait_for_log("poll round done", Duration::from_secs(30))
        .await;

    let (status, took, log) = daemon.stop(libc::SIGINT, GRACE).await;
    assert!(status.success(), "exit status {status}:\n{log}");
    assert!(took < GRACE, "took {took:?} to stop:\n{log}");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    for l in &lines {
        assert!(l["level"].is_string(), "{l}");
        assert!(l["fields"]["message"].is_string(), "{l}");
        assert!(l["timestamp"].is_string(), "{l}");
    }
    let addr: SocketAddr = lines
        .iter()
        .find(|l| l["fields"]["message"] == "listening")
        .and_then(|l| l["fields"]["address"].as_str())
        .expect("a listening line with the address")
        .parse()
        .unwrap();
    assert_eq!(addr.port(), port);
    let polled = lines
        .iter()
        .find(|l| l["fields"]["message"] == "poll round done")
        .unwrap();
    assert_eq!(polled["fields"]["new"], 2, "{polled}");
    assert!(lines.iter().any(|l| l["fields"]["message"] == "stopped"));
}

/// `serve` refuses to start, exit 1 with the variable named, when a secret the config names
/// is not set in the environment: the SMTP password, the signing key's `secret_env`, or the
/// default `STORYLINE_SECRET`. It refuses before it opens the database or fetches anything,
/// and never prints the secrets it did find.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_start_when_a_named_secret_is_unset() {
    let server = FeedServer::start().await;
    server.route("/feed.xml", Route::feed(feed(Utc::now())));
    let sink = SmtpSink::start().await;
    const SECRET_ENV: &str = "STORYLINE_E2E_SIGNING_KEY";
    let cases = [
        // (password env set, signing key, the variable the refusal must name)
        (false, format!("secret = \"{MAIL_SECRET}\""), PASSWORD_ENV),
        (true, format!("secret_env = \"{SECRET_ENV}\""), SECRET_ENV),
        (true, String::new(), "STORYLINE_SECRET"),
    ];
    for (password_set, key, missing) in cases {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("storyline.toml");
        std::fs::write(
            &config,
            format!(
                "database = \"{db}\"\n[fetch]\nallow_private_addresses = true\n\
                 [web]\nlisten = \"127.0.0.1:{port}\"\n\
                 [smtp]\nhost = \"127.0.0.1\"\nport = {smtp}\ntls = \"none\"\n\
                 username = \"{SMTP_USER}\"\npassword_env = \"{PASSWORD_ENV}\"\n\
                 from = \"Storyline <digest@storyline.test>\"\n\
                 [mail]\n{key}\n\
                 [[source]]\nid = \"loopback-news\"\nurl = \"{feed}\"\n",
                db = dir.path().join("storyline.db").display(),
                smtp = sink.port(),
                feed = server.url("/feed.xml"),
            ),
        )
        .unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&config)
            .arg("serve")
            .current_dir(dir.path())
            .env_remove("STORYLINE_CONFIG")
            .env_remove("STORYLINE_SECRET")
            .env_remove(SECRET_ENV)
            .env_remove(PASSWORD_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if password_set {
            cmd.env(PASSWORD_ENV, SMTP_PASSWORD);
        }
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve started without ${missing}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "without ${missing}: {stderr}");
        assert!(
            stderr.contains(&format!("${missing}")) && stderr.contains("is not set"),
            "without ${missing}: {stderr}"
        );
        assert!(!stderr.contains(SMTP_PASSWORD) && !stderr.contains(MAIL_SECRET));
        assert!(
            !dir.path().join("storyline.db").exists(),
            "without ${missing}: the database was opened"
        );
    }
    assert!(server.hits().is_empty(), "nothing was fetched");
    assert_eq!(sink.connections(), 0);
}
