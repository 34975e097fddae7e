"""A small news site for the health tests, written out as static files: "Kestrel Post".

Three dated stories with bylines (one without), a home page, a news section and a feed.
``story_page`` also makes the pages of a "redesign" that lost their dates and bylines.
"""

from __future__ import annotations

from pathlib import Path

PARAGRAPHS = {
    "ferry": [
        "The winter ferry timetable to the outer islands starts on Monday, with two crossings"
        " a day instead of four while the second vessel is refitted at the northern yard.",
        "Islanders who commute to the mainland said the early sailing at six was the one they"
        " could not do without, and the operator agreed to keep it through the whole season.",
        "The refit includes new engines that burn a third less fuel, the operator said, and"
        " the ship should return to service before the Easter holidays bring the visitors.",
    ],
    "lights": [
        "The harbour lights were switched back on after a month in the dark, once volunteers"
        " had replaced the corroded cables that run along the breakwater to the lighthouse.",
        "Fishing crews had complained that entering the harbour at night without the lights"
        " meant relying on memory and the glow of the town, which is no help in a sea fog.",
        "The council thanked the volunteers and promised a budget line for maintenance, so"
        " that the cables are inspected every spring rather than only when something fails.",
    ],
    "market": [
        "Market day moves from the square to the quay for the summer, giving the forty stalls"
        " room to spread out and leaving the square free for the weekly concerts in July.",
        "Traders were split on the move: fish sellers welcomed being next to the boats, while"
        " the bakers worried that customers would not walk the extra distance from the shops.",
        "A trial in August last year drew more visitors than any market day before it, the"
        " organisers said, and the parking on the quay road will be free until the evening.",
    ],
}
TITLES = {
    "ferry": "Winter ferry timetable halves crossings to the islands",
    "lights": "Harbour lights back on after volunteers replace cables",
    "market": "Market day moves to the quay for the summer",
}
AUTHORS = {"ferry": "Ann Reed", "lights": "Tom Hale", "market": None}
DATES = {
    "ferry": "2026-11-20T08:00:00+00:00",
    "lights": "2026-11-21T09:30:00+00:00",
    "market": "2026-11-22T07:15:00+00:00",
}


def story_page(slug: str, *, redesigned: bool = False, title: str | None = None) -> str:
    """A story page; ``redesigned`` pages carry no date and no byline."""
    title = title or TITLES[slug]
    author, date = AUTHORS[slug], DATES[slug]
    meta = ""
    byline = ""
    if not redesigned:
        meta = f'<meta property="article:published_time" content="{date}">'
        if author:
            meta += f'\n<meta name="author" content="{author}">'
            byline = f'<p class="byline">By {author}</p>'
    body = "\n".join(f"<p>{p}</p>" for p in PARAGRAPHS[slug])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | Kestrel Post</title>
<meta property="og:type" content="article">
{meta}
</head><body>
<header><a href="/">Kestrel Post</a> <a href="/news/">News</a></header>
<article><h1>{title}</h1>{byline}
{body}
</article>
<footer>Kestrel Post, Quay Street</footer>
</body></html>
"""


def write_site(root: Path) -> Path:
    """Write the site's files under ``root``; returns ``root``."""
    (root / "news").mkdir(parents=True, exist_ok=True)
    items = []
    for slug in PARAGRAPHS:
        (root / "news" / f"{slug}.html").write_text(story_page(slug), encoding="utf-8")
        items.append(
            f"<item><title>{TITLES[slug]}</title><link>{{{{BASE_URL}}}}/news/{slug}.html</link></item>"
        )
    (root / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Kestrel Post</title>'
        + "".join(items)
        + "</channel></rss>",
        encoding="utf-8",
    )
    links = "".join(f'<li><a href="/news/{s}.html">{TITLES[s]}</a></li>' for s in PARAGRAPHS)
    home = (
        "<!DOCTYPE html><html><head><title>Kestrel Post</title></head>"
        f"<body><ul>{links}</ul></body></html>"
    )
    (root / "index.html").write_text(home, encoding="utf-8")
    (root / "news" / "index.html").write_text(
        home.replace("Kestrel Post<", "News<"), encoding="utf-8"
    )
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    return root
