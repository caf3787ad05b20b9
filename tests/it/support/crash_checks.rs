//! What must hold in the file a killed run left, and at the end of a crash trial: items
//! neither lost nor rolled back, story tables consistent (every item decided once, or
//! waiting in the queue, or holding nothing of the story; no event without members, no
//! member without its event), `storyline explain` working on it, and the outbox sending each
//! delivery at least once and resending it no more often than kills caught it in flight.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sqlx::SqliteConnection;

use super::changing_feeds::{names_story, version_of};
use super::crash::{finish, has_table, storyline};
use super::mime::Part;
use super::smtp_sink::Received;

/// (source, guid) -> (row id, version) of every stored item; empty before the schema exists.
pub async fn stored_versions(conn: &mut SqliteConnection) -> HashMap<(String, String), (i64, u32)> {
    if !has_table(conn, "items").await {
        return HashMap::new();
    }
    let rows: Vec<(String, String, i64, Option<String>)> =
        sqlx::query_as("SELECT source_id, guid, id, title FROM items")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(s, g, id, t)| {
            let v = t.as_deref().and_then(version_of).unwrap_or(0);
            ((s, g), (id, v))
        })
        .collect()
}

/// Items after a kill against before it and against what is served: nothing committed is
/// lost, moved to another row or rolled back to an older version, and nothing is newer than
/// what was served.
pub fn check_items(
    what: &str,
    before: &HashMap<(String, String), (i64, u32)>,
    now: &HashMap<(String, String), (i64, u32)>,
    served: &HashMap<String, u32>,
) {
    for (key, (id, v)) in before {
        let Some((id_now, v_now)) = now.get(key) else {
            panic!("{what}: {key:?} lost");
        };
        assert_eq!(id_now, id, "{what}: {key:?} moved to another row");
        assert!(
            v_now >= v,
            "{what}: {key:?} rolled back from v{v} to v{v_now}"
        );
    }
    for ((_, guid), (_, v)) in now {
        let Some(latest) = served.get(guid) else {
            panic!("{what}: {guid} was never served");
        };
        assert!(
            v <= latest,
            "{what}: {guid} v{v} is newer than served v{latest}"
        );
    }
}

/// Is every served item stored at the version served now?
pub fn all_current(
    now: &HashMap<(String, String), (i64, u32)>,
    served: &HashMap<String, u32>,
) -> bool {
    let stored: HashMap<&str, u32> = now
        .iter()
        .map(|((_, g), (_, v))| (g.as_str(), *v))
        .collect();
    served
        .iter()
        .all(|(g, v)| stored.get(g.as_str()) == Some(v))
}

/// The story tables as a kill left them.
#[derive(Debug, Default)]
pub struct StoryState {
    /// Broken invariants, each a sentence naming the item or event.
    pub problems: Vec<String>,
    /// The queue holds entries a finished story round would have drained: the round (or the
    /// ingest before it) was cut short.
    pub unfinished: bool,
    /// Items that name the story, queued with no current decision: at the end of a round,
    /// reports left to wait for reports like them.
    pub waiting: usize,
    /// Item id -> its event, for items in one.
    pub members: HashMap<i64, String>,
    pub decisions: usize,
    pub events: usize,
}

/// Check the story tables of `story` (which reads every source).
pub async fn story_state(conn: &mut SqliteConnection, story: &str) -> StoryState {
    let mut st = StoryState::default();
    if !has_table(conn, "story_queue").await {
        return st;
    }
    type Row = (
        i64,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<i64>,
        bool,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT i.id, i.title, i.content_hash, si.seen_hash, si.event_id, si.relevant, \
             q.item_id IS NOT NULL \
         FROM items i LEFT JOIN story_items si ON si.item_id = i.id AND si.story_id = ?1 \
             LEFT JOIN story_queue q ON q.item_id = i.id",
    )
    .bind(story)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for (id, title, hash, seen, event, relevant, queued) in rows {
        let names = title.as_deref().is_some_and(names_story);
        let current = seen.as_deref() == Some(hash.as_str());
        match (&seen, queued) {
            (Some(_), false) if !current => st.problems.push(format!(
                "item {id} changed since its decision and is not queued"
            )),
            (None, false) if names => st.problems.push(format!(
                "item {id} names the story, has no decision and is not queued"
            )),
            _ => {}
        }
        // A finished round leaves queued only the reports it left to wait, which name the
        // story and have no current decision.
        if queued && (!names || current) {
            st.unfinished = true;
        }
        if queued && names && !current {
            st.waiting += 1;
        }
        if seen.is_some() {
            st.decisions += 1;
            if relevant.is_some_and(|r| r != 0) != event.is_some() {
                st.problems.push(format!(
                    "item {id}: relevant is {relevant:?} but event is {event:?}"
                ));
            }
        }
        if let Some(e) = event {
            st.members.insert(id, e);
        }
    }
    let orphans: Vec<(String,)> = sqlx::query_as(
        "SELECT e.event_id FROM story_events e WHERE e.story_id = ?1 AND NOT EXISTS \
             (SELECT 1 FROM story_items si WHERE si.story_id = e.story_id \
              AND si.event_id = e.event_id)",
    )
    .bind(story)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for (e,) in orphans {
        st.problems.push(format!("event {e} has no members"));
    }
    let homeless: Vec<(i64, String)> = sqlx::query_as(
        "SELECT item_id, event_id FROM story_items si WHERE si.story_id = ?1 \
             AND si.event_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM story_events e \
             WHERE e.story_id = si.story_id AND e.event_id = si.event_id) \
         UNION ALL SELECT item_id, event_id FROM story_updates u WHERE u.story_id = ?1 \
             AND NOT EXISTS (SELECT 1 FROM story_events e \
             WHERE e.story_id = u.story_id AND e.event_id = u.event_id)",
    )
    .bind(story)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for (item, e) in homeless {
        st.problems.push(format!(
            "item {item} points at event {e}, which does not exist"
        ));
    }
    let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM story_events WHERE story_id = ?1")
        .bind(story)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    st.events = events as usize;
    st
}

/// `storyline explain ITEM` on a copy of the file a kill left (so the trial goes on from the
/// file as the kill left it): it runs, shows the story, and an item that was in an event
/// still is. `config` is the trial's config text, whose first line names the database.
pub async fn explain_works(
    what: &str,
    config: &str,
    db: &Path,
    scratch: &Path,
    item: i64,
    event: Option<&str>,
    now: &str,
) {
    let copy = scratch.join("copy.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
        let from = format!("{}{suffix}", db.display());
        if Path::new(&from).exists() {
            std::fs::copy(&from, format!("{}{suffix}", copy.display())).unwrap();
        }
    }
    let (_, rest) = config.split_once('\n').unwrap();
    let path = scratch.join("copy.toml");
    std::fs::write(&path, format!("database = \"{}\"\n{rest}", copy.display())).unwrap();
    let id = item.to_string();
    let out = finish(storyline(&path, &["--now", now, "explain", &id])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what}: explain {item}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with(&format!("item {item} ")) && text.contains("\nstory "),
        "{what}: explain {item}: {text}"
    );
    if let Some(e) = event {
        assert!(
            text.contains(&format!("  event {e}: ")),
            "{what}: explain {item} lost its event {e}: {text}"
        );
    }
}

/// A delivery as the outbox holds it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub digest_id: i64,
    pub email: String,
    pub state: String,
    pub message_id: String,
}

pub async fn deliveries(conn: &mut SqliteConnection) -> Vec<Delivery> {
    if !has_table(conn, "deliveries").await {
        return Vec::new();
    }
    let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
        "SELECT d.id, d.digest_id, s.email, d.state, d.message_id FROM deliveries d \
         JOIN subscribers s ON s.id = d.subscriber_id ORDER BY d.id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, digest_id, email, state, message_id)| Delivery {
            id,
            digest_id,
            email,
            state,
            message_id,
        })
        .collect()
}

/// What the SMTP server received, checked against the outbox.
#[derive(Debug, Default, Clone, Copy)]
pub struct Copies {
    pub deliveries: usize,
    pub messages: usize,
    /// Copies beyond the first, all under the delivery's one Message-ID and bytes.
    pub resent: usize,
    /// (digest, subscriber) pairs that got two different Message-IDs.
    pub two_ids: usize,
}

/// At the end of a trial: every delivery is `sent` and arrived, every copy carries its
/// delivery's Message-ID and the same bytes, nothing went to anyone else, and no delivery
/// arrived more often than once plus the kills that found it in flight (`in_flight`:
/// delivery id -> kills after which it was `sending`).
pub fn check_copies(
    what: &str,
    rows: &[Delivery],
    got: &[Received],
    in_flight: &HashMap<i64, usize>,
) -> Copies {
    let by_id: HashMap<&str, &Delivery> = rows.iter().map(|d| (d.message_id.as_str(), d)).collect();
    let mut copies: HashMap<i64, Vec<&Received>> = HashMap::new();
    let mut ids_of: HashMap<(i64, &str), HashSet<String>> = HashMap::new();
    for r in got {
        let id = Part::parse(&r.data).header("Message-ID").unwrap();
        let Some(d) = by_id.get(id.as_str()) else {
            panic!("{what}: a message no delivery has: {id} to {:?}", r.rcpt_to);
        };
        assert_eq!(
            r.rcpt_to,
            std::slice::from_ref(&d.email),
            "{what}: {id} to the wrong address"
        );
        copies.entry(d.id).or_default().push(r);
        ids_of
            .entry((d.digest_id, d.email.as_str()))
            .or_default()
            .insert(id);
    }
    let mut c = Copies {
        deliveries: rows.len(),
        messages: got.len(),
        two_ids: ids_of.values().filter(|s| s.len() > 1).count(),
        ..Copies::default()
    };
    for d in rows {
        assert_eq!(d.state, "sent", "{what}: {d:?}");
        let theirs = copies.get(&d.id).map_or(&[][..], Vec::as_slice);
        assert!(!theirs.is_empty(), "{what}: {} got nothing", d.email);
        assert!(
            theirs.iter().all(|r| r.data == theirs[0].data),
            "{what}: {}: every copy is the same message",
            d.email
        );
        let allowed = 1 + in_flight.get(&d.id).copied().unwrap_or(0);
        assert!(
            theirs.len() <= allowed,
            "{what}: {} got {} copies, but only {} kill(s) found it in flight",
            d.email,
            theirs.len(),
            allowed - 1
        );
        c.resent += theirs.len() - 1;
    }
    c
}
