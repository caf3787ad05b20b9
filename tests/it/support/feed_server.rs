//! A loopback HTTP server whose routes tests set up: static bodies with validators, chosen
//! status codes and headers, redirects. It records every request it sees.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, Response, StatusCode};

/// What the server does for one path.
#[derive(Clone, Debug)]
pub enum Route {
    /// A body with validators; answers 304 when the client's validators match.
    Feed {
        /// `Bytes`, so answering a 50 MB body does not copy it (the hostile tests measure the
        /// memory of the process the server shares with the client).
        body: Bytes,
        content_type: &'static str,
        etag: Option<String>,
    },
    /// A fixed status with headers and body.
    Status {
        code: u16,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    },
}

impl Route {
    pub fn feed(body: impl Into<Vec<u8>>) -> Route {
        let body: Vec<u8> = body.into();
        let etag = format!("\"{:x}\"", fxhash(&body));
        Route::Feed {
            body: Bytes::from(body),
            content_type: "application/xml",
            etag: Some(etag),
        }
    }

    pub fn status(code: u16) -> Route {
        Route::Status {
            code,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Route {
        if let Route::Status { headers, .. } = &mut self {
            headers.push((name, value.into()));
        }
        self
    }

    pub fn redirect(code: u16, to: &str) -> Route {
        Route::status(code).with_header("location", to)
    }
}

fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, x| {
        (h ^ *x as u64).wrapping_mul(0x100000001b3)
    })
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Hit {
    pub path: String,
    pub if_none_match: Option<String>,
    pub user_agent: Option<String>,
    pub status: u16,
}

#[derive(Clone, Default)]
struct State {
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Least time between two answers, and when the next may go (crash trials spread a
    /// round's answers out to kill it in the middle).
    spacing: Arc<Mutex<(std::time::Duration, Option<tokio::time::Instant>)>>,
}

pub struct FeedServer {
    pub addr: SocketAddr,
    state: State,
    _task: tokio::task::JoinHandle<()>,
}

impl FeedServer {
    pub async fn start() -> FeedServer {
        let state = State::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let st = state.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let st = st.clone();
            async move {
                let release = {
                    let mut sp = st.spacing.lock().expect("spacing lock");
                    let (gap, next) = *sp;
                    let now = tokio::time::Instant::now();
                    let at = next.map_or(now, |n| n.max(now));
                    sp.1 = (!gap.is_zero()).then_some(at + gap);
                    at
                };
                tokio::time::sleep_until(release).await;
                respond(&st, req)
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FeedServer {
            addr,
            state,
            _task: task,
        }
    }

    /// Space answers at least `gap` apart, however many requests wait at once (zero: answer
    /// each at once).
    pub fn space_answers(&self, gap: std::time::Duration) {
        *self.state.spacing.lock().expect("spacing lock") = (gap, None);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn route(&self, path: &str, route: Route) {
        self.state
            .routes
            .lock()
            .expect("routes lock")
            .insert(path.to_string(), route);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().expect("hits lock").clone()
    }

    /// How many requests were answered so far (cheap enough to poll in a loop).
    pub fn hit_count(&self) -> usize {
        self.state.hits.lock().expect("hits lock").len()
    }

    pub fn hits_on(&self, path: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.path == path).collect()
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn respond(st: &State, req: Request<Body>) -> Response<Body> {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let route = st.routes.lock().expect("routes lock").get(&path).cloned();
    let if_none_match = header(req.headers(), "if-none-match");
    let (status, resp) = match route {
        None => (404, build(404, &[], Bytes::from_static(b"not found"))),
        Some(Route::Feed {
            body,
            content_type,
            etag,
        }) => {
            if etag.is_some() && etag == if_none_match {
                (304, build(304, &[], Bytes::new()))
            } else {
                let mut headers = vec![("content-type", content_type.to_string())];
                if let Some(e) = etag {
                    headers.push(("etag", e));
                }
                (200, build(200, &headers, body))
            }
        }
        Some(Route::Status {
            code,
            headers,
            body,
        }) => (code, build(code, &headers, body)),
    };
    st.hits.lock().expect("hits lock").push(Hit {
        path,
        if_none_match,
        user_agent: header(req.headers(), "user-agent"),
        status,
    });
    resp
}

fn build(code: u16, headers: &[(&'static str, String)], body: Bytes) -> Response<Body> {
    let mut b = Response::builder().status(StatusCode::from_u16(code).unwrap_or(StatusCode::OK));
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(Body::from(body)).expect("valid response")
}
