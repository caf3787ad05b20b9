"""Parse every file in a directory with feedparser, one after another, and print one JSON line:
files, items, bytes, seconds (best of --repeat passes). The counterpart of the harness's
Storyline parse pass over the same corpus."""

import argparse
import json
import os
import time

import feedparser


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    names = sorted(os.listdir(args.corpus))
    bodies = []
    for name in names:
        with open(os.path.join(args.corpus, name), "rb") as f:
            bodies.append(f.read())
    best = None
    items = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        items = 0
        for body in bodies:
            items += len(feedparser.parse(body).entries)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(json.dumps({
        "parser": "feedparser " + feedparser.__version__,
        "files": len(bodies),
        "items": items,
        "bytes": sum(len(b) for b in bodies),
        "seconds": best,
    }))


if __name__ == "__main__":
    main()
