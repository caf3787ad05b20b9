//! The `items` table: one row per (source, guid); new items inserted, changed ones updated in
//! place, unchanged ones left alone.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{from_ts, to_ts, Result, Store};

/// An item ready to store: identity, fields and content hash, computed by `refresh`.
#[derive(Debug, Clone, Default)]
pub struct NewItem {
    pub guid: String,
    pub url: Option<String>,
    pub canonical_url: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub author: Option<String>,
    pub outlet_name: Option<String>,
    pub outlet_url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub content_hash: String,
    pub parent_guid: Option<String>,
    pub points: Option<i64>,
    pub comments: Option<i64>,
    pub discussion_url: Option<String>,
    /// What changed, when this replaces an earlier version (pages: "2 paragraphs added").
    pub change_note: Option<String>,
    /// The key of the story screen ([`crate::story::Screen`]) that found no story could take
    /// this item; `None` when unscreened, or when some story may.
    pub quiet_under: Option<i64>,
}

/// A stored item.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemRow {
    pub id: i64,
    pub source_id: String,
    pub guid: String,
    pub url: Option<String>,
    pub canonical_url: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub author: Option<String>,
    pub outlet_name: Option<String>,
    pub outlet_url: Option<String>,
    pub published_at: Option<i64>,
    pub first_seen_at: i64,
    pub updated_at: Option<i64>,
    pub change_note: Option<String>,
    pub content_hash: String,
    pub parent_guid: Option<String>,
    pub points: Option<i64>,
    pub comments: Option<i64>,
    pub discussion_url: Option<String>,
}

impl ItemRow {
    pub fn published(&self) -> Option<DateTime<Utc>> {
        self.published_at.map(from_ts)
    }

    pub fn first_seen(&self) -> DateTime<Utc> {
        from_ts(self.first_seen_at)
    }

    /// The time a week is chosen by: published when known, else first seen.
    pub fn effective_time(&self) -> DateTime<Utc> {
        self.published().unwrap_or_else(|| self.first_seen())
    }
}

/// What storing one poll's items did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOutcome {
    /// Row ids of items inserted now.
    pub new: Vec<i64>,
    /// Row ids of items whose content changed.
    pub updated: Vec<i64>,
    /// New items left out because the per-poll cap was reached.
    pub over_cap: usize,
}

/// The column list of [`ItemRow`], as a macro so queries stay `&'static str`.
macro_rules! item_columns {
    () => {
        "id, source_id, guid, url, canonical_url, title, summary, content, author, outlet_name, \
         outlet_url, published_at, first_seen_at, updated_at, change_note, content_hash, \
         parent_guid, points, comments, discussion_url"
    };
}

impl Store {
    /// Store one poll's items for a source in a single transaction: a crash leaves either all
    /// of them or none. At most `max_new` new items are inserted.
    pub async fn store_items(
        &self,
        source_id: &str,
        items: &[NewItem],
        now: DateTime<Utc>,
        max_new: usize,
    ) -> Result<StoreOutcome> {
        if items.is_empty() {
            return Ok(StoreOutcome::default());
        }
        let mut tx = self.pool.begin().await?;
        let out = store_items_in(&mut tx, source_id, items, now, max_new).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub async fn item(&self, id: i64) -> Result<ItemRow> {
        const Q: &str = concat!("SELECT ", item_columns!(), " FROM items WHERE id = ?1");
        Ok(sqlx::query_as(Q).bind(id).fetch_one(&self.pool).await?)
    }

    /// Items whose link or canonical URL is `url`.
    pub async fn items_by_url(&self, url: &str) -> Result<Vec<ItemRow>> {
        const Q: &str = concat!(
            "SELECT ",
            item_columns!(),
            " FROM items WHERE url = ?1 OR canonical_url = ?1 ORDER BY id"
        );
        Ok(sqlx::query_as(Q).bind(url).fetch_all(&self.pool).await?)
    }

    pub async fn items_of_source(&self, source_id: &str) -> Result<Vec<ItemRow>> {
        let mut conn = self.pool.acquire().await?;
        items_of_source_in(&mut conn, source_id).await
    }

    pub async fn count_items(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}

pub(super) async fn items_of_source_in(
    conn: &mut sqlx::SqliteConnection,
    source_id: &str,
) -> Result<Vec<ItemRow>> {
    const Q: &str = concat!(
        "SELECT ",
        item_columns!(),
        " FROM items WHERE source_id = ?1 ORDER BY id"
    );
    Ok(sqlx::query_as(Q)
        .bind(source_id)
        .fetch_all(&mut *conn)
        .await?)
}

/// Store one poll's items for a source on `conn` (inside the caller's transaction). At most
/// `max_new` new items are inserted.
pub(super) async fn store_items_in(
    conn: &mut sqlx::SqliteConnection,
    source_id: &str,
    items: &[NewItem],
    now: DateTime<Utc>,
    max_new: usize,
) -> Result<StoreOutcome> {
    let mut out = StoreOutcome::default();
    if items.is_empty() {
        return Ok(out);
    }
    let known: HashMap<String, (i64, String)> = sqlx::query_as::<_, (String, i64, String)>(
        "SELECT guid, id, content_hash FROM items WHERE source_id = ?1",
    )
    .bind(source_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(g, id, h)| (g, (id, h)))
    .collect();
    let mut seen_now = std::collections::HashSet::new();
    let mut fresh: Vec<&NewItem> = Vec::new();
    let mut queued: Vec<(i64, Option<i64>)> = Vec::new();
    for it in items {
        // A feed listing the same guid twice stores it once (the first wins).
        if !seen_now.insert(it.guid.as_str()) {
            continue;
        }
        match known.get(&it.guid) {
            Some((_, hash)) if *hash == it.content_hash => {}
            Some((id, _)) => {
                update_item(&mut *conn, *id, it, now).await?;
                out.updated.push(*id);
                queued.push((*id, it.quiet_under));
            }
            None if fresh.len() >= max_new => out.over_cap += 1,
            None => fresh.push(it),
        }
    }
    // Many rows per statement: each statement is a round trip to sqlx's SQLite thread,
    // which costs more than the insert itself.
    for chunk in fresh.chunks(INSERT_BATCH) {
        let ids = insert_items(&mut *conn, source_id, chunk, now).await?;
        queued.extend(ids.iter().copied());
        out.new.extend(ids.into_iter().map(|(id, _)| id));
    }
    // Story processing picks up from the queue what changed here.
    for chunk in queued.chunks(INSERT_BATCH) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT OR REPLACE INTO story_queue (item_id, quiet_under) ",
        );
        q.push_values(chunk, |mut row, (id, quiet)| {
            row.push_bind(id).push_bind(quiet);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(out)
}

/// Rows per multi-row INSERT (17 parameters each, far under SQLite's limit).
const INSERT_BATCH: usize = 64;

/// Insert `items` in one statement; returns their row ids (with their screen key) in the
/// same order.
async fn insert_items(
    tx: &mut sqlx::SqliteConnection,
    source_id: &str,
    items: &[&NewItem],
    now: DateTime<Utc>,
) -> Result<Vec<(i64, Option<i64>)>> {
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO items (source_id, guid, url, canonical_url, title, summary, content, author, \
             outlet_name, outlet_url, published_at, first_seen_at, content_hash, parent_guid, \
             points, comments, discussion_url) ",
    );
    q.push_values(items, |mut row, it| {
        row.push_bind(source_id)
            .push_bind(&it.guid)
            .push_bind(&it.url)
            .push_bind(&it.canonical_url)
            .push_bind(&it.title)
            .push_bind(&it.summary)
            .push_bind(&it.content)
            .push_bind(&it.author)
            .push_bind(&it.outlet_name)
            .push_bind(&it.outlet_url)
            .push_bind(it.published_at.map(to_ts))
            .push_bind(to_ts(now))
            .push_bind(&it.content_hash)
            .push_bind(&it.parent_guid)
            .push_bind(it.points)
            .push_bind(it.comments)
            .push_bind(&it.discussion_url);
    });
    q.push(" RETURNING id, guid");
    let rows: Vec<(i64, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
    // RETURNING order is not promised; match rows back by guid (unique within the batch).
    let by_guid: HashMap<&str, i64> = rows.iter().map(|(id, g)| (g.as_str(), *id)).collect();
    Ok(items
        .iter()
        .filter_map(|it| {
            by_guid
                .get(it.guid.as_str())
                .map(|&id| (id, it.quiet_under))
        })
        .collect())
}

async fn update_item(
    tx: &mut sqlx::SqliteConnection,
    id: i64,
    it: &NewItem,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE items SET url = ?2, canonical_url = ?3, title = ?4, summary = ?5, content = ?6, \
             author = ?7, outlet_name = ?8, outlet_url = ?9, \
             published_at = COALESCE(?10, published_at), updated_at = ?11, content_hash = ?12, \
             parent_guid = ?13, points = ?14, comments = ?15, discussion_url = ?16, \
             change_note = ?17 \
         WHERE id = ?1",
    )
    .bind(id)
    .bind(&it.url)
    .bind(&it.canonical_url)
    .bind(&it.title)
    .bind(&it.summary)
    .bind(&it.content)
    .bind(&it.author)
    .bind(&it.outlet_name)
    .bind(&it.outlet_url)
    .bind(it.published_at.map(to_ts))
    .bind(to_ts(now))
    .bind(&it.content_hash)
    .bind(&it.parent_guid)
    .bind(it.points)
    .bind(it.comments)
    .bind(&it.discussion_url)
    .bind(&it.change_note)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
