//! Mail delivery against a real SMTP server on 127.0.0.1: what arrives (MIME structure, headers,
//! both parts, the chart, working links), retries and failures, the outbox never sending a
//! second set, and a sender killed mid-run that resumes without two different copies.

use crate::support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use storyline::mail::token::Purpose;
use storyline::mail::{self, Mail};
use storyline::store::NewDigest;
use storyline::store::Store;
use storyline::value::clock::Clock;
use support::at;
use support::mime::Part;
use support::smtp_sink::{Fault, Received, SmtpSink};
use tokio_util::sync::CancellationToken;

/// The smallest valid PNG (1x1); its bytes include CR LF, which must survive transport.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

const SECRET: &str = "test-secret-test-secret-test-secret-0123";

fn mail_toml(port: u16, extra: &str) -> String {
    // Fast by default; a test that sets its own rate keeps it.
    let rate = if extra.contains("rate_per_second") {
        ""
    } else {
        "rate_per_second = 1000\n"
    };
    format!(
        "[web]\nbase_url = \"http://127.0.0.1:8080/\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout = \"5s\"\n\
         from = \"Storyline <digest@storyline.test>\"\nreply_to = \"editor@storyline.test\"\n\
         [mail]\nsecret = \"{SECRET}\"\n{rate}{extra}\n\
         [[story]]\nid = \"llama-4\"\ntitle = \"Meta's Llama 4 release\"\n"
    )
}

struct Env {
    _dir: tempfile::TempDir,
    store: Store,
    mail: Mail,
}

async fn setup(sink: &SmtpSink, mail_extra: &str) -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = support::settings(dir.path(), &mail_toml(sink.port(), mail_extra));
    let store = settings.open_store().await.expect("open store");
    let mail = settings
        .mail(&|_| None)
        .expect("mail config")
        .expect("smtp is configured");
    Env {
        _dir: dir,
        store,
        mail,
    }
}

fn parts<'a>(subject: &'a str) -> NewDigest<'a> {
    NewDigest {
        story_id: "llama-4",
        week: "2025-W15".parse().expect("week"),
        subject,
        // The line starting with "." must survive SMTP dot-stuffing.
        text: "Llama 4 this week\n\n* Meta released Scout and Maverick.\n.dot line\n",
        html: "<html><body><h1>Llama 4 this week</h1><img src=\"cid:chart@storyline\" alt=\"chart\"><p>Meta released Scout &amp; Maverick.</p></body></html>",
        chart_png: Some(PNG),
    }
}

async fn subscribe(store: &Store, emails: &[&str], now: DateTime<Utc>) {
    for e in emails {
        store
            .add_confirmed_subscriber(e, &["llama-4".to_string()], now)
            .await
            .expect("subscribe");
    }
}

async fn drain(env: &Env, now: DateTime<Utc>) -> mail::DrainReport {
    mail::drain_outbox(
        &env.mail.mailer,
        &env.store,
        &env.mail.settings,
        &Clock::tokio_from(now),
        &CancellationToken::new(),
    )
    .await
    .expect("drain")
}

fn to_of(r: &Received) -> String {
    r.rcpt_to.join(",")
}

/// A subscriber's copy has the promised structure, headers, both parts, the chart by
/// Content-ID and working links; the envelope and headers name only that subscriber.
#[tokio::test]
async fn digest_arrives_as_multipart_with_chart_list_headers_and_working_links() {
    // Arrange
    let sink = SmtpSink::start().await;
    let env = setup(&sink, "").await;
    let now = at("2025-04-14T08:00:00Z");
    subscribe(&env.store, &["ada@example.org", "bob@example.net"], now).await;

    // Act
    let q = mail::queue_digest(
        &env.store,
        &env.mail.settings,
        &parts("Llama 4: week 15"),
        now,
    )
    .await
    .unwrap();
    let report = drain(&env, now).await;

    // Assert
    assert_eq!((q.queued, q.already, q.created), (2, 0, true));
    assert_eq!((report.sent, report.retried, report.failed), (2, 0, 0));
    let got = sink.received();
    assert_eq!(got.len(), 2);
    let deliveries = env.store.deliveries_of_digest(q.digest_id).await.unwrap();
    for r in &got {
        assert_eq!(r.mail_from, "digest@storyline.test");
        assert_eq!(r.rcpt_to.len(), 1);
        assert!(r.data.is_ascii(), "7-bit on the wire");
        let m = Part::parse(&r.data);
        let to = &r.rcpt_to[0];
        assert_eq!(m.header("To").unwrap(), *to);
        assert_eq!(m.all("To").len(), 1);
        assert!(m.header("Bcc").is_none() && m.header("Cc").is_none());
        assert_eq!(
            m.header("From").unwrap(),
            "Storyline <digest@storyline.test>"
        );
        assert_eq!(m.header("Reply-To").unwrap(), "editor@storyline.test");
        assert_eq!(m.header("Subject").unwrap(), "Llama 4: week 15");
        assert_eq!(m.header("Date").unwrap(), "Mon, 14 Apr 2025 08:00:00 +0000");
        assert_eq!(m.header("MIME-Version").unwrap(), "1.0");
        let row = deliveries.iter().find(|d| &d.email == to).unwrap();
        assert_eq!(row.state, "sent");
        assert_eq!(m.header("Message-ID").unwrap(), row.message_id);
        assert!(row
            .message_id
            .starts_with(&format!("<{}.{}.", q.digest_id, row.subscriber_id)));
        assert!(row.message_id.ends_with("@storyline.test>"));
        assert_eq!(
            m.header("List-Id").unwrap(),
            "Meta's Llama 4 release <llama-4.storyline.127.0.0.1>"
        );
        assert_eq!(
            m.header("List-Unsubscribe-Post").unwrap(),
            "List-Unsubscribe=One-Click"
        );
        assert_eq!(m.header("Auto-Submitted").unwrap(), "auto-generated");

        // List-Unsubscribe: an https-or-site one-click URL with a token for this subscriber,
        // and a mailto.
        let lu = m.header("List-Unsubscribe").unwrap();
        let (web, mailto) = lu.split_once(", ").unwrap();
        assert_eq!(mailto, "<mailto:editor@storyline.test?subject=unsubscribe>");
        let url = url::Url::parse(web.trim_matches(['<', '>'])).unwrap();
        assert_eq!(
            url.host_str(),
            Some("127.0.0.1"),
            "links stay on the test host"
        );
        assert_eq!(url.path(), "/unsubscribe");
        let token = url
            .query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let claims = env.mail.settings.key.verify(&token, now).unwrap();
        assert_eq!(claims.subscriber_id, row.subscriber_id);
        assert_eq!(claims.purpose, Purpose::Unsubscribe("llama-4".into()));

        // multipart/alternative(text/plain, multipart/related(text/html, image/png)).
        assert_eq!(m.mime_type(), "multipart/alternative");
        let alt = m.children();
        assert_eq!(alt.len(), 2);
        assert_eq!(alt[0].mime_type(), "text/plain");
        assert_eq!(
            alt[0].param("Content-Type", "charset").as_deref(),
            Some("utf-8")
        );
        let text = alt[0].text();
        assert!(
            text.contains("* Meta released Scout and Maverick."),
            "{text}"
        );
        assert!(text.contains(&format!("Unsubscribe: {url}")), "{text}");
        assert_eq!(alt[1].mime_type(), "multipart/related");
        let rel = alt[1].children();
        assert_eq!(rel.len(), 2);
        assert_eq!(rel[0].mime_type(), "text/html");
        let html = rel[0].text();
        assert!(html.contains("Scout &amp; Maverick"), "{html}");
        let href = format!("href=\"{}\"", url.as_str().replace('&', "&amp;"));
        assert!(html.contains(&href), "unsubscribe link in the HTML: {html}");
        assert!(html.find(&href).unwrap() < html.find("</body>").unwrap());
        assert_eq!(rel[1].mime_type(), "image/png");
        let cid = rel[1].header("Content-ID").unwrap();
        assert_eq!(cid, "<chart@storyline>");
        assert!(html.contains(&format!("src=\"cid:{}\"", cid.trim_matches(['<', '>']))));
        assert!(rel[1]
            .header("Content-Disposition")
            .unwrap()
            .starts_with("inline"));
        assert_eq!(rel[1].decoded(), PNG, "the chart arrives byte for byte");
    }
    let mut tos: Vec<String> = got.iter().map(to_of).collect();
    tos.sort();
    assert_eq!(tos, ["ada@example.org", "bob@example.net"]);
}

/// Queueing a week again resumes it: no second set of deliveries, the first digest is kept,
/// and only subscribers confirmed since are added.
#[tokio::test]
async fn queueing_a_week_again_never_creates_a_second_set() {
    let sink = SmtpSink::start().await;
    let env = setup(&sink, "").await;
    let now = at("2025-04-14T08:00:00Z");
    subscribe(&env.store, &["a@example.org", "b@example.org"], now).await;

    let first = mail::queue_digest(&env.store, &env.mail.settings, &parts("First"), now)
        .await
        .unwrap();
    assert_eq!(drain(&env, now).await.sent, 2);
    let again = mail::queue_digest(&env.store, &env.mail.settings, &parts("Second render"), now)
        .await
        .unwrap();
    assert_eq!(again.digest_id, first.digest_id);
    assert!(!again.created);
    assert_eq!((again.queued, again.already), (0, 2));
    assert_eq!(drain(&env, now).await.sent, 0, "nothing to send twice");

    subscribe(&env.store, &["c@example.org"], now).await;
    let mut unknown = parts("Other story");
    unknown.story_id = "nope";
    assert!(matches!(
        mail::queue_digest(&env.store, &env.mail.settings, &unknown, now).await,
        Err(mail::OutboxError::UnknownStory(s)) if s == "nope"
    ));
    let third = mail::queue_digest(&env.store, &env.mail.settings, &parts("Third"), now)
        .await
        .unwrap();
    assert_eq!((third.queued, third.already), (1, 2));
    assert_eq!(drain(&env, now).await.sent, 1);

    let got = sink.received();
    assert_eq!(got.len(), 3);
    for r in &got {
        let subject = Part::parse(&r.data).header("Subject").unwrap();
        assert_eq!(subject, "First", "the stored digest is what everyone gets");
    }
}

/// A 4xx is retried later with backoff, a 5xx fails that delivery with the reply, and
/// neither holds up the other subscribers.
#[tokio::test]
async fn transient_replies_retry_with_backoff_and_permanent_ones_fail_alone() {
    let sink = SmtpSink::start().await;
    sink.add_fault(Fault::Rcpt {
        to: "grey@".into(),
        reply: "451 4.7.1 Greylisted, try again later".into(),
        times: Some(1),
    });
    sink.add_fault(Fault::Data {
        to: "gone@".into(),
        reply: "550 5.1.1 <gone@example.org>: mailbox unavailable".into(),
        times: None,
    });
    let env = setup(&sink, "").await;
    let now = at("2025-04-14T08:00:00Z");
    let emails = [
        "a@example.org",
        "gone@example.org",
        "grey@example.org",
        "z@example.org",
    ];
    subscribe(&env.store, &emails, now).await;
    let q = mail::queue_digest(&env.store, &env.mail.settings, &parts("W15"), now)
        .await
        .unwrap();

    let r1 = drain(&env, now).await;
    assert_eq!((r1.sent, r1.retried, r1.failed), (2, 1, 1));
    assert_eq!(r1.stopped, None);
    let rows = env.store.deliveries_of_digest(q.digest_id).await.unwrap();
    let row = |e: &str| rows.iter().find(|d| d.email == e).unwrap().clone();
    let grey = row("grey@example.org");
    assert_eq!((grey.state.as_str(), grey.attempts), ("pending", 1));
    assert_eq!(grey.next_attempt_at, now + chrono::Duration::minutes(1));
    assert_eq!(
        grey.last_reply.as_deref(),
        Some("451 4.7.1 Greylisted, try again later")
    );
    let gone = row("gone@example.org");
    assert_eq!(gone.state, "failed");
    assert_eq!(
        gone.last_reply.as_deref(),
        Some("550 5.1.1 <gone@example.org>: mailbox unavailable")
    );
    assert!(row("z@example.org")
        .last_reply
        .unwrap()
        .starts_with("250 2.0.0 Ok"));

    // Not due yet: nothing happens.
    let early = drain(&env, now + chrono::Duration::seconds(30)).await;
    assert_eq!((early.sent, early.retried, early.failed), (0, 0, 0));
    // Due: it goes through, and the failed one is not retried.
    let later = drain(&env, now + chrono::Duration::minutes(2)).await;
    assert_eq!((later.sent, later.retried, later.failed), (1, 0, 0));
    let rows = env.store.deliveries_of_digest(q.digest_id).await.unwrap();
    let states: Vec<(&str, &str)> = rows
        .iter()
        .map(|d| (d.email.as_str(), d.state.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            ("a@example.org", "sent"),
            ("gone@example.org", "failed"),
            ("grey@example.org", "sent"),
            ("z@example.org", "sent")
        ]
    );
    let got: Vec<String> = sink.received().iter().map(to_of).collect();
    assert_eq!(got.len(), 3);
    assert!(!got.contains(&"gone@example.org".to_string()));
}

/// A server that takes a message and never answers (timeout), or drops the connection
/// mid-DATA, gets that delivery retried later under the same Message-ID; the others go on.
#[tokio::test]
async fn timeouts_and_dropped_connections_are_retried_with_the_same_message_id() {
    let sink = SmtpSink::start().await;
    sink.add_fault(Fault::StallAfterData {
        to: "slow@".into(),
        times: Some(1),
    });
    sink.add_fault(Fault::DropMidData {
        to: "drop@".into(),
        times: Some(1),
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = mail_toml(sink.port(), "").replace("timeout = \"5s\"", "timeout = \"1s\"");
    let settings = support::settings(dir.path(), &toml);
    let store = settings.open_store().await.unwrap();
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    let env = Env {
        _dir: dir,
        store,
        mail,
    };
    let now = at("2025-04-14T08:00:00Z");
    subscribe(
        &env.store,
        &[
            "a@example.org",
            "drop@example.org",
            "slow@example.org",
            "z@example.org",
        ],
        now,
    )
    .await;
    let q = mail::queue_digest(&env.store, &env.mail.settings, &parts("W15"), now)
        .await
        .unwrap();

    let first = drain(&env, now).await;

    assert_eq!((first.sent, first.retried, first.failed), (2, 2, 0));
    assert_eq!(
        first.stopped, None,
        "two separate failures do not stop the run"
    );
    let rows = env.store.deliveries_of_digest(q.digest_id).await.unwrap();
    let slow = rows.iter().find(|d| d.email == "slow@example.org").unwrap();
    assert_eq!(slow.state, "pending");
    assert_eq!(slow.last_reply.as_deref(), Some("timed out"));
    let second = drain(&env, now + chrono::Duration::minutes(5)).await;
    assert_eq!((second.sent, second.retried), (2, 0));
    let got = sink.received();
    let slow_copies: Vec<&Received> = got
        .iter()
        .filter(|r| r.rcpt_to == ["slow@example.org"])
        .collect();
    assert_eq!(slow_copies.len(), 2, "held once, then resent");
    assert_eq!(slow_copies[0].data, slow_copies[1].data);
    assert_eq!(message_id_of(slow_copies[0]), slow.message_id);
    assert_eq!(
        got.iter()
            .filter(|r| r.rcpt_to == ["drop@example.org"])
            .count(),
        1,
        "the dropped attempt never arrived"
    );
}

/// Cancelling a run lets the message in flight finish and be recorded; the rest stays
/// pending for the next run.
#[tokio::test]
async fn a_cancelled_run_records_what_it_sent_and_leaves_the_rest_pending() {
    let sink = SmtpSink::start().await;
    let env = setup(&sink, "rate_per_second = 20").await;
    let now = at("2025-04-14T08:00:00Z");
    let emails: Vec<String> = (0..10).map(|i| format!("s{i}@example.org")).collect();
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    subscribe(&env.store, &refs, now).await;
    let q = mail::queue_digest(&env.store, &env.mail.settings, &parts("W15"), now)
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let clock = Clock::tokio_from(now);
    let run = mail::drain_outbox(
        &env.mail.mailer,
        &env.store,
        &env.mail.settings,
        &clock,
        &cancel,
    );
    let (report, _) = tokio::join!(run, async {
        sink.wait_for(3, Duration::from_secs(10)).await;
        stop.cancel();
    });
    let report = report.unwrap();

    assert!(report.sent >= 3 && report.sent < 10, "{report:?}");
    let rows = env.store.deliveries_of_digest(q.digest_id).await.unwrap();
    let sent = rows.iter().filter(|d| d.state == "sent").count();
    let pending = rows.iter().filter(|d| d.state == "pending").count();
    assert_eq!(sent as u64, report.sent);
    assert_eq!(sent + pending, 10, "nothing left in sending: {rows:#?}");
    assert_eq!(sink.received().len(), sent);
}

/// A delivery that keeps failing transiently is given up after `max_attempts`, with the
/// last reply kept.
#[tokio::test]
async fn transient_failures_give_up_after_max_attempts() {
    let sink = SmtpSink::start().await;
    sink.add_fault(Fault::Rcpt {
        to: "full@".into(),
        reply: "452 4.2.2 Mailbox full".into(),
        times: None,
    });
    let env = setup(&sink, "max_attempts = 3").await;
    let now = at("2025-04-14T08:00:00Z");
    subscribe(&env.store, &["full@example.org"], now).await;
    let q = mail::queue_digest(&env.store, &env.mail.settings, &parts("W15"), now)
        .await
        .unwrap();
    let mut t = now;
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        let r = drain(&env, t).await;
        outcomes.push((r.retried, r.failed));
        t += chrono::Duration::hours(1);
    }
    assert_eq!(outcomes, [(1, 0), (1, 0), (0, 1), (0, 0)]);
    let row = &env.store.deliveries_of_digest(q.digest_id).await.unwrap()[0];
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 3));
    assert_eq!(
        row.last_reply.as_deref(),
        Some("gave up after 3 attempts: 452 4.2.2 Mailbox full")
    );
}

/// A delivery left in `sending` (the process died mid-send) is resent on the next drain with
/// the same Message-ID, and the resent bytes are identical.
#[tokio::test]
async fn an_interrupted_send_is_resent_byte_for_byte() {
    let sink = SmtpSink::start().await;
    let env = setup(&sink, "").await;
    let now = at("2025-04-14T08:00:00Z");
    subscribe(&env.store, &["ada@example.org"], now).await;
    mail::queue_digest(&env.store, &env.mail.settings, &parts("W15"), now)
        .await
        .unwrap();
    assert_eq!(drain(&env, now).await.sent, 1);
    // Simulate the unknown outcome: the same delivery claimed again and never recorded.
    sqlx::query("UPDATE deliveries SET state = 'pending'")
        .execute(env.store.pool())
        .await
        .unwrap();
    let claim = storyline::store::LeaseClaim {
        owner: "a run that died",
        process: None,
        until: now + chrono::Duration::minutes(5),
    };
    let claimed = env
        .store
        .claim_delivery(&claim, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.attempts, 2);

    let r = drain(&env, now + chrono::Duration::hours(5)).await;

    assert_eq!((r.recovered, r.sent), (1, 1));
    let got = sink.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].data, got[1].data, "the resend is the same message");
}

/// A subject carrying CR LF and a fake header cannot add a header or a recipient.
#[tokio::test]
async fn header_injection_through_the_subject_is_impossible() {
    let sink = SmtpSink::start().await;
    let env = setup(&sink, "").await;
    let now = at("2025-04-14T08:00:00Z");
    subscribe(&env.store, &["ada@example.org"], now).await;
    let evil = "Week 15\r\nBcc: evil@attacker.example\r\n\r\nbody";
    mail::queue_digest(&env.store, &env.mail.settings, &parts(evil), now)
        .await
        .unwrap();
    assert_eq!(drain(&env, now).await.sent, 1);
    let r = &sink.received()[0];
    assert_eq!(r.rcpt_to, ["ada@example.org"]);
    let m = Part::parse(&r.data);
    assert!(m.header("Bcc").is_none());
    assert_eq!(
        m.header("Subject").unwrap(),
        "Week 15 Bcc: evil@attacker.example body"
    );
    assert!(storyline::mail::SubscriberEmail::parse("a@example.org\r\nBcc: x@y.org").is_err());
}

/// The configured rate spaces messages out, over one reused connection.
#[tokio::test]
async fn sending_keeps_to_the_configured_rate() {
    let sink = SmtpSink::start().await;
    let env = setup(&sink, "rate_per_second = 20").await;
    let now = at("2025-04-14T08:00:00Z");
    let emails: Vec<String> = (0..6).map(|i| format!("s{i}@example.org")).collect();
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    subscribe(&env.store, &refs, now).await;
    mail::queue_digest(&env.store, &env.mail.settings, &parts("W15"), now)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(drain(&env, now).await.sent, 6);
    let took = started.elapsed();
    // 6 messages at 20/s: the last leaves 5 intervals (250 ms) after the first.
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(sink.connections(), 1, "one connection, reused");
}

/// An unreachable server stops the run after a few tries; the rest stays queued, untouched.
#[tokio::test]
async fn an_unreachable_server_stops_the_run_and_keeps_the_outbox() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let settings = support::settings(dir.path(), &mail_toml(port, ""));
    let store = settings.open_store().await.unwrap();
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    let now = at("2025-04-14T08:00:00Z");
    let emails: Vec<String> = (0..6).map(|i| format!("s{i}@example.org")).collect();
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    subscribe(&store, &refs, now).await;
    let q = mail::queue_digest(&store, &mail.settings, &parts("W15"), now)
        .await
        .unwrap();

    let r = mail::drain_outbox(
        &mail.mailer,
        &store,
        &mail.settings,
        &Clock::tokio_from(now),
        &CancellationToken::new(),
    )
    .await
    .unwrap();

    assert_eq!((r.sent, r.retried, r.failed), (0, 3, 0));
    assert!(r.stopped.unwrap().contains("connection failures"));
    let rows = store.deliveries_of_digest(q.digest_id).await.unwrap();
    assert!(rows.iter().all(|d| d.state == "pending"));
    assert_eq!(rows.iter().filter(|d| d.attempts == 0).count(), 3);
}

/// Refused credentials stop the run at once instead of failing every subscriber.
#[tokio::test]
async fn refused_credentials_stop_the_run_without_failing_subscribers() {
    let sink = SmtpSink::start().await;
    sink.require_auth("storyline", "right");
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "wrong\n").unwrap();
    let smtp_auth = format!(
        "username = \"storyline\"\npassword_file = \"{}\"\n",
        pw.display()
    );
    let toml = mail_toml(sink.port(), "")
        .replace("tls = \"none\"\n", &format!("tls = \"none\"\n{smtp_auth}"));
    let settings = support::settings(dir.path(), &toml);
    let store = settings.open_store().await.unwrap();
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    let now = at("2025-04-14T08:00:00Z");
    subscribe(&store, &["a@example.org", "b@example.org"], now).await;
    mail::queue_digest(&store, &mail.settings, &parts("W15"), now)
        .await
        .unwrap();
    let r = mail::drain_outbox(
        &mail.mailer,
        &store,
        &mail.settings,
        &Clock::tokio_from(now),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!((r.sent, r.retried, r.failed), (0, 1, 0));
    assert!(r.stopped.unwrap().contains("535"));
    assert!(sink.received().is_empty());
}

/// Neither the password nor the signing key shows in the config's debug output.
#[tokio::test]
async fn secrets_never_show_in_config_output() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "file-password-123\n").unwrap();
    let toml = mail_toml(2525, "").replace(
        "tls = \"none\"\n",
        &format!(
            "tls = \"none\"\nusername = \"u\"\npassword_file = \"{}\"\n",
            pw.display()
        ),
    );
    let settings = support::settings(dir.path(), &toml);
    let config = &settings.config;
    let shown = format!("{config:?} {config:#?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("file-password-123"));
    let smtp = config.smtp.as_ref().unwrap();
    let password = smtp.password(&|_| None).unwrap().unwrap();
    assert_eq!(password.expose(), "file-password-123");
    assert!(!format!("{password:?} {password}").contains("file-password"));
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    assert!(!format!("{mail:?}").contains(SECRET));
}

/// Without `[smtp]` nothing is mailed and mail is not set up.
#[test]
fn without_smtp_mail_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let settings = support::settings(dir.path(), "");
    assert!(settings.mail(&|_| None).unwrap().is_none());
}

/// The key comes from the config, a named variable, or STORYLINE_SECRET, and must be long.
#[tokio::test]
async fn the_signing_key_is_required_and_found_in_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let no_secret = mail_toml(2525, "").replace(&format!("secret = \"{SECRET}\"\n"), "");
    let settings = support::settings(dir.path(), &no_secret);
    let err = settings.mail(&|_| None).unwrap_err().to_string();
    assert!(err.contains("STORYLINE_SECRET"), "{err}");
    let env = |k: &str| (k == "STORYLINE_SECRET").then(|| SECRET.to_string());
    assert!(settings.mail(&env).unwrap().is_some());
    let short = |k: &str| (k == "STORYLINE_SECRET").then(|| "short".to_string());
    let err = settings.mail(&short).unwrap_err().to_string();
    assert!(err.contains("at least 32"), "{err}");
}

fn message_id_of(r: &Received) -> String {
    Part::parse(&r.data)
        .header("Message-ID")
        .expect("a Message-ID")
}

fn spawn_drain(config: &std::path::Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args([
            "--config",
            config.to_str().expect("UTF-8 path"),
            "mail",
            "drain",
        ])
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .env_remove("STORYLINE_SECRET")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start storyline mail drain")
}

/// Kill -9 the sender twice during a run to 40 subscribers (once while the server holds a
/// message unanswered, once at an arbitrary point), restart it, and count at the server:
/// everyone got the digest, and every copy a subscriber got carries one and the same
/// Message-ID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_mid_run_resumes_and_nobody_gets_two_different_copies() {
    // Arrange: 40 confirmed subscribers, the week queued, a server that will take
    // s15's message and never answer (so its outcome is unknown to the sender).
    let sink = SmtpSink::start().await;
    sink.add_fault(Fault::StallAfterData {
        to: "s15@".into(),
        times: Some(1),
    });
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "database = \"{}\"\n{}",
        dir.path().join("mail.db").display(),
        mail_toml(sink.port(), "rate_per_second = 25")
            .replace("timeout = \"5s\"", "timeout = \"60s\"")
    );
    let config_path = dir.path().join("storyline.toml");
    std::fs::write(&config_path, &toml).unwrap();
    let settings = storyline::app::Settings::load(Some(&config_path)).unwrap();
    let store = settings.open_store().await.unwrap();
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    let now = Utc::now();
    let emails: Vec<String> = (0..40).map(|i| format!("s{i}@example.org")).collect();
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    subscribe(&store, &refs, now).await;
    let q = mail::queue_digest(&store, &mail.settings, &parts("W15"), now)
        .await
        .unwrap();
    assert_eq!(q.queued, 40);

    // Act 1: kill while s15's message sits at the server unanswered.
    let mut first = spawn_drain(&config_path);
    let stalled = sink
        .wait_until(Duration::from_secs(30), |_, stalled| stalled == 1)
        .await;
    first.kill().unwrap();
    let _ = first.wait();
    assert!(stalled, "the run reached s15");
    let rows = store.deliveries_of_digest(q.digest_id).await.unwrap();
    let s15 = rows.iter().find(|d| d.email == "s15@example.org").unwrap();
    assert_eq!(s15.state, "sending", "killed mid-send: outcome unknown");
    let after_first = sink.received().len();

    // Act 2: restart, and kill again at an arbitrary point a few messages later.
    let mut second = spawn_drain(&config_path);
    let progressed = sink
        .wait_for(after_first + 7, Duration::from_secs(30))
        .await;
    second.kill().unwrap();
    let _ = second.wait();
    assert!(progressed, "the second run made progress");

    // Act 3: restart and let it finish.
    let third = tokio::task::spawn_blocking(move || spawn_drain(&config_path).wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&third.stdout);
    assert!(
        third.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&third.stderr)
    );
    assert!(
        stdout.contains("outbox: nothing pending, 40 sent, 0 failed"),
        "{stdout}"
    );

    // Assert at the server: each subscriber got it, always under one Message-ID.
    let got = sink.received();
    let mut copies = 0;
    for (email, row) in emails.iter().zip(
        emails
            .iter()
            .map(|e| rows.iter().find(|d| &d.email == e).unwrap()),
    ) {
        let theirs: Vec<&Received> = got
            .iter()
            .filter(|r| r.rcpt_to == [email.clone()])
            .collect();
        assert!(!theirs.is_empty(), "{email} got nothing");
        let mut ids: Vec<String> = theirs.iter().map(|r| message_id_of(r)).collect();
        ids.dedup();
        assert_eq!(
            ids,
            std::slice::from_ref(&row.message_id),
            "{email}: one Message-ID"
        );
        assert!(
            theirs.iter().all(|r| r.data == theirs[0].data),
            "{email}: every copy is the same message"
        );
        copies += theirs.len();
    }
    assert_eq!(got.len(), copies, "nothing went to anyone else");
    let s15_copies = got
        .iter()
        .filter(|r| r.rcpt_to == ["s15@example.org"])
        .count();
    assert_eq!(
        s15_copies, 2,
        "the unknown outcome was resent, same Message-ID"
    );
    let rows = store.deliveries_of_digest(q.digest_id).await.unwrap();
    assert!(rows.iter().all(|d| d.state == "sent"), "{rows:#?}");
    eprintln!(
        "crash test: 40 subscribers, {} messages received ({} resent copies)",
        got.len(),
        got.len() - 40
    );
}

/// Run the binary off the async threads (the SMTP sink runs on them).
async fn cli(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_storyline"))
            .args(&args)
            .env_remove("STORYLINE_CONFIG")
            .env_remove("STORYLINE_NOW")
            .env_remove("STORYLINE_SECRET")
            .envs(env)
            .output()
            .expect("run storyline")
    })
    .await
    .expect("join")
}

fn out(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `mail test` authenticates with the password from the environment, prints the server's
/// answer, exits 1 when the server refuses, and never prints the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_test_prints_the_server_answer_and_fails_on_refusal() {
    let sink = SmtpSink::start().await;
    sink.require_auth("storyline", "pa55-word");
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "database = \"{}\"\n{}",
        dir.path().join("t.db").display(),
        mail_toml(sink.port(), "").replace(
            "tls = \"none\"\n",
            "tls = \"none\"\nusername = \"storyline\"\npassword_env = \"SMTP_PW\"\n"
        )
    );
    let path = dir.path().join("storyline.toml");
    std::fs::write(&path, toml).unwrap();
    let config = path.to_str().unwrap();
    let pw = [("SMTP_PW", "pa55-word")];

    let ok = cli(
        &[
            "--config",
            config,
            "mail",
            "test",
            "--to",
            "ada@example.org",
        ],
        &pw,
    )
    .await;
    let (stdout, stderr) = out(&ok);
    assert!(ok.status.success(), "{stdout}{stderr}");
    assert_eq!(
        stdout.trim(),
        format!(
            "sent to ada@example.org via 127.0.0.1:{}: 250 2.0.0 Ok: queued as SINK1",
            sink.port()
        )
    );
    let got = sink.received();
    assert_eq!(got[0].user.as_deref(), Some("storyline"));
    assert_eq!(
        Part::parse(&got[0].data).header("Subject").unwrap(),
        "Storyline test message"
    );

    sink.add_fault(Fault::Rcpt {
        to: "nobody@".into(),
        reply: "550 5.1.1 <nobody@example.org>: Recipient address rejected".into(),
        times: None,
    });
    let refused = cli(
        &[
            "--config",
            config,
            "mail",
            "test",
            "--to",
            "nobody@example.org",
        ],
        &pw,
    )
    .await;
    let (stdout, stderr) = out(&refused);
    assert_eq!(refused.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("550 5.1.1 <nobody@example.org>: Recipient address rejected"),
        "{stderr}"
    );

    let no_pw = cli(
        &[
            "--config",
            config,
            "mail",
            "test",
            "--to",
            "ada@example.org",
        ],
        &[],
    )
    .await;
    let (_, stderr) = out(&no_pw);
    assert_eq!(no_pw.status.code(), Some(2));
    assert!(stderr.contains("$SMTP_PW is not set"), "{stderr}");
    for o in [&ok, &refused, &no_pw] {
        let (a, b) = out(o);
        assert!(!a.contains("pa55-word") && !b.contains("pa55-word"));
    }
}

/// `subscribers add|list|remove`: operator adds are confirmed, bad input exits 2, and the
/// list shows failed deliveries with the server's last reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_cli_adds_lists_failures_and_removes() {
    let sink = SmtpSink::start().await;
    sink.add_fault(Fault::Rcpt {
        to: "gone@".into(),
        reply: "550 5.1.1 mailbox unavailable".into(),
        times: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "database = \"{}\"\n{}",
        dir.path().join("s.db").display(),
        mail_toml(sink.port(), "")
    );
    let path = dir.path().join("storyline.toml");
    std::fs::write(&path, toml).unwrap();
    let c = path.to_str().unwrap();

    for addr in ["ada@example.org", "gone@example.org"] {
        let o = cli(&["--config", c, "subscribers", "add", addr], &[]).await;
        assert!(o.status.success(), "{:?}", out(&o));
        assert_eq!(out(&o).0.trim(), format!("{addr}: confirmed for llama-4"));
    }
    let bad = cli(
        &[
            "--config",
            c,
            "subscribers",
            "add",
            "ada@example.org\r\nBcc: x@y.org",
        ],
        &[],
    )
    .await;
    assert_eq!(bad.status.code(), Some(2));
    let unknown = cli(
        &[
            "--config",
            c,
            "subscribers",
            "add",
            "b@example.org",
            "--story",
            "nope",
        ],
        &[],
    )
    .await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(out(&unknown).1.contains("no story \"nope\""));

    // A week queued and drained: one delivery fails for good.
    let settings = storyline::app::Settings::load(Some(&path)).unwrap();
    let store = settings.open_store().await.unwrap();
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    let now = at("2025-04-14T08:00:00Z");
    mail::queue_digest(&store, &mail.settings, &parts("W15"), now)
        .await
        .unwrap();
    let drained = cli(&["--config", c, "mail", "drain"], &[]).await;
    let (stdout, stderr) = out(&drained);
    assert!(drained.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("sent 1, retry later 0, failed 1"),
        "{stdout}"
    );

    let list = cli(&["--config", c, "subscribers", "list"], &[]).await;
    let (stdout, _) = out(&list);
    assert!(list.status.success());
    assert!(
        stdout.contains(
            "ada@example.org   llama-4 confirmed (operator)  [1 sent, 0 pending, 0 failed]"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "gone@example.org  llama-4 confirmed (operator)  [0 sent, 0 pending, 1 failed]"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("llama-4 2025-W15 failed after 1 attempt: 550 5.1.1 mailbox unavailable"),
        "{stdout}"
    );
    assert!(stdout.contains("2 subscribers: 2 confirmed, 0 pending, 0 unsubscribed subscriptions; 1 failed deliveries"), "{stdout}");

    let json = cli(&["--config", c, "subscribers", "list", "--json"], &[]).await;
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let gone = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["email"] == "gone@example.org")
        .unwrap();
    assert_eq!(gone["failed"], 1);
    assert_eq!(
        gone["problems"][0]["last_reply"],
        "550 5.1.1 mailbox unavailable"
    );
    assert_eq!(gone["subscriptions"][0]["state"], "confirmed");

    let rm = cli(
        &["--config", c, "subscribers", "remove", "GONE@example.org"],
        &[],
    )
    .await;
    assert!(rm.status.success(), "{:?}", out(&rm));
    let again = cli(
        &["--config", c, "subscribers", "remove", "gone@example.org"],
        &[],
    )
    .await;
    assert_eq!(again.status.code(), Some(2));
    let list = cli(&["--config", c, "subscribers", "list"], &[]).await;
    assert!(!out(&list).0.contains("gone@"));
}

/// Every fault in one run, among subscribers that go through: a 421 greeting, 451 and 452
/// and 421 at RCPT, a drop mid-DATA and a stall are retried later and then arrive; 550 and
/// 554 fail only their own delivery. The stall costs the configured timeout and no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_smtp_fault_affects_only_its_delivery_and_transient_ones_succeed_later() {
    // Arrange: the first connection is greeted with 421; then one fault per recipient.
    let sink = SmtpSink::start().await;
    sink.add_fault(Fault::Greeting {
        reply: "421 4.3.2 Too busy, try later".into(),
        times: Some(1),
    });
    let rcpt = |to: &str, reply: &str, times| Fault::Rcpt {
        to: to.into(),
        reply: reply.into(),
        times,
    };
    sink.add_fault(rcpt(
        "grey@",
        "451 4.7.1 Greylisted, try again later",
        Some(1),
    ));
    sink.add_fault(rcpt("full@", "452 4.2.2 Mailbox full", Some(1)));
    sink.add_fault(rcpt("busy@", "421 4.3.2 Service shutting down", Some(1)));
    sink.add_fault(rcpt("nouser@", "550 5.1.1 No such user", None));
    sink.add_fault(Fault::Data {
        to: "spam@".into(),
        reply: "554 5.7.1 Message rejected as spam".into(),
        times: None,
    });
    sink.add_fault(Fault::DropMidData {
        to: "drop@".into(),
        times: Some(1),
    });
    sink.add_fault(Fault::StallAfterData {
        to: "slow@".into(),
        times: Some(1),
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = mail_toml(sink.port(), "").replace("timeout = \"5s\"", "timeout = \"1s\"");
    let settings = support::settings(dir.path(), &toml);
    let store = settings.open_store().await.unwrap();
    let mail = settings.mail(&|_| None).unwrap().unwrap();
    let env = Env {
        _dir: dir,
        store,
        mail,
    };
    let now = at("2025-04-14T08:00:00Z");
    // Connection-type failures (greeting, drop, stall) are kept apart by good deliveries, so
    // the run does not stop for "connection failures in a row".
    let emails = [
        "first@example.org",
        "grey@example.org",
        "ok1@example.org",
        "drop@example.org",
        "full@example.org",
        "ok2@example.org",
        "slow@example.org",
        "busy@example.org",
        "nouser@example.org",
        "spam@example.org",
        "ok3@example.org",
    ];
    subscribe(&env.store, &emails, now).await;
    let q = mail::queue_digest(&env.store, &env.mail.settings, &parts("W15"), now)
        .await
        .unwrap();

    // Act 1
    let started = std::time::Instant::now();
    let first = drain(&env, now).await;
    let took = started.elapsed();

    // Assert 1: three good ones sent, two permanent failures, six to retry; nothing stopped.
    assert_eq!((first.sent, first.retried, first.failed), (3, 6, 2));
    assert_eq!(first.stopped, None);
    let rows = env.store.deliveries_of_digest(q.digest_id).await.unwrap();
    let row = |e: &str| rows.iter().find(|d| d.email == e).unwrap().clone();
    for (email, state, reply) in [
        (
            "first@example.org",
            "pending",
            "421 4.3.2 Too busy, try later",
        ),
        (
            "grey@example.org",
            "pending",
            "451 4.7.1 Greylisted, try again later",
        ),
        ("full@example.org", "pending", "452 4.2.2 Mailbox full"),
        (
            "busy@example.org",
            "pending",
            "421 4.3.2 Service shutting down",
        ),
        ("slow@example.org", "pending", "timed out"),
        ("nouser@example.org", "failed", "550 5.1.1 No such user"),
        (
            "spam@example.org",
            "failed",
            "554 5.7.1 Message rejected as spam",
        ),
    ] {
        let r = row(email);
        assert_eq!(r.state, state, "{email}");
        assert_eq!(r.last_reply.as_deref(), Some(reply), "{email}");
    }
    assert_eq!(row("drop@example.org").state, "pending");
    // One stall of a 1 s timeout: the run waits about that long for it, not longer.
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");

    // Act 2: later, the transient ones go through; the failed ones are not tried again.
    let second = drain(&env, now + chrono::Duration::minutes(5)).await;

    // Assert 2
    assert_eq!((second.sent, second.retried, second.failed), (6, 0, 0));
    let rows = env.store.deliveries_of_digest(q.digest_id).await.unwrap();
    let got = sink.received();
    for d in &rows {
        let copies = got
            .iter()
            .filter(|r| r.rcpt_to == [d.email.clone()])
            .count();
        match d.email.as_str() {
            "nouser@example.org" | "spam@example.org" => {
                assert_eq!(d.state, "failed");
                assert_eq!(copies, 0, "{}", d.email);
            }
            // The stalled copy arrived before the timeout, and again on the retry.
            "slow@example.org" => assert_eq!((d.state.as_str(), copies), ("sent", 2)),
            e => assert_eq!((d.state.as_str(), copies), ("sent", 1), "{e}"),
        }
    }
    eprintln!(
        "smtp faults: 11 subscribers, first run {took:?} (sent 3, retry 6, failed 2), \
         second run sent 6"
    );
}
