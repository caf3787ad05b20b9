//! Rendering a composed `Digest` with tera: the HTML page (CSS inlined for mail clients) and
//! the plain-text part, from the same value. Templates are compiled once into `Templates`;
//! defaults are embedded in the binary and a user directory can override any of them by name.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use tera::{Context, Tera, Value};

use super::model::Digest;
use super::{chart, DigestError};

/// The chart's Content-ID in mail (`<img src="cid:chart@storyline">`).
pub const CHART_CONTENT_ID: &str = "chart@storyline";

/// Template file names, the same in `templates/` and in a user's override directory.
pub const HTML_TEMPLATE: &str = "digest.html.tera";
pub const TEXT_TEMPLATE: &str = "digest.txt.tera";
/// Plain CSS (not a template), inlined into the HTML's `style` attributes.
pub const CSS_FILE: &str = "digest.css";

const DEFAULT_HTML: &str = include_str!("../../templates/digest.html.tera");
const DEFAULT_TEXT: &str = include_str!("../../templates/digest.txt.tera");
const DEFAULT_CSS: &str = include_str!("../../templates/digest.css");

/// Text is wrapped to this width unless a template asks otherwise.
pub const TEXT_WIDTH: usize = 72;

/// Compiled digest templates plus the stylesheet to inline.
pub struct Templates {
    tera: Tera,
    css: String,
}

/// The app handle that holds the templates is `Debug`; their compiled text says little.
impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

/// Every file an override directory may hold.
pub const OVERRIDABLE: [&str; 3] = [HTML_TEMPLATE, TEXT_TEMPLATE, CSS_FILE];

impl Templates {
    /// The built-in templates.
    pub fn embedded() -> Result<Templates, DigestError> {
        Templates::load(None)
    }

    /// The built-in templates, each replaced by a file of the same name in `override_dir` when
    /// one exists there. Templates are parsed here, once, so rendering only fills them in.
    ///
    /// A directory may override any of the three files and leave the others built in, but a
    /// configured directory must be there and must look like one made for Storyline: it is
    /// an error when it does not exist, when it holds none of the three files (a wrong
    /// path), when it holds a `.tera` or `.css` file by another name (a misspelt override
    /// that would otherwise be ignored), and when an override does not parse.
    pub fn load(override_dir: Option<&Path>) -> Result<Templates, DigestError> {
        if let Some(dir) = override_dir {
            check_dir(dir)?;
        }
        let html = read_override(override_dir, HTML_TEMPLATE)?;
        let text = read_override(override_dir, TEXT_TEMPLATE)?;
        let css = read_override(override_dir, CSS_FILE)?.unwrap_or_else(|| DEFAULT_CSS.into());

        let mut tera = Tera::default();
        // Tera only escapes names ending in ".html"; ours end in ".tera". The text template
        // must never be escaped.
        tera.autoescape_on(vec![".html.tera", ".html"]);
        tera.register_filter("wrap", wrap_filter);
        tera.register_filter("pad", pad_filter);
        for (name, text, default) in [
            (HTML_TEMPLATE, &html, DEFAULT_HTML),
            (TEXT_TEMPLATE, &text, DEFAULT_TEXT),
        ] {
            tera.add_raw_template(name, text.as_deref().unwrap_or(default))
                .map_err(|source| match (override_dir, text) {
                    (Some(dir), Some(_)) => DigestError::TemplateParse {
                        path: dir.join(name),
                        source,
                    },
                    _ => DigestError::Template(source),
                })?;
        }
        Ok(Templates { tera, css })
    }
}

/// The override directory exists, holds at least one file Storyline reads, and no
/// template-like file by a name it would ignore.
fn check_dir(dir: &Path) -> Result<(), DigestError> {
    let bad = |reason: String| DigestError::TemplateDir {
        path: dir.to_path_buf(),
        reason,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad("the template directory does not exist".into()))
        }
        Err(e) if !dir.is_dir() && dir.exists() => {
            return Err(bad(format!("is not a directory ({e})")))
        }
        Err(e) => return Err(bad(format!("cannot be read ({e})"))),
    };
    let known = OVERRIDABLE.join(", ");
    let mut found = false;
    for entry in entries {
        let entry = entry.map_err(|e| bad(format!("cannot be read ({e})")))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if OVERRIDABLE.contains(&name.as_ref()) {
            found = true;
        } else if name.ends_with(".tera") || name.ends_with(".css") {
            return Err(DigestError::TemplateDir {
                path: entry.path(),
                reason: format!("is not a template Storyline reads (it reads {known})"),
            });
        }
    }
    if !found {
        return Err(bad(format!(
            "holds none of {known}; is it the right template directory?"
        )));
    }
    Ok(())
}

fn read_override(dir: Option<&Path>, name: &str) -> Result<Option<String>, DigestError> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DigestError::TemplateRead { path, source }),
    }
}

/// A digest ready to save or send.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    /// A standalone page: the chart is embedded as a `data:` URI.
    pub html: String,
    /// The HTML part of the mail: the chart is `cid:chart@storyline`.
    pub email_html: String,
    pub text: String,
    pub chart_png: Vec<u8>,
}

/// Render the subject, both HTML variants, the text part and the chart.
pub fn render(digest: &Digest, templates: &Templates) -> Result<Rendered, DigestError> {
    let chart_png = chart::draw_png(&digest.chart)?;
    let data_uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&chart_png)
    );
    let context = Context::from_serialize(digest)?;
    Ok(Rendered {
        subject: digest.subject.clone(),
        html: html_with_context(context.clone(), templates, &data_uri)?,
        email_html: html_with_context(
            context.clone(),
            templates,
            &format!("cid:{CHART_CONTENT_ID}"),
        )?,
        text: tidy_text(&templates.tera.render(TEXT_TEMPLATE, &context)?),
        chart_png,
    })
}

/// Render only the HTML, with the chart image at `image_src` (a URL, `data:` or `cid:` URI).
pub fn render_html(
    digest: &Digest,
    templates: &Templates,
    image_src: &str,
) -> Result<String, DigestError> {
    html_with_context(Context::from_serialize(digest)?, templates, image_src)
}

fn html_with_context(
    mut context: Context,
    templates: &Templates,
    image_src: &str,
) -> Result<String, DigestError> {
    context.insert("chart_src", image_src);
    context.insert("chart_width", &chart::WIDTH);
    context.insert("chart_height", &chart::HEIGHT);
    let html = templates.tera.render(HTML_TEMPLATE, &context)?;
    let inliner = css_inline::CSSInliner::options()
        .load_remote_stylesheets(false)
        .keep_link_tags(false)
        .keep_style_tags(false)
        .extra_css(Some(templates.css.as_str().into()))
        .build();
    Ok(inliner.inline(&html)?)
}

/// `{{ text | wrap(width=72, indent="   ", first="1. ") }}`: wrap at word boundaries; `indent`
/// starts every line but the first, which starts with `first` (default: `indent`). Long words
/// (URLs) are never broken, so they stay clickable in a terminal.
fn wrap_filter(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("wrap: expected a string"))?;
    let width = match args.get("width") {
        Some(w) => w
            .as_u64()
            .and_then(|w| usize::try_from(w).ok())
            .ok_or_else(|| tera::Error::msg("wrap: width must be a positive number"))?,
        None => TEXT_WIDTH,
    };
    let arg = |name: &str| args.get(name).and_then(Value::as_str);
    let indent = arg("indent").unwrap_or("");
    let first = arg("first").unwrap_or(indent);
    let options = textwrap::Options::new(width.max(1))
        .initial_indent(first)
        .subsequent_indent(indent)
        .break_words(false);
    Ok(Value::String(textwrap::fill(text, options)))
}

/// `{{ n | pad(width=5) }}`: right-align a value in `width` columns, for text tables.
fn pad_filter(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let width = args
        .get("width")
        .and_then(Value::as_u64)
        .and_then(|w| usize::try_from(w).ok())
        .ok_or_else(|| tera::Error::msg("pad: width must be a positive number"))?;
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let len = textwrap::core::display_width(&text);
    Ok(Value::String(format!(
        "{}{text}",
        " ".repeat(width.saturating_sub(len))
    )))
}

/// Trailing spaces off every line, no runs of blank lines, one final newline: templates can
/// then lay out blocks freely and the result still reads cleanly in a terminal.
fn tidy_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
