//! Story processing against a real SQLite store: idempotence, stable event ids, page updates,
//! comments and links attaching to their event, definition changes, and `explain`.

// Test helpers panic on broken fixtures, like the tests themselves.
#![allow(clippy::unwrap_used)]

use crate::support;

use std::process::Command;

use storyline::config::{Config, Origin};
use storyline::store::{FetchRecord, NewItem, SourceStatus, Store};
use storyline::story::{self, StoryDef};
use storyline::value::week::IsoWeek;
use support::at;

async fn store_with(dir: &std::path::Path, extra: &str) -> (Store, Config) {
    let text = format!(
        "database = \"{}\"\n\
         [[source]]\nid = \"news\"\nurl = \"http://127.0.0.1:9/news.xml\"\n\
         [[source]]\nid = \"forum\"\nurl = \"http://127.0.0.1:9/forum.xml\"\n\
         [[source]]\nid = \"page\"\nurl = \"http://127.0.0.1:9/article.html\"\nkind = \"page\"\n{extra}",
        dir.join("story.db").display()
    );
    let config = Config::parse(&text, Origin::File("t.toml".into())).unwrap();
    let store = Store::open(&config.database).await.unwrap();
    store
        .sync_sources(&config.sources, &config.fetch, at("2030-01-01T00:00:00Z"))
        .await
        .unwrap();
    (store, config)
}

fn item(guid: &str, title: &str, url: &str, published: &str) -> NewItem {
    NewItem {
        guid: guid.into(),
        url: Some(url.into()),
        canonical_url: storyline::value::canon::canonical_url(url, None),
        title: Some(title.into()),
        published_at: Some(at(published)),
        content_hash: format!("{guid}-{title}"),
        ..NewItem::default()
    }
}

/// Record a successful fetch of `source` at `when`, as a polling round would.
async fn fetched(store: &Store, source: &str, when: chrono::DateTime<chrono::Utc>) {
    let record = FetchRecord {
        status: SourceStatus::Ok,
        http_status: Some(200),
        error: None,
        etag: None,
        last_modified: None,
        moved_to: None,
        next_due: when,
        disable_reason: None,
        flagged: None,
    };
    store.record_fetch(source, when, &record).await.unwrap();
}

async fn event_of(store: &Store, source: &str, guid: &str) -> Option<String> {
    let row = store
        .items_of_source(source)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.guid == guid)
        .unwrap();
    store
        .story_decisions_of(row.id)
        .await
        .unwrap()
        .into_iter()
        .next()
        .and_then(|d| d.event_id)
}

/// A second run decides nothing again, and event ids stay what they were.
#[tokio::test]
async fn processing_is_idempotent_and_event_ids_are_stable() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with(dir.path(), "").await;
    let stories = StoryDef::all_from(&config).unwrap();
    let now = at("2030-03-11T09:00:00Z");
    store
        .store_items(
            "news",
            &[
                item(
                    "a",
                    "Meta delays Llama 4 Behemoth again",
                    "https://one.example/2030/03/meta-delays-behemoth",
                    "2030-03-05T10:00:00Z",
                ),
                item(
                    "b",
                    "Zoo welcomes two baby llamas",
                    "https://one.example/2030/03/zoo-llamas",
                    "2030-03-06T10:00:00Z",
                ),
            ],
            now,
            100,
        )
        .await
        .unwrap();
    store
        .store_items(
            "forum",
            &[item(
                "t3_x",
                "Behemoth delayed again? Meta says Llama 4 Behemoth slips",
                "https://forum.example/r/x/comments/1/behemoth_delayed",
                "2030-03-05T12:00:00Z",
            )],
            now,
            100,
        )
        .await
        .unwrap();

    let first = story::process(&store, &stories, now).await.unwrap();
    assert_eq!(first.decided, 3);
    assert_eq!(first.relevant, 2);
    assert_eq!(first.new_events, 1);
    let ev = event_of(&store, "news", "a").await.unwrap();
    assert_eq!(
        event_of(&store, "forum", "t3_x").await.as_deref(),
        Some(ev.as_str())
    );
    assert_eq!(event_of(&store, "news", "b").await, None);

    let again = story::process(&store, &stories, now).await.unwrap();
    assert_eq!(again.decided, 0);
    assert_eq!(
        event_of(&store, "news", "a").await.as_deref(),
        Some(ev.as_str())
    );

    let week: IsoWeek = "2030-W10".parse().unwrap();
    let report = story::week_report(&store, &stories[0], week, config.timezone)
        .await
        .unwrap();
    assert_eq!(report.developments.len(), 1);
    assert_eq!(report.developments[0].id, ev);
    assert_eq!(report.developments[0].items.len(), 2);
    assert_eq!(
        report.developments[0].first_seen.to_rfc3339(),
        "2030-03-05T10:00:00+00:00"
    );
    assert_eq!(report.timeline.len(), 1);
    assert_eq!(report.timeline[0].date.to_string(), "2030-03-05");
    // Later weeks list the event in the timeline only.
    let later = story::week_report(&store, &stories[0], week.next(), config.timezone)
        .await
        .unwrap();
    assert!(later.developments.is_empty() && later.updates.is_empty());
    assert_eq!(later.timeline[0].id, ev);
}

/// A watched page that changes shows as an update of its event in the week it changed;
/// a comment joins the event of its post; a link to a story item's page joins its event.
#[tokio::test]
async fn page_updates_comments_and_links_attach_to_their_event() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with(dir.path(), "").await;
    let stories = StoryDef::all_from(&config).unwrap();
    let t1 = at("2030-03-11T09:00:00Z");
    let mut page = item(
        "https://paper.example/zuckerberg-lab",
        "Zuckerberg's new AI lab has no deadlines",
        "https://paper.example/zuckerberg-lab",
        "2030-03-06T10:00:00Z",
    );
    store
        .store_items("page", &[page.clone()], t1, 10)
        .await
        .unwrap();
    fetched(&store, "page", t1).await;
    story::process(&store, &stories, t1).await.unwrap();
    let ev = event_of(&store, "page", &page.guid).await.unwrap();

    // A week later: the page changed; a comment on a forum post and a post linking the page.
    let t2 = at("2030-03-18T09:00:00Z");
    page.content = Some("<p>Update: the lab now has a deadline after all.</p>".into());
    page.content_hash = "changed".into();
    page.change_note = Some("an Update paragraph was added".into());
    store
        .store_items("page", &[page.clone()], t2, 10)
        .await
        .unwrap();
    // Polled weekly: the change happened somewhere in the past week, and counts there.
    fetched(&store, "page", t2).await;
    let mut post = item(
        "t3_post",
        "Discussion: the no-deadlines lab",
        "https://paper.example/zuckerberg-lab?utm_source=forum",
        "2030-03-12T08:00:00Z",
    );
    post.canonical_url = storyline::value::canon::canonical_url(post.url.as_deref().unwrap(), None);
    let mut comment = item(
        "t1_comment",
        "Re: discussion",
        "https://forum.example/r/x/comments/2/c",
        "2030-03-12T09:00:00Z",
    );
    comment.parent_guid = Some("t3_post".into());
    store
        .store_items("forum", &[post, comment], t2, 10)
        .await
        .unwrap();
    story::process(&store, &stories, t2).await.unwrap();

    assert_eq!(
        event_of(&store, "forum", "t3_post").await.as_deref(),
        Some(ev.as_str())
    );
    assert_eq!(
        event_of(&store, "forum", "t1_comment").await.as_deref(),
        Some(ev.as_str())
    );
    let report = story::week_report(
        &store,
        &stories[0],
        "2030-W11".parse().unwrap(),
        config.timezone,
    )
    .await
    .unwrap();
    assert!(report.developments.is_empty());
    assert_eq!(report.updates.len(), 1);
    let u = &report.updates[0];
    assert_eq!(u.id, ev);
    let guids: Vec<&str> = u.items.iter().map(|i| i.guid.as_str()).collect();
    assert!(
        guids.contains(&"https://paper.example/zuckerberg-lab"),
        "{guids:?}"
    );
    assert!(
        guids.contains(&"t3_post") && guids.contains(&"t1_comment"),
        "{guids:?}"
    );
}

/// Changing a story's definition redoes its decisions; a story without terms takes all.
#[tokio::test]
async fn a_changed_definition_redoes_the_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with(dir.path(), "").await;
    let now = at("2030-03-11T09:00:00Z");
    store
        .store_items(
            "news",
            &[item(
                "a",
                "Rover finds water ice",
                "https://one.example/rover-ice-news",
                "2030-03-05T10:00:00Z",
            )],
            now,
            10,
        )
        .await
        .unwrap();
    let builtin = StoryDef::all_from(&config).unwrap();
    let r = story::process(&store, &builtin, now).await.unwrap();
    assert_eq!((r.decided, r.relevant), (1, 0));
    let mut everything = builtin.clone();
    everything[0].phrases.clear();
    everything[0].aliases.clear();
    everything[0].ambiguous.clear();
    let r = story::process(&store, &everything, now).await.unwrap();
    assert_eq!((r.decided, r.relevant), (1, 1));
}

/// `storyline explain` names the phrase that matched and the event.
#[tokio::test]
async fn explain_shows_terms_decision_and_event() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with(dir.path(), "").await;
    let now = at("2030-03-11T09:00:00Z");
    store
        .store_items(
            "news",
            &[
                item(
                    "a",
                    "Hands-on with Llama 4 Scout",
                    "https://one.example/hands-on-llama-4-scout",
                    "2030-03-05T10:00:00Z",
                ),
                item(
                    "b",
                    "Ford Maverick gets a price cut",
                    "https://one.example/ford-maverick-price-cut",
                    "2030-03-05T11:00:00Z",
                ),
            ],
            now,
            10,
        )
        .await
        .unwrap();
    store.close().await;
    let cfg = dir.path().join("storyline.toml");
    std::fs::write(
        &cfg,
        format!("database = \"{}\"\n", config.database.display()),
    )
    .unwrap();
    let run = |target: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_storyline"))
            .args([
                "--config",
                cfg.to_str().unwrap(),
                "--now",
                "2030-03-11T09:00:00Z",
            ])
            .args(["explain", target])
            .env_remove("STORYLINE_CONFIG")
            .env_remove("STORYLINE_NOW")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = run("https://one.example/hands-on-llama-4-scout");
    assert!(
        shown.contains("phrase: \"Llama 4\" in the title"),
        "{shown}"
    );
    assert!(shown.contains("-> IN"), "{shown}");
    assert!(shown.contains("event ev-"), "{shown}");
    let shown = run("https://one.example/ford-maverick-price-cut");
    assert!(shown.contains("\"Maverick\" does not count"), "{shown}");
    assert!(shown.contains("-> OUT"), "{shown}");
}

/// Items screened at ingest as naming no story are decided from the queue without their
/// text; one that links to a story item of the same round still joins its event; a round
/// with nothing new decides nothing, and a changed item is looked at again.
#[tokio::test]
async fn screened_items_are_decided_and_a_quiet_link_to_a_story_item_joins_its_event() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with(dir.path(), "").await;
    let stories = StoryDef::all_from(&config).unwrap();
    let screen = story::Screen::new(&stories);
    let now = at("2030-03-11T09:00:00Z");
    let page = "https://one.example/2030/03/meta-delays-behemoth";
    let mut report = item(
        "a",
        "Meta delays Llama 4 Behemoth again",
        page,
        "2030-03-05T10:00:00Z",
    );
    screen.mark("news", &mut report);
    assert_eq!(report.quiet_under, None, "the story item is not quiet");
    let mut link = item(
        "t3_y",
        "What do you make of this?",
        page,
        "2030-03-05T11:00:00Z",
    );
    let mut other = item(
        "t3_z",
        "Zoo welcomes two baby alpacas",
        "https://forum.example/r/x/comments/2/alpacas",
        "2030-03-05T12:00:00Z",
    );
    screen.mark("forum", &mut link);
    screen.mark("forum", &mut other);
    assert!(link.quiet_under.is_some() && other.quiet_under.is_some());
    // The quiet ones first, so they are queued before the item they link to.
    store
        .store_items("forum", &[link, other.clone()], now, 100)
        .await
        .unwrap();
    store
        .store_items("news", &[report], now, 100)
        .await
        .unwrap();

    let first = story::process(&store, &stories, now).await.unwrap();
    assert_eq!(first.decided, 3);
    assert_eq!(first.relevant, 2);
    let ev = event_of(&store, "news", "a").await.unwrap();
    assert_eq!(
        event_of(&store, "forum", "t3_y").await.as_deref(),
        Some(ev.as_str())
    );
    assert_eq!(event_of(&store, "forum", "t3_z").await, None);
    let quiet = store
        .items_of_source("forum")
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.guid == "t3_z")
        .unwrap();
    let why = story::explain::explain(&store, &stories, &quiet)
        .await
        .unwrap();
    let text = story::explain::render(&quiet, &why, chrono_tz::UTC);
    assert!(
        text.contains("processed: out, nothing of the story"),
        "{text}"
    );

    let again = story::process(&store, &stories, now).await.unwrap();
    assert_eq!(again.decided, 0);

    other.title = Some("Zoo welcomes three baby alpacas".into());
    other.content_hash.push('2');
    store
        .store_items("forum", &[other], now, 100)
        .await
        .unwrap();
    let changed = story::process(&store, &stories, now).await.unwrap();
    assert_eq!(changed.decided, 1);
    assert_eq!(changed.relevant, 0);
}

/// A lone follow-up too young to tell apart from the first report of a new development waits
/// for the next round: it stays queued (explain says so), is never recorded as "out, nothing
/// of the story", and the next round decides it into its event.
#[tokio::test]
async fn a_follow_up_that_waits_is_decided_in_a_later_round_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with(dir.path(), "").await;
    let stories = StoryDef::all_from(&config).unwrap();
    let first = at("2030-03-11T09:00:00Z");
    store
        .store_items(
            "news",
            &[
                item(
                    "a",
                    "Meta delays Llama 4 Behemoth as engineers struggle with gains",
                    "https://one.example/2030/03/meta-delays-llama-4-behemoth",
                    "2030-03-05T10:00:00Z",
                ),
                item(
                    "b",
                    "Llama 4 Behemoth delayed: engineers struggle to show gains",
                    "https://two.example/2030/03/llama-4-behemoth-delayed",
                    "2030-03-05T14:00:00Z",
                ),
            ],
            first,
            100,
        )
        .await
        .unwrap();
    story::process(&store, &stories, first).await.unwrap();
    let ev = event_of(&store, "news", "a").await.unwrap();

    // Eight days after the first report, published twelve hours before the round.
    let second = at("2030-03-13T22:00:00Z");
    store
        .store_items(
            "forum",
            &[item(
                "t3_late",
                "Llama 4 Behemoth delay: engineers still struggle to show gains",
                "https://forum.example/r/x/comments/9/behemoth_delay",
                "2030-03-13T10:00:00Z",
            )],
            second,
            100,
        )
        .await
        .unwrap();
    story::process(&store, &stories, second).await.unwrap();
    let late = store.items_of_source("forum").await.unwrap().remove(0);
    for e in story::explain::explain(&store, &stories, &late)
        .await
        .unwrap()
    {
        let text = story::explain::render(&late, std::slice::from_ref(&e), chrono_tz::UTC);
        let stored_in = e.stored.as_ref().is_some_and(|d| d.relevant);
        assert!(
            e.queued || stored_in,
            "a story item must be decided in or wait, not be dropped:\n{text}"
        );
    }

    let third = at("2030-03-16T09:00:00Z");
    story::process(&store, &stories, third).await.unwrap();
    assert_eq!(
        event_of(&store, "forum", "t3_late").await.as_deref(),
        Some(ev.as_str())
    );
}

/// Two reports of one development that name the story, a week before `now`.
async fn delay_event(store: &Store, now: chrono::DateTime<chrono::Utc>) {
    store
        .store_items(
            "news",
            &[
                item(
                    "a",
                    "Meta delays Llama 4 Behemoth as engineers struggle to show gains",
                    "https://one.example/2030/03/meta-delays-llama-4-behemoth",
                    "2030-03-05T10:00:00Z",
                ),
                item(
                    "b",
                    "Llama 4 Behemoth pushed back: engineers struggle to show big gains",
                    "https://two.example/2030/03/llama-4-behemoth-pushed-back",
                    "2030-03-05T16:00:00Z",
                ),
            ],
            now,
            100,
        )
        .await
        .unwrap();
}

/// A report that does not name the story but clearly reports a recent development of it
/// joins that event; near misses that share the same words but are ruled out by the
/// definition (an exclusion, another version) stay out, and explain says which words were
/// shared.
#[tokio::test]
async fn a_report_that_does_not_name_the_story_joins_the_event_it_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with(dir.path(), "").await;
    let stories = StoryDef::all_from(&config).unwrap();
    let first = at("2030-03-09T09:00:00Z");
    delay_event(&store, first).await;
    story::process(&store, &stories, first).await.unwrap();
    let ev = event_of(&store, "news", "a").await.unwrap();

    let second = at("2030-03-16T09:00:00Z");
    let mut unnamed = item(
        "c",
        "Meta's biggest model slips as engineers struggle to show gains",
        "https://three.example/2030/03/biggest-model-slips",
        "2030-03-06T08:00:00Z",
    );
    unnamed.summary =
        Some("The delay follows months in which engineers struggled to show gains.".into());
    let excluded = item(
        "d",
        "A meta-analysis: engineers struggle to show gains from bigger models",
        "https://four.example/2030/03/meta-analysis-gains",
        "2030-03-06T09:00:00Z",
    );
    let older = item(
        "e",
        "Llama 3.1 fine-tunes: engineers struggle to show gains",
        "https://five.example/2030/03/llama-31-gains",
        "2030-03-06T10:00:00Z",
    );
    store
        .store_items("forum", &[unnamed, excluded, older], second, 100)
        .await
        .unwrap();
    story::process(&store, &stories, second).await.unwrap();
    assert_eq!(
        event_of(&store, "forum", "c").await.as_deref(),
        Some(ev.as_str())
    );
    assert_eq!(event_of(&store, "forum", "d").await, None);
    assert_eq!(event_of(&store, "forum", "e").await, None);

    let row = store
        .items_of_source("forum")
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.guid == "c")
        .unwrap();
    let why = story::explain::explain(&store, &stories, &row)
        .await
        .unwrap();
    assert!(why.iter().all(|e| e.disagreement().is_none()));
    let text = story::explain::render(&row, &why, chrono_tz::UTC);
    assert!(
        text.contains("does not name the story, but shares"),
        "{text}"
    );
    assert!(text.contains("\"struggl\""), "{text}");
}

/// Compose and render the week's digest (which cuts a finished week), then read its report.
async fn report_after_make(
    store: &storyline::store::Store,
    config: &storyline::config::Config,
    templates: &storyline::digest::Templates,
    story: &StoryDef,
    week: IsoWeek,
    now: chrono::DateTime<chrono::Utc>,
) -> storyline::story::WeekReport {
    use storyline::weekly::{self, Period};
    weekly::make(store, config, templates, story, Period::Week(week), now)
        .await
        .unwrap();
    story::week_report(store, story, week, config.timezone)
        .await
        .unwrap()
}

/// An item of a week whose digest was already cut when it arrived shows in the next digest:
/// as a development when its event is new to readers, as an update of an event they have
/// seen. The cut week itself reads the same as when it was cut.
#[tokio::test]
async fn a_late_item_shows_in_the_next_digest_not_in_none() {
    use storyline::digest::Templates;

    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with(dir.path(), "").await;
    let stories = StoryDef::all_from(&config).unwrap();
    let templates = Templates::embedded().unwrap();
    let w10: IsoWeek = "2030-W10".parse().unwrap();
    let w11 = w10.next();
    // Week 10 is polled and cut on the Monday after it.
    let cut10 = at("2030-03-11T09:00:00Z");
    delay_event(&store, cut10).await;
    story::process(&store, &stories, cut10).await.unwrap();
    let before = report_after_make(&store, &config, &templates, &stories[0], w10, cut10).await;
    assert_eq!(before.developments.len(), 1);

    // A week later, a source that was down brings two more items of week 10: one of the
    // event readers know, one of a development nobody has been told about.
    let cut11 = at("2030-03-18T09:00:00Z");
    store
        .store_items(
            "forum",
            &[
                item(
                    "late-same",
                    "Llama 4 Behemoth delay: engineers struggle to show gains, insiders say",
                    "https://forum.example/r/x/comments/3/behemoth_delay",
                    "2030-03-06T12:00:00Z",
                ),
                item(
                    "late-new",
                    "Meta opens Llama 4 Scout weights to researchers in Europe",
                    "https://forum.example/r/x/comments/4/scout_weights_europe",
                    "2030-03-07T12:00:00Z",
                ),
                item(
                    "late-new-2",
                    "European researchers get Llama 4 Scout weights from Meta",
                    "https://forum.example/r/x/comments/5/scout_weights_researchers",
                    "2030-03-07T15:00:00Z",
                ),
            ],
            cut11,
            100,
        )
        .await
        .unwrap();
    story::process(&store, &stories, cut11).await.unwrap();
    let again = report_after_make(&store, &config, &templates, &stories[0], w10, cut11).await;
    assert_eq!(again, before, "a cut week reads the same later");
    let next = report_after_make(&store, &config, &templates, &stories[0], w11, cut11).await;
    let guids = |evs: &[storyline::story::report::EventReport]| -> Vec<String> {
        evs.iter()
            .flat_map(|e| e.items.iter().map(|i| i.guid.clone()))
            .collect()
    };
    assert_eq!(guids(&next.updates), vec!["late-same"], "{next:#?}");
    assert_eq!(
        guids(&next.developments),
        vec!["late-new", "late-new-2"],
        "{next:#?}"
    );
}

/// A release feed: the first release that names the story joins its development; later
/// releases of the project that name it continue in that event however late they come, and
/// a routine release whose notes say nothing of the story stays out even though the
/// repository's name does.
#[tokio::test]
async fn releases_continue_their_series_and_routine_ones_stay_out() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with(dir.path(), "").await;
    let stories = StoryDef::all_from(&config).unwrap();
    let now = at("2030-03-09T09:00:00Z");
    delay_event(&store, now).await;
    let release = |tag: &str, title: &str, notes: &str, when: &str| {
        let mut r = item(
            &format!("tag:github.com,2008:Repository/42/{tag}"),
            title,
            &format!("https://github.com/acme/llama-tools/releases/tag/{tag}"),
            when,
        );
        r.content = Some(notes.into());
        r
    };
    store
        .store_items(
            "forum",
            &[release(
                "v0.3.0",
                "v0.3.0: Llama 4 Behemoth delay workarounds",
                "Engineers struggle to show gains with Behemoth; use Llama 4 Scout meanwhile.",
                "2030-03-05T18:00:00Z",
            )],
            now,
            100,
        )
        .await
        .unwrap();
    story::process(&store, &stories, now).await.unwrap();
    let guid = |t: &str| format!("tag:github.com,2008:Repository/42/{t}");
    let series = event_of(&store, "forum", &guid("v0.3.0")).await.unwrap();

    let later = at("2030-05-04T09:00:00Z");
    store
        .store_items(
            "forum",
            &[
                release(
                    "v0.3.1",
                    "v0.3.1: Llama 4 tokenizer fix",
                    "Fixes the Llama 4 chat template.",
                    "2030-04-30T10:00:00Z",
                ),
                release(
                    "v0.3.2",
                    "llama-tools v0.3.2",
                    "Fixes: a typo in the help text.",
                    "2030-05-01T10:00:00Z",
                ),
            ],
            later,
            100,
        )
        .await
        .unwrap();
    story::process(&store, &stories, later).await.unwrap();
    assert_eq!(
        event_of(&store, "forum", &guid("v0.3.1")).await.as_deref(),
        Some(series.as_str())
    );
    assert_eq!(event_of(&store, "forum", &guid("v0.3.2")).await, None);
}

/// A round read a few items at a time, holding few events in memory, decides every item and
/// groups them as one big page would: paging bounds memory without changing what is stored.
#[tokio::test]
async fn a_round_in_small_pages_stores_what_one_page_stores() {
    // Six developments a week apart, each reported by five outlets over two days, plus
    // items of nothing; stored in time order, as a poll stores them.
    let topics = [
        (
            "Behemoth delay",
            "Meta delays Llama 4 Behemoth as engineers struggle with gains",
        ),
        (
            "Scout on AWS",
            "Llama 4 Scout and Maverick arrive as managed models on AWS Bedrock",
        ),
        (
            "LMArena rules",
            "LMArena tightens its rules after the Llama 4 Maverick episode",
        ),
        (
            "Scale AI stake",
            "Meta takes a stake in Scale AI as Llama 4 team regroups",
        ),
        (
            "Closed model",
            "Llama 4 Behemoth may be shelved for a closed model, reports say",
        ),
        (
            "Flat lab",
            "Zuckerberg says Llama 4 missed the mark and the lab is now flat",
        ),
    ];
    let mut items = Vec::new();
    for (k, (slug, title)) in topics.iter().enumerate() {
        for o in 0..5 {
            let day = 1 + 7 * k;
            items.push(item(
                &format!("{k}-{o}"),
                &format!("{title} ({o})"),
                &format!(
                    "https://outlet{o}.example/2030/{}/{}",
                    k + 1,
                    slug.replace(' ', "-")
                ),
                &(at("2030-01-01T00:00:00Z")
                    + chrono::Duration::days(day as i64 + o as i64 / 3)
                    + chrono::Duration::hours(8 + o as i64))
                .to_rfc3339(),
            ));
        }
        items.push(item(
            &format!("{k}-noise"),
            "Council approves a new bridge budget",
            &format!("https://city.example/2030/{k}/bridge"),
            &(at("2030-01-03T20:00:00Z") + chrono::Duration::days(7 * k as i64)).to_rfc3339(),
        ));
    }
    let now = at("2030-02-20T09:00:00Z");
    let mut partitions = Vec::new();
    for limits in [
        story::Limits::default(),
        story::Limits {
            page_items: 4,
            max_members: 8,
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (store, config) = store_with(dir.path(), "").await;
        let stories = StoryDef::all_from(&config).unwrap();
        store.store_items("news", &items, now, 1000).await.unwrap();
        let r = story::process_with(&store, &stories, now, limits)
            .await
            .unwrap();
        assert_eq!(r.decided, items.len(), "{limits:?}");
        assert_eq!(r.relevant, 30, "{limits:?}");
        let mut by_event: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for it in &items {
            if let Some(ev) = event_of(&store, "news", &it.guid).await {
                by_event.entry(ev).or_default().push(it.guid.clone());
            }
        }
        let mut groups: Vec<Vec<String>> = by_event.into_values().collect();
        groups.sort();
        partitions.push(groups);
    }
    assert_eq!(partitions[0].len(), 6, "{:?}", partitions[0]);
    assert_eq!(partitions[0], partitions[1]);
}
