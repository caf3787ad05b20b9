//! The SMTP side: lettre's pooled async transport built from `[smtp]`, the sending pace shared
//! by every message (digests and confirmations alike), and what a failure means for a
//! delivery: try again later, give up on that address, or stop the whole run.

use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::response::Response;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::{SmtpConfig, SmtpTls};
use crate::secret::Secret;

/// Reply codes that mean "this server will not take mail from us" rather than "not this
/// recipient": authentication required, too weak, invalid or missing encryption (RFC 4954).
const SETUP_CODES: [u16; 4] = [530, 534, 535, 538];

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
    #[error("the mailer must be created inside the async runtime")]
    NoRuntime,
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
    /// No answer in time, or the connection broke: try again later; the server may be down.
    Connection,
    /// The server refuses us as a client (authentication, TLS): nothing will get through
    /// until the operator fixes the config, so stop the run.
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

/// Sends mail through the configured SMTP server; cheap to clone (the connection pool and the
/// pace are shared).
#[derive(Clone)]
pub struct Mailer {
    transport: Arc<Pooled>,
    pace: Arc<Pace>,
    server: String,
}

/// lettre's pool spawns tasks when built and when dropped; dropping it inside the runtime it
/// was built in means a last `Mailer` dropped anywhere (a test's end, a plain thread) is safe.
struct Pooled {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    runtime: tokio::runtime::Handle,
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let _inside = self.runtime.enter();
        self.transport.take();
    }
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("interval", &self.pace.interval)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Build the transport. Nothing connects until the first send.
    pub fn new(
        smtp: &SmtpConfig,
        password: Option<Secret>,
        rate_per_second: f64,
    ) -> Result<Mailer, TransportError> {
        if !(rate_per_second > 0.0 && rate_per_second.is_finite()) {
            return Err(TransportError::Rate(rate_per_second));
        }
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| TransportError::NoRuntime)?;
        let tls_params = || {
            TlsParameters::new(smtp.host.clone()).map_err(|source| TransportError::Tls {
                host: smtp.host.clone(),
                source,
            })
        };
        let tls = match smtp.tls {
            SmtpTls::Starttls => Tls::Required(tls_params()?),
            SmtpTls::Tls => Tls::Wrapper(tls_params()?),
            SmtpTls::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            .port(smtp.port())
            .tls(tls)
            .timeout(Some(smtp.timeout));
        if let (Some(user), Some(pw)) = (&smtp.username, password) {
            builder = builder.credentials(Credentials::new(user.clone(), pw.expose().to_string()));
        }
        let transport = {
            let _inside = runtime.enter();
            builder.build()
        };
        Ok(Mailer {
            transport: Arc::new(Pooled {
                transport: Some(transport),
                runtime,
            }),
            pace: Arc::new(Pace {
                interval: Duration::from_secs_f64(1.0 / rate_per_second),
                next: Mutex::new(None),
            }),
            server: format!("{}:{}", smtp.host, smtp.port()),
        })
    }

    /// `host:port`, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Send one message, waiting first for its turn under the configured rate.
    pub async fn send(&self, message: &Message) -> Result<Reply, SendFailure> {
        self.pace.wait().await;
        let Some(transport) = &self.transport.transport else {
            return Err(SendFailure {
                kind: FailureKind::Setup,
                reply: "the transport has been shut down".into(),
            });
        };
        match transport.send(message.clone()).await {
            Ok(response) => Ok(reply_of(&response)),
            Err(e) => Err(classify(&e)),
        }
    }
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
    fn server_text_is_flattened_and_bounded() {
        assert_eq!(one_line("a\r\nb\tc  d"), "a b c d");
        assert_eq!(one_line(&"x".repeat(900)).chars().count(), 501);
    }
}
