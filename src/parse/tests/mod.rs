//! End-to-end tests of `parse_feed`, one mechanism each; `robustness` holds the sweeps (no
//! input panics; both routes to feed-rs read well-formed feeds alike).

mod robustness;

use url::Url;

use super::feed::{parse_unguarded, Route};
use super::{parse_feed, Document, Format, ParseError};

fn parse(body: &[u8]) -> Document {
    parse_feed(body, None, None).expect("parses")
}

fn first_title(doc: &Document) -> Option<&str> {
    doc.entries.first().and_then(|e| e.title.as_deref())
}

fn rss_item(item: &str) -> String {
    format!("<rss version=\"2.0\"><channel><title>T</title>{item}</channel></rss>")
}

#[test]
fn declared_latin1_is_decoded() {
    let mut bytes =
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel>".to_vec();
    bytes.extend(b"<item><title>S\xe3o Paulo caf\xe9</title></item></channel></rss>");
    assert_eq!(first_title(&parse(&bytes)), Some("São Paulo café"));
}

#[test]
fn http_charset_outranks_the_declaration() {
    let mut bytes =
        b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>".to_vec();
    bytes.extend(b"<item><title>\xc0\xe4\xe8</title></item></channel></rss>");
    let doc = parse_feed(
        &bytes,
        Some("application/rss+xml; charset=windows-1251"),
        None,
    )
    .unwrap();
    assert_eq!(first_title(&doc), Some("Ади"));
}

#[test]
fn bom_outranks_http_charset() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(rss_item("<item><title>\u{e9}t\u{e9}</title></item>").bytes());
    let doc = parse_feed(&bytes, Some("text/xml; charset=iso-8859-1"), None).unwrap();
    assert_eq!(first_title(&doc), Some("été"));
}

#[test]
fn utf16_without_bom_and_declared_utf16_parse() {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-16\"?>{}",
        rss_item("<item><title>\u{e9}t\u{e9}</title></item>")
    );
    for big_endian in [true, false] {
        let bytes: Vec<u8> = xml
            .encode_utf16()
            .flat_map(|u| {
                if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect();
        assert_eq!(
            first_title(&parse(&bytes)),
            Some("été"),
            "big endian {big_endian}"
        );
    }
}

#[test]
fn undeclared_legacy_bytes_fall_back_to_cp1252() {
    let mut bytes = b"<rss version=\"2.0\"><channel><item><title>".to_vec();
    bytes.extend(b"\x93Smart\x94 quotes \x96 dash</title></item></channel></rss>");
    assert_eq!(
        first_title(&parse(&bytes)),
        Some("\u{201c}Smart\u{201d} quotes \u{2013} dash")
    );
}

#[test]
fn rss_without_or_with_odd_version_is_read() {
    for root in [
        "<rss>",
        "<rss version=\"0.94\">",
        "<rss version=\"2.01\">",
        "<RSS>",
    ] {
        let doc = parse(
            format!("{root}<channel><item><title>One</title></item><item><title>Two</title></item></channel></rss>")
                .as_bytes(),
        );
        assert_eq!(doc.format, Some(Format::Rss), "{root}");
        assert_eq!(doc.entries.len(), 2, "{root}");
        assert_eq!(first_title(&doc), Some("One"), "{root}");
    }
}

#[test]
fn headless_channels_and_lone_entries_are_read() {
    let cdf = parse(b"<CHANNEL HREF=\"http://e.org/\"><TITLE>C</TITLE><ITEM HREF=\"http://e.org/1\"><TITLE>One</TITLE></ITEM></CHANNEL>");
    assert_eq!(cdf.link.as_deref(), Some("http://e.org/"));
    assert_eq!(cdf.entries[0].link.as_deref(), Some("http://e.org/1"));
    let item = parse(b"<item><title>Solo</title></item>");
    assert_eq!(first_title(&item), Some("Solo"));
    let entry = parse(
        b"<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>e</id><title>Alone</title></entry>",
    );
    assert_eq!(
        (entry.format, first_title(&entry)),
        (Some(Format::Atom), Some("Alone"))
    );
}

#[test]
fn atom_03_is_mapped_to_atom_10() {
    let doc = parse(
        br#"<feed version="0.3" xmlns="http://purl.org/atom/ns#">
          <title>Old Atom</title>
          <link rel="alternate" type="text/html" href="http://example.org/"/>
          <entry>
            <title type="text/html" mode="escaped">&lt;b&gt;Bold&lt;/b&gt; &amp;amp; more</title>
            <link rel="alternate" type="text/html" href="http://example.org/1"/>
            <id>tag:example.org,2004:1</id>
            <issued>2004-04-20T00:23:47Z</issued>
            <modified>2004-04-20T11:56:34Z</modified>
            <author><name>Ann</name><url>http://example.org/ann</url></author>
            <summary type="text/plain" mode="base64">U3VtbWFyeQ==</summary>
            <content type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi</p></div></content>
          </entry>
        </feed>"#,
    );
    assert_eq!(doc.format, Some(Format::Atom));
    assert_eq!(doc.title.as_deref(), Some("Old Atom"));
    assert_eq!(doc.link.as_deref(), Some("http://example.org/"));
    let e = &doc.entries[0];
    assert_eq!(e.title.as_deref(), Some("Bold & more"));
    assert_eq!(e.id, "tag:example.org,2004:1");
    assert_eq!(e.link.as_deref(), Some("http://example.org/1"));
    assert_eq!(e.author.as_deref(), Some("Ann"));
    assert_eq!(e.summary.as_deref(), Some("Summary"));
    assert_eq!(e.content.as_deref(), Some("<p>Hi</p>"));
    assert_eq!(
        e.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2004-04-20T00:23:47+00:00")
    );
    assert_eq!(
        e.updated.map(|d| d.to_rfc3339()).as_deref(),
        Some("2004-04-20T11:56:34+00:00")
    );
}

#[test]
fn rdf_items_without_links_and_rss_090_are_kept() {
    let doc = parse(
        br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
                     xmlns="http://my.netscape.com/rdf/simple/0.9/">
          <channel><title>Old</title><link>http://example.org/</link></channel>
          <item><title>First</title><link>http://example.org/1</link></item>
          <item rdf:about="urn:two"><title>Second</title></item>
        </rdf:RDF>"#,
    );
    assert_eq!(doc.format, Some(Format::Rdf));
    assert_eq!(doc.title.as_deref(), Some("Old"));
    assert_eq!(doc.entries.len(), 2);
    assert_eq!(doc.entries[1].id, "urn:two");
}

#[test]
fn html_named_entities_are_decoded() {
    let doc = parse(
        rss_item("<item><title>Caf&eacute; &hellip; &ldquo;quoted&rdquo; &amp;amp; AT&amp;T</title></item>")
            .as_bytes(),
    );
    assert_eq!(first_title(&doc), Some("Café … “quoted” & AT&T"));
}

#[test]
fn element_names_match_in_any_case() {
    let doc = parse(
        b"<rss version=\"2.0\"><channel><ITEM><TITLE>Upper</TITLE><Link>http://e.org/u</Link></ITEM>\
          <item><title>Lower</title></item></channel></rss>",
    );
    let titles: Vec<_> = doc.entries.iter().map(|e| e.title.as_deref()).collect();
    assert_eq!(titles, vec![Some("Upper"), Some("Lower")]);
    assert_eq!(doc.entries[0].link.as_deref(), Some("http://e.org/u"));
}

#[test]
fn entries_outside_the_channel_and_in_cdata() {
    let doc = parse(
        b"<rss version=\"2.0\"><channel><title>T</title>\
          <item><title>In</title><description><![CDATA[<item>not an entry</item>]]></description></item>\
          </channel><item><title>Out</title></item></rss>",
    );
    let titles: Vec<_> = doc.entries.iter().map(|e| e.title.as_deref()).collect();
    assert_eq!(titles, vec![Some("In"), Some("Out")]);
}

#[test]
fn media_rss_titles_stand_in_for_missing_titles() {
    let body = "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel>\
                <item><media:group><media:title>Grouped</media:title></media:group></item>\
                <item><media:title>Loose</media:title><title>Own</title></item></channel></rss>";
    let direct = parse(body.as_bytes());
    let repaired = parse_unguarded(body.as_bytes(), None, None, Route::Repair).unwrap();
    for doc in [direct, repaired] {
        let titles: Vec<_> = doc.entries.iter().map(|e| e.title.as_deref()).collect();
        assert_eq!(titles, vec![Some("Grouped"), Some("Own")]);
    }
}

#[test]
fn dublin_core_titles_are_read() {
    let body = "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel>\
                <item><dc:title>From DC</dc:title></item></channel></rss>";
    assert_eq!(first_title(&parse(body.as_bytes())), Some("From DC"));
}

#[test]
fn atom_style_links_in_rss_are_read() {
    let doc =
        parse(rss_item("<item><title>A</title><link href=\"http://e.org/a\"/></item>").as_bytes());
    assert_eq!(doc.entries[0].link.as_deref(), Some("http://e.org/a"));
}

/// Inputs that make feed-rs itself panic (a mid-document XML declaration, a non-ASCII letter
/// next to an RSS author's e-mail address) are read through the repair pass instead.
#[test]
fn feed_rs_panics_fall_back_to_the_repair_pass() {
    for item in [
        "<item><title>A<?xml version=\"1.0\" encoding=\"utf-16\"?></title></item>",
        "<item><title>A</title><author>\u{201c}jo@example.org</author></item>",
    ] {
        let body = rss_item(item);
        let doc = parse_unguarded(body.as_bytes(), None, None, Route::Fastest).unwrap();
        assert_eq!(first_title(&doc), Some("A"), "{item}");
    }
}

#[test]
fn junk_before_the_feed_is_skipped() {
    let doc = parse(
        b"<b>Warning</b>: headers already sent<br />\n<?xml version=\"1.0\"?>\
          <rss version=\"2.0\"><channel><item><title>Still here</title></item></channel></rss>",
    );
    assert_eq!(first_title(&doc), Some("Still here"));
}

#[test]
fn ill_formed_xml_is_recovered() {
    let doc = parse(
        b"<rss version=\"2.0\"><channel><title>Broken</title>\
          <item><title>One & only</title><link>http://e.org/?a=1&b=2</link></item>\
          <item><title>Two<br></title><description><p>unclosed</description></item>\
          <item><title>Three</title>",
    );
    let titles: Vec<_> = doc.entries.iter().map(|e| e.title.as_deref()).collect();
    assert_eq!(titles, vec![Some("One & only"), Some("Two"), Some("Three")]);
    assert_eq!(
        doc.entries[0].link.as_deref(),
        Some("http://e.org/?a=1&b=2")
    );
}

#[test]
fn json_feed_1_0_and_1_1() {
    for version in ["1", "1.1"] {
        let doc = parse(
            format!(
                r#"{{"version": "https://jsonfeed.org/version/{version}", "title": "J",
                    "items": [{{"id": "a", "title": "A", "url": "https://e.org/a"}},
                              {{"title": "No id", "url": "https://e.org/b"}}]}}"#
            )
            .as_bytes(),
        );
        assert_eq!(doc.format, Some(Format::JsonFeed));
        let ids: Vec<_> = doc.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["a", "https://e.org/b"]);
    }
}

#[test]
fn identities_are_stable_and_follow_guid_link_hash() {
    let body = rss_item(
        "<item><guid>g-1</guid><link>http://e.org/1</link><title>A</title></item>\
         <item><link>http://e.org/2</link><title>B</title></item>\
         <item><title>C</title><pubDate>Mon, 07 Apr 2025 10:00:00 GMT</pubDate></item>\
         <item><title>D</title></item>",
    );
    let ids = |doc: Document| doc.entries.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let first = ids(parse(body.as_bytes()));
    assert_eq!(first[0], "g-1");
    assert_eq!(first[1], "http://e.org/2");
    assert!(first[2].starts_with("urn:storyline:") && first[3].starts_with("urn:storyline:"));
    assert_ne!(first[2], first[3]);
    for _ in 0..3 {
        assert_eq!(ids(parse(body.as_bytes())), first);
    }
    // The same items through the repair pass get the same identities.
    let repaired = parse_unguarded(body.as_bytes(), None, None, Route::Repair).unwrap();
    assert_eq!(ids(repaired), first);
}

#[test]
fn relative_links_resolve_against_base_and_xml_base() {
    let base = Url::parse("http://example.org/blog/feed.xml").unwrap();
    let body = br#"<feed xmlns="http://www.w3.org/2005/Atom">
        <entry><id>1</id><link href="/post/1"/></entry>
        <entry xml:base="http://other.example/dir/"><id>2</id><link href="post/2"/></entry>
    </feed>"#;
    let doc = parse_feed(body, None, Some(&base)).unwrap();
    assert_eq!(
        doc.entries[0].link.as_deref(),
        Some("http://example.org/post/1")
    );
    assert_eq!(
        doc.entries[1].link.as_deref(),
        Some("http://other.example/dir/post/2")
    );
    let rss = rss_item("<item><link>2025/04/a/</link><title>A</title></item>");
    let doc = parse_feed(rss.as_bytes(), None, Some(&base)).unwrap();
    assert_eq!(
        doc.entries[0].link.as_deref(),
        Some("http://example.org/blog/2025/04/a/")
    );
}

#[test]
fn published_falls_back_to_updated() {
    let doc = parse(
        br#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><title>A</title>
            <updated>2025-04-05T18:00:00+01:00</updated></entry></feed>"#,
    );
    let e = &doc.entries[0];
    assert_eq!(e.published, e.updated);
    assert_eq!(
        e.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-04-05T17:00:00+00:00")
    );
}

#[test]
fn html_and_other_documents_are_not_feeds() {
    let page = b"<!DOCTYPE html><html><head><title>Hi</title></head><body><p>x</p></body></html>";
    assert_eq!(parse_feed(page, None, None), Err(ParseError::HtmlPage));
    assert_eq!(
        parse_feed(b"\n<html><body>", None, None),
        Err(ParseError::HtmlPage)
    );
    assert_eq!(parse_feed(b"  \n ", None, None), Err(ParseError::Empty));
    assert_eq!(parse_feed(b"", None, None), Err(ParseError::Empty));
    for other in [
        &b"<opml version=\"2.0\"><body/></opml>"[..],
        b"plain text",
        b"{\"a\": 1}",
    ] {
        assert!(matches!(
            parse_feed(other, None, None),
            Err(ParseError::NotAFeed(_))
        ));
    }
    assert_eq!(
        ParseError::HtmlPage.to_string(),
        "not a feed: got an HTML page"
    );
}
