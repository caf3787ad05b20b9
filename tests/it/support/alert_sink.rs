//! A loopback receiver for alerts: it records every request (method, path, headers, body)
//! before answering, answers from a script (status codes, delays) and then 200, and can
//! answer as ntfy does (the published message as JSON).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::http::{Request, Response, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Lowercase names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    /// Check `Storyline-Signature` against `secret`: `t=<ts>,v1=<hex HMAC-SHA256("<t>.<body>")>`.
    pub fn signature_is_valid(&self, secret: &str) -> bool {
        let Some(sig) = self.header("storyline-signature") else {
            return false;
        };
        let Some((t, v1)) = sig
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",v1="))
        else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(t.as_bytes());
        mac.update(b".");
        mac.update(&self.body);
        let want: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        want == v1
    }
}

/// How to answer one request.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.to_string(),
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// Answer 200 only after `delay` (longer than the client's timeout: a timeout).
    pub fn slow(delay: Duration) -> Reply {
        Reply {
            delay,
            ..Reply::status(200, "late")
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    /// Every answer waits this long after the request is recorded.
    delay: Mutex<Duration>,
    ntfy: bool,
}

pub struct AlertSink {
    pub addr: SocketAddr,
    state: Arc<State>,
    _task: tokio::task::JoinHandle<()>,
}

impl AlertSink {
    /// A receiver that answers `200 ok` unless scripted otherwise.
    pub async fn start() -> AlertSink {
        AlertSink::start_with(false).await
    }

    /// A receiver shaped like ntfy: it answers a publish with the message as JSON.
    pub async fn start_ntfy() -> AlertSink {
        AlertSink::start_with(true).await
    }

    async fn start_with(ntfy: bool) -> AlertSink {
        let state = Arc::new(State {
            ntfy,
            ..State::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let st = state.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let st = st.clone();
            async move { respond(&st, req).await }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        AlertSink {
            addr,
            state,
            _task: task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The next requests get these answers, in order; then 200 again.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    pub fn set_delay(&self, d: Duration) {
        *self.state.delay.lock().unwrap() = d;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.state.received.lock().unwrap().len()
    }
}

async fn respond(st: &State, req: Request<Body>) -> Response<Body> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let body = to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default()
        .to_vec();
    let reply = st.script.lock().unwrap().pop_front();
    let delay = *st.delay.lock().unwrap();
    let ntfy_reply = st.ntfy.then(|| {
        serde_json::json!({
            "id": format!("m{}", st.received.lock().unwrap().len()),
            "event": "message",
            "topic": path.trim_start_matches('/'),
            "title": headers.get("title"),
            "message": String::from_utf8_lossy(&body),
        })
        .to_string()
    });
    st.received.lock().unwrap().push(Received {
        method,
        path,
        headers,
        body,
    });
    let reply = reply.unwrap_or_else(|| Reply::status(200, ntfy_reply.as_deref().unwrap_or("ok")));
    tokio::time::sleep(delay + reply.delay).await;
    let mut b = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
    for (k, v) in &reply.headers {
        b = b.header(*k, v);
    }
    b.body(Body::from(reply.body)).unwrap()
}
