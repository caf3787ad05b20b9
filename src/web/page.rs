//! The site's HTML: the tera templates in `templates/web/`, built into the binary, each
//! replaceable by a file of the same name in `web/` under the digest's template directory
//! (`[digest] templates`), parsed once when the router is made and rendered with every value
//! escaped. Every page goes out with a policy that lets it run nothing; the headers every
//! answer shares (no framing, no referrer, no caching) are added around the router
//! (`super::secure`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tera::{Context, Tera};

use crate::mail::message::escape_html;

/// Every template by file name, in the order they are parsed: a template comes after the
/// ones it extends, includes or imports.
const TEMPLATES: [(&str, &str); 10] = [
    (
        "layout.html.tera",
        include_str!("../../templates/web/layout.html.tera"),
    ),
    (
        "macros.html.tera",
        include_str!("../../templates/web/macros.html.tera"),
    ),
    (
        "feeds.html.tera",
        include_str!("../../templates/web/feeds.html.tera"),
    ),
    (
        "notice.html.tera",
        include_str!("../../templates/web/notice.html.tera"),
    ),
    (
        "stories.html.tera",
        include_str!("../../templates/web/stories.html.tera"),
    ),
    (
        "story.html.tera",
        include_str!("../../templates/web/story.html.tera"),
    ),
    (
        "event.html.tera",
        include_str!("../../templates/web/event.html.tera"),
    ),
    (
        "subscribe.html.tera",
        include_str!("../../templates/web/subscribe.html.tera"),
    ),
    (
        "confirm.html.tera",
        include_str!("../../templates/web/confirm.html.tera"),
    ),
    (
        "unsubscribe.html.tera",
        include_str!("../../templates/web/unsubscribe.html.tera"),
    ),
];

/// The folder under the digest's template directory that holds web page overrides.
pub const OVERRIDE_FOLDER: &str = "web";

/// The policy of the site's own pages: inline style, forms posting back here, nothing else.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                           frame-ancestors 'none'; base-uri 'none'";

/// Why the web templates could not be loaded: the site does not start.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{}: {reason}", path.display())]
    Dir { path: PathBuf, reason: String },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("web template {} does not parse", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: tera::Error,
    },
    #[error("built-in web template {name} does not parse")]
    Builtin {
        name: &'static str,
        #[source]
        source: tera::Error,
    },
}

/// The parsed templates, shared by every handler.
#[derive(Clone)]
pub(super) struct Pages(Arc<Tera>);

impl Pages {
    /// The built-in templates.
    #[cfg(test)]
    pub(super) fn embedded() -> Result<Pages, TemplateError> {
        Pages::load(None)
    }

    /// The built-in templates, each replaced by the file of the same name in `override_dir`
    /// when there is one. As with the digest's templates, a directory that is there must look
    /// made for the site: it is an error when it holds none of the files, when it holds a
    /// `.tera` file by another name (a misspelt override), and when an override does not parse.
    pub(super) fn load(override_dir: Option<&Path>) -> Result<Pages, TemplateError> {
        if let Some(dir) = override_dir {
            check_dir(dir)?;
        }
        let mut tera = Tera::default();
        // Tera only escapes names ending in ".html" by default; ours end in ".tera". The
        // escaping is the crate's own (as mail's and alerts' HTML), so pages keep their bytes.
        tera.autoescape_on(vec![".html.tera"]);
        tera.set_escape_fn(escape_html);
        for (name, default) in TEMPLATES {
            let path = override_dir.map(|dir| dir.join(name));
            let text = match &path {
                Some(path) => read_override(path)?,
                None => None,
            };
            match (text, path) {
                (Some(text), Some(path)) => tera
                    .add_raw_template(name, &text)
                    .map_err(|source| TemplateError::Parse { path, source })?,
                _ => tera
                    .add_raw_template(name, default)
                    .map_err(|source| TemplateError::Builtin { name, source })?,
            }
        }
        Ok(Pages(Arc::new(tera)))
    }
    /// The templates `config` asks for: the built-in ones, with the overrides in `web/` under
    /// the digest's template directory when it has that folder.
    pub(super) fn configured(config: &crate::config::Config) -> Result<Pages, TemplateError> {
        let dir = config
            .digest
            .templates
            .as_deref()
            .map(|dir| dir.join(OVERRIDE_FOLDER))
            .filter(|dir| dir.exists());
        Pages::load(dir.as_deref())
    }

    /// `template` filled with `values` (a struct whose fields the template names), as HTML.
    pub(super) fn fragment(
        &self,
        template: &str,
        values: &impl Serialize,
    ) -> Result<String, tera::Error> {
        self.0.render(template, &Context::from_serialize(values)?)
    }

    /// A whole page: `template` (one that extends the layout, so `values` has a `title`).
    pub(super) fn page(
        &self,
        status: StatusCode,
        template: &str,
        values: &impl Serialize,
    ) -> Response {
        match self.fragment(template, values) {
            Ok(html) => html_answer(status, html, PAGE_POLICY),
            Err(e) => {
                tracing::error!(error = ?e, template, "a page did not render");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page could not be rendered; the log says why\n",
                )
                    .into_response()
            }
        }
    }

    /// A page that says one thing.
    pub(super) fn notice(&self, status: StatusCode, title: &str, message: &str) -> Response {
        #[derive(Serialize)]
        struct Notice<'a> {
            title: &'a str,
            message: &'a str,
        }
        self.page(status, "notice.html.tera", &Notice { title, message })
    }
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pages")
    }
}

/// A directory given for overrides holds at least one of the templates and no other
/// template-like file.
fn check_dir(dir: &Path) -> Result<(), TemplateError> {
    let bad = |reason: String| TemplateError::Dir {
        path: dir.to_path_buf(),
        reason,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| bad(format!("cannot be read ({e})")))?;
    let known = || {
        TEMPLATES
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut found = false;
    for entry in entries {
        let entry = entry.map_err(|e| bad(format!("cannot be read ({e})")))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if TEMPLATES.iter().any(|(known, _)| *known == name) {
            found = true;
        } else if name.ends_with(".tera") {
            return Err(TemplateError::Dir {
                path: entry.path(),
                reason: format!(
                    "is not a web template Storyline reads (it reads {})",
                    known()
                ),
            });
        }
    }
    if found {
        Ok(())
    } else {
        Err(bad(format!(
            "holds none of the web templates ({})",
            known()
        )))
    }
}

fn read_override(path: &Path) -> Result<Option<String>, TemplateError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TemplateError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `html` as an answer under `policy` (a Content-Security-Policy).
pub(super) fn html_answer(status: StatusCode, html: String, policy: &'static str) -> Response {
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values are escaped once, by the crate's escaper, and never read as template syntax.
    #[test]
    fn notices_escape_their_values_once() {
        let pages = Pages::embedded().map_err(|e| format!("{e:?}"));
        let Ok(pages) = pages else {
            panic!("templates do not parse: {pages:?}");
        };
        let html = pages
            .fragment(
                "notice.html.tera",
                &serde_json::json!({"title": "O'B & <b>", "message": "{{ title }} \"x\""}),
            )
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(
            html.contains("<title>O&#39;B &amp; &lt;b&gt; · Storyline</title>"),
            "{html}"
        );
        assert!(html.contains("<p>{{ title }} &quot;x&quot;</p>"), "{html}");
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    fn load_err(dir: &Path) -> String {
        match Pages::load(Some(dir)) {
            Ok(_) => panic!("{} loaded", dir.display()),
            Err(e) => e.to_string(),
        }
    }

    /// A file in the directory replaces the built-in template of its name, for every page that
    /// uses it, still escaped; the templates it lacks stay built in.
    #[test]
    fn an_override_replaces_the_template_of_its_name() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write(
            dir.path(),
            "layout.html.tera",
            "<main>{{ title }}|{% block content %}{% endblock content %}</main>",
        );
        let pages = Pages::load(Some(dir.path())).unwrap_or_else(|e| panic!("{e:?}"));
        let html = pages
            .fragment(
                "notice.html.tera",
                &serde_json::json!({"title": "<T>", "message": "m & n"}),
            )
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(html, "<main>&lt;T&gt;|<p>m &amp; n</p>\n</main>");
    }

    /// A directory that does not look made for the site, or an override that does not parse,
    /// stops the load with the path named.
    #[test]
    fn a_wrong_directory_or_a_broken_override_names_the_path() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let err = load_err(dir.path());
        assert!(err.contains("holds none of the web templates"), "{err}");

        write(dir.path(), "story.html.tera", "{% block content %}");
        let err = load_err(dir.path());
        let path = dir.path().join("story.html.tera");
        assert_eq!(
            err,
            format!("web template {} does not parse", path.display())
        );

        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
        write(dir.path(), "notice.html.tera", "{{ message }}");
        write(dir.path(), "stroy.html.tera", "{{ title }}");
        let err = load_err(dir.path());
        assert!(
            err.starts_with(&format!(
                "{}: is not a web template",
                dir.path().join("stroy.html.tera").display()
            )),
            "{err}"
        );
    }

    /// The overrides are the `web/` folder of the digest's template directory; without one the
    /// built-in pages stay.
    #[test]
    fn overrides_come_from_the_web_folder_of_the_digest_templates() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write(dir.path(), "digest.css", "p { color: #123; }");
        let config = crate::config::Config::parse(
            &format!("[digest]\ntemplates = {:?}\n", dir.path()),
            crate::config::Origin::Preset,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let builtin = Pages::configured(&config).unwrap_or_else(|e| panic!("{e:?}"));
        let values = serde_json::json!({"title": "T", "message": "m"});
        let html = builtin
            .fragment("notice.html.tera", &values)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(html.starts_with("<!doctype html>"), "{html}");

        let web = dir.path().join("web");
        std::fs::create_dir(&web).unwrap_or_else(|e| panic!("{e}"));
        write(&web, "notice.html.tera", "<p>{{ message }}</p>");
        let overridden = Pages::configured(&config).unwrap_or_else(|e| panic!("{e:?}"));
        let html = overridden
            .fragment("notice.html.tera", &values)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(html, "<p>m</p>");

        write(&web, "notice.html.tera", "{% if %}");
        let err = Pages::configured(&config).err().map(|e| e.to_string());
        assert_eq!(
            err,
            Some(format!(
                "web template {} does not parse",
                web.join("notice.html.tera").display()
            ))
        );
    }
}
