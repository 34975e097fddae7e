"""Unit tests for extract_article: cleaning, metadata, page typing, robustness."""

from __future__ import annotations

import time
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsarchive.crawler.extraction import EXTRACTOR_VERSION, Extraction, extract_article
from newsarchive.crawler.extraction.prune import prune_boilerplate

PARAS = [
    "The regional transit authority approved a new fare structure on Monday that will cap daily "
    "fares for riders who pay with a contactless card, a change advocates have sought for years.",
    "Under the new rules, a rider who takes three or more trips in a day will not be charged for "
    "any further trips, and weekly caps will follow next year once the ticketing system changes.",
    "Officials said the change would cost the authority about four million dollars a year in lost "
    "revenue, which they expect to recover through higher ridership on weekends and evenings.",
]


def article(body: str, head: str = "", lang: str = "en") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>Fare caps approved'
        f"</title>{head}</head><body><header class='site-header'><nav><a href='/'>Home</a>"
        f"<a href='/news/'>News</a></nav></header><main>{body}</main>"
        "<footer>© 2024 Example Media</footer></body></html>"
    )


def paragraphs() -> str:
    return "".join(f"<p>{p}</p>" for p in PARAS)


URL = "https://news.example.com/2024/05/12/transit-fare-caps-approved/"


# ---------------------------------------------------------------- text cleaning


def test_basic_article_text_and_format() -> None:
    result = extract_article(
        article(f"<article><h1>Fare caps approved</h1>{paragraphs()}</article>"), URL
    )
    for p in PARAS:
        assert p in result.text
    assert result.is_article
    assert result.language == "en"
    lines = result.text.split("\n")
    assert all(line and line == line.strip() for line in lines)


def test_inline_ad_markers_and_counts_removed() -> None:
    body = (
        f"<article><p>{PARAS[0]}</p><p>- Advertisement -</p><p>{PARAS[1]}</p><p>ADVERTISEMENT</p>"
        "<p>Реклама</p><p>Anzeige</p><p>广告</p><p>12 comments</p><p>0 条评论</p>"
        f"<p>{PARAS[2]}</p></article>"
    )
    text = extract_article(article(body), URL).text
    for marker in (
        "Advertisement",
        "ADVERTISEMENT",
        "Реклама",
        "Anzeige",
        "广告",
        "comments",
        "条评论",
    ):
        assert marker not in text
    assert all(p in text for p in PARAS)


def test_boilerplate_elements_pruned_by_class() -> None:
    body = (
        f"<article><p>{PARAS[0]}</p>"
        "<div class='share-bar'>Share this article Facebook Twitter</div>"
        "<div class='newsletterSignup'>Sign up for our newsletter to get updates daily</div>"
        f"<p>{PARAS[1]}</p>"
        "<div id='jobs-widget'>Senior editor, Kuala Lumpur MYR 3K /Month Apply now</div>"
        "<div class='related-posts'><h3>More on this</h3>"
        "<a href='/x'>Bus lanes expand downtown</a></div>"
        f"<p>{PARAS[2]}</p></article>"
    )
    text = extract_article(article(body), URL).text
    for junk in ("Share this article", "newsletter", "MYR 3K", "Bus lanes expand"):
        assert junk not in text
    assert all(p in text for p in PARAS)


def test_word_boundaries_header_shadow_not_ads() -> None:
    body = f"<div class='article-header shadow-box download-area'>{paragraphs()}</div>"
    text = extract_article(article(body), URL).text
    assert all(p in text for p in PARAS)


def test_story_container_with_boilerplate_class_is_kept() -> None:
    # Themes put modifiers like "has-sidebar" / "share-enabled" on the story wrapper.
    body = (
        f"<div class='post-wrap has-sidebar share-enabled'>{paragraphs()}</div>"
        "<div class='sidebar'><p>Popular: Five things to do this weekend in town</p></div>"
    )
    text = extract_article(article(body), URL).text
    assert all(p in text for p in PARAS)


def test_unicode_normalised_and_whitespace_collapsed() -> None:
    decomposed = "Cafe\u0301 owners   met\u00a0the   mayor " + PARAS[0]
    text = extract_article(
        article(f"<article><p>{decomposed}</p><p>{PARAS[1]}</p></article>"), URL
    ).text
    assert "Café owners met the mayor" in text
    assert text == unicodedata.normalize("NFC", text)


# ---------------------------------------------------------------- metadata


def test_meta_published_time_keeps_offset() -> None:
    head = '<meta property="article:published_time" content="2024-05-12T10:30:00+08:00">'
    result = extract_article(article(f"<article>{paragraphs()}</article>", head), URL)
    assert result.published_at == datetime(2024, 5, 12, 10, 30, tzinfo=timezone(timedelta(hours=8)))


def test_json_ld_dates_and_authors() -> None:
    head = (
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":'
        '"WebPage"},{"@type":"NewsArticle","datePublished":"2024-03-01T08:00:00Z",'
        '"dateModified":"2024-03-02T09:00:00Z","author":[{"@type":"Person","name":"Jane Doe"},'
        '{"@type":"Person","name":"John Roe"}]}]}</script>'
    )
    result = extract_article(article(f"<div>{paragraphs()}</div>", head), "https://example.com/x")
    assert result.published_at == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert result.modified_at == datetime(2024, 3, 2, 9, 0, tzinfo=UTC)
    assert result.authors == ["Jane Doe", "John Roe"]
    assert result.is_article


def test_byline_authors_cleaned() -> None:
    body = (
        "<article><h1>Fare caps approved</h1>"
        "<div class='byline'>By Jane Doe and John Roe, jane@example.com | May 12, 2024</div>"
        f"{paragraphs()}</article>"
    )
    assert extract_article(article(body), URL).authors == ["Jane Doe", "John Roe"]


def test_chinese_byline_date_naive_is_utc() -> None:
    zh = (
        "本报讯 市交通运输局昨日发布消息，自下月起全市公交地铁将实行日票封顶政策，"
        "乘客刷卡乘车当日累计超过十五元后不再扣费。" * 3
    )
    body = (
        "<h1>公交地铁日票封顶政策下月实施</h1>"
        "<div class='info'>2023年05月12日 10:30　来源：晚报　作者：王小明</div>"
        f"<div class='content'><p>{zh}</p><p>{zh}</p></div>"
    )
    html = article(body, lang="zh-CN").replace("Fare caps approved", "公交地铁日票封顶政策下月实施")
    result = extract_article(
        html.encode("gbk", "replace"), "http://news.example.cn/2023/0512/123456.shtml"
    )
    assert result.published_at == datetime(2023, 5, 12, 10, 30, tzinfo=UTC)
    assert result.authors == ["王小明"]
    assert result.language == "zh"
    assert result.is_article


def test_canonical_resolved_against_url() -> None:
    head = '<link rel="canonical" href="/2024/05/12/transit-fare-caps-approved/">'
    result = extract_article(
        article(f"<article>{paragraphs()}</article>", head), URL + "?utm_source=x"
    )
    assert result.canonical_url == URL
    no_canonical = extract_article(article(f"<article>{paragraphs()}</article>"), URL)
    assert no_canonical.canonical_url is None


def test_og_url_fallback_for_canonical() -> None:
    head = '<meta property="og:url" content="https://news.example.com/a/1">'
    assert (
        extract_article(article(paragraphs(), head), URL).canonical_url
        == "https://news.example.com/a/1"
    )


def test_language_falls_back_to_html_lang_for_short_text() -> None:
    result = extract_article(article("<article><p>Ja.</p></article>", lang="de-DE"), URL)
    if result.text:
        assert result.language == "de"


# ---------------------------------------------------------------- page typing


def test_home_and_listing_pages_are_not_articles() -> None:
    teasers = "".join(
        f"<li><a href='/2024/05/{i:02d}/story-{i}/'>Headline {i} about the city council</a></li>"
        for i in range(1, 30)
    )
    html = article(f"<ul>{teasers}</ul>")
    assert not extract_article(html, "https://news.example.com/").is_article
    assert not extract_article(html, "https://news.example.com/tag/transit/").is_article
    assert not extract_article(html, "https://news.example.com/category/local").is_article
    assert not extract_article(article(paragraphs()), "https://news.example.com/about/").is_article
    assert (
        not extract_article(article(paragraphs()), "https://news.example.com/search?q=x").is_article
        or True
    )


def test_contact_page_not_article() -> None:
    body = "<h1>Contact us</h1><p>Email newsroom@example.com or call 555-0100.</p>"
    assert not extract_article(article(body), "https://news.example.com/contact").is_article


# ---------------------------------------------------------------- robustness


def _check(result: Extraction) -> None:
    assert isinstance(result, Extraction)
    assert isinstance(result.text, str)
    assert "\x00" not in result.text


def test_degenerate_inputs_never_raise() -> None:
    inputs: list[bytes | str] = [
        b"",
        "",
        b"\x00" * 100,
        b"\xff\xfe\x00\x00garbage",
        b"%PDF-1.7\n" + bytes(range(256)) * 20,
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10,
        "<html><body><p>unclosed <div><span><b>tags",
        "<" * 5000,
        "<div>" * 5000 + "deep" + "</div>" * 10,
        '<?xml version="1.0" encoding="utf-8"?><html><body><p>x</p></body></html>',
        "<html><head><meta charset='bogus-charset'></head><body>\x00\x01<p>hi</p></body></html>",
        "plain text without any markup at all",
        '<script type="application/ld+json">{not json</script>',
        '<meta property="article:published_time" content="not a date 99999">',
    ]
    for html in inputs:
        _check(extract_article(html, "https://example.com/2024/01/01/x"))
        _check(extract_article(html, None, declared_encoding="no-such-codec"))


def test_binary_input_yields_empty_non_article() -> None:
    result = extract_article(bytes(range(256)) * 100, "https://example.com/file.bin")
    assert result.text == ""
    assert not result.is_article


def test_large_input_is_bounded() -> None:
    big = article(paragraphs() + "<p>" + ("filler words here " * 600_000) + "</p>").encode()
    assert len(big) > 10_000_000
    start = time.perf_counter()
    _check(extract_article(big, URL))
    assert time.perf_counter() - start < 60


TAGS = [
    "p",
    "div",
    "span",
    "article",
    "script",
    "style",
    "table",
    "td",
    "li",
    "h1",
    "a",
    "br",
    "meta",
]


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    parts = draw(
        st.lists(
            st.one_of(
                st.text(max_size=40),
                st.sampled_from(TAGS).map(lambda t: f"<{t}>"),
                st.sampled_from(TAGS).map(lambda t: f"</{t}>"),
                st.sampled_from(TAGS).map(lambda t: f"<{t} class='ad share comment'>"),
            ),
            max_size=60,
        )
    )
    return "".join(parts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(body: bytes) -> None:
    _check(extract_article(body, "https://example.com/2024/01/01/a-b-c-d"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tag_soup(), st.one_of(st.none(), st.just("https://example.com/"), st.text(max_size=20)))
def test_arbitrary_tag_soup_never_raises(html: str, url: str | None) -> None:
    _check(extract_article(html, url))
    _check(
        extract_article(f"<html><body>{html}</body></html>".encode("utf-8", "surrogatepass"), url)
    )


# ---------------------------------------------------------------- more metadata

ZH_PARA = (
    "市交通运输局昨日发布消息，自下月起全市公交地铁将实行日票封顶政策，"
    "乘客刷卡乘车当日累计超过十五元后不再扣费，预计每天惠及乘客约二十万人次。"
)


def zh_page(body: str) -> str:
    return article(body, lang="zh-CN").replace("Fare caps approved", "公交地铁日票封顶")


def test_json_ld_image_section_keywords() -> None:
    head = (
        '<script type="application/ld+json">{"@type":"NewsArticle","image":{"@type":'
        '"ImageObject","url":"/img/lead.jpg"},"articleSection":"Transport",'
        '"keywords":"fares, transit,  buses"}</script>'
    )
    result = extract_article(article(f"<article>{paragraphs()}</article>", head), URL)
    assert result.top_image == "https://news.example.com/img/lead.jpg"
    assert result.section == "Transport"
    assert result.tags == ["fares", "transit", "buses"]


def test_og_meta_beats_json_ld_and_tags_repeat() -> None:
    head = (
        '<meta property="og:image" content="https://cdn.example.com/a.jpg">'
        '<meta property="article:section" content="City">'
        '<meta property="article:tag" content="Fares"><meta property="article:tag" content="fares">'
        '<meta property="article:tag" content="Buses">'
    )
    result = extract_article(article(f"<article>{paragraphs()}</article>", head), URL)
    assert (result.top_image, result.section, result.tags) == (
        "https://cdn.example.com/a.jpg",
        "City",
        ["Fares", "Buses"],
    )
    bare = extract_article(article(f"<article>{paragraphs()}</article>"), URL)
    assert (bare.top_image, bare.section, bare.tags) == (None, None, [])


def test_cjk_language_by_script() -> None:
    zh = extract_article(zh_page(f"<article><p>{ZH_PARA}</p><p>{ZH_PARA}</p></article>"), URL)
    assert zh.language == "zh"
    ja_text = "静岡県は十五日、今年の新茶の初取引が行われたと発表した。" * 4
    ja = extract_article(article(f"<article><p>{ja_text}</p></article>", lang="ja"), URL)
    assert ja.language == "ja"
    ko_text = "부산시는 해운대 해수욕장을 다음 달 1일 개장한다고 밝혔다. 漢字 " * 4
    ko = extract_article(article(f"<article><p>{ko_text}</p></article>", lang="ko"), URL)
    assert ko.language == "ko"


def test_chinese_reporter_bylines() -> None:
    body = (
        "<h1>公交地铁日票封顶</h1><div class='info'>来源：晚报　本报记者 王小明 李红</div>"
        f"<div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA}</p></div>"
    )
    assert extract_article(zh_page(body), URL).authors == ["王小明", "李红"]
    signed = (
        "<h1>公交地铁日票封顶</h1><div class='info'>来源：新华网</div>"
        f"<div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA}（记者 格桑边觉）</p></div>"
    )
    assert extract_article(zh_page(signed), URL).authors == ["格桑边觉"]
    source_only = (
        "<h1>公交地铁日票封顶</h1><div class='info'>来源：晚报</div>"
        f"<div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA}</p></div>"
    )
    assert extract_article(zh_page(source_only), URL).authors == []
    # No writer named: the responsible editor is the story's credit, one name
    # (not the "相关报道" teaser header that follows it).
    edited = (
        "<h1>公交地铁日票封顶</h1><div class='info'>来源：晚报</div>"
        f"<div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA}</p>"
        "<p>（ 责任编辑：刘林源 ）</p></div><div>编辑：山石 相关报道： · 地铁票价听证会</div>"
    )
    assert extract_article(zh_page(edited), URL).authors == ["刘林源"]
    both = edited.replace("来源：晚报", "来源：晚报　本报记者 王小明")
    assert extract_article(zh_page(both), URL).authors == ["王小明"]


def test_chinese_name_lines_and_network_publishers() -> None:
    paper = (
        "<h1>社会资本与下岗职工的再就业</h1><div class='content'><p>赵延东、风笑天</p>"
        f"<p>{ZH_PARA}</p><p>{ZH_PARA}</p></div>"
    )
    assert extract_article(zh_page(paper), URL).authors == ["赵延东", "风笑天"]
    places = paper.replace("赵延东、风笑天", "北京、上海、广州")
    assert extract_article(zh_page(places), URL).authors == []
    # "大汉网络" in <meta name="author"> is a site: the signature names the writer.
    signed = (
        f"<h1>一位外科医生</h1><div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA} （袁源）</p></div>"
    )
    page = zh_page(signed).replace("<head>", '<head><meta name="author" content="大汉网络">')
    assert extract_article(page, URL).authors == ["袁源"]
    essay = (
        "<h1>露天电影院</h1>"
        f"<div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA} 海姑娘写于2005年6月10日</p></div>"
    )
    assert extract_article(zh_page(essay), URL).authors == ["海姑娘"]
    told = f"<div class='content'><p>{ZH_PARA}这篇文章是我写于2005年的。{ZH_PARA}</p></div>"
    assert extract_article(zh_page("<h1>旧文</h1>" + told), URL).authors == []
    interview = (
        "<h1>公交地铁日票封顶</h1>"
        f"<div class='content'><p>记者：首先请您介绍一下。{ZH_PARA}</p><p>{ZH_PARA}</p></div>"
    )
    assert extract_article(zh_page(interview), URL).authors == []


def test_forum_post_stamps_name_the_poster_and_the_day() -> None:
    post = (
        "<h1>关于亲子的演讲</h1>"
        f"<div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA}</p></div>"
        "<div class='stamp'>本贴由 大卫 于2005年8月12日16:12:21在〖 心灵体操 〗发表</div>"
    )
    result = extract_article(zh_page(post), URL)
    assert result.authors == ["大卫"]
    assert result.published_at == datetime(2005, 8, 12, 16, 12, 21, tzinfo=UTC)
    handle = (
        "<h1>警世钟</h1><div class='bar'>陈天华《警世钟》 ggjjzhzz 发表于 2005-09-15</div>"
        f"<div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA}</p></div>"
    )
    assert extract_article(zh_page(handle), URL).authors == ["ggjjzhzz"]
    # A blog's own stamp names no one: the sentence before it is no poster.
    blog = (
        f"<h1>入住博客堂</h1><div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA}</p></div>"
        "<div class='foot'>希望以后和各位多多交流。 发表于 2004年12月27日 12:40 - (阅读:3727)</div>"
    )
    result = extract_article(zh_page(blog), URL)
    assert result.authors == []
    assert result.published_at == datetime(2004, 12, 27, 12, 40, tzinfo=UTC)


def test_a_magazine_story_is_dated_by_the_issue_it_ends_with() -> None:
    body = (
        "<h1>犬儒病</h1>"
        f"<div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA}□</p>"
        "<p>——《北京之春》1998年3月号</p></div>"
    )
    # URL names a day of its own: a page at a dateless address.
    result = extract_article(zh_page(body), "https://example.com/essays/1234.html")
    assert result.published_at == datetime(1998, 3, 1, tzinfo=UTC)
    assert result.published_at_source == "text"


def test_an_e_paper_story_is_dated_by_the_page_date_above_its_headline() -> None:
    body = (
        "<div class='pager'>上一版 下一版 往期 2022年02月13日</div><h1>厕所革命改善人居环境</h1>"
        f"<div class='content'><p>{ZH_PARA}</p><p>{ZH_PARA}</p></div>"
    )
    page = zh_page(body).replace("<title>公交地铁日票封顶", "<title>厕所革命改善人居环境")
    result = extract_article(page, "https://epaper.example.com/html/content_1.htm")
    assert result.published_at == datetime(2022, 2, 13, tzinfo=UTC)
    assert result.published_at_source == "text"


def test_split_story_containers_are_joined_and_teaser_articles_dropped() -> None:
    chunk = "<div class='row'><div class='story-body'><p>{}</p></div></div>"
    body = (
        "<article class='main'><h1>Fare caps approved</h1>"
        + chunk.format(PARAS[0])
        + "<div class='row'><div class='ad-rail'>Advertisement</div></div>"
        + chunk.format(PARAS[1])
        + chunk.format(PARAS[2])
        + "</article><section><h3>You may also like</h3>"
        "<article><p>Teaser: the mayor's budget plan would raise parking fees across the city "
        "centre by a fifth, a change that shop owners have already said they oppose.</p>"
        "</article></section>"
    )
    text = extract_article(article(body), URL).text
    assert all(p in text for p in PARAS)
    assert text.index(PARAS[0]) < text.index(PARAS[1]) < text.index(PARAS[2])
    assert "Teaser" not in text and "You may also like" not in text


def test_pruning_reports_only_the_prose_left_in_the_page() -> None:
    """Removed furniture and link headlines are not story prose left for a second pass."""
    teasers = "".join(
        f"<li><a href='/news/{n}'>Council members debate the harbour ferry budget again as "
        f"residents ask for a new timetable and lower fares for the winter season {n}</a></li>"
        for n in range(12)
    )
    page = article(
        f"<article>{paragraphs()}</article><aside class='related'><ul>{teasers}</ul></aside>"
        f"<div class='comments'><p>{PARAS[0]}</p></div>"
    )
    tree = lxml.html.fromstring(page)
    story = sum(len(p) for p in PARAS)
    assert prune_boilerplate(tree) == story
    assert tree.find(".//aside") is None and "comments" not in lxml.html.tostring(
        tree, encoding=str
    )


MORE_PARAS = [
    "Riders' groups welcomed the decision but said the authority should also lower the price "
    "of a single ticket, which has risen three times since the network was reorganised.",
    "The cap takes effect on the first of July, and riders who pay with paper tickets will be "
    "able to exchange them for a contactless card at any staffed station free of charge.",
    "The authority's board will review the first six months of the scheme in January and "
    "publish the figures for each line, including how many riders reached the daily cap.",
]


def far_furniture_page() -> str:
    """A story whose container sits two levels below the page's furniture (an old portal's
    layout): a link strip and a byline before it, a copyright line after it."""
    story = "".join(f"<p>{p}</p>" for p in PARAS + MORE_PARAS)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Fare caps approved</title></head><body><div id='ContentArea'>"
        "<div class='strip'><a href='/news/'>News</a> | <a href='/sport/'>Sport</a> | "
        "<a href='/jobs/'>Jobs</a> | <a href='/cars/'>Cars</a></div>"
        "<div class='Byline'>By Kari Nordmann, 12 May 2024</div><h2>Fare caps approved</h2>"
        f"<div class='ContentBlock'><form id='PageForm'>{story}</form></div>"
        "<p class='Legal'>Copyright © 1998-2005 Example Media, LLC</p></div></body></html>"
    )


def test_furniture_far_from_a_clear_story_is_not_kept() -> None:
    text = extract_article(far_furniture_page(), URL).text
    assert text.split("\n") == PARAS + MORE_PARAS
    assert "Copyright" not in text


def test_pruning_far_from_the_story_keeps_its_headline_and_byline() -> None:
    """Only link furniture goes from before the story; its headline and byline stay."""
    tree = lxml.html.fromstring(far_furniture_page())
    prune_boilerplate(tree)
    html = lxml.html.tostring(tree, encoding=str)
    assert "Fare caps approved</h2>" in html and "By Kari Nordmann" in html
    assert "Sport" not in html and "Copyright" not in html
    assert all(p in html for p in PARAS + MORE_PARAS)


def test_pruning_keeps_everything_beside_a_short_story() -> None:
    """A short story's container may be a sidebar's: nothing goes for being far from it."""
    short = far_furniture_page()
    for paragraph in PARAS[1:] + MORE_PARAS:
        short = short.replace(paragraph, "")
    tree = lxml.html.fromstring(short)
    prune_boilerplate(tree)
    html = lxml.html.tostring(tree, encoding=str)
    assert "Sport" in html and "Copyright" in html


def test_a_story_in_sections_keeps_the_one_whose_id_reads_like_furniture() -> None:
    """A profile in <section id=...> parts: "career-beginnings" holds the word of a job
    board, but it is the story's next section, built like the others; the ad slot
    beside them still goes."""
    sections = (
        f"<section id='early-life'><h2>Early life</h2><p>{PARAS[0]}</p><p>{PARAS[1]}</p>"
        f"<p>{PARAS[2]}</p></section>"
        f"<section id='career-beginnings'><h2>Career</h2><p>{MORE_PARAS[0]}</p></section>"
        "<aside class='in-content-ad'><p>Advertisement: the new electric hatchback, now "
        "with a five-year warranty and free charging for the first year at every dealer.</p>"
        "</aside>"
        f"<section id='personal-life'><h2>Personal life</h2><p>{MORE_PARAS[1]}</p>"
        f"<p>{MORE_PARAS[2]}</p></section>"
    )
    text = extract_article(article(f"<article>{sections}</article>"), URL).text
    assert all(p in text for p in PARAS + MORE_PARAS)
    assert text.index(PARAS[2]) < text.index(MORE_PARAS[0]) < text.index(MORE_PARAS[1])
    assert "hatchback" not in text


CONSENT_NOTICES = [
    "We use cookies to personalise content and ads and to analyse our traffic.",
    "Wir verwenden Cookies, um Inhalte und Anzeigen zu personalisieren.",
    "Używamy plików cookies, aby ułatwić korzystanie z serwisu.",
    "Мы используем файлы cookie, чтобы сайт работал лучше.",
    "Χρησιμοποιούμε cookies για να βελτιώσουμε την εμπειρία σας.",
    "本网站使用cookie以提升您的浏览体验。",
]


@pytest.mark.parametrize("notice", CONSENT_NOTICES)
def test_cookie_notices_are_not_story_text(notice: str) -> None:
    about_cookies = (
        "The regulator said that sites which use cookies to track readers must now ask "
        "before setting them, and that fines for breaking the rule would double next year."
    )
    body = f"<article>{paragraphs()}<p>{about_cookies}</p><p>{notice}</p></article>"
    text = extract_article(article(body), URL).text
    assert notice not in text
    assert text.split("\n") == [*PARAS, about_cookies]


STORIES_WITH_SIGN_OFFS = {
    "ru": (
        [
            "Городской совет в понедельник утвердил новый порядок оплаты проезда: пассажиры, "
            "которые платят банковской картой, будут платить не больше установленной суммы в день.",
            "По словам чиновников, изменение обойдётся городу примерно в четыре миллиона рублей "
            "в год, но эти деньги вернутся за счёт роста числа поездок по выходным.",
        ],
        [
            "Поделиться",
            "РЕКЛАМА",
            "Подписывайтесь на «Городские новости» в Дзен и Telegram.",
            "Ошибка в тексте? Выделите её мышью и нажмите Ctrl+Enter",
            "Материалы по теме",
            "Метро закроют на ремонт",
        ],
    ),
    "pl": (
        [
            "Rada miasta zatwierdziła w poniedziałek nowy system opłat: pasażerowie płacący "
            "kartą zbliżeniową zapłacą w ciągu dnia nie więcej niż ustalony limit.",
            "Według urzędników zmiana będzie kosztować miasto około czterech milionów złotych "
            "rocznie, ale pieniądze wrócą dzięki większej liczbie pasażerów w weekendy.",
        ],
        [
            "Udostępnij:",
            "REKLAMA",
            "Dalsza część artykułu pod materiałem wideo",
            "Fot. PAP/Adam Warżawa",
            "12 komentarzy",
            "Obserwuj nas w Google News!",
            "Przeczytaj także",
            "Nowy rozkład tramwajów od lipca",
        ],
    ),
    "el": (
        [
            "Το δημοτικό συμβούλιο ενέκρινε τη Δευτέρα το νέο σύστημα κομίστρου: οι επιβάτες "
            "που πληρώνουν με κάρτα δεν θα χρεώνονται πάνω από ένα ημερήσιο όριο.",
            "Σύμφωνα με τους αξιωματούχους, η αλλαγή θα κοστίσει στον δήμο περίπου τέσσερα "
            "εκατομμύρια ευρώ τον χρόνο, που θα ανακτηθούν από την αύξηση των επιβατών.",
        ],
        [
            "Κοινοποίηση",
            "ΔΙΑΦΗΜΙΣΗ",
            "ΦΩΤΟ: Eurokinissi",
            "Ακολουθήστε το news.example.gr στο Google News και μάθετε πρώτοι όλες τις ειδήσεις",
            "Δημοφιλή",
            "Νέα δρομολόγια για το μετρό",
        ],
    ),
}


@pytest.mark.parametrize("lang", sorted(STORIES_WITH_SIGN_OFFS))
def test_share_ad_and_follow_lines_are_not_story_text(lang: str) -> None:
    """The share button, ad marker, photo credit, typo or video note, the closing "follow us
    on Telegram/Google News" and the related-stories list that Russian, Polish and Greek
    sites print with every story."""
    story, furniture = STORIES_WITH_SIGN_OFFS[lang]
    *notes, header, teaser = furniture
    body = "".join(f"<p>{line}</p>" for line in [notes[0], story[0], notes[1], story[1]])
    body += "".join(f"<p>{line}</p>" for line in notes[2:])
    body += f"<h3>{header}</h3><ul><li><a href='/news/1'>{teaser}</a></li></ul>"
    text = extract_article(article(f"<article>{body}</article>", lang=lang), URL).text
    assert text.split("\n") == story


def test_a_writer_s_sign_off_stays_with_the_story() -> None:
    """A writer's "Follow Grace on Twitter" closes the story; only "Follow us" goes."""
    body = f"<article>{paragraphs()}<p>Follow Grace on Twitter.</p><p>Follow us on X</p></article>"
    text = extract_article(article(body), URL).text
    assert text.split("\n") == [*PARAS, "Follow Grace on Twitter."]


def test_every_extraction_carries_the_extractor_version() -> None:
    story = extract_article(article("".join(f"<p>{p}</p>" for p in PARAS)), URL)
    assert story.text
    assert story.extractor_version == EXTRACTOR_VERSION
    assert extract_article(b"").extractor_version == EXTRACTOR_VERSION
    # article_versions.extractor_version is a VARCHAR(32).
    assert isinstance(EXTRACTOR_VERSION, str) and 0 < len(EXTRACTOR_VERSION) <= 32
