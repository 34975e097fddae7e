"""Near-duplicate links through the persisted LSH bands, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import threading

from sqlalchemy import func, select

from newsarchive.similarity import signature
from newsarchive.storage import (
    FetchedArticle,
    Outcome,
    create_archive_engine,
    iter_articles,
    read_session,
    save_article,
    write_session,
)
from newsarchive.storage.models import Article, ArticleBand
from tests.cli_process import invoke_cli, run_cli

STORY = [
    "Kestrel Bay council voted on Tuesday night to keep the winter ferry running to Gull "
    "Island, reversing a decision taken in March to cut the service from October.",
    "The vote followed a petition signed by more than three thousand residents, many of whom "
    "said the island would be cut off for weeks at a time without the boat.",
    "Councillor Ruth Jago, who chairs the transport committee, said the cost of the service "
    "would be met from the harbour reserve fund for the next two winters.",
    "Island shopkeepers told the meeting that most of their winter trade arrives on the "
    "morning crossing, and that a weekly freight barge would not be enough.",
    "The ferry operator has agreed to replace the older of its two boats before next summer, "
    "which should cut fuel costs by about a fifth according to its own estimate.",
    "Opposition members argued that the reserve fund was meant for flood defences and that "
    "the council was storing up a bigger bill for the years ahead.",
    "A full timetable for the winter service will be published on the council website and "
    "posted at both harbour offices before the end of the month.",
    "The first winter crossing will leave the town quay at seven in the morning, with a "
    "return sailing from the island jetty at half past four in the afternoon.",
    "Fares will stay at last year's level, and islanders with a resident card will continue "
    "to travel for half price on every crossing outside the summer season.",
    "The harbour master said the quay lighting would be improved before the dark evenings, "
    "after two passengers slipped on the wet steps during a storm last January.",
    "Parents on the island had warned that their children would miss school on days when "
    "the boat did not sail, because the island has no secondary school of its own.",
    "The council will review the cost of the service again next autumn, when it expects to "
    "know whether a government grant for rural transport has been approved.",
]
ZH_STORY = [
    "滨海新城地铁三号线今日开通试运营，首班列车于早上六点整从海港站驶出，车厢内坐满了前来体验的市民。",
    "三号线全长二十八公里，共设二十一座车站，连接老城区、高铁站和新建的会展中心。",
    "市轨道交通集团表示，试运营期间列车最小间隔为六分钟，高峰时段将根据客流情况加密班次。",
    "不少市民表示，三号线开通后从新城到老城的通勤时间将从一个多小时缩短到四十分钟左右。",
    "沿线的商户也对地铁开通充满期待，一家面包店的老板说，开通第一天的客流就比平时多了一倍。",
    "据介绍，四号线和五号线目前也在紧张施工中，预计将在两年内陆续建成通车。",
    "为了方便乘客换乘，地铁站出口附近新增了八百多个共享单车停放点和十二条接驳公交线路。",
    "试运营首日，各车站都安排了志愿者引导乘客购票进站，不少老年人第一次体验了刷脸过闸。",
    "轨道交通集团提醒乘客，试运营期间部分车站的出入口尚未全部开放，出行前可以查询官方信息。",
    "有关部门表示，三号线全面投入运营后，预计每天可以运送乘客三十万人次以上。",
]


def fetched(url: str, paragraphs: list[str], source: str = "harbour", **kw) -> FetchedArticle:
    text = "\n".join(paragraphs)
    return FetchedArticle(
        source=source,
        url=url,
        canonical_url=url,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        title=kw.pop("title", "Winter ferry saved"),
        minhash=signature(text),
        **kw,
    )


def store(engine, item: FetchedArticle, threshold: float = 0.8) -> Outcome:
    with write_session(engine) as session:
        return save_article(session, item, near_duplicate_threshold=threshold)


def links(engine) -> dict[str, int | None]:
    with read_session(engine) as session:
        ids = {r["id"]: r["url"] for r in iter_articles(session)}
        return {
            r["url"]: (ids[r["duplicate_of"]] if r["duplicate_of"] else None)
            for r in iter_articles(session)
        }


def edited_lead(paragraphs: list[str], lead: str) -> list[str]:
    return [lead, *paragraphs[1:]]


def test_syndicated_copies_link_to_the_earliest_original(engine) -> None:
    original = "http://gazette.test/news/ferry.html"
    assert store(engine, fetched(original, STORY)) is Outcome.NEW
    # Wire copy: new first line, a credit line added.
    wire = edited_lead(STORY, "GULL ISLAND (Coastal Wire) - The winter ferry is saved.")
    wire.append("Copyright Coastal Wire Service. All rights reserved.")
    assert store(engine, fetched("http://wire.test/ferry", wire, "wire")) is Outcome.DUPLICATE
    # A copy of the copy with its last paragraph cut is further from the original than
    # the threshold, but it joins the cluster through the wire copy, pointing at the root.
    again = wire[:-2] + wire[-1:]
    assert store(engine, fetched("http://portal.test/f", again, "portal")) is Outcome.DUPLICATE
    # A different story of the same town and topic is not a copy.
    other = [STORY[0], STORY[2], "The harbour master said new moorings would be built."]
    other += [
        "Fishing crews have asked for a longer quay so that two trawlers can unload at once.",
        "Work is due to start in April and should be finished before the summer regatta.",
        "The harbour board will meet again next month to agree the final design and budget.",
    ]
    assert store(engine, fetched("http://gazette.test/news/quay.html", other)) is Outcome.NEW

    assert links(engine) == {
        original: None,
        "http://wire.test/ferry": original,
        "http://portal.test/f": original,
        "http://gazette.test/news/quay.html": None,
    }


def test_chinese_copy_with_changed_lead_is_linked(engine) -> None:
    assert store(engine, fetched("http://zh.test/a", ZH_STORY)) is Outcome.NEW
    copy = edited_lead(ZH_STORY, "本报讯 记者从市轨道交通集团获悉，三号线今天正式开通试运营。")
    assert store(engine, fetched("http://zh2.test/b", copy, "zh2")) is Outcome.DUPLICATE
    unrelated = [p.replace("地铁", "公交").replace("三号线", "快速公交") for p in ZH_STORY[3:]]
    unrelated = [*unrelated, "市民可以通过手机应用查询实时到站信息，也可以在站台的电子屏上查看。"]
    assert store(engine, fetched("http://zh.test/c", unrelated)) is Outcome.NEW
    assert links(engine)["http://zh2.test/b"] == "http://zh.test/a"
    assert links(engine)["http://zh.test/c"] is None


def test_threshold_decides(engine) -> None:
    store(engine, fetched("http://a.test/1", STORY))
    copy = edited_lead(STORY, "A completely rewritten first paragraph about the ferry vote.")
    assert store(engine, fetched("http://b.test/1", copy, "b"), threshold=0.99) is Outcome.NEW
    assert links(engine)["http://b.test/1"] is None


def test_bands_follow_the_latest_text_and_trivial_edits_are_no_version(engine) -> None:
    url = "http://a.test/story"
    store(engine, fetched(url, STORY))
    respaced = [p.replace(", ", " ,  ").upper() for p in STORY]
    assert store(engine, fetched(url, respaced)) is Outcome.UNCHANGED
    assert store(engine, fetched(url, ZH_STORY)) is Outcome.UPDATED
    with read_session(engine) as session:
        article = session.execute(select(Article)).scalar_one()
        assert article.version == 2
        assert article.minhash == signature("\n".join(ZH_STORY))
        bands = session.execute(select(func.count()).select_from(ArticleBand)).scalar_one()
    assert bands == 20
    # The old English text now finds nothing; a copy of the Chinese one finds the story.
    assert store(engine, fetched("http://b.test/en", STORY, "b")) is Outcome.NEW
    zh_copy = edited_lead(ZH_STORY, "本报讯 三号线今天开通。")
    assert store(engine, fetched("http://b.test/zh", zh_copy, "b")) is Outcome.DUPLICATE
    assert links(engine)["http://b.test/zh"] == url


def test_concurrent_writers_see_each_others_copies(database_url: str) -> None:
    """Writers in separate connections storing copies at once still form one cluster."""
    setup = create_archive_engine(database_url)
    from newsarchive.storage import ensure_schema

    ensure_schema(setup)
    copies = [
        fetched(f"http://site{i}.test/ferry", edited_lead(STORY, f"Lead number {i} here."), f"s{i}")
        for i in range(6)
    ]
    barrier = threading.Barrier(len(copies))
    outcomes: list[Outcome] = []

    def write(item: FetchedArticle) -> None:
        engine = create_archive_engine(database_url)
        barrier.wait()
        outcomes.append(store(engine, item))
        engine.dispose()

    threads = [threading.Thread(target=write, args=(c,)) for c in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == sorted([Outcome.NEW] + [Outcome.DUPLICATE] * 5)
    roots = {v for v in links(setup).values() if v}
    assert len(roots) == 1
    setup.dispose()


def test_duplicates_command_lists_clusters_from_another_process(engine, database_url) -> None:
    store(engine, fetched("http://gazette.test/a", STORY))
    store(engine, fetched("http://wire.test/a", edited_lead(STORY, "New lead."), "wire"))
    store(engine, fetched("http://copy.test/a", STORY, "copy"))
    store(engine, fetched("http://zh.test/a", ZH_STORY))
    env = {"NEWSARCHIVE_DATABASE_URL": database_url}

    result = run_cli("duplicates", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["cluster", "id", "similarity", "source", "url", "title"]
    rows = [line.split() for line in lines[2:]]
    assert [r[1] for r in rows] == ["1", "2", "3"]
    assert rows[0][2] == "original"
    assert 0.8 <= float(rows[1][2]) < 1.0
    assert rows[2][2:4] == ["1.00", "exact"]

    # The other forms in this process: the subprocess above showed what another sees.
    result = invoke_cli("duplicates", "2", "--format", "jsonl", env=env)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["cluster"], r["original"]) for r in records] == [
        (1, 1, True),
        (2, 1, False),
        (3, 1, False),
    ]

    result = invoke_cli("duplicates", "4", env=env)
    assert result.returncode == 0 and result.stdout == ""
    assert "article 4 has no duplicates" in result.stderr
    result = invoke_cli("duplicates", "99", env=env)
    assert result.returncode == 1 and "no article with id 99" in result.stderr
