//! Reading a story's decided items back: members by event, page, guid, source or period,
//! bounded per event.

use super::*;

impl Store {
    /// The latest members of `source_id` in the story's events, newest first (a release
    /// series continues in the event of its previous release).
    pub async fn story_source_members(
        &self,
        story_id: &str,
        source_id: &str,
        limit: i64,
    ) -> Result<Vec<MemberRow>> {
        Ok(sqlx::query_as(
            "SELECT si.item_id, si.joined, i.source_id, i.title, si.at, si.terms, si.event_id, \
                    e.first_at, e.last_at, i.url, i.canonical_url, i.discussion_url, i.guid \
             FROM items i \
             JOIN story_items si ON si.item_id = i.id AND si.story_id = ?1 \
             JOIN story_events e ON e.story_id = si.story_id AND e.event_id = si.event_id \
             WHERE i.source_id = ?2 ORDER BY si.at DESC, si.item_id DESC LIMIT ?3",
        )
        .bind(story_id)
        .bind(source_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Clustering words of every relevant item of the story (for document frequencies).
    ///
    /// One row at a time: a broad story has as many members as items, and only their counts
    /// are kept.
    pub fn story_terms<'a>(
        &'a self,
        story_id: &'a str,
    ) -> futures_util::stream::BoxStream<'a, Result<String>> {
        use futures_util::StreamExt as _;
        sqlx::query_as::<_, (String,)>(
            "SELECT terms FROM story_items WHERE story_id = ?1 AND relevant = 1 \
             AND event_id IS NOT NULL",
        )
        .bind(story_id)
        .fetch(&self.pool)
        .map(|r| r.map(|(t,)| t).map_err(crate::store::StoreError::from))
        .boxed()
    }

    /// Members of the story's events that were still active at `since` or later: of the
    /// `events` most recently active at most.
    pub async fn story_members_since(
        &self,
        story_id: &str,
        since: i64,
        events: i64,
    ) -> Result<Vec<MemberRow>> {
        Ok(sqlx::query_as(
            "SELECT si.item_id, si.joined, i.source_id, i.title, si.at, si.terms, si.event_id, \
                    e.first_at, e.last_at, i.url, i.canonical_url, i.discussion_url, i.guid \
             FROM story_events e \
             JOIN story_items si ON si.story_id = e.story_id AND si.event_id = e.event_id \
             JOIN items i ON i.id = si.item_id \
             WHERE e.story_id = ?1 AND e.event_id IN (SELECT event_id FROM story_events \
                   WHERE story_id = ?1 AND last_at >= ?2 ORDER BY last_at DESC LIMIT ?3) \
             ORDER BY si.at, si.item_id",
        )
        .bind(story_id)
        .bind(since)
        .bind(events)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A story item (in an event) whose page is `url`, with its event.
    pub async fn story_member_by_page(
        &self,
        story_id: &str,
        url: &str,
    ) -> Result<Option<MemberRow>> {
        Ok(sqlx::query_as(
            "SELECT si.item_id, si.joined, i.source_id, i.title, si.at, si.terms, si.event_id, \
                    e.first_at, e.last_at, i.url, i.canonical_url, i.discussion_url, i.guid \
             FROM items i \
             JOIN story_items si ON si.item_id = i.id AND si.story_id = ?1 \
             JOIN story_events e ON e.story_id = si.story_id AND e.event_id = si.event_id \
             WHERE i.canonical_url = ?2 ORDER BY si.at LIMIT 1",
        )
        .bind(story_id)
        .bind(url)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Which of these page keys (canonical URLs) are pages of the story's event members.
    pub async fn story_member_pages_among(
        &self,
        story_id: &str,
        keys: &[&str],
    ) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        for chunk in keys.chunks(EVENT_BATCH) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT DISTINCT i.canonical_url FROM items i \
                 JOIN story_items si ON si.item_id = i.id AND si.story_id = ",
            );
            q.push_bind(story_id)
                .push(" WHERE si.event_id IS NOT NULL AND i.canonical_url IN ");
            push_in_list(&mut q, chunk.iter().copied());
            let rows: Vec<(String,)> = q.build_query_as().fetch_all(&self.pool).await?;
            out.extend(rows.into_iter().map(|(u,)| u));
        }
        Ok(out)
    }

    /// A story item (in an event) of `source_id` with this guid (a comment's parent).
    pub async fn story_member_by_guid(
        &self,
        story_id: &str,
        source_id: &str,
        guid: &str,
    ) -> Result<Option<MemberRow>> {
        Ok(sqlx::query_as(
            "SELECT si.item_id, si.joined, i.source_id, i.title, si.at, si.terms, si.event_id, \
                    e.first_at, e.last_at, i.url, i.canonical_url, i.discussion_url, i.guid \
             FROM items i \
             JOIN story_items si ON si.item_id = i.id AND si.story_id = ?1 \
             JOIN story_events e ON e.story_id = si.story_id AND e.event_id = si.event_id \
             WHERE i.source_id = ?2 AND i.guid = ?3 LIMIT 1",
        )
        .bind(story_id)
        .bind(source_id)
        .bind(guid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Members of the given events with their items, grouped by event, oldest first within
    /// each.
    pub async fn story_event_members(
        &self,
        story_id: &str,
        event_ids: &[String],
    ) -> Result<Vec<ReportMember>> {
        let mut out = Vec::new();
        // A round can touch thousands of events: many per statement, not one each.
        for chunk in event_ids.chunks(EVENT_BATCH) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
                "SELECT si.event_id, si.at, si.terms, ",
                item_columns_i!(),
                " FROM story_items si JOIN items i ON i.id = si.item_id WHERE si.story_id = "
            ));
            q.push_bind(story_id).push(" AND si.event_id IN ");
            push_in_list(&mut q, chunk);
            q.push(" ORDER BY si.event_id, si.at, i.id");
            out.extend(
                q.build_query_as::<ReportMember>()
                    .fetch_all(&self.pool)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The first `per_event` members (by time, then item) of each of these events, narrow:
    /// what choosing a headline reads. With `shown_before`, only members shown before it (a
    /// digest's headline pool, which reads the same whenever the week is rendered).
    pub async fn story_event_heads(
        &self,
        story_id: &str,
        event_ids: &[String],
        per_event: usize,
        shown_before: Option<i64>,
    ) -> Result<Vec<HeadlineMember>> {
        let mut out = Vec::new();
        for chunk in event_ids.chunks(EVENT_BATCH) {
            // Per event, the first entries of its member index and no more (a subquery
            // correlated with each member would read an event's members once per member). The
            // index is named: left to itself the planner scans every member shown before the
            // end once per event (1.9 s instead of 0.07 s on the render benchmark's database).
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("WITH e(event_id) AS (VALUES ");
            let mut ids = q.separated(", ");
            for id in chunk {
                ids.push("(")
                    .push_bind_unseparated(id)
                    .push_unseparated(")");
            }
            q.push(
                ") SELECT si.event_id, si.at, COALESCE(si.shown_at, si.at) AS shown_at, \
                        si.terms, si.item_id, i.guid, i.url, i.title, i.outlet_name, \
                        i.parent_guid, i.points, i.comments, i.discussion_url \
                 FROM e JOIN story_items si ON si.rowid IN (SELECT f.rowid FROM story_items f \
                     INDEXED BY story_items_event_at WHERE f.story_id = ",
            );
            q.push_bind(story_id).push(" AND f.event_id = e.event_id");
            if let Some(until) = shown_before {
                q.push(" AND f.shown_at < ").push_bind(until);
            }
            q.push(" ORDER BY f.at, f.item_id LIMIT ")
                .push_bind(i64::try_from(per_event).unwrap_or(i64::MAX))
                .push(") JOIN items i ON i.id = si.item_id")
                .push(" ORDER BY si.event_id, si.at, si.item_id");
            out.extend(
                q.build_query_as::<HeadlineMember>()
                    .fetch_all(&self.pool)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The founding item of each of these events that the store has.
    pub async fn story_event_founders(
        &self,
        story_id: &str,
        event_ids: &[String],
    ) -> Result<HashMap<String, i64>> {
        let mut out = HashMap::new();
        for chunk in event_ids.chunks(EVENT_BATCH) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT event_id, founder_item FROM story_events WHERE story_id = ",
            );
            q.push_bind(story_id).push(" AND event_id IN ");
            push_in_list(&mut q, chunk);
            let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&self.pool).await?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// The first `per_event` members (by time, then item) of each of the story's events among
    /// those counted before `until`, oldest first.
    pub async fn story_first_members(
        &self,
        story_id: &str,
        until: i64,
        per_event: usize,
    ) -> Result<Vec<HeadlineMember>> {
        // Per event, the ranking reads its first entries of the member index and stops; rows
        // and items are looked up only for the members it keeps, by the rowid the index
        // holds (the (story, item) key would cost a second B-tree search per member). The
        // index is named: left to itself the planner scans every member shown before the
        // end once per event (1.9 s instead of 0.07 s on the render benchmark's database).
        const Q: &str = "SELECT si.event_id, si.at, COALESCE(si.shown_at, si.at) AS shown_at, \
                    si.terms, si.item_id, i.guid, i.url, i.title, \
                    i.outlet_name, i.parent_guid, i.points, i.comments, i.discussion_url \
             FROM (SELECT DISTINCT event_id FROM story_items \
                   WHERE story_id = ?1 AND event_id IS NOT NULL) e \
             JOIN story_items si ON si.rowid IN \
                  (SELECT f.rowid FROM story_items f INDEXED BY story_items_event_at \
                   WHERE f.story_id = ?1 AND f.event_id = e.event_id AND f.shown_at < ?2 \
                   ORDER BY f.at, f.item_id LIMIT ?3) \
             JOIN items i ON i.id = si.item_id \
             ORDER BY si.at, si.item_id";
        Ok(sqlx::query_as(Q)
            .bind(story_id)
            .bind(until)
            .bind(i64::try_from(per_event).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?)
    }

    /// The members a period `[from, until)` shows, with their items, oldest first: those
    /// counted in it, and older ones whose page changed in it.
    pub async fn story_period_members(
        &self,
        story_id: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<ReportMember>> {
        const Q: &str = concat!(
            "SELECT si.event_id, si.at, si.terms, ",
            item_columns_i!(),
            " FROM story_items si JOIN items i ON i.id = si.item_id \
             WHERE si.story_id = ?1 AND si.event_id IS NOT NULL AND si.shown_at < ?3 \
               AND (si.shown_at >= ?2 OR si.item_id IN (SELECT item_id FROM story_updates \
                    WHERE story_id = ?1 AND at >= ?2 AND at < ?3)) \
             ORDER BY si.at, i.id"
        );
        Ok(sqlx::query_as(Q)
            .bind(story_id)
            .bind(from)
            .bind(until)
            .fetch_all(&self.pool)
            .await?)
    }

    /// When each relevant item of the story counts, for items counted in `[from, until)`.
    pub async fn story_item_times(
        &self,
        story_id: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT at FROM story_items \
             WHERE story_id = ?1 AND relevant = 1 AND at >= ?2 AND at < ?3",
        )
        .bind(story_id)
        .bind(from)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// Page updates of the story's items counted in `[from, until)`.
    pub async fn story_updates_between(
        &self,
        story_id: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<UpdateRow>> {
        Ok(sqlx::query_as(
            "SELECT story_id, item_id, event_id, updated_at, at, note FROM story_updates \
             WHERE story_id = ?1 AND at >= ?2 AND at < ?3 ORDER BY at, item_id",
        )
        .bind(story_id)
        .bind(from)
        .bind(until)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every story's decision about one item.
    pub async fn story_decisions_of(&self, item_id: i64) -> Result<Vec<DecisionRow>> {
        Ok(sqlx::query_as(
            "SELECT story_id, item_id, relevant, score, reason, summary, at, \
                    COALESCE(shown_at, at) AS shown_at, seen_hash, terms, \
                    event_id, joined, peer_item, similarity, shared \
             FROM story_items WHERE item_id = ?1 ORDER BY story_id",
        )
        .bind(item_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One event.
    pub async fn story_event(&self, story_id: &str, event_id: &str) -> Result<EventRow> {
        Ok(sqlx::query_as(
            "SELECT story_id, event_id, founder_item, first_at, last_at, headline \
             FROM story_events WHERE story_id = ?1 AND event_id = ?2",
        )
        .bind(story_id)
        .bind(event_id)
        .fetch_one(&self.pool)
        .await?)
    }
}
