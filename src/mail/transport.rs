//! The SMTP side: one connection to the configured server, opened when needed and reused
//! while it answers; the sending pace shared by every message (digests and confirmations
//! alike); and what a failure means for a delivery: try again later, give up on that address,
//! or stop the whole run.
//!
//! lettre's async transport bounds only the TCP connect with its timeout, and its pool takes
//! back a connection abandoned mid-command, whose late reply would then be read as the next
//! message's. So this module drives lettre's `AsyncSmtpConnection` itself: every step has a
//! deadline, and a connection that failed or timed out is closed, never reused.

use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use lettre::Message;
use tokio::sync::Mutex;
use tokio::time::{timeout, Instant};

use crate::config::{SmtpConfig, SmtpTls};
use crate::value::secret::Secret;

/// Reply codes that mean "this server will not take mail from us" rather than "not this
/// recipient": authentication required, too weak, invalid or missing encryption (RFC 4954).
const SETUP_CODES: [u16; 4] = [530, 534, 535, 538];
/// Mechanisms offered, in lettre's order of preference.
const MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

/// The transport could not be built from the config.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("smtp: cannot set up TLS for {host}: {source}")]
    Tls {
        host: String,
        source: lettre::transport::smtp::Error,
    },
    #[error("mail.rate_per_second: {0} is not a usable rate")]
    Rate(f64),
}

/// The server's answer to a message it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

/// What a failed send means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A 4xx reply: try this delivery again later.
    Transient,
    /// A 5xx reply about this message or recipient: give up on this delivery.
    Permanent,
    /// No answer in time, or no connection: try again later; the server may be down.
    Connection,
    /// The server refuses us as a client (authentication, TLS, a 5xx greeting): nothing will
    /// get through until the operator fixes the config, so stop the run.
    Setup,
}

/// A send that did not end with the server taking the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reply}")]
pub struct SendFailure {
    pub kind: FailureKind,
    /// The server's reply ("550 5.1.1 no such user"), or what went wrong on the way.
    pub reply: String,
}

/// Spaces messages out to at most `rate` per second, across all callers.
#[derive(Debug)]
struct Pace {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pace {
    async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = Instant::now();
        if let Some(at) = *next {
            if at > now {
                tokio::time::sleep_until(at).await;
            }
        }
        *next = Some(next.map_or(now, |at| at.max(now)) + self.interval);
    }
}

/// How to reach the server.
struct Endpoint {
    host: String,
    port: u16,
    tls: SmtpTls,
    tls_params: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
}

struct Inner {
    endpoint: Endpoint,
    /// The open connection, if any; the lock also makes sends take turns.
    conn: Mutex<Option<AsyncSmtpConnection>>,
    pace: Pace,
}

/// Sends mail through the configured SMTP server; cheap to clone (connection and pace are
/// shared, so every clone keeps to the same rate).
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server())
            .field("interval", &self.inner.pace.interval)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Build the mailer. Nothing connects until the first send.
    pub fn new(
        smtp: &SmtpConfig,
        password: Option<Secret>,
        rate_per_second: f64,
    ) -> Result<Mailer, TransportError> {
        let interval = Duration::try_from_secs_f64(1.0 / rate_per_second)
            .ok()
            .filter(|i| !i.is_zero())
            .ok_or(TransportError::Rate(rate_per_second))?;
        let tls_params = match smtp.tls {
            SmtpTls::None => None,
            SmtpTls::Starttls | SmtpTls::Tls => {
                Some(TlsParameters::new(smtp.host.clone()).map_err(|source| {
                    TransportError::Tls {
                        host: smtp.host.clone(),
                        source,
                    }
                })?)
            }
        };
        let credentials = match (&smtp.username, password) {
            (Some(user), Some(pw)) => Some(Credentials::new(user.clone(), pw.expose().to_string())),
            _ => None,
        };
        Ok(Mailer {
            inner: Arc::new(Inner {
                endpoint: Endpoint {
                    host: smtp.host.clone(),
                    port: smtp.port(),
                    tls: smtp.tls,
                    tls_params,
                    credentials,
                    hello: ClientId::default(),
                    timeout: smtp.timeout,
                },
                conn: Mutex::new(None),
                pace: Pace {
                    interval,
                    next: Mutex::new(None),
                },
            }),
        })
    }

    /// The configured bound on each step of a send (`[smtp] timeout`).
    pub fn timeout(&self) -> Duration {
        self.inner.endpoint.timeout
    }

    /// `host:port`, for messages.
    pub fn server(&self) -> String {
        format!("{}:{}", self.inner.endpoint.host, self.inner.endpoint.port)
    }

    /// Send one message, waiting first for its turn under the configured rate.
    pub async fn send(&self, message: &Message) -> Result<Reply, SendFailure> {
        self.inner.pace.wait().await;
        let ep = &self.inner.endpoint;
        let mut slot = self.inner.conn.lock().await;
        // A server closes idle connections; check before reusing one.
        if let Some(conn) = slot.as_mut() {
            if !timeout(ep.timeout, conn.test_connected())
                .await
                .unwrap_or(false)
            {
                *slot = None;
            }
        }
        let conn = match slot.take() {
            Some(c) => slot.insert(c),
            None => slot.insert(connect(ep).await?),
        };
        let bytes = message.formatted();
        match timeout(ep.timeout, conn.send(message.envelope(), &bytes)).await {
            Ok(Ok(response)) => Ok(reply_of(&response)),
            Ok(Err(e)) => {
                // lettre has already sent QUIT after an error reply; close either way.
                *slot = None;
                Err(classify(&e))
            }
            Err(_) => {
                // Mid-command: whatever the server says next belongs to this message.
                *slot = None;
                Err(SendFailure {
                    kind: FailureKind::Connection,
                    reply: "timed out".into(),
                })
            }
        }
    }
}

/// Connect, greet, upgrade to TLS as configured, and authenticate, all within the timeout.
async fn connect(ep: &Endpoint) -> Result<AsyncSmtpConnection, SendFailure> {
    let open = async {
        let wrapper = match ep.tls {
            SmtpTls::Tls => ep.tls_params.clone(),
            _ => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (ep.host.as_str(), ep.port),
            Some(ep.timeout),
            &ep.hello,
            wrapper,
            None,
        )
        .await?;
        if let (SmtpTls::Starttls, Some(params)) = (ep.tls, &ep.tls_params) {
            conn.starttls(params.clone(), &ep.hello).await?;
        }
        if let Some(credentials) = &ep.credentials {
            conn.auth(&MECHANISMS, credentials).await?;
        }
        Ok::<_, lettre::transport::smtp::Error>(conn)
    };
    match timeout(ep.timeout, open).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(classify_connect(&e)),
        Err(_) => Err(SendFailure {
            kind: FailureKind::Connection,
            reply: format!("no answer from {}:{} in time", ep.host, ep.port),
        }),
    }
}

/// Before any message is involved, a refusal is about us, not a recipient: a 4xx or a
/// network problem may pass, anything else needs the operator.
fn classify_connect(e: &lettre::transport::smtp::Error) -> SendFailure {
    let f = classify(e);
    let kind = match f.kind {
        _ if is_tls_failure(e) => FailureKind::Setup,
        FailureKind::Transient | FailureKind::Connection => FailureKind::Connection,
        FailureKind::Permanent | FailureKind::Setup => FailureKind::Setup,
    };
    SendFailure { kind, ..f }
}

/// A TLS handshake that failed: a certificate we do not trust or that names another host, no
/// protocol in common. lettre reports these as connection errors, but unlike a network
/// problem they will not pass on the next try: the operator has to act.
fn is_tls_failure(e: &lettre::transport::smtp::Error) -> bool {
    if e.is_tls() {
        return true;
    }
    let mut cause = std::error::Error::source(e);
    while let Some(err) = cause {
        // An io::Error's `source` skips the error it wraps; look at that one too.
        let wrapped = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref);
        if err.is::<rustls::Error>() || wrapped.is_some_and(|w| w.is::<rustls::Error>()) {
            return true;
        }
        cause = err.source();
    }
    false
}

fn reply_of(r: &Response) -> Reply {
    Reply {
        code: u16::from(r.code()),
        text: one_line(&r.message().collect::<Vec<_>>().join(" ")),
    }
}

/// Map lettre's error to what the outbox should do about it, keeping the server's words.
pub fn classify(e: &lettre::transport::smtp::Error) -> SendFailure {
    let detail = std::error::Error::source(e)
        .map(|s| one_line(&s.to_string()))
        .unwrap_or_default();
    if let Some(code) = e.status() {
        let code = u16::from(code);
        let reply = format!("{code} {detail}").trim_end().to_string();
        let kind = if SETUP_CODES.contains(&code) {
            FailureKind::Setup
        } else if e.is_permanent() {
            FailureKind::Permanent
        } else {
            FailureKind::Transient
        };
        return SendFailure { kind, reply };
    }
    let kind = if e.is_tls() {
        FailureKind::Setup
    } else if e.is_client() {
        // lettre refused before sending (e.g. a non-ASCII address to a server without
        // SMTPUTF8): it will refuse again, for this recipient only.
        FailureKind::Permanent
    } else {
        FailureKind::Connection
    };
    let what = if e.is_timeout() {
        "timed out".to_string()
    } else {
        one_line(&e.to_string())
    };
    SendFailure { kind, reply: what }
}

/// Server text goes into the database and the terminal: one line, bounded.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(500) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pace_spaces_messages_by_the_rate() {
        let pace = Pace {
            interval: Duration::from_millis(60),
            next: Mutex::new(None),
        };
        let start = Instant::now();
        for _ in 0..4 {
            pace.wait().await;
        }
        // The first goes at once, then one every 60 ms.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(180), "{took:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
    }

    #[test]
    fn unusable_rates_are_refused_not_panicked_on() {
        let c = crate::config::Config::parse(
            "[smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\nfrom = \"a@example.org\"\n",
            crate::config::Origin::Preset,
        )
        .expect("valid");
        let smtp = c.smtp.expect("smtp");
        for rate in [0.0, -1.0, 1e-300, f64::NAN, f64::INFINITY] {
            assert!(Mailer::new(&smtp, None, rate).is_err(), "{rate}");
        }
        assert!(Mailer::new(&smtp, None, 5.0).is_ok());
    }

    #[test]
    fn server_text_is_flattened_and_bounded() {
        assert_eq!(one_line("a\r\nb\tc  d"), "a b c d");
        assert_eq!(one_line(&"x".repeat(900)).chars().count(), 501);
    }
}
