"""Stories on a topic: ranked search hits, each with the other outlets that ran a copy.

python docs/scripts/find_topic.py newsarchive.toml "trade talks" --since 2024-06-01
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from newsarchive.storage import Archive

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("archive", help="config file or database URL")
parser.add_argument("query", help='words (all must match) or a "phrase"; any language')
parser.add_argument("--since", help="YYYY-MM-DD")
parser.add_argument("--limit", type=int, default=10)
args = parser.parse_args()

since = datetime.fromisoformat(args.since).replace(tzinfo=UTC) if args.since else None
with Archive.open(args.archive) as archive:
    for hit in archive.search(args.query, since=since, limit=args.limit):
        copies = archive.duplicates(hit.article_id)
        also = f"  (also: {', '.join(c.source for c in copies)})" if copies else ""
        print(f"{hit.date:%Y-%m-%d} {hit.source:<10} {hit.title}{also}")
        print(f"           {hit.url}")
        print(f"           {hit.snippet}")
