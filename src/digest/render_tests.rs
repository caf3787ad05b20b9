use super::*;
use crate::digest::compose::compose;
use crate::digest::sample::{quiet_input, sample_input};

fn rendered() -> Rendered {
    render(&compose(&sample_input()), &Templates::embedded().unwrap()).unwrap()
}

fn position(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} missing from:\n{haystack}"))
}

#[test]
fn text_part_has_every_section_in_order() {
    let text = rendered().text;
    let order = [
        "Llama 4 · week 20, 2025: Meta delays Behemoth",
        "12–18 May 2025",
        "2 new developments reported by 7 outlets; 1 update; 3 discussion",
        "THIS WEEK",
        "1. Meta delays Behemoth",
        "   Thu 15 May · 6 outlets · 7 reports",
        "   The largest Llama 4 model is reportedly on hold",
        "   - TechWire\n     https://techwire.example/2025/05/16/",
        "2. Where to run Llama 4: cloud prices compared",
        "UPDATES",
        "* Meta releases Llama 4 Scout and Maverick\n  Page updated: 1 paragraph added (Wed 14 May)",
        "DISCUSSION",
        "* [Reddit] Report: Behemoth on hold <b>again</b>\n  980 points · 301 comments (301 new)",
        "* [Hacker News] Llama 4 Behemoth delayed",
        "THE STORY SO FAR",
        "  19 Dec 2024  Meta's year-end post names Llama 4\n   5 Apr 2025  Meta releases",
        "* 15 May 2025  Meta delays Behemoth",
        "ITEMS PER WEEK",
        "  W09  W10  W11",
        "    0    0    0    0    0    9    8    3    0    6    2    9",
        "SOURCES NOT READ LATELY",
        "ML Papers has been failing since 16 May (2 days)",
    ];
    let mut last = 0;
    for needle in order {
        let at = position(&text, needle);
        assert!(at >= last, "{needle:?} is out of order in:\n{text}");
        last = at;
    }
}

#[test]
fn text_part_wraps_at_72_columns_except_for_urls() {
    let text = rendered().text;
    for line in text.lines() {
        let is_url = line.trim_start().starts_with("https://");
        assert!(
            is_url || line.chars().count() <= TEXT_WIDTH,
            "too long: {line:?}"
        );
        assert_eq!(line, line.trim_end(), "trailing space: {line:?}");
    }
    assert!(!text.contains("\n\n\n"), "runs of blank lines:\n{text}");
    assert!(text.ends_with(".\n"));
}

#[test]
fn text_part_is_not_html_escaped_and_html_part_is() {
    let mut input = sample_input();
    input.developments[1].headline = "AT&T, \"Scout\" & <Maverick>".into();
    let r = render(&compose(&input), &Templates::embedded().unwrap()).unwrap();
    assert!(
        r.text.contains("AT&T, \"Scout\" & <Maverick>"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("&amp;") && !r.text.contains("&lt;"));
    assert!(
        r.html
            .contains("AT&amp;T, \"Scout\" &amp; &lt;Maverick&gt;"),
        "{}",
        r.html
    );
    assert!(r
        .html
        .contains("Report: Behemoth on hold &lt;b&gt;again&lt;/b&gt;"));
}

#[test]
fn html_part_has_the_key_fragments() {
    let html = rendered().html;
    for fragment in [
        "<title>Llama 4 · week 20, 2025: Meta delays Behemoth</title>",
        "<h1 class=\"title\"",
        ">Meta's Llama 4 release</h1>",
        ">This week</h2>",
        ">Updates</h2>",
        ">Discussion</h2>",
        ">The story so far</h2>",
        ">Items per week</h2>",
        "<strong>Meta delays Behemoth</strong>",
        "The largest Llama 4 model is reportedly on hold",
        "rel=\"noopener noreferrer\" href=\"https://techwire.example/2025/05/16/metas-behemoth-delay-raises-questions-about-its-ai-strategy/\"",
        ">TechWire</a>",
        "src=\"data:image/png;base64,iVBORw0KGgo",
        "alt=\"Items per week on the story, last 12 weeks (2025-W09 to 2025-W20): 0, 0, 0, 0, 0, 9, 8, 3, 0, 6, 2, 9.\"",
        "37 items on the story over the last 12 weeks, 9 this week (the dark bar).",
        "ML Papers has been failing since 16 May (2 days)",
    ] {
        position(&html, fragment);
    }
    // Past developments are listed but not bold.
    assert!(!html.contains("<strong>Leaderboard controversy over Maverick</strong>"));
    position(&html, "Leaderboard controversy over Maverick");
}

#[test]
fn html_part_is_inlined_and_carries_nothing_active_or_remote() {
    let html = rendered().html;
    assert!(html.contains("<body style=\""), "styles are inlined");
    assert!(html.contains("max-width: 640px"));
    let lower = html.to_lowercase();
    for banned in [
        "<style",
        "<link",
        "<script",
        "<iframe",
        "javascript:",
        "onmouseover",
        "onerror",
        "alert(",
        "http://",
    ] {
        assert!(!lower.contains(banned), "{banned} found in the HTML");
    }
    // Every image is the embedded chart; nothing loads from the network.
    assert_eq!(lower.matches("<img").count(), 1);
}

#[test]
fn email_html_points_at_the_chart_by_content_id() {
    let r = rendered();
    assert!(r.email_html.contains("src=\"cid:chart@storyline\""));
    assert!(!r.email_html.contains("data:image/png"));
    assert_eq!(
        r.email_html.replace("cid:chart@storyline", "X"),
        r.html.replace(
            &format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(&r.chart_png)
            ),
            "X"
        )
    );
}

#[test]
fn quiet_week_renders_a_short_digest() {
    let r = render(&compose(&quiet_input()), &Templates::embedded().unwrap()).unwrap();
    assert_eq!(r.subject, "Llama 4 · week 21, 2025: no new developments");
    assert!(r.text.contains(
        "No new developments this week; 3 discussion threads. The last\ndevelopment, on 15 May \
         2025: Meta delays Behemoth."
    ));
    assert!(!r.text.contains("THIS WEEK"));
    assert!(!r.html.contains(">This week</h2>"));
    assert!(r.html.contains("<strong>No new developments this week"));
    assert!(r.html.contains("over the last 12 weeks, none this week."));
    assert!(r.text.len() < rendered().text.len());
}

#[test]
fn rendering_twice_gives_identical_output() {
    assert_eq!(rendered(), rendered());
}

#[test]
fn override_directory_replaces_templates_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(TEXT_TEMPLATE),
        "{{ subject }} / {% for d in developments %}{{ d.id }} {% endfor %}",
    )
    .unwrap();
    std::fs::write(dir.path().join(CSS_FILE), ".title { color: #ff0000; }").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let r = render(&compose(&sample_input()), &templates).unwrap();
    assert_eq!(
        r.text,
        "Llama 4 · week 20, 2025: Meta delays Behemoth / E06 E99\n"
    );
    // The HTML template is still the default one, styled by the user's CSS.
    assert!(r.html.contains("class=\"title\" style=\"color: #ff0000;\""));
    assert!(!r.html.contains("max-width: 640px"));
}

#[test]
fn a_directory_overriding_only_some_files_keeps_the_rest_built_in() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CSS_FILE), DEFAULT_CSS).unwrap();
    // Other files (notes, editor backups) are no business of ours.
    std::fs::write(dir.path().join("README"), "my overrides").unwrap();
    std::fs::write(dir.path().join("digest.html.tera~"), "{% if %}").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let r = render(&compose(&sample_input()), &templates).unwrap();
    assert_eq!(r, rendered());
}

/// A wrong path never falls back to the defaults in silence: a missing directory, a file
/// where the directory should be, a directory with none of the files (a parent or a
/// sibling), and a misspelt override are each an error naming the path.
#[test]
fn a_wrong_override_directory_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("nope");
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not a template").unwrap();
    let misspelt = dir.path().join("misspelt");
    std::fs::create_dir(&misspelt).unwrap();
    std::fs::write(misspelt.join(TEXT_TEMPLATE), "{{ subject }}").unwrap();
    std::fs::write(misspelt.join("digest.htm.tera"), "<p>{{ subject }}</p>").unwrap();

    for (path, named, says) in [
        (&gone, gone.clone(), "the template directory does not exist"),
        (&file, file.clone(), "is not a directory"),
        (
            &empty,
            empty.clone(),
            "holds none of digest.html.tera, digest.txt.tera, digest.css",
        ),
        (
            &misspelt,
            misspelt.join("digest.htm.tera"),
            "is not a template Storyline reads",
        ),
    ] {
        let err = Templates::load(Some(path)).err().unwrap();
        let msg = err.to_string();
        assert!(matches!(err, DigestError::TemplateDir { .. }), "{msg}");
        assert!(
            msg.contains(&format!("{}: {says}", named.display())),
            "{}: {msg}",
            path.display()
        );
    }
}

#[test]
fn broken_override_template_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(HTML_TEMPLATE), "{% if %}").unwrap();
    let err = Templates::load(Some(dir.path())).err().unwrap();
    assert!(matches!(err, DigestError::TemplateParse { .. }), "{err}");
    let path = dir.path().join(HTML_TEMPLATE);
    assert_eq!(
        err.to_string(),
        format!("template {} does not parse", path.display())
    );

    std::fs::write(dir.path().join(HTML_TEMPLATE), "{{ no_such_field.x }}").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let err = render(&compose(&sample_input()), &templates).unwrap_err();
    assert!(matches!(err, DigestError::Template(_)), "{err}");
}

#[test]
fn wrap_and_pad_filters() {
    let mut args = HashMap::new();
    args.insert("width".to_string(), Value::from(10));
    args.insert("indent".to_string(), Value::from("  "));
    args.insert("first".to_string(), Value::from("1. "));
    let out = wrap_filter(&Value::from("one two three https://x.example/long"), &args).unwrap();
    assert_eq!(
        out,
        Value::from("1. one two\n  three\n  https://x.example/long")
    );
    assert!(wrap_filter(&Value::from(3), &HashMap::new()).is_err());

    let mut args = HashMap::new();
    args.insert("width".to_string(), Value::from(4));
    assert_eq!(
        pad_filter(&Value::from(7), &args).unwrap(),
        Value::from("   7")
    );
    assert_eq!(
        pad_filter(&Value::from("W09"), &args).unwrap(),
        Value::from(" W09")
    );
    assert_eq!(
        pad_filter(&Value::from("toolong"), &args).unwrap(),
        Value::from("toolong")
    );
    assert!(pad_filter(&Value::from(7), &HashMap::new()).is_err());
}

#[test]
fn templates_can_be_shared_across_tasks() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Templates>();
    assert_send_sync::<Rendered>();
}

/// A thread whose feed carries no score or comment count (Reddit's RSS) shows neither, in
/// both parts, rather than "0 points · 0 comments"; one count known shows just that one.
#[test]
fn a_thread_without_counts_shows_none() {
    let mut input = sample_input();
    input.discussions.truncate(1);
    let mut bare = input.discussions[0].clone();
    bare.title = "Bare thread".into();
    bare.url = "https://www.reddit.com/r/LocalLLaMA/bare/".into();
    (bare.points, bare.comments, bare.new_comments) = (None, None, 0);
    let mut one = bare.clone();
    one.title = "One count".into();
    one.url = "https://www.reddit.com/r/LocalLLaMA/one/".into();
    one.comments = Some(1);
    input.discussions = vec![bare, one];
    let d = compose(&input);
    let stats: Vec<&str> = d.discussions.iter().map(|t| t.stats.as_str()).collect();
    assert_eq!(stats, ["1 comment", ""]);
    let r = render(&d, &Templates::embedded().unwrap()).unwrap();
    for part in [&r.text, &r.html] {
        assert!(!part.contains("0 points"), "{part}");
        assert!(!part.contains("0 comments"), "{part}");
        assert!(!part.contains("points"), "{part}");
        assert!(part.contains("1 comment"), "{part}");
    }
    let text_after = &r.text[position(&r.text, "Bare thread")..];
    let next_line = text_after.lines().nth(1).unwrap_or_default();
    assert!(
        next_line.trim_start().starts_with("https://"),
        "{text_after}"
    );
}
