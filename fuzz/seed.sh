#!/usr/bin/env bash
# Build the seed corpora from the shared fixtures: every feed document (prefixed with the one
# selector byte the parse_feed target reads first) and every HTML page.
set -euo pipefail
cd "$(dirname "$0")"
fixtures=../../shared/fixtures
mkdir -p seeds/parse_feed seeds/read_page
i=0
find "$fixtures" -type f \( -name '*.xml' -o -name '*.rss' -o -name '*.atom' -o -name '*.json' -o -name '*.rdf' \) -size -200k -print0 |
  while IFS= read -r -d '' f; do
    i=$((i + 1))
    { printf '\x00'; cat "$f"; } > "seeds/parse_feed/seed$i"
  done
find "$fixtures" -type f -name '*.html' -size -300k -print0 |
  while IFS= read -r -d '' f; do
    i=$((i + 1))
    cp "$f" "seeds/read_page/seed$i"
  done
echo "seeds: $(ls seeds/parse_feed | wc -l) feeds, $(ls seeds/read_page | wc -l) pages"
