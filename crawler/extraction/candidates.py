"""Which of several extractions of one page is the story: a generic score of candidate texts.

Every candidate is a cleaned text, one paragraph per line.  A line counts as
story (*prose*) when it reads like sentences: long enough, with sentence
punctuation, and not the text of a link on the page.  Menus, "older/newer"
links, teaser headlines and date lines are short or linked; a candidate made of
them has little prose whatever its length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml.html import HtmlElement

from newsarchive.cjk import cjk_count
from newsarchive.similarity import shingles

from .lines import WS_RE, weighted_len

# Sentence ends and clause marks in the scripts we archive.
_SENTENCE_RE = re.compile(r"[.!?;:,。！？；，、…»\"”]")
_MIN_PROSE_LINE = 30
# Lines of furniture the extension may step over between story lines
# (a subheading, a photo caption), but not more in a row.
_MAX_GAP = 1


def link_texts(tree: HtmlElement) -> frozenset[str]:
    """The whitespace-normalised text of every link on the page, to recognise linked lines."""
    out = set()
    for a in tree.iter("a"):
        text = WS_RE.sub(" ", a.text_content()).strip()
        if text:
            out.add(text)
    return frozenset(out)


@dataclass(frozen=True)
class Measure:
    """How much of a candidate reads as story, and how much as furniture (CJK-weighted chars)."""

    prose: int
    junk: int
    lines: frozenset[str]

    @property
    def size(self) -> int:
        return self.prose + self.junk


def _is_prose(line: str, size: int, links: frozenset[str]) -> bool:
    # Length alone is no sign: a row of menu entries is long and unpunctuated.
    return size >= _MIN_PROSE_LINE and line not in links and _SENTENCE_RE.search(line) is not None


def measure(text: str, links: frozenset[str]) -> Measure:
    prose = junk = 0
    for line in text.split("\n"):
        size = weighted_len(line)
        if _is_prose(line, size, links):
            prose += size
        else:
            junk += size
    return Measure(prose, junk, frozenset(text.split("\n")))


def extend(base: Measure, other_text: str, links: frozenset[str]) -> str | None:
    """``base``'s story continued with the prose around it in ``other_text``, a wider extraction.

    The span of ``other_text`` from ``base``'s first line to its last is
    widened while prose follows (over at most one furniture line at a time), so
    paragraphs a precise pass cut off come back while the wider pass's menus and
    link lists before and after the story stay out.  Linked lines inside are
    dropped.  None when the two share no line.
    """
    lines = other_text.split("\n")
    shared = [i for i, line in enumerate(lines) if line in base.lines]
    if not shared:
        return None

    def story(i: int) -> bool:
        return lines[i] in base.lines or _is_prose(lines[i], weighted_len(lines[i]), links)

    def reach(start: int, step: int) -> int:
        end, gap, i = start, 0, start + step
        while 0 <= i < len(lines):
            if story(i):
                end, gap = i, 0
            else:
                gap += 1
                if gap > _MAX_GAP:
                    break
            i += step
        return end

    first, last = reach(shared[0], -1), reach(shared[-1], 1)
    return "\n".join(
        line for line in lines[first : last + 1] if line in base.lines or line not in links
    )


def added_prose(base: Measure, other_text: str, links: frozenset[str]) -> tuple[int, int]:
    """Prose and junk in ``other_text``'s lines that ``base`` lacks."""
    prose = junk = 0
    for line in other_text.split("\n"):
        if line in base.lines:
            continue
        size = weighted_len(line)
        if _is_prose(line, size, links):
            prose += size
        else:
            junk += size
    return prose, junk


# A line this much of whose letters are link texts is a row of links (a menu,
# "Home | News | Contact", a tag cloud), not a sentence with links in it.
_LINK_ROW_SHARE = 0.85
_LINK_ROW_MIN_LINKS = 3
_NON_WORD_RE = re.compile(r"\W+")
# Sentences end so; menus and link rows don't.
_SENTENCE_END_RE = re.compile(r"[.!?。！？…]\W*$")


def _by_opening(links: frozenset[str]) -> dict[str, list[str]]:
    """The page's link texts by their first two characters.

    A page has hundreds of links and a text tens of candidate rows: looking
    up the pairs a row holds finds the links it may contain without trying
    every one.
    """
    index: dict[str, list[str]] = {}
    for link in links:
        if len(link) >= 2:
            index.setdefault(link[:2], []).append(link)
    return index


def _is_linked_row(line: str, by_opening: dict[str, list[str]]) -> bool:
    """Whether link texts of the page cover most of ``line``'s letters, several of them.

    Each link text covers its first occurrence only: a word linked once on the
    page ("Twitter") must not count every time a sentence uses it.
    """
    spans: list[tuple[int, int]] = []
    for opening in {line[i : i + 2] for i in range(len(line) - 1)}:
        for link in by_opening.get(opening, ()):
            if len(link) > len(line):
                continue
            start = line.find(link)
            if start != -1:
                spans.append((start, start + len(link)))
    # Most lines hold fewer links than a row has: their letters need no counting.
    if len(spans) < _LINK_ROW_MIN_LINKS:
        return False
    letters = _letters(line)
    if not letters:
        return False
    covered = 0
    end = 0
    for start, stop in sorted(spans):
        start = max(start, end)
        if stop > start:
            covered += _letters(line[start:stop])
            end = stop
    return covered >= _LINK_ROW_SHARE * letters


def _letters(text: str) -> int:
    return len(_NON_WORD_RE.sub("", text))


_CELL_SPLIT_RE = re.compile(r"\s*(?<!\\)\|\s*")


def _is_link_row(line: str, links: frozenset[str], by_opening: dict[str, list[str]]) -> bool:
    if line.startswith("|") and line.endswith("|"):
        # A table row (as trafilatura renders one) of nothing but links is a
        # menu laid out in a table; a data table has cells of its own text
        # beside linked names and stays.
        cells = [c.replace("\\|", "|") for c in _CELL_SPLIT_RE.split(line[1:-1]) if c]
        return bool(cells) and all(
            c in links or _is_link_row(c.replace("|", " | "), links, by_opening) for c in cells
        )
    if _SENTENCE_END_RE.search(line):
        return False
    return _is_linked_row(line, by_opening)


# This many lines in a row, each one link and nothing else, are a menu or a
# list of other stories, one entry per line.
_LINK_RUN = 4


def drop_link_rows(text: str, links: frozenset[str]) -> str:
    """``text`` without menus: rows of several links on one line, or runs of lines that are links.

    trafilatura keeps layout-table cells and list items whole, so a site's
    navigation can come out as one line of its entries, or as one entry per
    line.  Which words are links says so in any language.
    """
    by_opening = _by_opening(links)
    lines = [line for line in text.split("\n") if not _is_link_row(line, links, by_opening)]
    linked = [line.removeprefix("- ") in links for line in lines]
    kept: list[str] = []
    dropped = 0
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and linked[j]:
            j += 1
        if j - i >= _LINK_RUN:
            dropped += sum(weighted_len(line) for line in lines[i:j])
            i = j
            continue
        kept.extend(lines[i : max(j, i + 1)])
        i = max(j, i + 1)
    # A page that is mostly a list of links (a discography, an index) is that list.
    if dropped > sum(weighted_len(line) for line in kept):
        return "\n".join(lines)
    return "\n".join(kept)


# A long run of paragraphs seen twice in the same order, a good share of the
# text, is the story rendered twice (in the page and again in a print or "amp"
# copy).  Shorter runs do repeat in stories: a meal plan's days, a schedule.
_REPEAT_RUN = 5
_REPEAT_SHARE = 0.25


def drop_repeats(text: str) -> str:
    """``text`` without a second copy of a long run of its paragraphs."""
    lines = text.split("\n")
    total = sum(weighted_len(line) for line in lines)
    first: dict[tuple[str, ...], int] = {}
    kept: list[str] = []
    i = 0
    while i < len(lines):
        j = first.setdefault(tuple(lines[i : i + _REPEAT_RUN]), i)
        k = 0
        while j < i and i + k < len(lines) and j + k < i and lines[i + k] == lines[j + k]:
            k += 1
        if k >= _REPEAT_RUN and sum(map(weighted_len, lines[i : i + k])) >= _REPEAT_SHARE * total:
            i += k
            continue
        kept.append(lines[i])
        i += 1
    return "\n".join(kept)


def best(names: Iterable[str], texts: dict[str, str], links: frozenset[str]) -> tuple[str, Measure]:
    """The candidate with the most prose, by a clear margin over the first (the default)."""
    order = list(names)
    default = order[0]
    chosen, chosen_m = default, measure(texts[default], links)
    for name in order[1:]:
        m = measure(texts[name], links)
        if m.prose > 1.5 * chosen_m.prose + 200 and m.prose >= m.junk:
            chosen, chosen_m = name, m
    return chosen, chosen_m


# A second extractor agrees with a candidate when this share of the
# candidate's text is in its own, and on a line when half the line's shingles
# are (or the whole line, when it is at least _FOUND_WHOLE characters).
_AGREEMENT = 0.3
_LINE_AGREEMENT = 0.5
_FOUND_WHOLE = 20
_WORD_RE = re.compile(r"[^\W_]+")
# Compared without spacing and table bars: readability puts a line break
# between text nodes ("foo<b>bar</b>" reads "foo\nbar") and renders no cells.
_FLAT_RE = re.compile(r"[\s|]+")


def _shingled(line: str) -> bool:
    """Whether ``line`` is long enough to be found in another text by its words, not by chance.

    A line of under three tokens has no shingle in common with a longer text,
    and a short one ("Comments") is found inside longer text by chance.
    """
    return len(line) >= _FOUND_WHOLE and (cjk_count(line) >= 3 or len(_WORD_RE.findall(line)) >= 3)


# Cutting more than this share of the text means the two disagree on what the
# story is, not on where it ends.
_MAX_TAIL_SHARE = 0.5


def end_where_agreed(text: str, second_opinion: str) -> str:
    """``text`` without the lines after the last one ``second_opinion`` also has.

    Two extractors built on different signals (trafilatura's markup rules and
    readability's paragraph scores) rarely agree on a page's furniture, and
    the story's end is where they last agree: on the DEV parts, of the text
    kept after readability's last line, 94 % was not story (comments, "more
    stories", footers).  What comes before the first shared line (headline,
    lead, byline) is kept: there readability is often the one that is wrong.
    """
    lines = text.split("\n")
    theirs_flat = _FLAT_RE.sub("", second_opinion)
    if not theirs_flat or len(lines) == 1:
        return text
    agreement = _Agreement(second_opinion, theirs_flat)
    # From the end: where the last line agrees there is nothing to cut, and the
    # lines before it need not be read (on Chinese pages their shingles cost
    # as much as the extraction pass).
    last_agreed = next((i for i in range(len(lines) - 1, -1, -1) if agreement(lines[i])[2]), -1)
    if last_agreed < 0:
        return text
    kept = "\n".join(lines[: last_agreed + 1])
    if kept == text or len(text) - len(kept) > _MAX_TAIL_SHARE * len(text):
        return text
    total = common = 0.0
    for line in lines:
        size, shared, _ = agreement(line)
        total += size
        common += shared
    if common < _AGREEMENT * total:
        return text
    return kept


class _Agreement:
    """Per line of a candidate: its size, how much of it ``second_opinion`` has, and
    whether that is enough for the line to agree (remembered per line)."""

    def __init__(self, second_opinion: str, theirs_flat: str) -> None:
        self.second_opinion = second_opinion
        self.theirs_flat = theirs_flat
        self.theirs: set[str] | None = None
        self.known: dict[str, tuple[float, float, bool]] = {}

    def __call__(self, line: str) -> tuple[float, float, bool]:
        found = self.known.get(line)
        if found is None:
            found = self.known[line] = self._judge(line)
        return found

    def _judge(self, line: str) -> tuple[float, float, bool]:
        flat = " ".join(line.split())
        if not flat:
            return 0.0, 0.0, False
        size = float(weighted_len(flat))
        # Most story lines are in readability's text letter for letter: a
        # substring test answers them, and shingles (a token per CJK character,
        # so costly on Chinese pages) are built only for the lines it does not.
        if _shingled(flat) and _FLAT_RE.sub("", line) in self.theirs_flat:
            return size, size, True
        own = shingles(line)
        if not own:
            return size, 0.0, False
        if self.theirs is None:
            self.theirs = shingles(self.second_opinion)
        shared = len(own & self.theirs)
        return size, size * shared / len(own), shared >= _LINE_AGREEMENT * len(own)
