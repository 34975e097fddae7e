"""Labels found by a scan for their first characters: the very matches of a full scan."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.crawler.extraction.anchored import Anchored
from newsarchive.crawler.extraction.authors import LABELLED, OTHER_LABEL
from newsarchive.crawler.extraction.dates import PUBLISHED_LABEL

# Pieces of the labels each pattern looks for, in both cases and in the middle of
# words, beside the names, dates and punctuation that follow them on a page.
_PIECES = st.sampled_from(
    [
        *"发布 发表 发稿 刊发 出版 上传 时间 日期 发表于 本贴由 此帖由 于".split(),
        *"作者 记者 撰文 来源".split(),
        *"报道 （ ） ( ) [ 【 】 ] ： : | 日 月 年 2024 5 12:30 07.01.2008".split(),
        *"published Posted publication date DATE Date by BY".split(),
        *"опубликовано Дата публикации Автор ТЕКСТ autor Tekst".split(),
        *"opublikowano data publikacji δημοσιεύθηκε ΔΗΜΟΣΙΕΎΘΗΚΕ συντάκτης Συντάκτρια".split(),
        *"张三 李四 Иван Петров Jan Kowalski Γιώργος ggjjzhzz".split(),
        " ",
        "\n",
        "\u3000",
        "x",
        "ó",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_anchored_scans_find_what_a_full_scan_finds(text: str) -> None:
    for anchored in (PUBLISHED_LABEL, LABELLED, OTHER_LABEL):
        full = [(m.span(), m.groups()) for m in anchored.pattern.finditer(text)]
        assert [(m.span(), m.groups()) for m in anchored.finditer(text)] == full


def test_a_start_left_out_of_the_set_loses_its_matches() -> None:
    # The set is what the scan trusts: the check above would catch a missing one.
    pattern = PUBLISHED_LABEL.pattern
    text = "Posted 2024-05-12 | 发布时间：2024-05-12"
    assert len(list(Anchored(pattern, "发").finditer(text))) == 1
    assert len(list(PUBLISHED_LABEL.finditer(text))) == 2
