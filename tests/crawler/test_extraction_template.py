"""Per-source template learning: hashing lines, stripping recurring ones, the learner."""

from __future__ import annotations

from newsarchive.crawler.extraction import (
    block_hash,
    block_hashes,
    extract_article,
    strip_template,
)
from newsarchive.crawler.pipelines.clean import TemplateLearner

PROMO = "Follow the Harbour Gazette on Mastodon for updates from the quay every day of the week."


def story(i: int, promo: str = PROMO) -> str:
    paras = "".join(
        f"<p>Story {i} paragraph {j}: the harbour master reported that vessel number {i * 7 + j} "
        f"arrived at berth {j} after a crossing of {i + j} hours in rough weather.</p>"
        for j in range(4)
    )
    return (
        f"<html lang='en'><head><title>Story {i}</title></head><body><article>"
        f"<h1>Story {i}</h1>{paras}<p>{promo}</p></article></body></html>"
    )


def test_block_hash_ignores_case_width_and_spacing() -> None:
    assert block_hash("Follow  us on X") == block_hash("follow us on x ")
    assert block_hash("ＡＢＣ　新闻") == block_hash("abc 新闻")
    assert block_hash("one line") != block_hash("another line")
    assert -(2**63) <= block_hash("x") < 2**63
    assert block_hashes("a\n\nb\na") == {block_hash("a"), block_hash("b")}


def test_strip_template_removes_lines_seen_on_enough_pages() -> None:
    text = "Story text one that is long enough.\nFollow us\nStory text two, also long enough."
    template = {block_hash("Follow us"): 5, block_hash("Story text one that is long enough."): 4}
    stripped = strip_template(text, template, min_pages=5)
    assert stripped == "Story text one that is long enough.\nStory text two, also long enough."
    assert strip_template(text, template, min_pages=6) == text


def test_strip_template_never_removes_most_of_the_text() -> None:
    text = "A long recurring paragraph that the site prints everywhere, again and again.\nshort"
    template = {block_hash(text.split("\n")[0]): 50}
    assert strip_template(text, template) == text


def test_learner_counts_each_story_once() -> None:
    learner = TemplateLearner(known_urls={"https://x.test/old"})
    blocks = frozenset({1, 2})
    assert learner.observe(["https://x.test/a"], blocks)
    assert not learner.observe(["https://x.test/a"], blocks)  # same story again
    assert not learner.observe(["https://x.test/old"], blocks)  # stored by an earlier crawl
    assert learner.observe(["https://x.test/b"], frozenset({2, 3}))
    assert learner.counts == {1: 1, 2: 2, 3: 1}
    assert learner.pending_pages == 2
    assert learner.take_pending() == {1: 1, 2: 2, 3: 1}
    assert learner.take_pending() == {} and learner.counts[2] == 2


def test_counts_go_on_across_writes() -> None:
    # Blocks seen on one story leave the in-memory counts when they are written
    # (they are most of them); a story that repeats one later still counts it.
    learner = TemplateLearner(min_pages=3)
    assert learner.observe(["https://x.test/a"], frozenset({1, 2}))
    assert learner.take_pending() == {1: 1, 2: 1}
    assert learner.observe(["https://x.test/b"], frozenset({1}))
    assert learner.take_pending() == {1: 1}
    assert not learner.observe(["https://x.test/a"], frozenset({1}))  # counted before the writes
    assert learner.observe(["https://x.test/c"], frozenset({1, 2, 3}))
    assert learner.template == {1: 3}
    assert learner.take_pending() == {1: 1, 2: 1, 3: 1}
    assert learner.observe(["https://x.test/d"], frozenset({2}))
    assert learner.template == {1: 3, 2: 3}


def test_learned_template_strips_a_recurring_block_from_the_next_page() -> None:
    learner = TemplateLearner()
    for i in range(5):
        result = extract_article(story(i), f"https://x.test/2024/05/0{i}/story-{i}-of-the-week")
        assert PROMO in result.text
        learner.observe([f"https://x.test/{i}"], result.blocks)
    nxt = extract_article(
        story(9), "https://x.test/2024/05/09/story-9-of-the-week", template=learner.counts
    )
    assert PROMO not in nxt.text
    assert "Story 9 paragraph 3" in nxt.text
    # The page's blocks still include the stripped line, so it keeps being counted.
    assert block_hash(PROMO) in nxt.blocks
    # A higher threshold keeps it: the setting is honoured.
    kept = extract_article(
        story(9),
        "https://x.test/2024/05/09/story-9-of-the-week",
        template=learner.counts,
        template_min_pages=6,
    )
    assert PROMO in kept.text
