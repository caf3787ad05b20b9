//! HTTP only: conditional GET, redirects, caps, Retry-After and the SSRF guard.
//!
//! `Fetcher::fetch` returns an outcome and never touches the database; turning outcomes into
//! source state is `refresh`'s job.

pub mod guard;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::StatusCode;
use url::Url;

use crate::config::FetchConfig;
use crate::forum::Forum;
pub use guard::AddressPolicy;

const MAX_REDIRECTS: usize = 5;

/// Validators from an earlier response, sent back as `If-None-Match` / `If-Modified-Since`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// When the server asked us to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    Seconds(u64),
    At(DateTime<Utc>),
}

impl RetryAfter {
    pub fn parse(v: &str) -> Option<RetryAfter> {
        let v = v.trim();
        if let Ok(s) = v.parse::<u64>() {
            return Some(RetryAfter::Seconds(s));
        }
        DateTime::parse_from_rfc2822(v)
            .ok()
            .map(|d| RetryAfter::At(d.with_timezone(&Utc)))
    }

    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            RetryAfter::Seconds(s) => now + chrono::Duration::seconds(s.min(30 * 24 * 3600) as i64),
            RetryAfter::At(t) => t.max(now),
        }
    }
}

/// A successful response with a body.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    /// Where the body came from after redirects.
    pub final_url: Url,
    /// Set when every redirect on the way was permanent (301/308): the source has moved.
    pub moved_to: Option<Url>,
    pub validators: Validators,
    pub status: u16,
}

#[derive(Debug, Clone)]
pub enum FetchOutcome {
    Fetched(Box<Fetched>),
    /// 304: nothing changed since the validators we sent.
    NotModified {
        validators: Validators,
    },
    /// 429 or 503 (and a 403 from a forum that throttles with it): come back later.
    RateLimited {
        status: u16,
        retry_after: Option<RetryAfter>,
    },
    /// 410: the source is gone for good.
    Gone,
}

/// A fetch that failed, in words a user understands.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Refused(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    /// Any other status that is not a success; the code itself, for the fetch record.
    #[error("server answered {}", describe_status(*.0))]
    Status(u16),
    #[error("response larger than the {limit} byte limit")]
    TooLarge { limit: u64 },
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("bad redirect: {0}")]
    BadRedirect(String),
    #[error("connection broke while reading the body: {0}")]
    Body(String),
}

/// The polite HTTP client every source is fetched with.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: AddressPolicy,
    max_body_bytes: u64,
    timeout: Duration,
}

impl Fetcher {
    pub fn new(cfg: &FetchConfig) -> Result<Fetcher, FetchError> {
        let policy = if cfg.allow_private_addresses {
            AddressPolicy::Any
        } else {
            AddressPolicy::PublicOnly
        };
        Fetcher::with_policy(cfg, policy)
    }

    /// A fetcher with an explicit address policy (tests use `LoopbackOnly`).
    pub fn with_policy(cfg: &FetchConfig, policy: AddressPolicy) -> Result<Fetcher, FetchError> {
        Fetcher::with_lookup(cfg, policy, guard::system_lookup())
    }

    /// A fetcher that resolves names with `lookup` (tests answer names themselves, so no test
    /// depends on real DNS); the guard judges every answer as it does the system's.
    pub fn with_lookup(
        cfg: &FetchConfig,
        policy: AddressPolicy,
        lookup: guard::Lookup,
    ) -> Result<Fetcher, FetchError> {
        Fetcher::build(cfg, policy, lookup, None)
    }

    /// As [`Fetcher::with_lookup`], with every connection bound to the network device
    /// `device` (`SO_BINDTODEVICE`). The guard tests bind to `lo` and let the guard judge
    /// off-machine addresses (10.0.0.1, 169.254.169.254) for real: should it let one through,
    /// the connection attempt stays on the loopback device and fails there, so no packet
    /// leaves the machine.
    #[cfg(target_os = "linux")]
    pub fn on_device(
        cfg: &FetchConfig,
        policy: AddressPolicy,
        lookup: guard::Lookup,
        device: &str,
    ) -> Result<Fetcher, FetchError> {
        Fetcher::build(cfg, policy, lookup, Some(device))
    }

    fn build(
        cfg: &FetchConfig,
        policy: AddressPolicy,
        lookup: guard::Lookup,
        device: Option<&str>,
    ) -> Result<Fetcher, FetchError> {
        // reqwest is built without a bundled crypto provider so that one backend (ring) serves
        // both HTTP and SMTP; it must be installed before the first client is built.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment (HTTP_PROXY, ALL_PROXY, ...) would resolve and
            // connect on our behalf, out of the guard's sight: no proxies.
            .no_proxy()
            .dns_resolver(Arc::new(guard::GuardedResolver::with_lookup(
                policy, lookup,
            )))
            .pool_max_idle_per_host(cfg.per_host_concurrency.max(1));
        #[cfg(target_os = "linux")]
        let client = match device {
            Some(device) => client.interface(device),
            None => client,
        };
        #[cfg(not(target_os = "linux"))]
        let _ = device;
        let client = client
            .build()
            .map_err(|e| FetchError::Connect(format!("cannot build the HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            policy,
            max_body_bytes: cfg.max_body_bytes,
            timeout: cfg.timeout,
        })
    }

    /// Which addresses this fetcher may reach (alerts go out under the same guard).
    pub fn policy(&self) -> AddressPolicy {
        self.policy
    }

    /// GET `url` with conditional headers; follow at most 5 redirects, each hop guarded.
    pub async fn fetch(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let mut current = url.clone();
        let mut all_permanent = true;
        let mut redirected = false;
        for _ in 0..=MAX_REDIRECTS {
            check_url(self.policy, &current)?;
            let resp = self
                .client
                .get(current.clone())
                .headers(conditional_headers(validators))
                .send()
                .await
                .map_err(|e| self.describe(e))?;
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let next = redirect_target(&current, resp.headers())?;
                all_permanent &= matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
                );
                redirected = true;
                current = next;
                continue;
            }
            return self
                .finish(resp, current, (redirected && all_permanent).then_some(()))
                .await;
        }
        Err(FetchError::TooManyRedirects)
    }

    async fn finish(
        &self,
        mut resp: reqwest::Response,
        final_url: Url,
        moved: Option<()>,
    ) -> Result<FetchOutcome, FetchError> {
        let status = resp.status();
        let headers = resp.headers().clone();
        let validators = Validators {
            etag: header_str(&headers, header::ETAG),
            last_modified: header_str(&headers, header::LAST_MODIFIED),
        };
        match status {
            StatusCode::NOT_MODIFIED => return Ok(FetchOutcome::NotModified { validators }),
            StatusCode::GONE => return Ok(FetchOutcome::Gone),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                return Ok(FetchOutcome::RateLimited {
                    status: status.as_u16(),
                    retry_after: header_str(&headers, header::RETRY_AFTER)
                        .and_then(|v| RetryAfter::parse(&v)),
                })
            }
            // Some forums (Reddit) answer clients they want to slow down with 403.
            StatusCode::FORBIDDEN
                if Forum::from_url(&final_url).is_some_and(Forum::throttles_with_403) =>
            {
                return Ok(FetchOutcome::RateLimited {
                    status: 403,
                    retry_after: header_str(&headers, header::RETRY_AFTER)
                        .and_then(|v| RetryAfter::parse(&v)),
                })
            }
            s if !s.is_success() => return Err(FetchError::Status(s.as_u16())),
            _ => {}
        }
        if let Some(len) = resp.content_length() {
            if len > self.max_body_bytes {
                return Err(FetchError::TooLarge {
                    limit: self.max_body_bytes,
                });
            }
        }
        // The cap applies to the decoded bytes as they stream in, so a gzip bomb stops at
        // the limit instead of filling memory.
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > self.max_body_bytes {
                        return Err(FetchError::TooLarge {
                            limit: self.max_body_bytes,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Err(FetchError::Timeout(self.timeout)),
                Err(e) => return Err(FetchError::Body(root_cause(&e))),
            }
        }
        Ok(FetchOutcome::Fetched(Box::new(Fetched {
            body,
            content_type: header_str(&headers, header::CONTENT_TYPE),
            moved_to: moved.map(|()| final_url.clone()),
            final_url,
            validators,
            status: status.as_u16(),
        })))
    }

    fn describe(&self, e: reqwest::Error) -> FetchError {
        let cause = root_cause(&e);
        if cause.contains("refused to connect to") {
            return FetchError::Refused(cause);
        }
        if e.is_timeout() {
            FetchError::Timeout(self.timeout)
        } else {
            FetchError::Connect(cause)
        }
    }
}

/// The check made before the first request and every redirect hop: http(s) only, and a host
/// written as an address (`http://10.0.0.1/`, `http://[::1]/`, `http://2130706433/`) must be
/// one the policy allows. Names are judged later, on every DNS answer, by the resolver.
pub fn check_url(policy: AddressPolicy, url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" => {}
        s => {
            return Err(FetchError::Refused(format!(
                "refused {s}: URL (http and https only)"
            )))
        }
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(FetchError::Refused("URL has no host".into())),
    };
    if let Some(ip) = ip {
        policy.check(ip).map_err(FetchError::Refused)?;
    }
    Ok(())
}

fn conditional_headers(v: &Validators) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(etag) = v
        .etag
        .as_deref()
        .and_then(|e| HeaderValue::from_str(e).ok())
    {
        h.insert(header::IF_NONE_MATCH, etag);
    }
    if let Some(lm) = v
        .last_modified
        .as_deref()
        .and_then(|e| HeaderValue::from_str(e).ok())
    {
        h.insert(header::IF_MODIFIED_SINCE, lm);
    }
    h
}

fn redirect_target(from: &Url, headers: &HeaderMap) -> Result<Url, FetchError> {
    let loc = header_str(headers, header::LOCATION)
        .ok_or_else(|| FetchError::BadRedirect("redirect without a Location header".into()))?;
    from.join(&loc)
        .map_err(|e| FetchError::BadRedirect(format!("{loc:?}: {e}")))
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// "404 Not Found"; the bare code when it has no standard reason.
fn describe_status(code: u16) -> String {
    match StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(r) => format!("{code} {r}"),
        None => code.to_string(),
    }
}

/// The innermost error message: reqwest's own top line ("error sending request") says little.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests;
