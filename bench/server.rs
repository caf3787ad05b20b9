//! The feed server: every feed of the corpus at `/feed/{i}`, with `ETag` and `Last-Modified`,
//! answering `If-None-Match` / `If-Modified-Since` with 304. Bodies are generated once per
//! version and served from memory, so the server does no work per request beyond a lookup and
//! a header compare. It counts what it is asked, for the table's "requests" columns.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Request, Response, StatusCode};
use axum::serve::ListenerExt as _;
use chrono::{DateTime, Utc};

use crate::corpus;

/// One servable version of one feed.
struct Served {
    body: Bytes,
    etag: String,
    last_modified: String,
    modified: DateTime<Utc>,
}

/// What the server was asked since the last [`FeedServer::take_counts`].
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Counts {
    pub requests: u64,
    /// Requests carrying a non-empty `If-None-Match` or `If-Modified-Since`.
    pub conditional: u64,
    pub not_modified: u64,
    pub body_bytes: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    conditional: AtomicU64,
    not_modified: AtomicU64,
    body_bytes: AtomicU64,
}

struct State {
    feeds: RwLock<Arc<Vec<Served>>>,
    counters: Counters,
}

pub struct FeedServer {
    pub addr: SocketAddr,
    n: usize,
    state: Arc<State>,
    /// Versions already generated, by number of added items (resetting to 0 is free).
    cache: Mutex<HashMap<usize, Arc<Vec<Served>>>>,
}

impl FeedServer {
    /// Bind 127.0.0.1:0 on `rt` and serve `n` feeds in their first version.
    pub fn start(rt: &tokio::runtime::Runtime, n: usize) -> std::io::Result<FeedServer> {
        let state = Arc::new(State {
            feeds: RwLock::new(Arc::new(Vec::new())),
            counters: Counters::default(),
        });
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let st = state.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let st = st.clone();
            async move { respond(&st, &req) }
        });
        // Without TCP_NODELAY (axum 0.8 leaves it off) the last segment of a response can wait
        // for the client's delayed ACK: tens of milliseconds per request.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let server = FeedServer {
            addr,
            n,
            state,
            cache: Mutex::new(HashMap::new()),
        };
        server.publish(0);
        Ok(server)
    }

    pub fn url(&self, i: usize) -> String {
        format!("http://{}/feed/{i}", self.addr)
    }

    /// Serve every feed as it is after `added` new items (0: the first version).
    pub fn publish(&self, added: usize) {
        let mut cache = self.cache.lock().expect("cache lock");
        let n = self.n;
        let version = cache
            .entry(added)
            .or_insert_with(|| Arc::new(generate(n, added)))
            .clone();
        *self.state.feeds.write().expect("feeds lock") = version;
    }

    /// The counts since the last call, and zero them.
    pub fn take_counts(&self) -> Counts {
        let c = &self.state.counters;
        Counts {
            requests: c.requests.swap(0, Ordering::Relaxed),
            conditional: c.conditional.swap(0, Ordering::Relaxed),
            not_modified: c.not_modified.swap(0, Ordering::Relaxed),
            body_bytes: c.body_bytes.swap(0, Ordering::Relaxed),
        }
    }
}

/// Generate one version of all `n` feeds on every core (outside any measurement).
fn generate(n: usize, added: usize) -> Vec<Served> {
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                s.spawn(move || {
                    (start..(start + chunk).min(n))
                        .map(|i| {
                            let v = corpus::feed(i, added);
                            Served {
                                body: Bytes::from(v.body),
                                etag: v.etag,
                                last_modified: v
                                    .modified
                                    .format("%a, %d %b %Y %H:%M:%S GMT")
                                    .to_string(),
                                modified: v.modified,
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().expect("generator thread"))
            .collect()
    })
}

fn respond(st: &State, req: &Request<Body>) -> Response<Body> {
    let c = &st.counters;
    c.requests.fetch_add(1, Ordering::Relaxed);
    let headers = req.headers();
    let present = |name| headers.get(name).is_some_and(|v| !v.is_empty());
    if present(header::IF_NONE_MATCH) || present(header::IF_MODIFIED_SINCE) {
        c.conditional.fetch_add(1, Ordering::Relaxed);
    }
    let feeds = st.feeds.read().expect("feeds lock").clone();
    let feed = req
        .uri()
        .path()
        .strip_prefix("/feed/")
        .and_then(|p| p.parse::<usize>().ok())
        .and_then(|i| feeds.get(i));
    let Some(feed) = feed else {
        return plain(StatusCode::NOT_FOUND, "no such feed");
    };
    let builder = Response::builder()
        .header(header::ETAG, &feed.etag)
        .header(header::LAST_MODIFIED, &feed.last_modified)
        .header(header::CACHE_CONTROL, "max-age=0");
    if not_modified(headers, feed) {
        c.not_modified.fetch_add(1, Ordering::Relaxed);
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("response");
    }
    c.body_bytes
        .fetch_add(feed.body.len() as u64, Ordering::Relaxed);
    builder
        .header(header::CONTENT_TYPE, "application/xml; charset=utf-8")
        .body(Body::from(feed.body.clone()))
        .expect("response")
}

/// RFC 9110 §13.2.2: `If-None-Match` decides when present; else `If-Modified-Since`.
fn not_modified(headers: &HeaderMap, feed: &Served) -> bool {
    if let Some(inm) = headers.get(header::IF_NONE_MATCH).filter(|v| !v.is_empty()) {
        let inm = inm.to_str().unwrap_or("");
        return inm.trim() == "*"
            || inm
                .split(',')
                .any(|t| t.trim().trim_start_matches("W/") == feed.etag);
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        .is_some_and(|since| since >= feed.modified)
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(text))
        .expect("response")
}
