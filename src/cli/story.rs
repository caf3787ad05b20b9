//! `storyline explain` and `storyline events`: a story's view of one item, and of one week.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};

use crate::app::Settings;
use crate::store::{ItemRow, Store, StoreError};
use crate::story::{self, StoryDef, WeekReport};
use crate::value::week::IsoWeek;

/// Open the database and bring every story up to date (cheap when nothing is new), so the
/// answers reflect the current definitions.
async fn open(settings: &Settings, now: DateTime<Utc>) -> anyhow::Result<(Store, &[StoryDef])> {
    let store = settings.open_store().await?;
    story::process(&store, &settings.stories, now)
        .await
        .context("cannot bring the stories up to date")?;
    Ok((store, &settings.stories))
}

pub(crate) async fn explain(
    settings: &Settings,
    target: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    let config = &settings.config;
    let (store, stories) = open(settings, now).await?;
    let items = find_items(&store, target).await?;
    if items.is_empty() {
        eprintln!("error: no item with id or URL \"{target}\"");
        return Ok(ExitCode::from(2));
    }
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let ex = story::explain::explain(&store, stories, item).await?;
        print!("{}", story::explain::render(item, &ex, config.timezone));
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// An item id, or every item whose link or canonical link is the URL.
async fn find_items(store: &Store, target: &str) -> anyhow::Result<Vec<ItemRow>> {
    if let Ok(id) = target.trim().parse::<i64>() {
        return match store.item(id).await {
            Ok(item) => Ok(vec![item]),
            Err(StoreError::NotFound) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        };
    }
    let mut items = store.items_by_url(target.trim()).await?;
    if items.is_empty() {
        if let Some(canon) = crate::value::canon::canonical_url(target, None) {
            items = store.items_by_url(&canon).await?;
        }
    }
    Ok(items)
}

pub(crate) async fn events(
    settings: &Settings,
    week: Option<IsoWeek>,
    story_id: Option<&str>,
    json: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    let config = &settings.config;
    let (store, stories) = open(settings, now).await?;
    let story = match story_id {
        Some(id) => match stories.iter().find(|s| s.id == id) {
            Some(s) => s,
            None => {
                let known: Vec<&str> = stories.iter().map(|s| s.id.as_str()).collect();
                eprintln!("error: no story \"{id}\" (stories: {})", known.join(", "));
                return Ok(ExitCode::from(2));
            }
        },
        None => match stories.first() {
            Some(s) => s,
            None => anyhow::bail!("no story is defined"),
        },
    };
    let week = week.unwrap_or_else(|| IsoWeek::last_complete(now, config.timezone));
    let report = story::week_report(&store, story, week, config.timezone).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_week(story, &report, config.timezone));
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn render_week(story: &StoryDef, r: &WeekReport, tz: chrono_tz::Tz) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let (start, end) = r.week.range(tz);
    let _ = writeln!(
        s,
        "{} ({}), week {} ({} to {})",
        story.title,
        story.id,
        r.week,
        start.with_timezone(&tz).format("%Y-%m-%d"),
        (end - Duration::seconds(1))
            .with_timezone(&tz)
            .format("%Y-%m-%d")
    );
    for (label, events) in [("Developments", &r.developments), ("Updates", &r.updates)] {
        let _ = writeln!(s, "\n{label} ({})", events.len());
        for e in events {
            let day = e.first_seen.get(..10).unwrap_or(&e.first_seen);
            let _ = writeln!(s, "  {}  {}  {}", e.id, day, e.headline);
            for i in &e.items {
                let _ = writeln!(
                    s,
                    "      {:<18} {}",
                    i.source,
                    i.title.as_deref().unwrap_or("(untitled)")
                );
            }
        }
    }
    let _ = writeln!(s, "\nTimeline ({})", r.timeline.len());
    for t in &r.timeline {
        let _ = writeln!(s, "  {}  {}  {}", t.date, t.id, t.headline);
    }
    s
}
