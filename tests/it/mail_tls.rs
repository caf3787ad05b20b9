//! `tls = "starttls"` against a real SMTP server on 127.0.0.1, with a certificate made in the
//! test: STARTTLS is required (a server that does not offer it gets no message and no
//! password), and a certificate Storyline does not trust stops the run without failing any
//! subscriber, however many runs it lasts. The same server and certificate, trusted through
//! `SSL_CERT_FILE`, take the message over TLS: the refusals are about trust, not a broken
//! server.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use storyline::mail::{self, Mail};
use storyline::store::NewDigest;
use storyline::store::Store;
use storyline::value::clock::Clock;
use support::at;
use support::smtp_sink::SmtpSink;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_util::sync::CancellationToken;

const SECRET: &str = "test-secret-test-secret-test-secret-0123";
const PASSWORD: &str = "starttls-password-never-in-the-clear";

/// A test CA (PEM) and a server config whose certificate for 127.0.0.1 it signed.
fn certificate() -> (String, Arc<ServerConfig>) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Storyline test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    (ca.pem(), Arc::new(config))
}

fn config_text(dir: &std::path::Path, port: u16) -> String {
    format!(
        "database = \"{db}\"\n\
         [web]\nbase_url = \"http://127.0.0.1:8080/\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"starttls\"\ntimeout = \"5s\"\n\
         username = \"storyline\"\npassword_env = \"SMTP_PW\"\n\
         from = \"Storyline <digest@storyline.test>\"\n\
         [mail]\nsecret = \"{SECRET}\"\nrate_per_second = 1000\nmax_attempts = 3\n\
         [[story]]\nid = \"llama-4\"\ntitle = \"Meta's Llama 4 release\"\n",
        db = dir.join("t.db").display()
    )
}

struct Env {
    dir: tempfile::TempDir,
    store: Store,
    mail: Mail,
    digest_id: i64,
}

/// Three confirmed subscribers and one week queued for them.
async fn queued(sink: &SmtpSink, now: DateTime<Utc>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let settings = storyline::app::Settings::parse(
        &config_text(dir.path(), sink.port()),
        storyline::config::Origin::File("test.toml".into()),
    )
    .unwrap();
    let store = settings.open_store().await.unwrap();
    let env = |k: &str| (k == "SMTP_PW").then(|| PASSWORD.to_string());
    let mail = settings.mail(&env).unwrap().unwrap();
    for e in ["a@example.org", "b@example.org", "c@example.org"] {
        store
            .add_confirmed_subscriber(e, &["llama-4".to_string()], now)
            .await
            .unwrap();
    }
    let parts = NewDigest {
        story_id: "llama-4",
        week: "2025-W15".parse().unwrap(),
        subject: "Llama 4 this week",
        text: "Llama 4 this week\n",
        html: "<html><body><p>Llama 4 this week</p></body></html>",
        chart_png: None,
    };
    let q = mail::queue_digest(&store, &mail.settings, &parts, now)
        .await
        .unwrap();
    Env {
        dir,
        store,
        mail,
        digest_id: q.digest_id,
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
    .unwrap()
}

/// The sink's (completed, failed) TLS handshakes once it has seen `n` in all (the server
/// learns of a failed handshake a moment after the client gives up), or after 5 s.
async fn handshakes(sink: &SmtpSink, n: usize) -> (usize, usize) {
    for _ in 0..500 {
        let (ok, failed) = sink.tls_handshakes();
        if ok + failed >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    sink.tls_handshakes()
}

async fn states(env: &Env) -> Vec<String> {
    let rows = env.store.deliveries_of_digest(env.digest_id).await.unwrap();
    rows.into_iter().map(|d| d.state).collect()
}

/// A server that does not offer STARTTLS gets no message and no login: the run stops and
/// every delivery stays pending.
#[tokio::test]
async fn starttls_is_required_a_server_without_it_gets_nothing() {
    let sink = SmtpSink::start().await;
    sink.require_auth("storyline", PASSWORD);
    let now = at("2025-04-14T08:00:00Z");
    let env = queued(&sink, now).await;

    let r = drain(&env, now).await;

    assert_eq!((r.sent, r.failed), (0, 0), "{r:?}");
    let why = r.stopped.clone().unwrap_or_default();
    assert!(why.contains("STARTTLS"), "{r:?}");
    assert!(
        sink.received().is_empty(),
        "a message went out in the clear"
    );
    assert_eq!(
        sink.auth_attempts(),
        0,
        "the password went out in the clear"
    );
    assert_eq!(sink.connections(), 1, "one try, then the run stopped");
    assert_eq!(states(&env).await, ["pending"; 3]);
}

/// A certificate from an unknown issuer: the handshake fails, nothing is sent, nobody logs
/// in, the run stops, and nobody is failed: not on the first run, and not after twelve
/// runs five hours apart (more than `max_attempts` = 3 tries of every delivery).
#[tokio::test]
async fn an_untrusted_certificate_stops_every_run_without_failing_anyone() {
    let sink = SmtpSink::start().await;
    sink.require_auth("storyline", PASSWORD);
    let (_ca, tls) = certificate();
    sink.offer_starttls(tls);
    let start = at("2025-04-14T08:00:00Z");
    let env = queued(&sink, start).await;

    let first = drain(&env, start).await;
    let why = first.stopped.clone().unwrap_or_default();
    assert!(why.to_lowercase().contains("certificate"), "{first:?}");
    assert_eq!((first.sent, first.failed), (0, 0), "{first:?}");
    assert_eq!(handshakes(&sink, 1).await, (0, 1), "the handshake failed");

    for run in 1..12 {
        let r = drain(&env, start + Duration::hours(5 * run)).await;
        assert_eq!((r.sent, r.failed), (0, 0), "run {run}: {r:?}");
        assert!(r.stopped.is_some(), "run {run}: {r:?}");
    }

    assert!(sink.received().is_empty());
    assert_eq!(sink.auth_attempts(), 0);
    assert_eq!(handshakes(&sink, 12).await, (0, 12));
    assert_eq!(states(&env).await, ["pending"; 3]);
}

/// The positive control: the same kind of server and certificate, with the test CA trusted
/// through `SSL_CERT_FILE` (read by the real binary's certificate verifier), take the
/// message over TLS after a login; without it, `mail test` fails with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_certificate_carries_the_mail_over_tls() {
    let sink = SmtpSink::start().await;
    sink.require_auth("storyline", PASSWORD);
    let (ca, tls) = certificate();
    sink.offer_starttls(tls);
    let env = queued(&sink, at("2025-04-14T08:00:00Z")).await;
    let dir = env.dir.path().to_path_buf();
    let config = dir.join("storyline.toml");
    std::fs::write(&config, config_text(&dir, sink.port())).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let run = |trust: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_storyline"));
        cmd.arg("--config")
            .arg(&config)
            .args(["mail", "test", "--to", "ada@example.org"])
            .env_remove("STORYLINE_CONFIG")
            .env_remove("SSL_CERT_DIR")
            .env("SMTP_PW", PASSWORD);
        if trust {
            cmd.env("SSL_CERT_FILE", &ca_file);
        } else {
            cmd.env_remove("SSL_CERT_FILE");
        }
        cmd
    };

    let output =
        |mut cmd: std::process::Command| tokio::task::spawn_blocking(move || cmd.output().unwrap());

    let untrusted = output(run(false)).await.unwrap();
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert_eq!(untrusted.status.code(), Some(1), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    assert!(sink.received().is_empty());

    let trusted = output(run(true)).await.unwrap();
    let out = String::from_utf8_lossy(&trusted.stdout);
    let err = String::from_utf8_lossy(&trusted.stderr);
    assert!(trusted.status.success(), "{out}{err}");
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "the message came over TLS");
    assert_eq!(got[0].user.as_deref(), Some("storyline"));
    assert_eq!(handshakes(&sink, 2).await, (1, 1));
}
