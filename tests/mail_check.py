#!/usr/bin/env python3
"""Read digest messages as a mail client would, with Python's own `email` package.

Usage: python3 tests/mail_check.py MESSAGE.eml [...]

For each message: no parser defects; the text and HTML parts decode; every `cid:` image in the
HTML resolves to an inline part with that Content-ID holding a PNG; List-Unsubscribe (with an
http(s) link) and List-Unsubscribe-Post (RFC 8058 one-click) are present; the HTML passes a
basic lint for mail clients: no scripts, no event handlers, no external or imported CSS, no
forms or frames, every image with alt text and a numeric width and height, images only by
Content-ID or http(s).

Prints one JSON line per message on stdout (what it found); problems go to stderr, one per line,
and the exit status is 1 when there is any. Standard library only.
"""

import email
import email.policy
import json
import re
import sys
from html.parser import HTMLParser


class Lint(HTMLParser):
    """The HTML part, element by element."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.cids = []
        self.images = 0
        self.links = 0
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag in ("script", "iframe", "frame", "object", "embed", "form", "base"):
            self.problems.append(f"<{tag}> in the HTML")
        for name in a:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
        if tag == "link" and "stylesheet" in a.get("rel", "").lower():
            self.problems.append(f"external stylesheet {a.get('href')!r}")
        style = a.get("style", "")
        if re.search(r"@import|expression\s*\(|url\s*\(", style, re.I):
            self.problems.append(f"style attribute loads or runs something: {style[:80]!r}")
        if tag == "style":
            self.in_style = True
        if tag == "a" and "href" in a:
            self.links += 1
            if re.match(r"\s*(javascript|vbscript|data):", a["href"], re.I):
                self.problems.append(f"link to {a['href'][:40]!r}")
        if tag == "img":
            self.images += 1
            src = a.get("src", "")
            if not a.get("alt", "").strip():
                self.problems.append(f"image {src[:60]!r} without alt text")
            for dim in ("width", "height"):
                if not a.get(dim, "").isdigit():
                    self.problems.append(f"image {src[:60]!r} without a numeric {dim}")
            if src.startswith("cid:"):
                self.cids.append(src[4:])
            elif not re.match(r"https?://", src):
                self.problems.append(f"image source {src[:60]!r} is neither cid: nor http(s)")

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style and re.search(r"@import|url\s*\(", data, re.I):
            self.problems.append("a <style> block imports or loads something")


def parts(msg):
    return [p for p in msg.walk() if not p.is_multipart()]


def check(path):
    problems = []
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    for p in msg.walk():
        for d in p.defects:
            problems.append(f"parser defect in {p.get_content_type()}: {d!r}")
    for h in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
        if msg[h] is None:
            problems.append(f"no {h} header")
    unsub = str(msg.get("List-Unsubscribe", ""))
    if not re.search(r"<https?://[^>]+>", unsub):
        problems.append(f"List-Unsubscribe without an http(s) link: {unsub!r}")
    post = str(msg.get("List-Unsubscribe-Post", ""))
    if post.strip() != "List-Unsubscribe=One-Click":
        problems.append(f"List-Unsubscribe-Post is {post!r}")

    text = [p for p in parts(msg) if p.get_content_type() == "text/plain"]
    html = [p for p in parts(msg) if p.get_content_type() == "text/html"]
    if len(text) != 1 or len(html) != 1:
        problems.append(f"{len(text)} text and {len(html)} HTML parts, not one each")
    text_body = text[0].get_content() if text else ""
    html_body = html[0].get_content() if html else ""
    if not text_body.strip():
        problems.append("the text part is empty")
    if "<html" not in html_body.lower():
        problems.append("the HTML part is not an HTML document")

    lint = Lint()
    lint.feed(html_body)
    lint.close()
    problems.extend(lint.problems)
    by_cid = {}
    for p in parts(msg):
        cid = p.get("Content-ID")
        if cid:
            by_cid[str(cid).strip().strip("<>")] = p
    for cid in lint.cids:
        p = by_cid.get(cid)
        if p is None:
            problems.append(f"cid:{cid} resolves to no part")
            continue
        data = p.get_content()
        if not isinstance(data, bytes) or not data.startswith(b"\x89PNG\r\n\x1a\n"):
            problems.append(f"cid:{cid} is not a PNG ({p.get_content_type()})")
        if p.get_content_disposition() not in (None, "inline"):
            problems.append(f"cid:{cid} is an attachment, not inline")
    if lint.images == 0:
        problems.append("no image at all (the chart is missing)")

    print(
        json.dumps(
            {
                "file": path,
                "subject": str(msg.get("Subject", "")),
                "structure": [p.get_content_type() for p in msg.walk()],
                "text_chars": len(text_body),
                "html_chars": len(html_body),
                "images": lint.images,
                "links": lint.links,
                "cids": lint.cids,
            },
            ensure_ascii=False,
        )
    )
    return [f"{path}: {p}" for p in problems]


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = []
    for path in sys.argv[1:]:
        problems.extend(check(path))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
