//! A raw TCP server for misbehaviour an HTTP framework will not produce: dripping bytes,
//! resetting mid-body.

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
                }
            });
        }
    });
    addr
}
