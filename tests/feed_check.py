#!/usr/bin/env python3
"""Read Storyline's Atom feeds with Python feedparser, the way many feed readers do.

Usage: python3 tests/feed_check.py FEED.atom [...]

For each feed, prints one JSON object per line on stdout: feedparser's verdict (bozo and its
reason, the version it recognised) and what it read (feed id, title, updated, links; each
entry's id, title, published, updated, links and content type and length). Exits 1, with the
reasons on stderr, when a feed is not well-formed Atom 1.0 or an entry lacks an id, a title,
an updated date or content. CI installs feedparser (see .ci/run).
"""

import json
import sys

import feedparser


def links(obj):
    return [
        {"rel": l.get("rel"), "href": l.get("href"), "type": l.get("type"), "title": l.get("title")}
        for l in obj.get("links", [])
    ]


def check(path):
    problems = []
    with open(path, "rb") as f:
        d = feedparser.parse(f.read())
    if d.bozo:
        problems.append(f"not well-formed: {d.bozo_exception!r}")
    if d.version != "atom10":
        problems.append(f"read as {d.version!r}, not Atom 1.0")
    for key in ("id", "title", "updated"):
        if not d.feed.get(key):
            problems.append(f"the feed has no {key}")
    entries = []
    for i, e in enumerate(d.entries):
        for key in ("id", "title", "updated"):
            if not e.get(key):
                problems.append(f"entry {i} has no {key}")
        content = e.get("content") or []
        if not content or not content[0].get("value"):
            problems.append(f"entry {i} has no content")
        entries.append(
            {
                "id": e.get("id"),
                "title": e.get("title"),
                "published": e.get("published"),
                "updated": e.get("updated"),
                "links": links(e),
                "content_type": content[0].get("type") if content else None,
                "content": content[0].get("value") if content else None,
            }
        )
    ids = [e["id"] for e in entries]
    if len(set(ids)) != len(ids):
        problems.append("two entries share an id")
    print(
        json.dumps(
            {
                "file": path,
                "bozo": bool(d.bozo),
                "version": d.version,
                "feedparser": feedparser.__version__,
                "id": d.feed.get("id"),
                "title": d.feed.get("title"),
                "updated": d.feed.get("updated"),
                "links": links(d.feed),
                "entries": entries,
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
