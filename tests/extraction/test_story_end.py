"""The story ends where a second extractor last agrees with the chosen text."""

from __future__ import annotations

from newsarchive.crawler.extraction.candidates import end_where_agreed

STORY = [
    "The lake ferry will run four times a day instead of nine from November to March.",
    "The first sailing from Eastbay will leave at 7.15am and the last return at 5.40pm.",
    "Local councillors have asked the county to look at a subsidy for an evening service.",
]
TAIL = [
    "Sign up to our newsletter to get the day's headlines from the lakeside every morning.",
    "Readers also liked: the old boathouse reopens as a cafe after three years of repairs.",
]


def test_lines_after_the_last_agreed_line_are_cut() -> None:
    text = "\n".join(["Ferry timetable cut", *STORY, *TAIL])
    # readability also has the headline's story but not what follows it.
    assert end_where_agreed(text, "\n".join(STORY)) == "\n".join(["Ferry timetable cut", *STORY])


def test_a_second_opinion_on_another_story_changes_nothing() -> None:
    text = "\n".join(STORY + TAIL)
    other = "An entirely different story about the county's new bus routes and their timetables."
    assert end_where_agreed(text, other) == text
    assert end_where_agreed(text, "") == text


def test_a_cut_of_most_of_the_text_is_disagreement_not_an_end() -> None:
    # They agree on the three story lines, over a third of the text, but
    # more than half of it comes after them.
    text = "\n".join(STORY + TAIL * 2)
    assert end_where_agreed(text, "\n".join(STORY)) == text
    shorter = "\n".join(STORY + TAIL[:1])
    assert end_where_agreed(shorter, "\n".join(STORY)) == "\n".join(STORY)
