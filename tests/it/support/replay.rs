//! The story replay served week by week on loopback, with a config pointing at it and a
//! runner for the real binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use storyline::value::week::IsoWeek;

use super::feed_server::{FeedServer, Route};

/// A source of the replay set (`sources.toml`).
pub struct Source {
    pub id: String,
    pub kind: String,
    pub path: String,
}

pub fn load_sources(root: &Path) -> Vec<Source> {
    let text = std::fs::read_to_string(root.join("sources.toml")).unwrap();
    let doc: toml::Value = toml::from_str(&text).unwrap();
    doc["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Source {
            id: s["id"].as_str().unwrap().to_string(),
            kind: s["kind"].as_str().unwrap().to_string(),
            path: s["path"].as_str().unwrap().to_string(),
        })
        .collect()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/feed+json",
        _ => "application/xml",
    }
}

/// A loopback server for the replay's sources and a config (in a temp dir) that polls them.
pub struct Replay {
    pub server: FeedServer,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Replay {
    pub async fn start(sources: &[Source]) -> Replay {
        Replay::start_with(sources, "").await
    }

    /// As `start`, with `extra` TOML appended to the config.
    pub async fn start_with(sources: &[Source], extra: &str) -> Replay {
        let server = FeedServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("storyline.toml");
        let mut text = format!(
            "database = \"{}\"\n[digest]\noutput_dir = \"{}\"\n[fetch]\nallow_private_addresses = true\ntimeout = \"10s\"\n",
            dir.path().join("replay.db").display(),
            dir.path().join("digests").display(),
        );
        for s in sources {
            text.push_str(&format!(
                "[[source]]\nid = \"{}\"\nurl = \"{}\"\nkind = \"{}\"\n",
                s.id,
                server.url(&s.path),
                s.kind
            ));
        }
        text.push_str(extra);
        std::fs::write(&config, text).unwrap();
        Replay {
            server,
            dir,
            config,
        }
    }

    /// Serve one week's snapshot (missing files answer 404).
    pub fn serve_week(&self, week_dir: &Path, sources: &[Source]) {
        for s in sources {
            let mut file: PathBuf = week_dir.join(s.path.trim_start_matches('/'));
            if s.path.ends_with('/') {
                file = file.join("index.html");
            }
            let route = match std::fs::read(&file) {
                Ok(body) => {
                    let mut r = Route::feed(body);
                    if let Route::Feed {
                        content_type: ct, ..
                    } = &mut r
                    {
                        *ct = content_type(&file);
                    }
                    r
                }
                Err(_) => Route::status(404),
            };
            self.server.route(&s.path, route);
        }
    }
}

/// Run the real binary at `now`; panics with its output unless it succeeds.
pub fn run(config: &Path, now: &str, args: &[&str]) -> String {
    run_with_env(config, now, args, &[])
}

/// As [`run`], with these environment variables set.
pub fn run_with_env(config: &Path, now: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(config)
        .arg("--now")
        .arg(now)
        .args(args)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .envs(env.iter().copied())
        .output()
        .expect("run storyline");
    // STORYLINE_REPLAY_TRACE=FILE keeps what the binary logged (set STORYLINE_LOG too).
    if let Some(trace) = std::env::var_os("STORYLINE_REPLAY_TRACE") {
        use std::io::Write as _;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(trace)
        {
            let _ = f.write_all(&out.stderr);
        }
    }
    assert!(
        out.status.success(),
        "storyline {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Monday 09:00 UTC after `week`, when its snapshot was taken.
pub fn poll_time(week: &str) -> String {
    let w: IsoWeek = week.parse().unwrap();
    format!("{}T09:00:00Z", w.next().monday())
}
