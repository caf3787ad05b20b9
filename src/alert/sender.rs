//! Sending one alert request with the project's reqwest, behind the same SSRF guard as
//! fetches, and saying what the answer means: sent, try again later, or give up.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::StatusCode;

use super::request::{Method, Request};
use crate::config::FetchConfig;
use crate::fetch::guard::{self, AddressPolicy, GuardedResolver};
use crate::fetch::{check_url, RetryAfter};

/// The most of a reply body kept for `alerts list`.
const MAX_REPLY_BYTES: usize = 2048;

/// The HTTP client alerts go out with. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: AddressPolicy,
    timeout: Duration,
}

/// The receiver took the alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub status: u16,
    pub reply: String,
}

/// The alert did not get through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// True when trying again may work (5xx, 408, 429, timeouts, connection errors).
    pub transient: bool,
    pub status: Option<u16>,
    pub reply: String,
    /// When the receiver asked us to come back (429/503 with `Retry-After`).
    pub retry_after: Option<DateTime<Utc>>,
}

/// The policy `[fetch] allow_private_addresses` asks for.
pub fn policy_of(fetch: &FetchConfig) -> AddressPolicy {
    if fetch.allow_private_addresses {
        AddressPolicy::Any
    } else {
        AddressPolicy::PublicOnly
    }
}

impl Sender {
    /// A client with the fetch settings' user agent and timeouts, no redirects, no proxies,
    /// and every DNS answer judged by `policy`.
    pub fn new(fetch: &FetchConfig, policy: AddressPolicy) -> Result<Sender, String> {
        // As for fetches: one crypto provider (ring) for reqwest and lettre.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(fetch.user_agent.clone())
            .timeout(fetch.timeout)
            .connect_timeout(fetch.connect_timeout)
            // A redirect would send the alert (and its signature) somewhere not configured.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::with_lookup(
                policy,
                guard::system_lookup(),
            )))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Sender {
            client,
            policy,
            timeout: fetch.timeout,
        })
    }

    /// The longest one attempt can take; a claim's lease must outlast it.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Send `req` once.
    pub async fn send(&self, req: &Request, now: DateTime<Utc>) -> Result<Delivered, Failure> {
        check_url(self.policy, &req.url).map_err(|e| permanent(None, e.to_string()))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &req.headers {
            let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                .map_err(|_| permanent(None, format!("bad header name {name}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| permanent(None, format!("header {name} is not valid text")))?;
            headers.insert(name, value);
        }
        let builder = match req.method {
            Method::Post => self.client.post(req.url.clone()),
            Method::Put => self.client.put(req.url.clone()),
        };
        let resp = builder
            .headers(headers)
            .body(req.body.clone())
            .send()
            .await
            .map_err(|e| self.describe(&e))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(RetryAfter::parse)
            .map(|r| r.resolve(now));
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let reply = read_reply(resp).await;
        let said = |s: StatusCode| {
            let head = match s.canonical_reason() {
                Some(r) => format!("HTTP {} {r}", s.as_u16()),
                None => format!("HTTP {}", s.as_u16()),
            };
            if reply.is_empty() {
                head
            } else {
                format!("{head}: {reply}")
            }
        };
        if status.is_success() {
            return Ok(Delivered {
                status: status.as_u16(),
                reply: said(status),
            });
        }
        let transient = status.is_server_error()
            || status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS;
        let mut why = said(status);
        if status.is_redirection() {
            why = format!(
                "{why} (redirected to {}; alerts do not follow redirects: set the alert's url \
                 to the final address)",
                location.as_deref().unwrap_or("nowhere")
            );
        }
        Err(Failure {
            transient,
            status: Some(status.as_u16()),
            reply: why,
            retry_after,
        })
    }

    fn describe(&self, e: &reqwest::Error) -> Failure {
        let cause = root_cause(e);
        if cause.contains("refused to connect to") {
            return permanent(None, cause);
        }
        let reply = if e.is_timeout() {
            format!(
                "timed out after {}",
                humantime::format_duration(self.timeout)
            )
        } else {
            format!("cannot connect: {cause}")
        };
        Failure {
            transient: true,
            status: None,
            reply,
            retry_after: None,
        }
    }
}

fn permanent(status: Option<u16>, reply: String) -> Failure {
    Failure {
        transient: false,
        status,
        reply,
        retry_after: None,
    }
}

/// The start of the reply body, on one line.
async fn read_reply(mut resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < MAX_REPLY_BYTES {
        match resp.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(MAX_REPLY_BYTES);
    let text = String::from_utf8_lossy(&body);
    let one_line = crate::digest::sanitize::collapse_whitespace(&text);
    one_line.chars().take(500).collect()
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
