//! `storyline digest --backfill`: compose and keep every past week of the stories for the web
//! archive and the feeds, one line per week. Nothing is mailed or queued.

use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::store::EditionStored;
use crate::story::StoryDef;
use crate::weekly::archive::{self, Kept};

pub(crate) async fn run(
    app: &App,
    stories: &[StoryDef],
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    let config = &app.config;
    for story in stories {
        let weeks = archive::backfill(&app.store, config, &app.templates, story, now).await?;
        for (week, kept) in &weeks {
            println!("{} {week}: {}", story.id, kept.describe());
        }
        let count = |f: fn(&Kept) -> bool| weeks.iter().filter(|(_, k)| f(k)).count();
        println!(
            "{}: {} week(s) with items; {} stored, {} updated, {} unchanged, {} kept as mailed, \
             {} skipped",
            story.id,
            weeks.len(),
            count(|k| *k == Kept::Stored(EditionStored::Created)),
            count(|k| *k == Kept::Stored(EditionStored::Replaced)),
            count(|k| *k == Kept::Stored(EditionStored::Unchanged)),
            count(|k| *k == Kept::Stored(EditionStored::KeptMailed)),
            count(|k| !matches!(k, Kept::Stored(_))),
        );
    }
    app.store.close().await;
    Ok(ExitCode::SUCCESS)
}
