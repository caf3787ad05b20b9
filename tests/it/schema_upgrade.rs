//! Schema upgrades: a database left by every earlier state (migrations 0001 … 0006 applied in
//! turn, and main's 0008 and 0009 without 0007, as the binaries of that time applied them,
//! and filled with data: sources, items, decisions, events, subscribers, digests, deliveries)
//! opens with today's binary, migrates, and keeps every row it had; then work on it that polls
//! nothing (explaining an item, draining the outbox) does what it should with the old rows.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::str::FromStr as _;

use sha2::{Digest as _, Sha384};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;
use support::mime::Part;
use support::smtp_sink::SmtpSink;

const SECRET: &str = "upgrade-test-secret-upgrade-test-secret-01";
/// Every earlier state: the migrations applied. 0001 … 0006 in turn, and main before 0007
/// joined it (0008 and then 0009 applied, 0007 not: 0007 is then applied after them).
const EARLIER: [&[i64]; 8] = [
    &[1],
    &[1, 2],
    &[1, 2, 3],
    &[1, 2, 3, 4],
    &[1, 2, 3, 4, 5],
    &[1, 2, 3, 4, 5, 6],
    &[1, 2, 3, 4, 5, 6, 8],
    &[1, 2, 3, 4, 5, 6, 8, 9],
];

fn migrations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

fn write_config(dir: &Path, smtp_port: u16) -> PathBuf {
    let toml = format!(
        "database = \"{}\"\n\
         [web]\nbase_url = \"http://127.0.0.1:8080/\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\ntimeout = \"10s\"\n\
         from = \"Storyline <digest@storyline.test>\"\n\
         [mail]\nsecret = \"{SECRET}\"\nrate_per_second = 200\n\
         [[story]]\nid = \"llama-4\"\ntitle = \"Meta's Llama 4 release\"\nphrases = [\"Llama 4\"]\n",
        dir.join("old.db").display()
    );
    let path = dir.join("storyline.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

async fn pool(db: &Path) -> SqlitePool {
    let opts = SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(db)
        .create_if_missing(true)
        .foreign_keys(true);
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap()
}

/// The data an install at migration `level` could hold, written with that level's columns
/// only. Times are unix seconds around 2025-04-14.
fn data_for(level: i64, fingerprint: &str) -> Vec<String> {
    let mut sql = vec![
        "INSERT INTO sources (id, kind, config_url, url, interval_secs, etag, last_fetch_at, \
             last_success_at, last_status, created_at) VALUES \
         ('news', 'feed', 'http://127.0.0.1:9/news.xml', 'http://127.0.0.1:9/news.xml', 3600, \
             '\"e1\"', 1744600000, 1744600000, 'ok', 1744000000), \
         ('blog', 'feed', 'http://127.0.0.1:9/blog.xml', 'http://127.0.0.1:9/blog.xml', 7200, \
             NULL, 1744600100, 1744600100, 'ok', 1744000000)"
            .to_string(),
        "INSERT INTO items (id, source_id, guid, url, canonical_url, title, summary, \
             published_at, first_seen_at, content_hash) VALUES \
         (1, 'news', 'n1', 'https://news.example.org/scout', 'https://news.example.org/scout', \
             'Meta releases Llama 4 Scout and Maverick', 'Open weights, two sizes.', \
             1743850000, 1744600000, 'h1'), \
         (2, 'blog', 'b1', 'https://blog.example.org/llama', 'https://blog.example.org/llama', \
             'Hands on with Llama 4 Scout', 'We tried Scout and Maverick.', \
             1743900000, 1744600100, 'h2'), \
         (3, 'news', 'n2', 'https://news.example.org/garden', NULL, \
             'Spring gardening tips', 'Tomatoes.', 1743950000, 1744600000, 'h3'), \
         (4, 'blog', 'b2', 'https://blog.example.org/behemoth', NULL, \
             'Llama 4 Behemoth still training', NULL, 1744500000, 1744600100, 'h4')"
            .to_string(),
    ];
    if level >= 2 {
        sql.push(format!(
            "INSERT INTO story_defs (story_id, fingerprint, changed_at) VALUES \
             ('llama-4', '{fingerprint}', 1744000000)"
        ));
        sql.push(
            "INSERT INTO story_items (story_id, item_id, relevant, score, reason, summary, at, \
                 seen_hash, terms, event_id, joined, peer_item, similarity, decided_at) VALUES \
             ('llama-4', 1, 1, 4.0, 'named', 'Llama 4 in the title', 1743850000, 'h1', 'meta 1', \
                 'ev-scout', 'founded', NULL, NULL, 1744600200), \
             ('llama-4', 2, 1, 3.5, 'named', 'Llama 4 in the title', 1743900000, 'h2', 'scout 1', \
                 'ev-scout', 'similar', 1, 0.42, 1744600200), \
             ('llama-4', 3, 0, 0.0, 'other', '', 1743950000, 'h3', '', NULL, NULL, NULL, NULL, \
                 1744600200)"
                .to_string(),
        );
        sql.push(
            "INSERT INTO story_events (story_id, event_id, founder_item, first_at, last_at, \
                 headline, created_at) VALUES \
             ('llama-4', 'ev-scout', 1, 1743850000, 1743900000, \
                 'Meta releases Llama 4 Scout and Maverick', 1744600200)"
                .to_string(),
        );
        sql.push(
            "INSERT INTO story_updates (story_id, item_id, event_id, updated_at, at, note) \
             VALUES ('llama-4', 1, 'ev-scout', 1744550000, 1744550000, 'benchmarks added')"
                .to_string(),
        );
        sql.push(
            "INSERT INTO story_fetches (source_id, last_fetch_at, prev_fetch_at) VALUES \
             ('news', 1744600000, 1744596400), ('blog', 1744600100, NULL)"
                .to_string(),
        );
    }
    if level >= 3 {
        sql.push(
            "INSERT INTO subscribers (id, email, created_at, confirm_sent_at) VALUES \
             (1, 'sent@example.org', 1744000000, NULL), \
             (2, 'crashed@example.org', 1744000000, NULL), \
             (3, 'pending@example.org', 1744000000, NULL), \
             (4, 'failed@example.org', 1744000000, NULL), \
             (5, 'left@example.org', 1744000000, 1744000000)"
                .to_string(),
        );
        sql.push(
            "INSERT INTO subscriptions (subscriber_id, story_id, state, origin, created_at, \
                 confirmed_at, unsubscribed_at) VALUES \
             (1, 'llama-4', 'confirmed', 'operator', 1744000000, 1744000000, NULL), \
             (2, 'llama-4', 'confirmed', 'web', 1744000000, 1744000100, NULL), \
             (3, 'llama-4', 'confirmed', 'operator', 1744000000, 1744000000, NULL), \
             (4, 'llama-4', 'confirmed', 'operator', 1744000000, 1744000000, NULL), \
             (5, 'llama-4', 'unsubscribed', 'web', 1744000000, 1744000100, 1744300000)"
                .to_string(),
        );
        sql.push(
            "INSERT INTO digests (id, story_id, week, subject, text, html, chart_png, \
                 composed_at) VALUES \
             (1, 'llama-4', '2025-W15', 'Llama 4: week 15', 'Llama 4 this week.\n', \
                 '<html><body><p>Llama 4 this week.</p></body></html>', X'89504E47', 1744610000)"
                .to_string(),
        );
        // One sent, one left `sending` by a crash (no lease: before leases existed), one due,
        // one given up.
        sql.push(
            "INSERT INTO deliveries (id, digest_id, subscriber_id, message_id, state, attempts, \
                 next_attempt_at, last_reply, created_at, updated_at, sent_at) VALUES \
             (1, 1, 1, '<1.1.aaaa@storyline.test>', 'sent', 1, 1744610000, '250 ok', \
                 1744610000, 1744610001, 1744610001), \
             (2, 1, 2, '<1.2.bbbb@storyline.test>', 'sending', 1, 1744610000, NULL, \
                 1744610000, 1744610002, NULL), \
             (3, 1, 3, '<1.3.cccc@storyline.test>', 'pending', 1, 1744610060, \
                 '451 greylisted', 1744610000, 1744610003, NULL), \
             (4, 1, 4, '<1.4.dddd@storyline.test>', 'failed', 1, 1744610000, \
                 '550 no such user', 1744610000, 1744610004, NULL)"
                .to_string(),
        );
    }
    if level >= 4 {
        sql.push(
            "INSERT INTO digest_runs (story_id, last_fire_at) VALUES ('llama-4', 1744610000)"
                .to_string(),
        );
    }
    if level >= 5 {
        // Item 4 was stored after the last story round.
        sql.push("INSERT INTO story_queue (item_id, quiet_under) VALUES (4, NULL)".to_string());
    }
    sql
}

/// Every user table's rows, each column written by SQLite's `quote()`, keyed by table; only
/// the columns the table had at `level` (`columns`).
async fn snapshot(
    pool: &SqlitePool,
    columns: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (table, cols) in columns {
        let expr = cols
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let q = format!("SELECT {expr} FROM \"{table}\" ORDER BY rowid");
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(q))
            .fetch_all(pool)
            .await
            .unwrap();
        out.insert(table.clone(), rows.into_iter().map(|r| r.0).collect());
    }
    out
}

/// The user tables and their columns.
async fn tables(pool: &SqlitePool) -> BTreeMap<String, Vec<String>> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name != '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for (name,) in names {
        let cols: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info(?1)")
            .bind(&name)
            .fetch_all(pool)
            .await
            .unwrap();
        out.insert(name, cols.into_iter().map(|c| c.0).collect());
    }
    out
}

fn storyline(config: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("STORYLINE_CONFIG")
        .env_remove("STORYLINE_NOW")
        .env_remove("STORYLINE_SECRET")
        .env("STORYLINE_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Run the binary off the runtime's threads (the SMTP sink runs on them).
async fn run(config: &Path, args: &[&str]) -> Output {
    let child = storyline(config, args);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "storyline {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One earlier state: build it, upgrade it with the binary, check every row and that the old
/// rows still work.
async fn upgrade_from(state: &[i64]) {
    // The data of the newest state its tables allow (0008 and 0009 get none of their own).
    let level = state.iter().copied().filter(|v| *v <= 6).max().unwrap();
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = write_config(dir.path(), sink.port());
    let config = storyline::config::Config::load(Some(&config_path)).unwrap();
    let fingerprint = storyline::story::StoryDef::all_from(&config).unwrap()[0].fingerprint();
    let db = dir.path().join("old.db");

    // Arrange: the database as the binary of that time left it.
    let old = pool(&db).await;
    let all = Migrator::new(migrations_dir()).await.unwrap();
    Migrator::with_migrations(
        all.iter()
            .filter(|m| state.contains(&m.version))
            .cloned()
            .collect(),
    )
    .run(&old)
    .await
    .unwrap();
    for stmt in data_for(level, &fingerprint) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(stmt))
            .execute(&old)
            .await
            .unwrap_or_else(|e| panic!("state {state:?}: {e}"));
    }
    let columns = tables(&old).await;
    let before = snapshot(&old, &columns).await;
    old.close().await;

    // Act: today's binary opens it (and migrates); nothing here processes stories.
    let listed = run(&config_path, &["subscribers", "list", "--json"]).await;

    // Assert: every table and every column it had, row for row.
    let new = pool(&db).await;
    let (applied,): (i64,) = sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&new)
        .await
        .unwrap();
    let latest = Migrator::new(migrations_dir())
        .await
        .unwrap()
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap();
    assert_eq!(applied, latest, "state {state:?}: migrated to the latest");
    let after = snapshot(&new, &columns).await;
    for (table, rows) in &before {
        assert_eq!(
            after.get(table),
            Some(rows),
            "state {state:?}: table {table} changed"
        );
    }
    let count = |t: &str| before.get(t).map_or(0, Vec::len);
    assert_eq!(count("items"), 4, "level {level}");
    if level >= 2 {
        assert_eq!(count("story_items"), 3, "level {level}");
    }
    if level >= 3 {
        assert_eq!(count("deliveries"), 4, "level {level}");
        let text = String::from_utf8_lossy(&listed.stdout);
        assert!(
            text.contains("crashed@example.org"),
            "level {level}: {text}"
        );
    }
    // An install from before the story queue has every item looked at once more.
    let (queued,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM story_queue")
        .fetch_one(&new)
        .await
        .unwrap();
    assert_eq!(queued, if level >= 5 { 1 } else { 4 }, "level {level}");
    let (integrity,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&new)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    new.close().await;

    // The old rows work: explaining an item brings the story up to date and keeps what was
    // decided under the same definition; draining sends what was due or interrupted, and
    // nothing twice.
    let explained = run(&config_path, &["explain", "2"]).await;
    let text = String::from_utf8_lossy(&explained.stdout);
    assert!(text.contains("story llama-4"), "level {level}: {text}");
    if level >= 2 {
        assert!(text.contains("event ev-scout"), "level {level}: {text}");
    }
    if level >= 3 {
        run(&config_path, &["mail", "drain"]).await;
        let got: BTreeMap<String, String> = sink
            .received()
            .iter()
            .map(|r| {
                let id = Part::parse(&r.data).header("Message-ID").unwrap();
                (r.rcpt_to.join(","), id)
            })
            .collect();
        assert_eq!(sink.received_count(), 2, "level {level}: {got:?}");
        assert_eq!(
            got,
            BTreeMap::from([
                (
                    "crashed@example.org".to_string(),
                    "<1.2.bbbb@storyline.test>".to_string()
                ),
                (
                    "pending@example.org".to_string(),
                    "<1.3.cccc@storyline.test>".to_string()
                ),
            ]),
            "level {level}: what was due or interrupted, under its stored Message-ID"
        );
    }
    let new = pool(&db).await;
    let decided: Vec<(i64, Option<String>)> = sqlx::query_as(
        "SELECT item_id, event_id FROM story_items WHERE story_id = 'llama-4' ORDER BY item_id",
    )
    .fetch_all(&new)
    .await
    .unwrap();
    new.close().await;
    if level >= 2 {
        assert_eq!(
            decided[..2],
            [(1, Some("ev-scout".into())), (2, Some("ev-scout".into()))],
            "level {level}: decisions kept"
        );
    }
    assert!(
        decided.iter().any(|(id, _)| *id == 4),
        "level {level}: the queued item was decided: {decided:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_from_every_earlier_migration_open_migrate_and_keep_their_rows() {
    for state in EARLIER {
        upgrade_from(state).await;
    }
}

/// A migration that is in use must never change: sqlx refuses to open a database whose
/// recorded checksum differs from the embedded file's ("previously applied but has been
/// modified"). These are SHA-384 of the files of the earlier states above; a new migration
/// joins the list once it is on main.
#[test]
fn migrations_in_use_are_unchanged() {
    let in_use = [
        (
            "0001_init.sql",
            "7e2fb1b4d52026c269bc666193403ae819f9ab0c3fbc6b82ef9129b0dc5b44bfd835218b518da54c6d83f6a459661806",
        ),
        (
            "0002_story.sql",
            "d3de3e886b750d7f8761bb23fdfe1e6ff149126a13ec63f98779358fc56b287c6400a01e574a4ddaef72e29933091326",
        ),
        (
            "0003_mail.sql",
            "519070cf9207fe301b20ce20fc2c3e68b81fd50a26b8c8f1cf5d517849092f378ef63fc1e1cdbb15933441cce705c8d4",
        ),
        (
            "0004_schedule.sql",
            "405503f8e42c2a5c0a8ecc1efbcf69bd88aff3399b54be77954e60bb151922d40d68ca8d2edb89fb934e7a9f0ac1655c",
        ),
        (
            "0005_story_queue.sql",
            "6c2a16e627fb07ac3a95ee0e035595d1b6e769b969413545ad3dfc63a607d5cacead808c3aa79fbc96242350cc7a1a7f",
        ),
        (
            "0006_report_members.sql",
            "496e3485c8886f7647b8ca1ebf7f1ba9b73b558a1574272eb9d79db6c6450695320502b7f3ac7b16f714d79671d594c5",
        ),
        (
            "0008_story_shown.sql",
            "25cc4f3be070f4db79a0ab952c716234be8b39cd1671adcf86811d73962f75fb331a4f260539b1fc5dfede3c7b553a5d",
        ),
        (
            "0009_alerts.sql",
            "43c39b2d037b5b39be279517273514bce1a38762e90a625319763b252cae745e381259dfb9f9bd9b7b26c6316a1c2862",
        ),
    ];
    for (file, want) in in_use {
        let text = std::fs::read(migrations_dir().join(file)).unwrap();
        let got: String = Sha384::digest(&text)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            got, want,
            "{file} changed after databases were made with it"
        );
    }
}
