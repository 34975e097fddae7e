"""Access: whether a story is free to read, behind a paywall, or not known.

Two kinds of evidence. A site that tells search engines about its paywall says
so in JSON-LD: ``isAccessibleForFree`` on the article, or on the ``hasPart``
elements it hides (Google's paywalled-content markup). Without it, a paywall
shows as a short text that ends in a call to subscribe: the teaser the site
serves to readers without an account.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class Access(StrEnum):
    """Stored as ``article_versions.access``."""

    FREE = "free"
    PAYWALLED = "paywalled"
    UNKNOWN = "unknown"
    """Nothing on the page said: most pages, since free sites rarely declare it."""


# A teaser is a few paragraphs: a story this long that ends in "subscribe" is a
# full story followed by the site's newsletter box, not a paywall.
TEASER_MAX_CHARS = 1500
# How much of the end of the text the marker must be in.
_MARKER_TAIL_CHARS = 300
# What a paywall says, as phrases: a bare "subscribe" ends many a free post
# ("subscribe to the RSS feed", "… to our newsletter").
_PAYWALL_MARKER_RE = re.compile(
    r"subscribe (?:now )?(?:to|and) (?:continue|read|keep reading|unlock|get full access)"
    r"|subscribers? only|for subscribers|subscriber exclusive|already a subscriber"
    r"|to continue reading|subscription (?:is )?required|sign in to read|log in to read"
    r"|abonnieren sie|für abonnenten|abonnez-vous|réservé aux abonnés"
    r"|dla (?:prenumeratorów|subskrybentów)|wykup (?:prenumeratę|subskrypcję|dostęp)"
    r"|treść płatna|оформите подписку|по подписке|только для подписчиков|платный материал"
    r"|συνδρομητ|订阅后|订阅会员|付费阅读|会员专享|开通会员|购买后阅读|有料会員|購読",
    re.IGNORECASE,
)
# "Subscribe to our newsletter" closes many a free story.
_NOT_PAYWALL_RE = re.compile(
    r"newsletter|mailing list|\brss\b|\batom\b|\bfeed\b|podcast|e-?mail|рассылк|biuletyn"
    r"|ενημερωτικό δελτίο|邮件列表|电子报",
    re.IGNORECASE,
)


def _flag(value: Any) -> bool | None:
    """JSON-LD booleans arrive as true/false, or as "False", "false", "no" strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower().removeprefix("https://schema.org/")
        word = word.removeprefix("http://schema.org/")
        if word in ("true", "yes", "1"):
            return True
        if word in ("false", "no", "0"):
            return False
    return None


def _parts(obj: dict[str, Any]) -> list[dict[str, Any]]:
    parts = obj.get("hasPart")
    items = parts if isinstance(parts, list) else [parts]
    return [p for p in items if isinstance(p, dict)]


def declared_access(ld_objs: list[dict[str, Any]]) -> Access | None:
    """What the page's JSON-LD declares, or None when it does not say."""
    declared: Access | None = None
    for obj in ld_objs:
        # A hidden part makes the story paywalled whatever the article says of itself.
        if any(_flag(part.get("isAccessibleForFree")) is False for part in _parts(obj)):
            return Access.PAYWALLED
        flag = _flag(obj.get("isAccessibleForFree"))
        if flag is False:
            return Access.PAYWALLED
        if flag is True:
            declared = Access.FREE
    return declared


def teaser_behind_paywall(text: str) -> bool:
    """A short text whose end asks the reader to subscribe: what a paywall serves."""
    text = text.strip()
    if not text or len(text) > TEASER_MAX_CHARS:
        return False
    return any(
        _PAYWALL_MARKER_RE.search(line) and not _NOT_PAYWALL_RE.search(line)
        for line in text[-_MARKER_TAIL_CHARS:].splitlines()
    )


def find_access(ld_objs: list[dict[str, Any]], texts: list[str]) -> Access:
    """The story's access: the JSON-LD declaration, else a paywall teaser in any of ``texts``.

    ``texts`` are the story text before and after line clean-up: the clean-up
    drops "subscribe" lines as page furniture, which is the evidence here.
    """
    declared = declared_access(ld_objs)
    if declared is not None:
        return declared
    if any(teaser_behind_paywall(text) for text in texts):
        return Access.PAYWALLED
    return Access.UNKNOWN
