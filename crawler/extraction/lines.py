"""Line-level clean-up of extracted text, and the text measures other steps share.

What slips past element pruning is recognisable line by line: ad markers,
comment counts, share prompts, "related stories" lists, photo credits, job ads,
cookie notices and layout tables rendered as ``| cell |`` rows.
"""

from __future__ import annotations

import re
import unicodedata

from ...cjk import cjk_count

_AD_MARKERS = frozenset(
    [
        "advertisement",
        "advertisements",
        "advertising",
        "ad",
        "ads",
        "sponsored",
        "sponsoredcontent",
        "paidcontent",
        "promoted",
        "广告",
        "推广",
        "赞助",
        "реклама",
        "reklama",
        "διαφήμιση",
        "διαφημιση",
        "anzeige",
        "werbung",
        "publicité",
        "publicidad",
        "pubblicità",
        "광고",
        "広告",
        "スポンサーリンク",
    ]
)
_COUNT_LINE_RE = re.compile(
    r"^\(?\d[\d,.]*\)?\s*(?:comments?|replies|shares?|条评论|评论|个评论|комментари\w*|kommentare?"
    r"|komentarz\w*|σχόλι\w*)$",
    re.IGNORECASE,
)
_BOILERPLATE_LINE_RE = re.compile(
    r"^(?:share this(?: article| story| page)?|share on \w+|share|分享到[:：]?.*|分享[:：]?"
    r"|sign up for (?:our|the) \w*\s*newsletters?.*|subscribe to (?:our|the) newsletter.*"
    r"|(?:read|see) more[:：]?|click here to (?:read|subscribe).*|leave a comment"
    r"|comments?|post a comment|发表评论|我要评论|网友评论|查看评论|打印本页|关闭窗口|返回顶部"
    r"|apply now|立即申请|[›»>]\s*立即申请.*|follow us on .*"
    r"|поделиться|комментарии|обсудить|оставить комментарий|udostępnij|komentarze"
    r"|skomentuj|dodaj komentarz|κοινοποίηση|μοιραστείτε|σχόλια|teilen|kommentare"
    r")[\s:：.…]*$",
    re.IGNORECASE,
)
# Headers of link lists ("Related stories", "相关新闻"): the header and the
# short headline lines right after it are dropped together.
RELATED_HEADER_RE = re.compile(
    r"^(?:related(?: stories| articles| news| posts| content| coverage| reading| topics)?"
    r"|more (?:stories|news|from \w+)|more\b.{0,30}\b(?:stories|news|articles|reads|videos)"
    r"|you (?:may|might) also (?:like|enjoy).*|recommended(?: for you| stories| reading)?"
    r"|most (?:read|popular|viewed)|trending(?: now| stories)?|read (?:more|next|also)"
    r"|(?:see|read) also|also read|don'?t miss|top stories|latest news"
    r"|相关新闻|相关阅读|相关文章|相关报道|相关链接|延伸阅读|推荐阅读|热门推荐|猜你喜欢|热点新闻|热门文章"
    r"|читайте также|см\. также|смотрите также|другие новости|похожие новости|по теме"
    r"|(?:материалы|новости) по теме|самое (?:читаемое|популярное|интересное)|главное за \w+"
    r"|последние новости|лента новостей|новости партн[её]ров|выбор редакции"
    r"|关联阅读|関連記事|関連ニュース|관련기사|관련 기사|많이 본 뉴스"
    r"|zobacz (?:też|także|również)|czytaj (?:też|także|również|więcej)|polecamy"
    r"|najczęściej czytane|przeczytaj (?:też|także|również)|najnowsze(?: wiadomości)?"
    r"|najpopularniejsze|polecane(?: artykuły)?|zobacz więcej"
    r"|δε[ίι]τε (?:επίσης|ακόμα)|διαβάστε (?:επίσης|ακόμα|ακόμη)|σχετικά άρθρα|σχετικές ειδήσεις"
    r"|δημοφιλή(?: άρθρα)?|τελευταία νέα|τελευταίες ειδήσεις|ροή ειδήσεων|πρόσφατα άρθρα"
    r"|lesen sie auch|mehr zum thema|das könnte sie auch interessieren|weitere artikel"
    r"|(?:à )?lire aussi|sur le même sujet|lea también|te puede interesar|noticias relacionadas"
    r"|(?:leia|veja) (?:também|mais)|você (?:pode|também pode) gostar.*|notícias relacionadas"
    r"|leggi anche|potrebbe interessarti)[\s:：.…]*$",
    re.IGNORECASE,
)
_SALARY_RE = re.compile(
    r"(?:MYR|RM|SGD|USD|HKD|RMB|CNY|¥|\$)\s?\d[\d,.]*\s?[Kk万]?\s*/\s*(?:month|mo|月|year|yr|年)\b",
    re.IGNORECASE,
)
_PHOTO_CREDIT_RE = re.compile(
    r"^(?:\(?(?:photo|image|picture|credit|photograph|illustration)s?(?: by| credit)?\s*[:：]"
    r"|图片来源|图片[:：]|图[:：]|摄影[:：]|фото[:：]|写真[:：]|사진[:：]"
    r"|fot\.\s|zdjęcie[:：]|φωτογραφία[:：]|φωτ[οό][:：])",
    re.IGNORECASE,
)
# A site's cookie-consent notice, in the words sites open it with: never a story's
# paragraph, and on a page with no story it was all the text that was left.
_CONSENT_RE = re.compile(
    r"^(?:we(?: and our (?:partners|vendors))? (?:use|uses) cookies"
    r"|this (?:web)?site uses cookies|our (?:web)?site uses cookies"
    r"|by (?:continuing to )?(?:use|using|browse|browsing) (?:this|our) (?:web)?site,? you"
    r" (?:agree|accept|consent)"
    r"|wir (?:verwenden|nutzen) cookies|diese (?:web)?seite (?:verwendet|nutzt) cookies"
    r"|nous utilisons des cookies|ce site (?:web )?utilise des cookies"
    r"|(?:utilizamos|usamos) cookies|este (?:sitio(?: web)?|site) (?:utiliza|usa) cookies"
    r"|(?:utilizziamo|usiamo) (?:i )?cookie|questo sito (?:web )?(?:utilizza|usa) (?:i )?cookie"
    r"|(?:wij gebruiken|we gebruiken) cookies|deze (?:web)?site gebruikt cookies"
    r"|(?:używamy|wykorzystujemy) (?:plików )?cookies?"
    r"|(?:ta strona|serwis|strona)(?: internetowa)? (?:używa|wykorzystuje) (?:plików )?cookies?"
    r"|мы используем (?:файлы )?cookies?|(?:этот )?сайт использует (?:файлы )?cookies?"
    r"|χρησιμοποιούμε (?:τα )?cookies|(?:αυτός ο )?ιστότοπος χρησιμοποιεί cookies"
    r"|(?:本网站|本站|我们)使用\s?cookies?|当サイトでは、?\s?(?:cookie|クッキー)"
    r")",
    re.IGNORECASE,
)
_CONSENT_MAX_CHARS = 600
# Notes about the page rather than the story, short and worded alike site to
# site: the typo-report prompt of Russian sites ("Нашли ошибку? Выделите её и
# нажмите Ctrl+Enter"), Polish portals' "the article continues under the
# video", and the closing call to follow the site on a platform that Russian,
# Polish and Greek sites put under every story (it names the platform).
# English sign-offs ("Follow Grace on Twitter") stay: the bench's annotators
# count a writer's as part of the story, and only "Follow us on" is dropped.
_PAGE_NOTE_RE = re.compile(
    r"^(?:.{0,120}\bctrl\s*\+\s*enter\b"
    r"|dals(?:za część|zy ciąg) (?:artykułu|materiału|tekstu)\b.{0,40}\b(?:wideo|video|reklam\w*)"
    r"|artykuł (?:jest )?kontynuowany pod\b.{0,40})[\s.…!]*$"
    r"|^(?:(?:подписывайтесь|подпишитесь) на\s|(?:читайте|следите за) (?:нас|нами)\s"
    r"|(?:obserwuj|śledź|subskrybuj) nas\s|ακολουθ(?:ήστε|ηστε|είτε) (?:μας|το|την|τον)\s"
    r"|folgen sie uns\s|suivez[- ]nous\s|síguenos\s|seguici\s)"
    r".{0,200}\b(?:telegram|телеграм\w*|дзен\w*|vk|вконтакте|google news|google|facebook\w*"
    r"|twitter\w*|instagram\w*|youtube|viber|whatsapp|tiktok|x\.com)",
    re.IGNORECASE,
)
_PAGE_NOTE_MAX_CHARS = 300

# Runs of blanks, for ``WS_RE.sub(" ", text)``: a lone space, which that would
# replace by itself, is not matched (most of a text's matches, and a tenth of
# cleaning's time).
WS_RE = re.compile(
    r"[ \t\u00a0\u2000-\u200b\u3000\u202f\u205f\ufeff\r\f\v]{2,}"
    r"|[\t\u00a0\u2000-\u200b\u3000\u202f\u205f\ufeff\r\f\v]"
)


_NOT_WORD_RE = re.compile(r"[\W_]+")
_MARKER_MAX = max(map(len, _AD_MARKERS))


def _marker_key(line: str) -> str:
    return _NOT_WORD_RE.sub("", line).lower()


def _is_ad_marker(line: str) -> bool:
    # A prefix's key is a prefix of the line's: when the first characters
    # already hold more letters than any marker has, so does the line.
    head = line[: 4 * _MARKER_MAX]
    if len(head) < len(line) and len(_marker_key(head)) > _MARKER_MAX:
        return False
    return _marker_key(line) in _AD_MARKERS


def _is_short(line: str) -> bool:
    cjk = cjk_count(line)
    return len(line) - cjk + 2 * cjk < 90


def _is_table_row(line: str) -> bool:
    return line.startswith("|") and line.rstrip().endswith("|")


def _untable(lines: list[str]) -> list[str]:
    """Turn layout tables back into paragraphs.

    trafilatura renders tables as ``| cell | cell |`` rows.  A table with a
    prose-sized cell is page layout (old portals and blogs), not data: keep its
    long cells as paragraphs and drop the menu/toolbar cells around them.
    Tables without any long cell are real data tables and stay as they are.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _is_table_row(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and _is_table_row(lines[j]):
            j += 1
        block = lines[i:j]
        rows = [[c.strip() for c in re.split(r"(?<!\\)\|", row.strip()[1:-1])] for row in block]
        if any(weighted_len(c) >= 120 for row in rows for c in row):
            for row in rows:
                out.extend(c.replace("\\|", "|") for c in row if weighted_len(c) >= 60)
        else:
            out.extend(block)
        i = j
    return out


def clean_lines(text: str) -> str:
    out: list[str] = []
    in_related = False
    lines = _untable([WS_RE.sub(" ", raw).strip() for raw in text.splitlines()])
    for line in lines:
        if not line:
            continue
        if in_related:
            if _is_short(line):
                continue
            in_related = False
        if _is_ad_marker(line) or _COUNT_LINE_RE.match(line) or _BOILERPLATE_LINE_RE.match(line):
            continue
        if RELATED_HEADER_RE.match(line):
            in_related = True
            continue
        # A pay rate has its slash ("RM3,500/month"): most lines are answered by that.
        if len(line) < 200 and "/" in line and _SALARY_RE.search(line):
            continue
        if len(line) < 150 and _PHOTO_CREDIT_RE.match(line):
            continue
        if len(line) <= _CONSENT_MAX_CHARS and _CONSENT_RE.match(line):
            continue
        if len(line) <= _PAGE_NOTE_MAX_CHARS and _PAGE_NOTE_RE.match(line):
            continue
        out.append(line)
    return "\n".join(out)


def normalize(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\x00", ""))


def weighted_len(text: str) -> int:
    """Length where one CJK character counts like ~2.5 Latin characters."""
    cjk = cjk_count(text)
    return len(text) - cjk + int(cjk * 2.5)
