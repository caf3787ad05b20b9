//! A raw TCP server for misbehaviour an HTTP framework will not produce: dripping bytes,
//! resetting mid-body, a chunked body with no end in sight.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// Send headers promising a body, then one byte a second.
    Drip,
    /// Send headers and half the body, then close the connection.
    ResetMidBody,
    /// A chunked body with no length, 50 MB of it, as fast as the client reads.
    Chunked50Mb,
}

/// Serve `behaviour` to every connection; returns the address.
pub async fn start(behaviour: Misbehaviour) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let body = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><guid>a</guid><title>A</title></item></channel></rss>";
                if let Misbehaviour::Chunked50Mb = behaviour {
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\ntransfer-encoding: chunked\r\n\r\n";
                    if sock.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
                    for _ in 0..(50 * 1024 * 1024 / 0x10000) {
                        if sock.write_all(chunk.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                    let _ = sock.write_all(b"0\r\n\r\n").await;
                    return;
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                match behaviour {
                    Misbehaviour::Drip => {
                        for b in body.iter() {
                            if sock.write_all(&[*b]).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                    Misbehaviour::ResetMidBody => {
                        let _ = sock.write_all(&body[..body.len() / 2]).await;
                        let _ = sock.flush().await;
                        drop(sock);
                    }
                    Misbehaviour::Chunked50Mb => {}
                }
            });
        }
    });
    addr
}
