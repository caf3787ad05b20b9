//! Ingest benchmark: poll N synthetic feeds (30 items each) from a loopback server with the
//! real `storyline` binary, and report wall time, CPU time and peak memory of that process.
//!
//! Run: `cargo bench --bench ingest -- [N ...]` (default 1000 10000). It builds nothing
//! itself: `cargo bench` builds the release binary first. Results go in docs/BENCHMARKS.md.
//!
//! Costs are read through bench/'s small launcher (see bench/measure.rs): spawned from here,
//! storyline would be charged this process's own peak memory, the feeds it serves.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

// Shared with bench/, which uses more of it than this bench does.
#[allow(dead_code)]
#[path = "../bench/measure.rs"]
mod measure;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response};

const ITEMS_PER_FEED: usize = 30;

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == measure::LAUNCHER_ARG) {
        return measure::launcher_main(&argv[2..]);
    }
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1000, 10_000]
    } else {
        sizes
    };
    let bin = Path::new(env!("CARGO_BIN_EXE_storyline"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let max = sizes.iter().copied().max().unwrap_or(0);
    let feeds = Arc::new((0..max).map(feed).collect::<Vec<_>>());
    let addr = rt.block_on(serve(feeds.clone()));
    println!("binary: {}", bin.display());
    println!("load average before: {}", measure::load_average());
    println!("| feeds | round | storyline's summary | wall s | CPU s | peak RSS MB |");
    println!("|---|---|---|---|---|---|");
    for n in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("bench.toml");
        std::fs::write(&config, config_text(dir.path(), addr, n)).expect("write config");
        for round in ["cold", "idle (all 304)"] {
            let m = run(bin, &config, dir.path());
            println!(
                "| {n} | {round} | {} | {:.2} | {:.2} | {:.1} |",
                m.summary, m.cost.wall_s, m.cost.cpu_s, m.cost.peak_rss_mb
            );
        }
    }
    std::process::ExitCode::SUCCESS
}

struct Measure {
    /// The poll's own total line, e.g. "1000 sources: 30000 new, ...".
    summary: String,
    cost: measure::Cost,
}

fn run(bin: &Path, config: &Path, dir: &Path) -> Measure {
    let log = dir.join("poll.log");
    let _ = std::fs::remove_file(&log);
    let mut cmd = Command::new(bin);
    cmd.arg("--config").arg(config).args(["poll", "--all"]);
    let cost = measure::run(cmd, &log).unwrap_or_else(|e| panic!("{e}"));
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    // With STORYLINE_LOG=storyline=debug, storyline's own timings of the round.
    for line in output.lines().filter(|l| l.contains(" timings ")) {
        eprintln!("{line}");
    }
    let summary = output
        .lines()
        .rfind(|l| l.contains(" sources: "))
        .unwrap_or_default()
        .to_string();
    Measure { summary, cost }
}

fn config_text(dir: &Path, addr: SocketAddr, n: usize) -> String {
    // Every synthetic feed lives on one loopback host, so the per-host cap is raised to the
    // total; real sources spread over many hosts.
    let mut s = format!(
        "database = \"{}\"\n[fetch]\nallow_private_addresses = true\nconcurrency = 32\n\
         per_host_concurrency = 32\n",
        dir.join("bench.db").display()
    );
    for i in 0..n {
        s.push_str(&format!(
            "[[source]]\nid = \"f{i}\"\nurl = \"http://{addr}/f/{i}.xml\"\n"
        ));
    }
    s
}

/// A deterministic RSS 2.0 (even) or Atom (odd) feed with 30 items and ~1 KB descriptions.
fn feed(i: usize) -> Vec<u8> {
    let para = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
                incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis \
                nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. ";
    let desc = format!("<p>{para}</p><p>{para}</p><p>{para}</p><p>{para}</p>");
    let mut out = String::new();
    if i % 2 == 0 {
        out.push_str(&format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>\
             <title>Feed {i}</title><link>http://example.org/{i}/</link>"
        ));
        for j in 0..ITEMS_PER_FEED {
            out.push_str(&format!(
                "<item><title>Feed {i} story {j}</title><link>http://example.org/{i}/{j}</link>\
                 <guid>http://example.org/{i}/{j}</guid>\
                 <pubDate>Mon, 07 Apr 2025 {:02}:{:02}:00 GMT</pubDate>\
                 <description><![CDATA[{desc}]]></description></item>",
                j % 24,
                j % 60
            ));
        }
        out.push_str("</channel></rss>");
    } else {
        out.push_str(&format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
             <title>Feed {i}</title><id>urn:feed:{i}</id><updated>2025-04-07T00:00:00Z</updated>"
        ));
        for j in 0..ITEMS_PER_FEED {
            out.push_str(&format!(
                "<entry><title>Feed {i} story {j}</title><id>urn:feed:{i}:{j}</id>\
                 <link href=\"http://example.org/{i}/{j}\"/>\
                 <updated>2025-04-07T{:02}:{:02}:00Z</updated>\
                 <summary type=\"html\">{}</summary></entry>",
                j % 24,
                j % 60,
                desc.replace('<', "&lt;").replace('>', "&gt;")
            ));
        }
        out.push_str("</feed>");
    }
    out.into_bytes()
}

/// Serve the feeds with an ETag so the second round is all 304s.
async fn serve(feeds: Arc<Vec<Vec<u8>>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let feeds = feeds.clone();
        async move {
            let path = req.uri().path();
            let idx = path
                .strip_prefix("/f/")
                .and_then(|p| p.strip_suffix(".xml"))
                .and_then(|p| p.parse::<usize>().ok());
            let Some(body) = idx.and_then(|i| feeds.get(i)) else {
                return Response::builder()
                    .status(404)
                    .body(Body::empty())
                    .expect("response");
            };
            let etag = format!("\"v1-{}\"", idx.unwrap_or(0));
            let matches = req
                .headers()
                .get("if-none-match")
                .is_some_and(|v| v.as_bytes() == etag.as_bytes());
            if matches {
                return Response::builder()
                    .status(304)
                    .body(Body::empty())
                    .expect("response");
            }
            Response::builder()
                .header("content-type", "application/xml")
                .header("etag", etag)
                .body(Body::from(body.clone()))
                .expect("response")
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}
