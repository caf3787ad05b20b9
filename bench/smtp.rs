//! A minimal SMTP sink on 127.0.0.1 (after tests/it/support/smtp_sink.rs, without its faults and
//! without keeping messages): EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It only counts
//! the messages and bytes it accepts, so it costs next to nothing per message.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

const MAX_LINE: u64 = 64 * 1024;

#[derive(Default)]
struct Counters {
    messages: AtomicU64,
    bytes: AtomicU64,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    counters: Arc<Counters>,
}

impl SmtpSink {
    pub fn start(rt: &tokio::runtime::Runtime) -> std::io::Result<SmtpSink> {
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        rt.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, c.clone()));
            }
        });
        Ok(SmtpSink { addr, counters })
    }

    /// Messages and bytes accepted since the last call; zeroes both.
    pub fn take_counts(&self) -> (u64, u64) {
        (
            self.counters.messages.swap(0, Ordering::Relaxed),
            self.counters.bytes.swap(0, Ordering::Relaxed),
        )
    }
}

/// One write per reply, so the client never waits on a delayed ACK.
async fn reply(w: &mut OwnedWriteHalf, text: &str) -> std::io::Result<()> {
    w.write_all(format!("{text}\r\n").as_bytes()).await
}

async fn read_line(r: &mut BufReader<OwnedReadHalf>, line: &mut Vec<u8>) -> bool {
    line.clear();
    matches!(r.take(MAX_LINE).read_until(b'\n', line).await, Ok(n) if n > 0)
}

async fn session(stream: TcpStream, counters: Arc<Counters>) {
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    if reply(&mut w, "220 sink.bench ESMTP").await.is_err() {
        return;
    }
    let mut line = Vec::new();
    let mut recipients = 0usize;
    while read_line(&mut r, &mut line).await {
        let cmd = String::from_utf8_lossy(&line)
            .trim_end()
            .to_ascii_uppercase();
        let out = if cmd.starts_with("EHLO") {
            "250-sink.bench\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 104857600"
        } else if cmd.starts_with("HELO") {
            "250 sink.bench"
        } else if cmd.starts_with("MAIL FROM:") {
            recipients = 0;
            "250 2.1.0 Ok"
        } else if cmd.starts_with("RCPT TO:") {
            recipients += 1;
            "250 2.1.5 Ok"
        } else if cmd == "DATA" {
            if recipients == 0 {
                "503 5.5.1 RCPT first"
            } else {
                if reply(&mut w, "354 End data with <CR><LF>.<CR><LF>")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut size = 0u64;
                loop {
                    if !read_line(&mut r, &mut line).await {
                        return;
                    }
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    size += line.len() as u64;
                }
                counters.messages.fetch_add(1, Ordering::Relaxed);
                counters.bytes.fetch_add(size, Ordering::Relaxed);
                recipients = 0;
                "250 2.0.0 Ok: queued"
            }
        } else if cmd == "RSET" || cmd == "NOOP" {
            "250 2.0.0 Ok"
        } else if cmd == "QUIT" {
            let _ = reply(&mut w, "221 2.0.0 Bye").await;
            return;
        } else {
            "500 5.5.2 Command not recognized"
        };
        if reply(&mut w, out).await.is_err() {
            return;
        }
    }
}
