"""Write one UTC day's new articles (by first_seen_at) as JSON lines, for a partner feed.

python docs/scripts/export_day.py newsarchive.toml 2024-06-03 > 2024-06-03.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import UTC, datetime, timedelta

from newsarchive.storage import Archive

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("archive", help="config file or database URL")
parser.add_argument("day", help="YYYY-MM-DD (UTC)")
parser.add_argument("--source", help="only this source")
args = parser.parse_args()

start = datetime.fromisoformat(args.day).replace(tzinfo=UTC)
with Archive.open(args.archive) as archive:
    # Streams: memory stays flat however many articles the day has.
    for article in archive.articles(source=args.source, since=start, until=start + timedelta(1)):
        record = dataclasses.asdict(article)
        sys.stdout.write(json.dumps(record, default=datetime.isoformat, ensure_ascii=False) + "\n")
