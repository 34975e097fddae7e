"""Articles archived per day and source (UTC days of first_seen_at), as a table.

python docs/scripts/daily_counts.py newsarchive.toml --days 7
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, datetime, timedelta

from newsarchive.storage import Archive

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("archive", help="config file or database URL")
parser.add_argument("--days", type=int, default=7, help="how many days back (default 7)")
parser.add_argument("--until", help="last day, YYYY-MM-DD (default today)")
args = parser.parse_args()

last = datetime.fromisoformat(args.until).date() if args.until else datetime.now(UTC).date()
first = last - timedelta(days=args.days - 1)
since = datetime(first.year, first.month, first.day, tzinfo=UTC)
until = since + timedelta(days=args.days)

counts: Counter[tuple[str, str]] = Counter()
with Archive.open(args.archive) as archive:
    for article in archive.articles(since=since, until=until):
        counts[article.first_seen_at.date().isoformat(), article.source] += 1

sources = sorted({source for _, source in counts})
print("day        " + " ".join(f"{s:>10}" for s in sources))
for n in range(args.days):
    day = (first + timedelta(days=n)).isoformat()
    print(f"{day} " + " ".join(f"{counts[day, s]:>10}" for s in sources))
