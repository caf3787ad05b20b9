//! `storyline sources import|export`: OPML in and out.

use super::*;

pub(super) async fn import(ctx: &App, now: DateTime<Utc>, file: &Path) -> anyhow::Result<ExitCode> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return Ok(bad_input(format!("cannot read {}: {e}", file.display()))),
    };
    let found = match crate::opml::parse(&text) {
        Ok(f) => f,
        Err(e) => return Ok(bad_input(format!("{}: {e}", file.display()))),
    };
    let mut taken: Vec<String> = ctx
        .store
        .sources()
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let (mut added, mut skipped) = (0usize, 0usize);
    for s in found {
        if let Some(existing) = ctx.store.source_by_url(s.url.as_str()).await? {
            println!(
                "skipped {} (line {}): already followed as \"{}\"",
                s.url, s.line, existing.id
            );
            skipped += 1;
            continue;
        }
        let id = match s
            .id
            .as_ref()
            .filter(|id| !taken.iter().any(|t| t == id.as_str()))
        {
            Some(id) => id.clone(),
            None => {
                let hint = s.title.as_deref().or(s.id.as_ref().map(SourceId::as_str));
                match discovery::derive_id(hint, &s.url, |c| taken.iter().any(|t| t == c)) {
                    Ok(id) => id,
                    Err(e) => return Ok(bad_input(format!("line {}: {e}", s.line))),
                }
            }
        };
        let interval = interval_for(&ctx.config, &s.url);
        ctx.store
            .add_source(
                id.as_str(),
                s.kind,
                s.url.as_str(),
                s.title.as_deref(),
                secs(interval),
                now,
            )
            .await?;
        println!("added {} \"{id}\": {}", s.kind.as_str(), s.url);
        taken.push(id.to_string());
        added += 1;
    }
    println!("imported {added} sources, skipped {skipped}; the next poll fetches them");
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn export(ctx: &App, file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let sources = ctx.store.sources().await?;
    let rows: Vec<crate::opml::ExportSource<'_>> = sources
        .iter()
        .map(|s| crate::opml::ExportSource {
            id: &s.id,
            title: s.title.as_deref(),
            url: &s.url,
            kind: s.kind(),
        })
        .collect();
    let xml = crate::opml::render(&rows, "Storyline sources").map_err(anyhow::Error::msg)?;
    match file {
        Some(path) => {
            std::fs::write(path, xml)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {} sources to {}", rows.len(), path.display());
        }
        None => print!("{xml}"),
    }
    Ok(ExitCode::SUCCESS)
}
