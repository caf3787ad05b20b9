//! The daemon in-process: it polls due sources, answers /healthz and /metrics, and stops
//! cleanly when asked.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::time::Duration;

use support::feed_server::{FeedServer, Route};
use support::{config, fixture, open};

async fn get(url: &str) -> (u16, String) {
    let resp = reqwest::get(url).await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// Polls on start, reports health and metrics, and shuts down within the grace period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_polls_serves_health_and_metrics_and_stops_cleanly() {
    let feeds = FeedServer::start().await;
    feeds.route(
        "/hn.xml",
        Route::feed(std::fs::read(fixture("real/hnrss_newest_q_AI_4items_trimmed.xml")).unwrap()),
    );
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[daemon]\nshutdown_grace = \"5s\"\ntick = \"1s\"\n[[source]]\nid = \"hn\"\nurl = \"{}\"\n",
        feeds.url("/hn.xml")
    );
    let ctx = open(config(dir.path(), &extra), chrono::Utc::now()).await;
    let store = ctx.store.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(storyline::daemon::run(ctx, listener, async {
        let _ = stop_rx.await;
    }));

    // The listener is bound before the daemon starts, so requests queue rather than fail;
    // health turns green once the scheduler has beaten.
    let mut healthy = false;
    for _ in 0..100 {
        if get(&format!("{base}/healthz")).await.0 == 200 {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(healthy, "healthz never became 200");
    let mut stored = 0;
    for _ in 0..100 {
        stored = store.count_items().await.unwrap();
        if stored == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stored, 4, "the due source was polled");

    let (status, metrics) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    assert!(metrics.contains("storyline_polls_total "), "{metrics}");
    assert!(
        metrics.contains("storyline_items_stored_total{change=\"new\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("storyline_source_last_success_timestamp_seconds{source=\"hn\"}"),
        "{metrics}"
    );

    let started = std::time::Instant::now();
    stop_tx.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(6), daemon)
        .await
        .expect("daemon stops within the grace period")
        .expect("daemon task did not panic");
    assert!(result.is_ok(), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        feeds.hits_on("/hn.xml").len(),
        1,
        "not due again within the test"
    );
}

/// Missed schedule fires collapse into one digest after downtime; a fresh start sends no old
/// week; the same fire is never handled twice.
#[tokio::test]
async fn missed_digest_fires_are_caught_up_once() {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[digest]\nschedule = \"0 8 * * Mon\"\nsend_empty = true\noutput_dir = \"{}\"\n",
        dir.path().join("out").display()
    );
    let config = support::config(dir.path(), &extra);
    let ctx = open(config, support::at("2025-04-07T09:00:00Z")).await;
    let due = |now: &str| {
        let now = support::at(now);
        let ctx = &ctx;
        async move { storyline::weekly::compose_due(ctx, now).await.unwrap() }
    };
    use storyline::weekly::DueOutcome;

    assert_eq!(due("2025-04-07T09:00:00Z").await[0].1, DueOutcome::Started);
    assert_eq!(due("2025-04-10T09:00:00Z").await[0].1, DueOutcome::NotDue);
    // Down for three Mondays: one digest, for the last complete week.
    let after = due("2025-04-28T09:00:00Z").await;
    match &after[0].1 {
        DueOutcome::Composed {
            week, file, quiet, ..
        } => {
            assert_eq!(week.to_string(), "2025-W17");
            assert!(file.exists());
            assert!(*quiet, "nothing was polled");
        }
        other => panic!("expected a digest, got {other:?}"),
    }
    assert_eq!(due("2025-04-28T10:00:00Z").await[0].1, DueOutcome::NotDue);
    let files = std::fs::read_dir(dir.path().join("out")).unwrap().count();
    assert_eq!(files, 1);
    let kept = ctx
        .store
        .digest_of_week("llama-4", "2025-W17")
        .await
        .unwrap();
    assert!(kept.is_some(), "kept for the archive");
}

/// The daemon composes on schedule and mails subscribers through the outbox loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_mails_the_scheduled_digest() {
    let sink = support::smtp_sink::SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[daemon]\nshutdown_grace = \"5s\"\ntick = \"1s\"\n\
         [digest]\nschedule = \"*/2 * * * * *\"\nsend_empty = true\noutput_dir = \"{}\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"Storyline <digest@storyline.test>\"\n\
         [mail]\nsecret = \"test-secret-test-secret-test-secret-0123\"\nrate_per_second = 100\n",
        dir.path().join("out").display(),
        sink.port()
    );
    let ctx = support::with_mail(open(config(dir.path(), &extra), chrono::Utc::now()).await);
    ctx.store
        .add_confirmed_subscriber(
            "ada@example.org",
            &["llama-4".to_string()],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(storyline::daemon::run(ctx, listener, async {
        let _ = stop_rx.await;
    }));

    assert!(
        sink.wait_for(1, Duration::from_secs(10)).await,
        "the digest arrived"
    );
    let mail = sink.received()[0].text();
    assert!(mail.contains("no new developments"), "{mail}");

    // The story page links the stored digest; the archive serves it with its chart.
    let (status, home) = get(&format!("{base}/")).await;
    assert_eq!(status, 200);
    let href = home
        .split("href=\"/digests/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a link to the latest digest");
    let (status, page) = get(&format!("{base}/digests/{href}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("/digests/{href}/chart.png")),
        "chart served from here"
    );
    let chart = reqwest::get(format!("{base}/digests/{href}/chart.png"))
        .await
        .unwrap();
    assert_eq!(chart.headers()["content-type"], "image/png");
    assert_eq!(
        get(&format!("{base}/digests/llama-4/not-a-week")).await.0,
        404
    );
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(6), daemon)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(sink.received().len(), 1, "one digest, one copy");
}
