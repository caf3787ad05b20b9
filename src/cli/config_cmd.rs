//! `storyline config init` writes the built-in Llama 4 preset out for editing; `storyline
//! config check` validates a config and shows, per source, what will be fetched and how often.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::{Config, SourceConfig, PRESET};
use crate::sites::Site;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write the built-in Llama 4 story preset as a commented config file to edit.
    Init {
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
        /// Where to write it.
        #[arg(default_value = "storyline.toml")]
        path: PathBuf,
    },
    /// Validate the config and show, per source, what will be fetched and how often.
    Check,
}

pub(crate) fn run(
    cmd: ConfigCommand,
    config_path: Option<&Path>,
    now: chrono::DateTime<chrono::Utc>,
) -> ExitCode {
    match cmd {
        ConfigCommand::Init { force, path } => init(&path, force),
        ConfigCommand::Check => check(config_path, now),
    }
}

fn init(path: &Path, force: bool) -> ExitCode {
    if path.exists() && !force {
        eprintln!(
            "error: {} exists; pass --force to overwrite it",
            path.display()
        );
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::write(path, PRESET) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    let sources = Config::parse(PRESET, crate::config::Origin::Preset)
        .map(|c| c.sources.len())
        .unwrap_or(0);
    println!(
        "wrote {} (the Llama 4 story, {sources} sources); edit it, then run `storyline config check`",
        path.display()
    );
    ExitCode::SUCCESS
}

fn check(config_path: Option<&Path>, now: chrono::DateTime<chrono::Utc>) -> ExitCode {
    let config = match super::load_config(config_path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    println!("config:   {} (valid)", config.origin);
    println!("database: {}", config.database.display());
    let stories = match crate::story::StoryDef::all_from(&config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for story in &stories {
        let feeding = if story.sources.is_empty() {
            "every source".to_string()
        } else {
            format!("{} sources", story.sources.len())
        };
        println!("story:    {} \"{}\" ({feeding})", story.id, story.title);
    }
    if let Ok(schedule) = config.digest_schedule() {
        let next: Vec<String> = schedule
            .upcoming(now, 3)
            .iter()
            .map(|t| {
                t.with_timezone(&config.timezone)
                    .format("%a %Y-%m-%d %H:%M %Z")
                    .to_string()
            })
            .collect();
        println!(
            "digest:   \"{}\" in {}; next: {}",
            schedule.text(),
            config.timezone,
            next.join(", ")
        );
    }
    match &config.smtp {
        // The password itself is never printed, only where it comes from.
        Some(smtp) => println!(
            "mail:     {}:{} ({:?}) from {}{}",
            smtp.host,
            smtp.port(),
            smtp.tls,
            smtp.from,
            match (&smtp.password_env, &smtp.password_file) {
                (Some(var), _) => format!(", password from ${var} (not shown)"),
                (None, Some(file)) => format!(", password from {} (not shown)", file.display()),
                _ => String::new(),
            }
        ),
        None => println!(
            "mail:     off (no [smtp]); digests are written to {}",
            config.digest.output_dir.display()
        ),
    }
    let polled = config
        .sources
        .iter()
        .filter(|s| s.enabled && s.poll)
        .count();
    let references = config.sources.iter().filter(|s| !s.poll).count();
    println!(
        "sources:  {} ({polled} polled, {references} static references, {} disabled)",
        config.sources.len(),
        config.sources.iter().filter(|s| !s.enabled).count()
    );
    println!();
    let width = config
        .sources
        .iter()
        .map(|s| s.id.as_str().len())
        .max()
        .unwrap_or(2);
    let mut warnings = Vec::new();
    for s in &config.sources {
        println!(
            "{:width$}  {:4}  {:>6}  {}",
            s.id.as_str(),
            s.kind.as_str(),
            every(s, &config),
            s.url
        );
        if let Some(what) = describe(s) {
            println!("{:width$}  {what}", "");
        }
        if let Some(w) = manners(s, &config) {
            warnings.push(w);
        }
    }
    for w in &warnings {
        println!("warning: {w}");
    }
    ExitCode::SUCCESS
}

fn every(s: &SourceConfig, config: &Config) -> String {
    if !s.poll || !s.enabled {
        return "-".into();
    }
    humantime::format_duration(s.interval_or(&config.fetch)).to_string()
}

/// A second line for sources whose handling is not plain feed polling.
fn describe(s: &SourceConfig) -> Option<String> {
    if !s.enabled {
        return Some("disabled: not fetched".into());
    }
    if !s.poll {
        let date = s.date.map(|d| format!(", dated {d}")).unwrap_or_default();
        return Some(format!("static reference, not fetched{date}"));
    }
    let site = Site::from_url(&s.url).map(|site| match site {
        Site::Reddit => "Reddit: comments linked to their post; 403 treated as rate limiting",
        Site::GoogleNews => "Google News: outlet from <source>, \" - Outlet\" stripped, links kept",
        Site::Hnrss => "hnrss: points, comment counts and the HN discussion link kept",
        Site::GitHubReleases => "GitHub releases: tag in the title, release notes as content",
    });
    match (s.kind, site) {
        (crate::source::SourceKind::Page, _) => {
            Some("page watch: metadata and main text; text edits reported as updates".into())
        }
        (_, Some(site)) => Some(site.into()),
        _ => None,
    }
}

/// Warn when a source polls a site faster than the site's manners allow.
fn manners(s: &SourceConfig, config: &Config) -> Option<String> {
    if !s.poll || !s.enabled {
        return None;
    }
    let site = Site::from_url(&s.url)?;
    let (floor, why) = site.min_interval()?;
    let interval = s.interval_or(&config.fetch);
    (interval < floor).then(|| {
        format!(
            "{}: every {} is too often for {}. {why}",
            s.id,
            humantime::format_duration(interval),
            site.name()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;

    #[test]
    fn the_preset_polls_no_site_faster_than_it_allows() {
        let config = Config::parse(PRESET, Origin::Preset).unwrap();
        let too_fast: Vec<String> = config
            .sources
            .iter()
            .filter_map(|s| manners(s, &config))
            .collect();
        assert!(too_fast.is_empty(), "{too_fast:?}");
    }

    #[test]
    fn the_preset_covers_the_cited_sources_and_related_feeds() {
        let config = Config::parse(PRESET, Origin::Preset).unwrap();
        let find = |id: &str| {
            config
                .source(id)
                .unwrap_or_else(|| panic!("preset lacks {id}"))
        };
        // Login- and bot-walled pages are static references with their own metadata.
        for id in ["cited-fb-zuck-video", "cited-reuters-behemoth-delay"] {
            let s = find(id);
            assert!(!s.poll && s.title.is_some() && s.date.is_some(), "{id}");
        }
        for id in [
            "cited-meta-future-of-ai",
            "cited-meta-llama4-herd",
            "cited-bi-superintelligence-lab",
            "cited-aim-abandon-behemoth",
        ] {
            assert_eq!(find(id).kind, crate::source::SourceKind::Page, "{id}");
        }
        let cited = config
            .sources
            .iter()
            .filter(|s| s.id.as_str().starts_with("cited-"))
            .count();
        assert_eq!(cited, 7);
        let hosts = |host: &str| {
            config
                .sources
                .iter()
                .filter(|s| s.url.host_str() == Some(host))
                .count()
        };
        assert!(hosts("www.reddit.com") >= 4);
        assert!(hosts("news.google.com") >= 4);
        assert!(hosts("hnrss.org") >= 2);
        assert!(hosts("github.com") >= 3);
        assert!(find("gnews-reuters")
            .url
            .as_str()
            .contains("site:reuters.com"));
        // No [[story]]: the built-in Llama 4 story applies.
        assert!(config.stories.is_empty());
    }

    #[test]
    fn manners_warn_about_fast_reddit_polling() {
        let text = "[[source]]\nid = \"r\"\nurl = \"https://www.reddit.com/r/x/.rss\"\ninterval = \"5m\"\n";
        let config = Config::parse(text, Origin::Preset).unwrap();
        let w = manners(&config.sources[0], &config).unwrap();
        assert!(w.contains("r: every 5m") && w.contains("Reddit"), "{w}");
    }
}
