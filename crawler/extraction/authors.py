"""Authors: JSON-LD, meta tags, byline elements, and Chinese bylines and signatures.

Chinese papers rarely mark up their reporters; the names are in running text
("本报记者 张三", "文/李四", "…（记者 王五）"), recognised by the marker before
them or, without one, by a common surname.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from ...cjk import HAN_IDEOGRAPHS, HAN_RE
from .anchored import Anchored
from .dates import TEXT_DATE_RE
from .lines import WS_RE


def headline_at(page: str, title: str | None) -> int:
    """Where the headline starts in ``page`` (:func:`page_text`); 0 if it is not found."""
    start = 0
    if title:
        probe = title.strip()[:12]
        pos = page.find(probe) if probe else -1
        # The <title> is often repeated in the nav; the headline proper is the
        # last early occurrence before the story.
        if pos >= 0:
            start = pos
            nxt = page.find(probe, pos + 1)
            if 0 <= nxt < pos + 3000:
                start = nxt
    return start


def byline_window(page: str, title: str | None) -> str:
    """Text just below the headline in ``page``, where bylines and dates are printed."""
    start = headline_at(page, title)
    return page[start : start + 600]


def above_headline(page: str, title: str | None) -> str:
    """The few words printed just above the headline (an e-paper's page date); "" if the
    headline was not found."""
    start = headline_at(page, title)
    return page[max(0, start - 40) : start]


_BY_PREFIX_RE = re.compile(
    r"^(?:(?:written|posted|reported|text|story)\s+)?(?:by|von|par|por|di|door|автор)\s*[:：]?\s+"
    r"|^(?:作者|记者|文|撰文|撰稿|来源)\s*[:：/]\s*",
    re.IGNORECASE,
)
_AUTHOR_SPLIT_RE = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\bи\b|、|，|/|\|)\s*")
_EMAIL_RE = re.compile(r"\S+@\S+")
_NOT_AUTHOR_WORDS = re.compile(
    r"(?:https?:|www\.|staff|editor|admin|news desk|\bteam\b|publishers?\b|编辑|责任|来源|本报"
    r"|新华社|图片)",
    re.IGNORECASE,
)
# Publishers named where an author belongs (meta author, "来源："): a paper, a
# site, a group, a press, a journal, an office, not a person.
_ZH_ORGANISATION_RE = re.compile(
    f"[{HAN_IDEOGRAPHS}]+(?:集团|出版社|期刊|杂志|报社|日报|晚报|早报|周刊|网络?|报|社|台|局|厅|委|院|中心|公司)$"
)
# Han names printed with padding between the characters ("赵  培").
_SPACED_HAN_NAME_RE = re.compile(f"^[{HAN_IDEOGRAPHS}](?: +[{HAN_IDEOGRAPHS}]){{1,3}}$")


def clean_authors(values: Iterable[str]) -> list[str]:
    authors: list[str] = []
    seen: set[str] = set()
    for value in values:
        if not value:
            continue
        value = _EMAIL_RE.sub(" ", WS_RE.sub(" ", value)).strip()
        value = TEXT_DATE_RE.sub(" ", value)
        value = re.sub(r"\b(?:updated|published|posted)\b.*$", "", value, flags=re.IGNORECASE)
        value = _BY_PREFIX_RE.sub("", value.strip())
        for part in _AUTHOR_SPLIT_RE.split(value):
            name = _BY_PREFIX_RE.sub("", part.strip(" .:-|·\t")).strip(" .:-|·")
            if not name or len(name) > 60 or len(name.split()) > 5:
                continue
            if any(ch.isdigit() for ch in name) or _NOT_AUTHOR_WORDS.search(name):
                continue
            if _SPACED_HAN_NAME_RE.match(name):
                name = name.replace(" ", "")
            if len(name) >= 3 and _ZH_ORGANISATION_RE.match(name):
                continue
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            authors.append(name)
    return authors


def _ld_authors(objs: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for obj in objs:
        val = obj.get("author") or obj.get("creator")
        items = val if isinstance(val, list) else [val]
        for item in items:
            if isinstance(item, str):
                names.append(item)
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                names.append(item["name"])
    return names


# Chinese bylines: "记者 张三", "本报记者张三 李四", "作者：张三", "（记者 张三）",
# "文/张三".  "来源：" names a publication, "编辑"/"责编" an editor: neither is
# an author.  A name is 2–4 Han characters starting with a common surname,
# which keeps "记者近日从…" and "作者：佚名" out.
_ZH_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
    "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈"
    "饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵"
    "苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南"
    "班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿"
    "国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邱雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯"
    "隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
_ZH_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 端木 呼延".split()
)
_ZH_NAME = f"[{HAN_IDEOGRAPHS}·]{{2,4}}"
_ZH_NAMES = rf"{_ZH_NAME}(?:[ \u3000、，,]+{_ZH_NAME})*"
_ZH_REPORTER_RE = re.compile(
    rf"(?:作者|撰文|撰稿|执笔人?|文|记者|通讯员|实习生)\s*[:：/]\s*({_ZH_NAMES})"
    rf"|(?:[（(]|^|\s|本报|本台|本刊)(?:记者|实习生|通讯员)[ \u3000]+({_ZH_NAMES})"
    rf"|(?<![编辑])记者[ \u3000]*({_ZH_NAMES})"
)
# A latin name after the Han one: "周思博 (Joel Spolsky)".
_ALIAS_RE = re.compile(r"\s*[（(]([A-Za-z][A-Za-z .'-]{1,40})[)）]")
# Bylines of one story sit together: "本报实习生 刘国栋 周炜 本报记者 王燕平".
_BYLINE_SPAN = 40
# A story signed at its very end: "…作出贡献。（记者 张三）" / "（张三 李四 上海报道）".
_ZH_SIGNATURE_RE = re.compile(
    rf"[（(]\s*(?:[{HAN_IDEOGRAPHS}]{{0,4}}记者[ \u3000]*)?({_ZH_NAMES})\s*"
    rf"(?:[{HAN_IDEOGRAPHS}]{{0,6}}报道)?\s*[）)]\s*$"
)
# An essay or blog post signed with when it was written: "…意义。海姑娘写于2005年6月12日".
# The name stands on its own, after a space or a punctuation mark, and a year follows.
_ZH_WRITTEN_RE = re.compile(
    rf"(?:^|[\s\u3000.,;:!?。，；：！？、—-])({_ZH_NAME})\s*写于\s*\d{{4}}\s*[年/.-]", re.MULTILINE
)
_ZH_NOT_NAME = frozenset(
    {"佚名", "报道", "发自", "摄影", "综合", "整理", "编辑", "责编", "来源", "本报"}
    | {"近日", "日前", "获悉", "了解", "表示", "介绍", "通讯", "实习"}
    # The next label on a byline line ("作者：张三 时间：…"): 时 is a surname too.
    | {"时间", "日期", "发布", "发表", "作者", "点击", "浏览", "阅读"}
)
_ZH_NAME_STOPS = ("报道", "发自", "摄", "电", "讯", "文", "图")


def _zh_person(piece: str, *, marked: bool) -> str | None:
    for stop in _ZH_NAME_STOPS:
        if piece.endswith(stop) and len(piece) > 2:
            piece = piece[: -len(stop)]
    if not 2 <= len(piece) <= 4 or piece in _ZH_NOT_NAME:
        return None
    # Behind an explicit "记者 " / "作者：" any name goes (minority and foreign
    # names too); elsewhere only a common surname tells a name from prose.
    if marked or "·" in piece:
        return piece
    if piece[0] in _ZH_SURNAMES or piece[:2] in _ZH_COMPOUND_SURNAMES:
        return piece
    return None


def _zh_names(run: str, *, marked: bool) -> list[str]:
    names: list[str] = []
    for i, piece in enumerate(p for p in re.split(r"[ \u3000、，,]+", run) if p):
        name = _zh_person(piece, marked=marked and i == 0)
        if name is None:
            break
        names.append(name)
    return names


def zh_byline(*texts: str) -> list[str]:
    """Reporter names from Chinese bylines in ``texts`` (the first text with one wins)."""
    for text in texts:
        names: list[str] = []
        pos = end = 0
        while (match := _ZH_REPORTER_RE.search(text, pos)) is not None:
            if names and match.start() > end + _BYLINE_SPAN:
                break
            pos = match.end()
            run = match.group(match.lastindex or 1)
            # "记者：" also opens the questions of an interview ("记者：首先…"),
            # so only the spaced form "（记者 张三）" vouches for the name itself.
            found = _zh_names(run, marked=match.lastindex == 2)
            if not found:
                continue
            # The run may have swallowed the next marker ("周炜 本报记者 王燕平"):
            # read on from the last name taken.
            end = text.index(found[-1], match.start(match.lastindex or 1)) + len(found[-1])
            pos = end
            alias = _ALIAS_RE.match(text, end)
            if alias and len(found) == 1:
                found = [f"{found[0]} ({alias.group(1).strip()})"]
            names += [name for name in found if name not in names]
        if names:
            return names
    return []


def zh_signature(text: str) -> list[str]:
    """Names a story is signed with: at its end, in parentheses, or with the day it was
    written ("张三写于2005年6月12日")."""
    match = _ZH_SIGNATURE_RE.search(text[-80:])
    if match:
        return _zh_names(match.group(1), marked=False)
    written = _ZH_WRITTEN_RE.search(text)
    return _zh_names(written.group(1), marked=False) if written else []


def find_authors(
    tree: HtmlElement,
    metas: dict[str, str],
    ld_objs: list[dict[str, Any]],
    window: str,
) -> list[str]:
    """The story's authors from the first source that names any, most reliable first.

    Structured data, then meta tags, then the page's byline elements (an
    XPath over the whole tree, so only read when the others name no one),
    then a Chinese byline in the text around the headline.
    """
    sources: tuple[Callable[[], list[str]], ...] = (
        lambda: _ld_authors(ld_objs),
        lambda: _meta_authors(metas),
        lambda: [metas.get("byl", "")],
        lambda: _dom_authors(tree),
        lambda: zh_byline(window),
    )
    for source in sources:
        cleaned = clean_authors(source())
        if cleaned:
            return cleaned
    return []


def _meta_authors(metas: dict[str, str]) -> list[str]:
    names = [
        metas.get(k, "")
        for k in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
    ]
    return [m for m in names if m and not m.startswith("http")]


# Through the attributes: testing four conditions on every element took twice
# as long. The union comes in document order, as the element test's did.
_BYLINE_ELEMENTS = etree.XPath(
    "(//@itemprop[.='author'] | //@rel[.='author']"
    " | //@class[contains(., 'byline') or contains(., 'author-name')])/.."
)


def _dom_authors(tree: HtmlElement) -> list[str]:
    names: list[str] = []
    for el in _BYLINE_ELEMENTS(tree)[:4]:
        name_el = el.find(".//*[@itemprop='name']")
        text = (name_el if name_el is not None else el).text_content()
        if len(text) < 120:
            names.append(text)
    return names


# Bylines that are labelled rather than placed: "作者：宋怡 杨志华" in a footer table,
# "来源: 尹娟" where the source is a person, "2004年7月16日08:19 [ 黄宇 ]",
# "发布时间 2005/03/15 22:36:13 by duscha", "Автор: Иван Петров", "Autor: Jan Kowalski",
# "Συντάκτης: Μαρία Παππά".
_OTHER_LABEL = (
    r"(?:автор|текст|autor|tekst|συντάκτης|συντάκτρια)\s*[:：]\s*"
    r"([^\W\d_][\w.-]+(?:\s+[^\W\d_][\w.-]+)?)"
)
_LABELLED_RE = re.compile(
    rf"(?:作者|记者|撰文|来源)\s*[:：]\s*({_ZH_NAMES})(?![{HAN_IDEOGRAPHS}])"
    rf"|(?:\d{{1,2}}[:：]\d{{2}}|日)\s*[\[【]\s*({_ZH_NAME})\s*[\]】]"
    rf"|[（(](?:[{HAN_IDEOGRAPHS}]{{0,4}}记者)?\s*({_ZH_NAMES})\s*[{HAN_IDEOGRAPHS}]{{0,6}}报道\s*[）)]"
    r"|作者\s*[:：]?\s*[\[【]\s*([^\s\]】]{2,12})\s*[\]】]"
    r"|(?:发布时间|发表时间)[^|]{0,40}?\bby\s+([\w.-]{2,30})"
    rf"|{_OTHER_LABEL}",
    re.IGNORECASE,
)
LABELLED = Anchored(_LABELLED_RE, r"作记撰来\d日（(发атatσ")
# Every other label is written in Han: a page without any is searched for this one alone.
OTHER_LABEL = Anchored(re.compile(_OTHER_LABEL, re.IGNORECASE), "атatσ")
_OTHER_LABEL_WORDS = ("автор", "текст", "autor", "tekst", "συντάκτ")
# A forum post names its poster in its stamp: "本贴由 大卫 于2005年8月12日",
# "ggjjzhzz 发表于 2005-09-12".
_POSTER_RE = re.compile(
    r"(?:本贴|本帖|此贴|此帖)由\s*([^\s\d]{2,20}?)\s*于\s*(?:19|20)\d\d"
    r"|(?<!\S)([^\s\d\[\]【】《》()（）:：|。，、；！？“”][^\s\[\]【】《》()（）:：|。，、；！？“”]{1,19})"
    r"\s+发表于\s*(?:19|20)\d\d"
)
_POSTER_WORDS = ("发表于", "贴由", "帖由")
# Words that stand where a forum stamp names its poster but are not one.
_NOT_POSTER = frozenset({"本文", "此文", "该文", "原文", "文章", "本贴", "本帖", "楼主"})
# Chinese sites that name no writer credit the story's editor, one: "（责任编辑：刘林源）".
_EDITOR_RE = re.compile(rf"(?:责任编辑|责编|编辑)\s*[:：]\s*({_ZH_NAME})(?![{HAN_IDEOGRAPHS}])")


def _capitalised_words(words: str) -> str:
    # The page text runs on past the name ("Автор: Иван Петров Власти города…"):
    # a name is its first two capitalised words (given name and surname).
    name: list[str] = []
    for word in words.split()[:2]:
        if not word[0].isupper():
            break
        name.append(word)
    return " ".join(name)


def labelled_byline(page: str) -> list[str]:
    """Names behind a byline label anywhere on the page (the first label that names someone)."""
    if HAN_RE.search(page) is None:
        # A case-blind alternation is tried at every position: first make sure
        # one of its words is there at all (the Greek one without its final σ/ς).
        lowered = page.lower()
        if not any(word in lowered for word in _OTHER_LABEL_WORDS):
            return []
        for match in OTHER_LABEL.finditer(page):
            names = clean_authors([_capitalised_words(match.group(1))])
            if names:
                return names
        return []
    for match in LABELLED.finditer(page):
        zh_run, bracketed, signed, handle, by, other = match.groups()
        if zh_run or bracketed or signed:
            # "来源：" mostly names a paper: only a person's name (common surname)
            # counts; behind "作者：" / "记者：" any name goes (pen names, forum handles).
            marked = bool(zh_run) and not match.group(0).startswith("来源")
            names = _zh_names(zh_run or bracketed or signed, marked=marked)
        elif other:
            names = [_capitalised_words(other)]
        else:
            # A user name ("作者[太小心]", "by duscha") is whatever the site shows.
            names = [handle or by]
        names = clean_authors(names)
        if names:
            return names
    return []


def forum_poster(page: str) -> list[str]:
    """The user name a forum post's stamp gives, as the site shows it."""
    # The pattern may start at any word; most pages have no stamp to find.
    if not any(word in page for word in _POSTER_WORDS):
        return []
    for match in _POSTER_RE.finditer(page):
        name = match.group(1) or match.group(2)
        names = clean_authors([] if name in _NOT_POSTER else [name])
        if names:
            return names
    return []


_NAME_LINE_RE = re.compile(rf"[{HAN_IDEOGRAPHS}]{{2,3}}(?:、[{HAN_IDEOGRAPHS}]{{2,3}}){{1,4}}$")
_BLOG_OWNER_RE = re.compile(r"\s*([^\s\[\]]{2,12})的(?:博客|BLOG|blog|专栏)")


def signed_authors(text: str, page: str = "", title: str | None = None) -> list[str]:
    """Authors named in the story text, or failing that behind a byline label anywhere
    on the page, the blog's owner, or the name line under the headline."""
    # Chinese papers often sign at the end: "…（记者 张三）".
    found = clean_authors(zh_byline(text[:200], text[-200:]) or zh_signature(text))
    if found or not page:
        return found
    found = labelled_byline(page) or forum_poster(page)
    if found:
        return found
    # A blog page is its owner's: "bjreader的博客".
    owner = _BLOG_OWNER_RE.match(title or "")
    if owner:
        return clean_authors([owner.group(1)])
    # Commentary sites print the author alone on the line under the headline.
    first = text.split("\n", 2)[:2]
    for line in first:
        line = line.strip()
        if 2 <= len(line) <= 4 and _zh_person(line, marked=False):
            return [line]
        # Papers list their authors so: "赵延东、风笑天". The first name's
        # common surname tells a name line from a list of places or things.
        if _NAME_LINE_RE.match(line) and _zh_person(line.split("、")[0], marked=False):
            return clean_authors(line.split("、"))
    # Last, the editor ("责任编辑：张三"): Chinese news sites that credit no
    # writer credit the editor responsible for the story, and Chinese readers
    # and extractors (GNE) take that credit as its byline.
    for match in _EDITOR_RE.finditer(page):
        found = clean_authors(_zh_names(match.group(1), marked=True))
        if found:
            return found
    return []
