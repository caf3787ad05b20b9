//! OPML 2.0 import and export of sources.
//!
//! Export writes one `<outline>` per source: `text` is the source id, `title` its title, and
//! `type="rss"` + `xmlUrl` for feeds or `type="link"` + `url` for pages, so a round trip keeps
//! ids, titles and URLs. Import reads any reader's OPML (nested folders too): `text` becomes
//! the id when it is a valid id, else the title.
//!
//! The `opml` crate reads the structure but reports no positions, so a quick-xml pass first
//! checks well-formedness and the OPML shape, and remembers each outline's line for messages.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use url::Url;

use crate::value::source::{SourceId, SourceKind};

/// One source found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlSource {
    /// The outline's `text`, when it is a valid source id (as Storyline exports it).
    pub id: Option<SourceId>,
    pub title: Option<String>,
    pub url: Url,
    pub kind: SourceKind,
    /// Line of the `<outline>` in the file.
    pub line: usize,
}

/// A source to export.
#[derive(Debug, Clone)]
pub struct ExportSource<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub url: &'a str,
    pub kind: SourceKind,
}

/// Why an OPML file was rejected: the line (1-based) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct OpmlError {
    pub line: usize,
    pub reason: String,
}

/// Read the sources of an OPML document; reject it whole, with a line and reason, when it is
/// malformed or an outline's URL is unusable.
pub fn parse(text: &str) -> Result<Vec<OpmlSource>, OpmlError> {
    let text = text.trim_start_matches('\u{feff}');
    let lines = precheck(text)?;
    let doc = opml::OPML::from_str(text).map_err(|e| OpmlError {
        line: lines.root,
        reason: describe_opml_error(&e),
    })?;
    let mut flat = Vec::new();
    flatten(&doc.body.outlines, &mut flat);
    let mut out = Vec::new();
    for (i, o) in flat.into_iter().enumerate() {
        // The two passes see the same outlines in the same order.
        let line = lines.outlines.get(i).copied().unwrap_or(lines.root);
        if let Some(source) = to_source(o, line)? {
            out.push(source);
        }
    }
    Ok(out)
}

fn flatten<'a>(outlines: &'a [opml::Outline], out: &mut Vec<&'a opml::Outline>) {
    for o in outlines {
        out.push(o);
        flatten(&o.outlines, out);
    }
}

/// An outline with a feed URL (`xmlUrl`) or a link (`type="link"` + `url`) is a source;
/// folders and notes are not.
fn to_source(o: &opml::Outline, line: usize) -> Result<Option<OpmlSource>, OpmlError> {
    let is_link = o
        .r#type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("link"));
    let (raw, kind) = match (&o.xml_url, &o.url) {
        (Some(x), _) if !x.trim().is_empty() => (x, SourceKind::Feed),
        (_, Some(u)) if is_link && !u.trim().is_empty() => (u, SourceKind::Page),
        _ => return Ok(None),
    };
    let url =
        crate::value::source::parse_source_url(raw).map_err(|reason| OpmlError { line, reason })?;
    let text = o.text.trim();
    let id = SourceId::parse(text).ok();
    let title = o
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or_else(|| (id.is_none() && !text.is_empty()).then_some(text))
        .map(str::to_string);
    Ok(Some(OpmlSource {
        id,
        title,
        url,
        kind,
        line,
    }))
}

/// Write sources as an OPML 2.0 document.
pub fn render(sources: &[ExportSource<'_>], title: &str) -> Result<String, String> {
    let mut doc = opml::OPML {
        head: Some(opml::Head {
            title: Some(title.to_string()),
            ..opml::Head::default()
        }),
        ..opml::OPML::default()
    };
    for s in sources {
        let (r#type, xml_url, url) = match s.kind {
            SourceKind::Feed => ("rss", Some(s.url.to_string()), None),
            SourceKind::Page => ("link", None, Some(s.url.to_string())),
        };
        doc.body.outlines.push(opml::Outline {
            text: s.id.to_string(),
            title: s.title.map(str::to_string),
            r#type: Some(r#type.into()),
            xml_url,
            url,
            ..opml::Outline::default()
        });
    }
    let body = doc.to_string().map_err(|e| describe_opml_error(&e))?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}\n"
    ))
}

/// The `opml` crate's own message is "Failed to process XML file"; the cause is one level down.
fn describe_opml_error(e: &opml::Error) -> String {
    use std::error::Error as _;
    match e.source() {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// Lines of interest found by the pre-check.
struct Lines {
    root: usize,
    /// Line of every `<outline>`, in document order.
    outlines: Vec<usize>,
}

/// Well-formedness and OPML shape, with positions: the root is `<opml version="1.0|1.1|2.0">`,
/// it has a `<body>`, and the body has at least one `<outline>`.
fn precheck(text: &str) -> Result<Lines, OpmlError> {
    let line_at = |pos: u64| {
        let pos = usize::try_from(pos).unwrap_or(usize::MAX).min(text.len());
        text.as_bytes()[..pos]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    };
    let mut reader = Reader::from_str(text);
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut lines = Lines {
        root: 1,
        outlines: Vec::new(),
    };
    let mut body_line: Option<usize> = None;
    loop {
        let start = reader.buffer_position();
        let event = reader.read_event().map_err(|e| OpmlError {
            line: line_at(reader.error_position()),
            reason: format!("not well-formed XML: {e}"),
        })?;
        let line = line_at(start);
        match event {
            Event::Start(e) => {
                element(&e, line, open.len(), &mut lines, &mut body_line)?;
                open.push((e.local_name().as_ref().to_string(), line));
            }
            Event::Empty(e) => element(&e, line, open.len(), &mut lines, &mut body_line)?,
            Event::End(_) => {
                open.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some((name, opened)) = open.last() {
        return Err(OpmlError {
            line: line_at(text.len() as u64),
            reason: format!("the file ends before <{name}> (opened on line {opened}) is closed"),
        });
    }
    match body_line {
        None if text.trim().is_empty() => Err(OpmlError {
            line: 1,
            reason: "the file is empty".into(),
        }),
        None => Err(OpmlError {
            line: lines.root,
            reason: "no <body> element".into(),
        }),
        Some(line) if lines.outlines.is_empty() => Err(OpmlError {
            line,
            reason: "<body> has no <outline> elements".into(),
        }),
        Some(_) => Ok(lines),
    }
}

fn element(
    e: &BytesStart<'_>,
    line: usize,
    depth: usize,
    lines: &mut Lines,
    body_line: &mut Option<usize>,
) -> Result<(), OpmlError> {
    let name = e.local_name();
    let name = name.as_ref();
    if depth == 0 {
        if name != "opml" {
            return Err(OpmlError {
                line,
                reason: format!("the root element is <{name}>, not <opml>"),
            });
        }
        lines.root = line;
        let version = e
            .try_get_attribute("version")
            .ok()
            .flatten()
            .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
            .map(|v| v.to_string());
        return match version.as_deref() {
            Some("1.0" | "1.1" | "2.0") => Ok(()),
            Some(v) => Err(OpmlError {
                line,
                reason: format!("unsupported OPML version \"{v}\" (1.0, 1.1 and 2.0 are)"),
            }),
            None => Err(OpmlError {
                line,
                reason: "<opml> has no version attribute".into(),
            }),
        };
    }
    match name {
        "body" if depth == 1 => *body_line = Some(line),
        "outline" => lines.outlines.push(line),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_then_import_keeps_ids_titles_urls_and_kinds() {
        let sources = [
            ExportSource {
                id: "verge-ai",
                title: Some("The Verge: AI & more <news>"),
                url: "https://www.theverge.com/rss/ai-artificial-intelligence/index.xml",
                kind: SourceKind::Feed,
            },
            ExportSource {
                id: "cited-aim",
                title: None,
                url: "https://analyticsindiamag.com/a/?x=1&y=2",
                kind: SourceKind::Page,
            },
        ];
        let xml = render(&sources, "Storyline sources").unwrap();
        let back = parse(&xml).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].id.as_ref().map(SourceId::as_str), Some("verge-ai"));
        assert_eq!(
            back[0].title.as_deref(),
            Some("The Verge: AI & more <news>")
        );
        assert_eq!(back[0].url.as_str(), sources[0].url);
        assert_eq!(back[0].kind, SourceKind::Feed);
        assert_eq!(back[1].id.as_ref().map(SourceId::as_str), Some("cited-aim"));
        assert_eq!(back[1].title, None);
        assert_eq!(back[1].url.as_str(), sources[1].url);
        assert_eq!(back[1].kind, SourceKind::Page);
    }

    #[test]
    fn other_readers_files_with_folders_are_read() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Feeds</title></head>
  <body>
    <outline text="AI">
      <outline text="Hugging Face Blog" type="rss" xmlUrl="https://huggingface.co/blog/feed.xml"/>
      <outline text="A note with no URL"/>
    </outline>
  </body>
</opml>"#;
        let got = parse(xml).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, None);
        assert_eq!(got[0].title.as_deref(), Some("Hugging Face Blog"));
        assert_eq!(got[0].line, 6);
    }

    #[test]
    fn malformed_files_are_rejected_with_line_and_reason() {
        let cases: [(&str, usize, &str); 6] = [
            (
                "<opml version=\"2.0\">\n<body>\n<outline text=\"a\" xmlUrl=\"https://x/\">\n</body>\n</opml>",
                4,
                "",
            ),
            ("<opml version=\"2.0\">\n<body>\n<outline text=\"a\"/>\n", 4, "ends before <body>"),
            ("<rss>\n</rss>", 1, "not <opml>"),
            ("\n<opml version=\"3.0\"><body/></opml>", 2, "version"),
            ("<opml version=\"2.0\">\n<head/>\n<body>\n</body></opml>", 3, "no <outline>"),
            (
                "<opml version=\"2.0\"><body>\n<outline text=\"a\"/>\n<outline text=\"b\" xmlUrl=\"ftp://x/f\"/>\n</body></opml>",
                3,
                "http",
            ),
        ];
        for (xml, line, reason) in cases {
            let err = parse(xml).unwrap_err();
            assert_eq!(err.line, line, "{xml:?}: {err}");
            assert!(err.reason.contains(reason), "{xml:?}: {err}");
        }
    }
}
