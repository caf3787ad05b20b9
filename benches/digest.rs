//! Digest memory benchmark: the week's digest of a story that takes every item, over a week
//! as big as a cold round of N feeds makes (35 items a feed: 350,000 items at 10,000 feeds),
//! composed by the release `storyline digest` as a child process, in each output format.
//! Reports wall time, CPU time and peak RSS of that process.
//!
//! Run: `cargo bench --bench digest -- [N[xK] ...]` (default 1000 10000): N feeds, K items a
//! feed in the week (default 35), so `1000x350` is the week of 10,000 feeds from 1,000 (the
//! same items, a tenth of the sources and outlets). The database is built with
//! SQL in a temp dir, the story's decisions written directly as story processing would leave
//! them (its fingerprint recorded, nothing queued), so the digest command does no story work:
//! what it costs is the digest's. `STORYLINE_BIN=PATH` measures another build of storyline
//! (an older one, for comparison) against the same databases; `STORYLINE_BENCH_DIR=DIR` builds
//! them in DIR/N (kept, for profiling) instead of a temp dir.
//!
//! The week: 35 items a feed, each feed its own outlet (host); 10 % of the items in one big
//! event, 20 % in events of ~200, 30 % in events of ~9, 38 % alone, 2 % new reports of the
//! previous week's events (its 3.5 items a feed in events of 5), and one item in 997 an HN
//! thread. About 150,000 developments at 10,000 feeds, 7,000 earlier events. Older items fill
//! the database up to 1,000,000 items (`STORYLINE_BENCH_TOTAL=N` changes it): the 26 weeks
//! before, every item in the story, in events of 5 (the timeline before the week), so a
//! digest's cost is shown against a database of a few months of a take-everything story.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly by design

// Shared with bench/, which uses more of it than this bench does.
#[allow(dead_code)]
#[path = "../bench/measure.rs"]
mod measure;

use std::path::{Path, PathBuf};
use std::process::Command;

use storyline::config::Config;
use storyline::store::Store;
use storyline::story::StoryDef;
use storyline::value::week::IsoWeek;

/// Items a feed in the week, unless a size says otherwise.
const ITEMS_PER_FEED: i64 = 35;
const WEEK: &str = "2025-W15";
const LOREM: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
    tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud \
    exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor \
    in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur \
    sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est \
    laborum. Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium \
    doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et \
    quasi architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia \
    voluptas sit aspernatur aut odit aut fugit, sed quia consequuntur magni dolores eos.";

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == measure::LAUNCHER_ARG) {
        return measure::launcher_main(&argv[2..]);
    }
    let sizes: Vec<(i64, i64)> = std::env::args().skip(1).filter_map(size).collect();
    let sizes = if sizes.is_empty() {
        vec![(1000, ITEMS_PER_FEED), (10_000, ITEMS_PER_FEED)]
    } else {
        sizes
    };
    let bin = std::env::var_os("STORYLINE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_storyline")));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!("binary: {}", bin.display());
    println!("load average before: {}", measure::load_average());
    let total: i64 = std::env::var("STORYLINE_BENCH_TOTAL")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "| feeds | items in the database | items in the week | format | wall s | CPU s | \
         peak RSS MB | output KB |"
    );
    println!("|---:|---:|---:|---|---:|---:|---:|---:|");
    for (feeds, per_feed) in sizes {
        let temp = tempfile::tempdir().unwrap();
        let dir = match std::env::var_os("STORYLINE_BENCH_DIR") {
            Some(d) => PathBuf::from(d).join(format!("{feeds}x{per_feed}")),
            None => temp.path().to_path_buf(),
        };
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("bench.toml");
        std::fs::write(&config, config_text(&dir, feeds)).unwrap();
        let (items, in_db) = rt.block_on(fill(&config, feeds, per_feed, total));
        for format in ["html", "text", "eml", "json"] {
            let out = dir.join(format!("digest.{format}"));
            let cost = run(&bin, &config, &dir, format, &out);
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            println!(
                "| {feeds} | {in_db} | {items} | {format} | {:.2} | {:.2} | {:.1} | {} |",
                cost.wall_s,
                cost.cpu_s,
                cost.peak_rss_mb,
                size / 1024
            );
        }
    }
    std::process::ExitCode::SUCCESS
}

/// `N` or `NxK`: feeds, and items a feed in the week.
fn size(arg: String) -> Option<(i64, i64)> {
    match arg.split_once('x') {
        Some((n, k)) => Some((n.parse().ok()?, k.parse().ok()?)),
        None => Some((arg.parse().ok()?, ITEMS_PER_FEED)),
    }
}

/// `storyline digest` for the week, in `format`, written to `out`, through the launcher.
fn run(bin: &Path, config: &Path, dir: &Path, format: &str, out: &Path) -> measure::Cost {
    let log = dir.join("digest.log");
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(config)
        .arg("--now")
        .arg(now().to_rfc3339())
        .args([
            "digest", "--story", "bench", "--week", WEEK, "--format", format,
        ])
        .arg("--out")
        .arg(out)
        .current_dir(dir);
    measure::run(cmd, &log).unwrap_or_else(|e| panic!("{e}"))
}

/// The Monday after the week, 09:00 UTC: when the daemon would compose it.
fn now() -> chrono::DateTime<chrono::Utc> {
    let week: IsoWeek = WEEK.parse().unwrap();
    week.next().monday().and_hms_opt(9, 0, 0).unwrap().and_utc()
}

fn config_text(dir: &Path, feeds: i64) -> String {
    let mut s = format!(
        "database = \"{}\"\n\n[[story]]\nid = \"bench\"\ntitle = \"Benchmark feeds\"\n\n\
         [digest]\noutput_dir = \"{}\"\n\n",
        dir.join("bench.db").display(),
        dir.join("digests").display()
    );
    for i in 0..feeds {
        s.push_str(&format!(
            "[[source]]\nid = \"f{i}\"\nurl = \"http://127.0.0.1:9/f/{i}.xml\"\n"
        ));
    }
    s
}

/// Build the database of about `total` items; the number of items in the week, and in all.
async fn fill(config_path: &Path, feeds: i64, per_feed: i64, total: i64) -> (i64, i64) {
    let config = Config::load(Some(config_path)).unwrap();
    let store = Store::open(&config.database).await.unwrap();
    store
        .sync_sources(&config.sources, &config.fetch, now())
        .await
        .unwrap();
    let story = StoryDef::all_from(&config).unwrap().remove(0);
    store
        .reset_story(&story.id, &story.fingerprint(), now())
        .await
        .unwrap();
    let week: IsoWeek = WEEK.parse().unwrap();
    let (start, _) = week.range(config.timezone);
    let start = start.timestamp();
    let n = feeds * per_feed;
    let prev = n / 10;
    let old_events = (prev / 5).max(1);
    let background = (total - n - prev).max(0);
    let pool = store.pool();
    // Older items (guid a<i>, over 26 weeks, a short summary), the previous week's (guid
    // p<i>), then the week's (guid g<i>), each spread evenly over its span.
    let week_s = 7 * 86_400;
    for (prefix, count, from, span, summary) in [
        (
            "a",
            background,
            start - 27 * week_s,
            26 * week_s,
            "Earlier.",
        ),
        ("p", prev, start - week_s, week_s, LOREM),
        ("g", n, start, week_s, LOREM),
    ] {
        if count == 0 {
            continue;
        }
        sqlx::query(
            "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?1) \
             INSERT INTO items (source_id, guid, url, canonical_url, title, summary, \
                 published_at, first_seen_at, content_hash, points, comments, discussion_url) \
             SELECT 'f' || (i % ?2), ?3 || i, \
                 'https://f' || (i % ?2) || '.example/' || ?3 || i, \
                 'https://f' || (i % ?2) || '.example/' || ?3 || i, \
                 'Feed ' || (i % ?2) || ' story ' || ?3 || i, \
                 '<p>Report ' || i || '. ' || ?4 || '</p>', \
                 ?5 + i * (?6 - 1) / ?1, ?5 + i * (?6 - 1) / ?1, 'h' || ?3 || i, \
                 CASE WHEN i % 997 = 0 THEN i % 500 END, CASE WHEN i % 997 = 0 THEN i % 300 END, \
                 CASE WHEN i % 997 = 0 THEN 'https://news.ycombinator.com/item?id=' || i END \
             FROM k",
        )
        .bind(count)
        .bind(feeds)
        .bind(prefix)
        .bind(summary)
        .bind(from)
        .bind(span)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO story_items (story_id, item_id, relevant, score, reason, summary, at, \
             shown_at, seen_hash, terms, event_id, decided_at) \
         SELECT 'bench', id, 1, 1, 'bench', '', published_at, published_at, content_hash, \
             '', CASE WHEN substr(guid, 1, 1) = 'a' \
                      THEN 'a-' || (CAST(substr(guid, 2) AS INTEGER) / 5) \
                      WHEN substr(guid, 1, 1) = 'p' \
                      THEN 'o-' || (CAST(substr(guid, 2) AS INTEGER) % ?1) \
                 ELSE (WITH x(i) AS (SELECT CAST(substr(guid, 2) AS INTEGER)) SELECT \
                      CASE WHEN i % 50 = 7 THEN 'o-' || ((i / 50) % ?1) \
                           WHEN i % 10 = 0 THEN 'big' \
                           WHEN i % 10 IN (1, 2) THEN 'h-' || (i / 1000) \
                           WHEN i % 10 IN (3, 4, 5) THEN 't-' || (i / 30) \
                           ELSE 's-' || i END FROM x) END, 0 \
         FROM items",
    )
    .bind(old_events)
    .execute(pool)
    .await
    .unwrap();
    store.close().await;
    (n, background + prev + n)
}
