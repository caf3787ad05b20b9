//! Digest rendering over a big database: one week's digest composed and rendered from a
//! SQLite file holding 1,000,000 items, of which 1 % are story items grouped into events.
//!
//! Run: `cargo bench --bench render -- [ITEMS]` (default 1000000). The database is built with
//! SQL (a recursive CTE) in a temp dir; the story decisions are written directly, as story
//! processing would have left them, so the timing is of the digest path alone:
//! `weekly::make` = week report + gather + compose + render (HTML, text, chart).

#![allow(clippy::unwrap_used)] // a benchmark fails loudly by design

use std::time::Instant;

use storyline::config::{Config, Origin};
use storyline::digest::Templates;
use storyline::store::Store;
use storyline::story::StoryDef;
use storyline::value::week::IsoWeek;
use storyline::weekly::{self, Period};

fn main() {
    let items: i64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(items));
}

async fn run(items: i64) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::parse(
        &format!("database = \"{}\"\n", dir.path().join("big.db").display()),
        Origin::Preset,
    )
    .unwrap();
    let store = Store::open(&config.database).await.unwrap();
    let built = Instant::now();
    fill(&store, items).await;
    println!(
        "built {items} items in {:.1} s",
        built.elapsed().as_secs_f64()
    );

    let story = StoryDef::all_from(&config).unwrap().remove(0);
    let templates = Templates::embedded().unwrap();
    // Items span 2023-01-01 .. about two years later; take a week in the middle.
    let week: IsoWeek = "2024-W10".parse().unwrap();
    let now = week.next().monday().and_hms_opt(9, 0, 0).unwrap().and_utc();
    let mut times = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let e = weekly::make(&store, &config, &templates, &story, Period::Week(week), now)
            .await
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!e.report.developments.is_empty());
    }
    times.sort_by(f64::total_cmp);
    let t = Instant::now();
    let report = storyline::story::week_report(&store, &story, week, config.timezone)
        .await
        .unwrap();
    let t_report = t.elapsed();
    let e = weekly::make(&store, &config, &templates, &story, Period::Week(week), now)
        .await
        .unwrap();
    let t = Instant::now();
    storyline::digest::render(&e.digest, &templates).unwrap();
    println!(
        "of which: week report {:.1} ms ({} timeline entries), render {:.1} ms",
        t_report.as_secs_f64() * 1000.0,
        report.timeline.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    println!(
        "render one week over {items} items: median {:.1} ms, min {:.1} ms, max {:.1} ms (10 runs)",
        times[5], times[0], times[9]
    );
}

/// One source, `n` items one per minute from 2023-01-01; every 100th item is a story item,
/// a hundred items to an event (about a hundred events: a big story).
async fn fill(store: &Store, n: i64) {
    let pool = store.pool();
    sqlx::query(
        "INSERT INTO sources (id, kind, config_url, url, interval_secs, created_at) \
         VALUES ('bench', 'feed', 'http://127.0.0.1/', 'http://127.0.0.1/', 3600, 0)",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
         INSERT INTO items (source_id, guid, url, canonical_url, title, summary, published_at, \
             first_seen_at, content_hash) \
         SELECT 'bench', 'g' || i, 'http://example.org/' || i, 'http://example.org/' || i, \
             CASE WHEN i % 100 = 0 THEN 'Llama 4 development number ' || (i / 10000) \
                  ELSE 'Unrelated item ' || i END, \
             '<p>Summary of item ' || i || '. A second sentence follows here.</p>', \
             1672531200 + i * 60, 1672531200 + i * 60, 'h' || i FROM n",
    )
    .bind(n)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO story_items (story_id, item_id, relevant, score, reason, summary, at, \
             seen_hash, terms, event_id, decided_at) \
         SELECT 'llama-4', id, CASE WHEN id % 100 = 0 THEN 1 ELSE 0 END, 0, 'bench', '', \
             published_at, content_hash, '', \
             CASE WHEN id % 100 = 0 THEN 'ev-' || (id / 10000) END, 0 FROM items",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO story_events (story_id, event_id, founder_item, first_at, last_at, \
             headline, created_at) \
         SELECT 'llama-4', event_id, MIN(item_id), MIN(at), MAX(at), 'Event', 0 \
         FROM story_items WHERE event_id IS NOT NULL GROUP BY event_id",
    )
    .execute(pool)
    .await
    .unwrap();
}
