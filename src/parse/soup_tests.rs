use super::*;

fn texts(e: &Element) -> Vec<(String, String)> {
    e.elements().map(|c| (c.name.clone(), c.text())).collect()
}

#[test]
fn well_formed_xml_reads_as_written() {
    let root = parse_tree(
        "<?xml version=\"1.0\"?><!-- c --><rss version=\"2.0\"><a x='1'>t &amp; \
         <![CDATA[<b>raw</b>]]></a><b/></rss>",
    )
    .unwrap();
    assert_eq!(root.name, "rss");
    assert_eq!(root.attr("version"), Some("2.0"));
    assert_eq!(
        texts(&root),
        vec![
            ("a".into(), "t & <b>raw</b>".into()),
            ("b".into(), String::new())
        ]
    );
}

#[test]
fn unclosed_and_misnested_tags_are_recovered() {
    let root = parse_tree("<rss><channel><b>x<c>y</b>z</channel>").unwrap();
    let channel = root.elements().next().unwrap();
    assert_eq!(channel.elements().count(), 1);
    assert_eq!(channel.text(), "xyz");
    // An unclosed item ends where the next begins.
    let root = parse_tree("<rss><channel><item><title>One<item><title>Two</channel>").unwrap();
    let channel = root.elements().next().unwrap();
    let items: Vec<_> = channel.elements().map(Element::text).collect();
    assert_eq!(items, vec!["One", "Two"]);
    // A stray end tag is ignored; content after a premature root end still counts.
    let root = parse_tree("<rss></nope><a>1</a></rss><b>2</b>").unwrap();
    assert_eq!(texts(&root).len(), 2);
}

#[test]
fn bare_ampersands_html_entities_and_doctype_entities() {
    let root = parse_tree(
        "<!DOCTYPE rss [<!ENTITY foo \"Foo &amp; Co\">]><rss><a>AT&T &hellip; &foo; &#x41;\
         &nope; 1 < 2</a><b href=\"?a=1&b=2\" bare=yes></b></rss>",
    )
    .unwrap();
    let a = root.elements().next().unwrap();
    assert_eq!(a.text(), "AT&T … Foo & Co A&nope; 1 < 2");
    let b = root.elements().nth(1).unwrap();
    assert_eq!(b.attr("href"), Some("?a=1&b=2"));
    assert_eq!(b.attr("bare"), Some("yes"));
}

#[test]
fn entities_defined_by_entities_cannot_explode() {
    let mut doc = String::from("<!DOCTYPE rss [<!ENTITY a0 \"0123456789\">");
    for i in 1..12 {
        let refs = format!("&a{};", i - 1).repeat(10);
        doc.push_str(&format!("<!ENTITY a{i} \"{refs}\">"));
    }
    doc.push_str("]><rss><t>");
    doc.push_str(&"&a11;&a0;".repeat(200_000));
    doc.push_str("</t></rss>");
    let root = parse_tree(&doc).unwrap();
    assert!(root.text().len() < 8 << 20);
}

#[test]
fn truncated_documents_still_give_a_tree() {
    let doc = "<rss><channel><item><title a=\"x";
    for end in 0..=doc.len() {
        let _ = parse_tree(&doc[..end]);
    }
    assert!(parse_tree("just text").is_none());
}

#[test]
fn deep_nesting_is_capped() {
    let doc = "<a>".repeat(100_000) + "deep";
    let root = parse_tree(&doc).unwrap();
    assert_eq!(root.text(), "deep");
}
