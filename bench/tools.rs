//! The tools compared, each in its own run directory: how it is configured, which commands
//! make one round, and how many items it has stored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::corpus;
use crate::measure::{self, Cost};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    Storyline,
    Curl,
    Newsboat,
    Rss2email,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Storyline => "storyline",
            Tool::Curl => "curl",
            Tool::Newsboat => "newsboat",
            Tool::Rss2email => "rss2email",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Round {
    /// Everything is new.
    Cold,
    /// Nothing changed: every feed can answer 304.
    Idle,
    /// Five new items in every feed.
    Plus5,
}

impl Round {
    pub const ALL: [Round; 3] = [Round::Cold, Round::Idle, Round::Plus5];

    pub fn name(self) -> &'static str {
        match self {
            Round::Cold => "cold",
            Round::Idle => "idle",
            Round::Plus5 => "+5/feed",
        }
    }
}

/// Where the programs are, and the shared loopback services.
pub struct Env {
    pub storyline: PathBuf,
    pub curl: PathBuf,
    pub newsboat: PathBuf,
    /// The `r2e` script next to the Python interpreter that has rss2email installed.
    pub r2e: PathBuf,
    pub smtp: SocketAddr,
    /// Whether this Storyline has `storyline digest` (the cold round then mails one digest).
    pub storyline_digest: bool,
}

/// The address every digest goes to.
const READER: &str = "reader@bench.test";
/// Enough for Storyline's link signing; a benchmark secret, not a real one.
const BENCH_SECRET: &str = "storyline-benchmark-secret-0123456789abcdef";

/// One tool set up in its own directory for one size.
pub struct ToolRun {
    pub tool: Tool,
    dir: PathBuf,
    urls: Vec<String>,
}

impl ToolRun {
    /// Create `dir` and the tool's configuration for `urls`; nothing here is measured.
    pub fn setup(tool: Tool, dir: &Path, urls: Vec<String>, env: &Env) -> Result<ToolRun, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let run = ToolRun {
            tool,
            dir: dir.to_path_buf(),
            urls,
        };
        match tool {
            Tool::Storyline => run.setup_storyline(env)?,
            Tool::Curl => std::fs::create_dir_all(dir.join("etags")).map_err(|e| e.to_string())?,
            Tool::Newsboat => run.setup_newsboat()?,
            Tool::Rss2email => run.setup_rss2email(env)?,
        }
        Ok(run)
    }

    fn write(&self, name: &str, text: &str) -> Result<PathBuf, String> {
        let path = self.dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("write {}: {e}", path.display()))?;
        Ok(path)
    }

    fn log(&self) -> PathBuf {
        self.dir.join("output.log")
    }

    fn setup_storyline(&self, env: &Env) -> Result<(), String> {
        // All feeds share one loopback host, so the per-host cap is raised to the total cap;
        // real sources spread over many hosts. One story without phrases takes every item.
        let mut s = format!(
            "database = \"{}\"\n\n[fetch]\nallow_private_addresses = true\nconcurrency = 32\n\
             per_host_concurrency = 32\n\n[[story]]\nid = \"bench\"\ntitle = \"Benchmark feeds\"\n\n\
             [smtp]\nhost = \"{}\"\nport = {}\ntls = \"none\"\n\
             from = \"Storyline <digest@bench.test>\"\n\n[mail]\nsecret = \"{BENCH_SECRET}\"\n\
             rate_per_second = 1000\n\n[web]\nbase_url = \"https://news.bench.test/\"\n\n",
            self.dir.join("storyline.db").display(),
            env.smtp.ip(),
            env.smtp.port(),
        );
        for (i, url) in self.urls.iter().enumerate() {
            s.push_str(&format!("[[source]]\nid = \"f{i}\"\nurl = \"{url}\"\n"));
        }
        self.write("bench.toml", &s)?;
        if env.storyline_digest {
            let mut cmd = self.storyline(env);
            cmd.args(["subscribers", "add", READER, "--story", "bench"]);
            measure::run(cmd, &self.log())?;
        }
        Ok(())
    }

    fn storyline(&self, env: &Env) -> Command {
        let mut cmd = Command::new(&env.storyline);
        cmd.arg("--config")
            .arg(self.dir.join("bench.toml"))
            .current_dir(&self.dir);
        cmd
    }

    fn setup_newsboat(&self) -> Result<(), String> {
        self.write("urls", &(self.urls.join("\n") + "\n"))?;
        // Newsboat's defaults (one reload thread, no item limit): what a user gets.
        self.write("config", "")?;
        Ok(())
    }

    fn setup_rss2email(&self, env: &Env) -> Result<(), String> {
        // One digest message per feed and run, sent over SMTP to the sink.
        let mut s = format!(
            "[DEFAULT]\nto = {READER}\nfrom = rss2email@bench.test\nemail-protocol = smtp\n\
             smtp-server = {}:{}\ndigest = True\nverbose = warning\n\n",
            env.smtp.ip(),
            env.smtp.port()
        );
        for (i, url) in self.urls.iter().enumerate() {
            s.push_str(&format!("[feed.f{i}]\nurl = {url}\n\n"));
        }
        self.write("r2e.cfg", &s)?;
        Ok(())
    }

    /// Run one round; what it cost, and each command's cost when it took several.
    pub fn round(&self, round: Round, env: &Env) -> Result<(Cost, Vec<(String, Cost)>), String> {
        let log = self.log();
        let single = |cost| Ok((cost, Vec::new()));
        match self.tool {
            Tool::Storyline => {
                let mut poll = self.storyline(env);
                poll.args(["poll", "--all"]);
                let poll = measure::run(poll, &log)?;
                if round != Round::Cold || !env.storyline_digest {
                    return single(poll);
                }
                let mut digest = self.storyline(env);
                digest.args([
                    "digest",
                    "--story",
                    "bench",
                    "--week",
                    corpus::WEEK,
                    "--send",
                ]);
                let digest = measure::run(digest, &log)?;
                Ok((
                    poll.then(digest),
                    vec![("poll".into(), poll), ("digest".into(), digest)],
                ))
            }
            Tool::Curl => {
                let config = self.curl_config(round != Round::Cold)?;
                let mut cmd = Command::new(&env.curl);
                cmd.args(["--parallel", "--parallel-max", "32", "--silent", "--config"])
                    .arg(config);
                single(measure::run(cmd, &log)?)
            }
            Tool::Newsboat => {
                let mut cmd = Command::new(&env.newsboat);
                cmd.arg("--url-file")
                    .arg(self.dir.join("urls"))
                    .arg("--cache-file")
                    .arg(self.dir.join("cache.db"))
                    .arg("--config-file")
                    .arg(self.dir.join("config"))
                    .args(["--execute", "reload"]);
                self.home(&mut cmd);
                single(measure::run(cmd, &log)?)
            }
            Tool::Rss2email => {
                let mut cmd = Command::new(&env.r2e);
                cmd.arg("--config")
                    .arg(self.dir.join("r2e.cfg"))
                    .arg("--data")
                    .arg(self.dir.join("r2e.json"))
                    .arg("run");
                self.home(&mut cmd);
                single(measure::run(cmd, &log)?)
            }
        }
    }

    /// Keep the peers' own files (lock files, XDG directories) inside the run directory.
    fn home(&self, cmd: &mut Command) {
        cmd.env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join(".config"))
            .env("XDG_DATA_HOME", self.dir.join(".local/share"))
            .env("XDG_CACHE_HOME", self.dir.join(".cache"));
    }

    /// One transfer per URL, body to /dev/null, the response's ETag saved (`--etag-save`) and,
    /// after the cold round, the saved one sent as `If-None-Match` (`--etag-compare`).
    fn curl_config(&self, conditional: bool) -> Result<PathBuf, String> {
        let mut s = String::new();
        for (i, url) in self.urls.iter().enumerate() {
            if i > 0 {
                s.push_str("next\n");
            }
            let etag = self.dir.join("etags").join(i.to_string());
            s.push_str(&format!("url = \"{url}\"\noutput = \"/dev/null\"\n"));
            if conditional {
                s.push_str(&format!("etag-compare = \"{}\"\n", etag.display()));
            }
            s.push_str(&format!("etag-save = \"{}\"\n", etag.display()));
        }
        self.write("urls.curl", &s)
    }

    /// Items the tool holds after its rounds so far; `None` for curl, which stores nothing.
    pub async fn stored(&self) -> Result<Option<u64>, String> {
        match self.tool {
            Tool::Storyline => count(&self.dir.join("storyline.db"), "SELECT count(*) FROM items")
                .await
                .map(Some),
            Tool::Newsboat => count(&self.dir.join("cache.db"), "SELECT count(*) FROM rss_item")
                .await
                .map(Some),
            Tool::Rss2email => {
                let path = self.dir.join("r2e.json");
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("read {}: {e}", path.display()))?;
                let data: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                let seen = data["feeds"]
                    .as_array()
                    .map(|feeds| {
                        feeds
                            .iter()
                            .filter_map(|f| f["seen"].as_object())
                            .map(|s| s.len() as u64)
                            .sum()
                    })
                    .unwrap_or(0);
                Ok(Some(seen))
            }
            Tool::Curl => Ok(None),
        }
    }
}

/// The answer to a `SELECT count(*)` on the SQLite file at `path` (0 when it does not exist yet).
async fn count(path: &Path, query: &'static str) -> Result<u64, String> {
    use sqlx::ConnectOptions as _;
    if !path.exists() {
        return Ok(0);
    }
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(|e| format!("open {}: {e}", path.display()))?;
    let n: i64 = sqlx::query_scalar(query)
        .fetch_one(&mut conn)
        .await
        .map_err(|e| format!("{query} in {}: {e}", path.display()))?;
    Ok(n as u64)
}
