//! A real SMTP server on 127.0.0.1 for tests: EHLO/HELO, STARTTLS (when given a certificate),
//! AUTH PLAIN/LOGIN, MAIL, RCPT, DATA (with dot-unstuffing), RSET, NOOP, QUIT. It keeps every accepted message (envelope and raw
//! bytes) and can misbehave on purpose: answer RCPT or DATA with a chosen reply, drop the
//! connection mid-DATA, take a message and then never answer (outcome unknown), or answer it
//! only after a delay.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::ServerConfig;

/// Longest command line or message accepted.
const MAX_LINE: usize = 8192;
const MAX_MESSAGE: usize = 20 * 1024 * 1024;

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as received, CRLF line ends, dot-unstuffed, without the final ".".
    pub data: Vec<u8>,
    /// The user that authenticated on this connection, if any.
    pub user: Option<String>,
    /// Whether it came over TLS (after STARTTLS).
    pub tls: bool,
}

impl Received {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// A misbehaviour, for recipients whose address contains `to` (any recipient when empty).
/// Each fires `times` times (`None`: always).
#[derive(Debug, Clone)]
pub enum Fault {
    /// Greet with this reply (e.g. "421 4.3.2 busy") and close.
    Greeting { reply: String, times: Option<usize> },
    /// Answer RCPT TO with this reply.
    Rcpt {
        to: String,
        reply: String,
        times: Option<usize>,
    },
    /// Read the whole message, then answer with this reply and do not keep it.
    Data {
        to: String,
        reply: String,
        times: Option<usize>,
    },
    /// Accept DATA, read part of the message, then close the connection.
    DropMidData { to: String, times: Option<usize> },
    /// Keep the message, then never answer: the client cannot know it arrived.
    StallAfterData { to: String, times: Option<usize> },
    /// Keep the message and answer 250 only after `delay`: a window in which the message has
    /// arrived but the sender does not know it yet (crash trials kill the sender in it).
    DelayAck {
        to: String,
        delay: Duration,
        times: Option<usize>,
    },
}

impl Fault {
    fn matches(&self, stage: &str, rcpts: &[String]) -> bool {
        let (s, to, times) = match self {
            Fault::Greeting { times, .. } => ("greeting", "", times),
            Fault::Rcpt { to, times, .. } => ("rcpt", to.as_str(), times),
            Fault::Data { to, times, .. } => ("data", to.as_str(), times),
            Fault::DropMidData { to, times } => ("drop", to.as_str(), times),
            Fault::StallAfterData { to, times } => ("stall", to.as_str(), times),
            Fault::DelayAck { to, times, .. } => ("delay", to.as_str(), times),
        };
        s == stage
            && times.is_none_or(|n| n > 0)
            && (to.is_empty()
                || rcpts
                    .iter()
                    .any(|r| r.to_ascii_lowercase().contains(&to.to_ascii_lowercase())))
    }

    fn spend(&mut self) {
        let times = match self {
            Fault::Greeting { times, .. }
            | Fault::Rcpt { times, .. }
            | Fault::Data { times, .. }
            | Fault::DropMidData { times, .. }
            | Fault::StallAfterData { times, .. }
            | Fault::DelayAck { times, .. } => times,
        };
        if let Some(n) = times {
            *n = n.saturating_sub(1);
        }
    }
}

#[derive(Debug, Default)]
struct State {
    received: Vec<Received>,
    faults: Vec<Fault>,
    credentials: Option<(String, String)>,
    stalled: usize,
    connections: usize,
    /// Offered as STARTTLS when set.
    tls: Option<Arc<ServerConfig>>,
    tls_sessions: usize,
    tls_failures: usize,
    /// AUTH commands seen (over TLS or not).
    auth_attempts: usize,
}

/// The running server; stops accepting when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl SmtpSink {
    /// Bind 127.0.0.1:0 and start serving.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let addr = listener.local_addr().expect("sink address");
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                st.lock().expect("sink state").connections += 1;
                tokio::spawn(session(stream, st.clone()));
            }
        });
        SmtpSink {
            addr,
            state,
            accept,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Require AUTH with these credentials before MAIL.
    pub fn require_auth(&self, user: &str, password: &str) {
        self.state.lock().expect("sink state").credentials = Some((user.into(), password.into()));
    }

    /// Offer STARTTLS with this certificate from now on.
    pub fn offer_starttls(&self, config: Arc<ServerConfig>) {
        self.state.lock().expect("sink state").tls = Some(config);
    }

    /// How many times a client tried to log in.
    pub fn auth_attempts(&self) -> usize {
        self.state.lock().expect("sink state").auth_attempts
    }

    /// (TLS handshakes completed, TLS handshakes that failed).
    pub fn tls_handshakes(&self) -> (usize, usize) {
        let st = self.state.lock().expect("sink state");
        (st.tls_sessions, st.tls_failures)
    }

    pub fn add_fault(&self, fault: Fault) {
        self.state.lock().expect("sink state").faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.state.lock().expect("sink state").faults.clear();
    }

    /// Every message kept so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("sink state").received.clone()
    }

    /// How many messages were kept so far (cheap enough to poll in a loop).
    pub fn received_count(&self) -> usize {
        self.state.lock().expect("sink state").received.len()
    }

    /// Messages kept but never acknowledged (`StallAfterData`).
    pub fn stalled(&self) -> usize {
        self.state.lock().expect("sink state").stalled
    }

    pub fn connections(&self) -> usize {
        self.state.lock().expect("sink state").connections
    }

    /// Wait until `pred` holds for the state, up to `within`; true if it did.
    pub async fn wait_until(
        &self,
        within: Duration,
        pred: impl Fn(&[Received], usize) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            {
                let st = self.state.lock().expect("sink state");
                if pred(&st.received, st.stalled) {
                    return true;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Wait until at least `n` messages were kept.
    pub async fn wait_for(&self, n: usize, within: Duration) -> bool {
        self.wait_until(within, |r, _| r.len() >= n).await
    }
}

/// Take the first fault matching `stage` for these recipients, spending one use of it.
fn take_fault(state: &Mutex<State>, stage: &str, rcpts: &[String]) -> Option<Fault> {
    let mut st = state.lock().expect("sink state");
    let f = st.faults.iter_mut().find(|f| f.matches(stage, rcpts))?;
    f.spend();
    Some(f.clone())
}

/// One write per reply: two small writes would wait on the peer's delayed ACK (Nagle).
async fn reply(w: &mut (impl AsyncWrite + Unpin), text: &str) -> std::io::Result<()> {
    w.write_all(format!("{text}\r\n").as_bytes()).await
}

async fn read_line(r: &mut (impl AsyncBufRead + Unpin)) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let n = r
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .await
        .ok()?;
    (n > 0).then_some(line)
}

fn path_arg(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_string()
}

async fn session(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let _ = stream.set_nodelay(true);
    if let Some(Fault::Greeting { reply: text, .. }) = take_fault(&state, "greeting", &[]) {
        let _ = reply(&mut stream, &text).await;
        return;
    }
    if reply(&mut stream, "220 sink.test ESMTP storyline test sink")
        .await
        .is_err()
    {
        return;
    }
    let tls = state.lock().expect("sink state").tls.clone();
    let Some(plain) = commands(stream, &state, tls.is_some(), false).await else {
        return;
    };
    // STARTTLS: the conversation starts again, encrypted, with EHLO.
    let Some(config) = tls else { return };
    match tokio_rustls::TlsAcceptor::from(config).accept(plain).await {
        Ok(encrypted) => {
            state.lock().expect("sink state").tls_sessions += 1;
            let _ = commands(encrypted, &state, false, true).await;
        }
        Err(_) => state.lock().expect("sink state").tls_failures += 1,
    }
}

/// Serve commands until QUIT or the client goes away; returns the stream when the client
/// asked for STARTTLS (offered when `offer_tls`) and was told to go ahead.
async fn commands<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    state: &Arc<Mutex<State>>,
    offer_tls: bool,
    tls: bool,
) -> Option<S> {
    let (r, mut w) = tokio::io::split(stream);
    let mut r = BufReader::new(r);
    let needs_auth = state.lock().expect("sink state").credentials.clone();
    let mut user: Option<String> = None;
    let mut from: Option<String> = None;
    let mut rcpts: Vec<String> = Vec::new();
    while let Some(raw) = read_line(&mut r).await {
        let line = String::from_utf8_lossy(&raw).trim_end().to_string();
        let upper = line.to_ascii_uppercase();
        let out = if upper.starts_with("EHLO") {
            let auth = if needs_auth.is_some() {
                "250-AUTH PLAIN LOGIN\r\n"
            } else {
                ""
            };
            let starttls = if offer_tls { "250-STARTTLS\r\n" } else { "" };
            format!(
                "250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n{starttls}{auth}250 SIZE {MAX_MESSAGE}"
            )
        } else if upper == "STARTTLS" && offer_tls {
            reply(&mut w, "220 2.0.0 Ready to start TLS").await.ok()?;
            return Some(r.into_inner().unsplit(w));
        } else if upper.starts_with("HELO") {
            "250 sink.test".into()
        } else if upper.starts_with("AUTH") {
            state.lock().expect("sink state").auth_attempts += 1;
            match authenticate(&line, &mut r, &mut w, needs_auth.as_ref()).await {
                Some(u) => {
                    user = Some(u);
                    "235 2.7.0 Authentication successful".into()
                }
                None => "535 5.7.8 Authentication credentials invalid".into(),
            }
        } else if upper.starts_with("MAIL FROM:") {
            if needs_auth.is_some() && user.is_none() {
                "530 5.7.0 Authentication required".into()
            } else {
                from = Some(path_arg(&line));
                rcpts.clear();
                "250 2.1.0 Ok".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            let to = path_arg(&line);
            if from.is_none() {
                "503 5.5.1 MAIL first".into()
            } else if let Some(Fault::Rcpt { reply: text, .. }) =
                take_fault(state, "rcpt", std::slice::from_ref(&to))
            {
                text
            } else {
                rcpts.push(to);
                "250 2.1.5 Ok".into()
            }
        } else if upper == "DATA" {
            if rcpts.is_empty() {
                "503 5.5.1 RCPT first".into()
            } else {
                if reply(&mut w, "354 End data with <CR><LF>.<CR><LF>")
                    .await
                    .is_err()
                {
                    return None;
                }
                if take_fault(state, "drop", &rcpts).is_some() {
                    let mut some = [0u8; 64];
                    let _ = r.read(&mut some).await;
                    return None;
                }
                let data = read_data(&mut r).await?;
                let got = Received {
                    mail_from: from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpts),
                    data,
                    user: user.clone(),
                    tls,
                };
                if let Some(Fault::Data { reply: text, .. }) =
                    take_fault(state, "data", &got.rcpt_to)
                {
                    text
                } else if take_fault(state, "stall", &got.rcpt_to).is_some() {
                    {
                        let mut st = state.lock().expect("sink state");
                        st.received.push(got);
                        st.stalled += 1;
                    }
                    // Never answer; hold the connection until the client goes away.
                    let mut sink = Vec::new();
                    let _ = r.read_to_end(&mut sink).await;
                    return None;
                } else {
                    let delay = match take_fault(state, "delay", &got.rcpt_to) {
                        Some(Fault::DelayAck { delay, .. }) => Some(delay),
                        _ => None,
                    };
                    let n = {
                        let mut st = state.lock().expect("sink state");
                        st.received.push(got);
                        st.received.len()
                    };
                    if let Some(d) = delay {
                        tokio::time::sleep(d).await;
                    }
                    format!("250 2.0.0 Ok: queued as SINK{n}")
                }
            }
        } else if upper == "RSET" {
            from = None;
            rcpts.clear();
            "250 2.0.0 Ok".into()
        } else if upper == "NOOP" {
            "250 2.0.0 Ok".into()
        } else if upper == "QUIT" {
            let _ = reply(&mut w, "221 2.0.0 Bye").await;
            return None;
        } else {
            "500 5.5.2 Command not recognized".into()
        };
        if reply(&mut w, &out).await.is_err() {
            return None;
        }
    }
    None
}

/// Read DATA lines up to the lone ".", undoing dot-stuffing.
async fn read_data(r: &mut (impl AsyncBufRead + Unpin)) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let line = read_line(r).await?;
        if line == b".\r\n" || line == b".\n" {
            return Some(data);
        }
        let line = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(line);
        if data.len() > MAX_MESSAGE {
            return None;
        }
    }
}

/// AUTH PLAIN (inline or on the next line) and AUTH LOGIN; returns the user on success.
async fn authenticate(
    line: &str,
    r: &mut (impl AsyncBufRead + Unpin),
    w: &mut (impl AsyncWrite + Unpin),
    want: Option<&(String, String)>,
) -> Option<String> {
    let mut words = line.split_whitespace().skip(1);
    let mech = words.next()?.to_ascii_uppercase();
    let decode = |s: &str| STANDARD.decode(s.trim()).ok();
    let (user, pass) = match mech.as_str() {
        "PLAIN" => {
            let blob = match words.next() {
                Some(b) => decode(b)?,
                None => {
                    reply(w, "334 ").await.ok()?;
                    decode(&String::from_utf8_lossy(&read_line(r).await?))?
                }
            };
            let mut parts = blob.split(|b| *b == 0).skip(1);
            let u = String::from_utf8(parts.next()?.to_vec()).ok()?;
            let p = String::from_utf8(parts.next()?.to_vec()).ok()?;
            (u, p)
        }
        "LOGIN" => {
            reply(w, "334 VXNlcm5hbWU6").await.ok()?;
            let u = decode(&String::from_utf8_lossy(&read_line(r).await?))?;
            reply(w, "334 UGFzc3dvcmQ6").await.ok()?;
            let p = decode(&String::from_utf8_lossy(&read_line(r).await?))?;
            (String::from_utf8(u).ok()?, String::from_utf8(p).ok()?)
        }
        _ => return None,
    };
    match want {
        Some((wu, wp)) if *wu == user && *wp == pass => Some(user),
        _ => None,
    }
}
