"""The bigram tokeniser and query translator give exact substring semantics (pipeline.store.search)."""

from __future__ import annotations

import random
import sqlite3

import pytest

from pipeline.store import Store, search


def test_tokens_are_bigrams_plus_the_last_character_of_each_run():
    assert search.tokens("党建工作，Xi说") == ["党建", "建工", "工作", "作", "xi", "说"]
    assert search.index_text(None) == ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("党", '"党"*'),
        ("党建", '"党建"'),
        ("两个维护", '"两个 个维 维护"'),
        ('"两个 维护"', '"两个 个 维护"'),
        ("党建 -通知", '("党建") NOT ("通知")'),
        ("主题教育 OR 党史学习教育", '("主题 题教 教育" OR "党史 史学 学习 习教 教育")'),
        ("Party 党建", '"party" AND "党建"'),
    ],
)
def test_match_expression(query, expected):
    assert search.match_expression(query) == expected


@pytest.mark.parametrize("query", ["", "   ", "，。", "-党建", "OR"])
def test_queries_with_nothing_to_find_match_nothing_without_error(query):
    db = sqlite3.connect(":memory:")
    db.execute("create virtual table f using fts5(t)")
    db.execute("insert into f values (?)", [search.index_text("党建 OR，。")])
    assert db.execute(
        "select count(*) from f where f match ?", [search.match_expression(query)]
    ).fetchone() == (0,)


def _like(rows, terms_and, terms_or=(), terms_not=()):
    def has(row, term):
        return term in row[1] or term in row[2]

    return {
        r[0]
        for r in rows
        if all(has(r, t) for t in terms_and)
        and (not terms_or or any(has(r, t) for t in terms_or))
        and not any(has(r, t) for t in terms_not)
    }


def test_random_texts_match_exactly_the_substring_scan():
    """Over a tiny alphabet almost every substring occurs: a strong check of exactness."""
    rng = random.Random(5)
    alphabet = "党建工作两个维护主题教育，。 "
    rows = [
        (
            i,
            "".join(rng.choices(alphabet, k=rng.randint(0, 8))),
            "".join(rng.choices(alphabet, k=rng.randint(0, 60))),
        )
        for i in range(1, 400)
    ]
    db = sqlite3.connect(":memory:")
    db.execute(f"create virtual table {search.FTS_TABLE} using fts5(title, text, content='')")
    db.executemany(
        f"insert into {search.FTS_TABLE}(rowid, title, text) values (?, ?, ?)",
        list(search.index_rows(rows)),
    )

    def found(query):
        return {
            r[0]
            for r in db.execute(
                f"select rowid from {search.FTS_TABLE} where {search.FTS_TABLE} match ?",
                [search.match_expression(query)],
            )
        }

    han = [c for c in alphabet if c.strip() and c not in "，。"]
    checked = 0
    for length in (1, 2, 3, 4, 5):
        for _ in range(25):
            q = "".join(rng.choices(han, k=length))
            assert found(q) == _like(rows, [q]), q
            checked += 1
    for _ in range(20):
        a, b = ("".join(rng.choices(han, k=2)) for _ in range(2))
        assert found(f"{a} {b}") == _like(rows, [a, b])
        assert found(f"{a} -{b}") == _like(rows, [a], terms_not=[b])
        assert found(f"{a} OR {b}") == _like(rows, [], terms_or=[a, b])
    assert checked == 125


def test_store_keeps_the_index_in_step_on_insert_and_update(tmp_path):
    store = Store(tmp_path / "news.db")
    store.save_sites(
        [
            {
                "id": "s",
                "name": "示例",
                "level": "city",
                "province": "浙江省",
                "start_urls": ["http://a/"],
            }
        ]
    )
    row = {
        "url": "http://a/1.html",
        "site_id": "s",
        "title": "党建工作会议",
        "text": "推进三会一课。",
        "content_hash": "h1",
    }
    article_id = store.save_article(row).article_id

    def hits(query):
        return [
            r[0]
            for r in store.db.execute(
                f"select rowid from {search.FTS_TABLE} where {search.FTS_TABLE} match ?",
                [search.match_expression(query)],
            ).fetchall()
        ]

    assert hits("三会一课") == [article_id] and hits("会议") == [article_id]
    store.save_article(
        {**row, "title": "模范机关建设", "text": "学习两个维护。", "content_hash": "h2"}
    )
    assert hits("三会一课") == [] and hits("会议") == []
    assert hits("两个维护") == [article_id] and hits("模范机关") == [article_id]
    terms = dict(
        store.db.execute(
            "select term, count from article_terms where article_id = ?", [article_id]
        ).fetchall()
    )
    assert terms == {"两个维护": 1, "模范机关": 1}
    assert store.db["articles"].get(article_id)["province"] == "浙江省"
    # The index must still be consistent after the contentless 'delete'.
    store.db.execute(
        f"insert into {search.FTS_TABLE}({search.FTS_TABLE}, rank) values ('integrity-check', 0)"
    )
    store.close()


def test_snippet_marks_every_term():
    text = "前言。" * 30 + "全面从严治党，推进党建工作。" + "后记。" * 30
    s = search.snippet(text, "党建 从严 -前言")
    assert "<mark>党建</mark>" in s and "<mark>从严</mark>" in s and "前言" in s
    assert s.startswith("…") and s.endswith("…")


def test_term_dictionary_is_documented():
    from pathlib import Path

    from pipeline.store.terms import TERMS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "terms.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line
        for line in doc.splitlines()
        if line.startswith("| ") and not line.startswith("| term")
    }
    assert set(rows) == {t.name for t in TERMS}
    for term in TERMS:
        assert all(v in rows[term.name] for v in term.variants), term.name


def test_term_counts_take_variants_once_and_nested_terms_separately():
    from pipeline.store.terms import count_terms

    counts = count_terms("深入贯彻中央八项规定精神，落实八项规定。", "加强基层党建，推进党的建设。")
    assert counts["中央八项规定"] == 2
    assert counts["基层党建"] == 1 and counts["党建"] == 2
    assert count_terms(None, "") == {}


def test_region_from_site_code_fills_what_the_registry_leaves_out(tmp_path):
    from pipeline.store.regions import region_from_site_code

    assert region_from_site_code("4201000012") == {
        "province": "湖北省",
        "city": "武汉市",
        "level": "city",
    }
    assert region_from_site_code("3203000033")["city"] == "徐州市"
    assert region_from_site_code("1101050001") == {
        "province": "北京市",
        "city": "北京市",
        "level": "district",
    }
    assert region_from_site_code("bm04000001")["province"] is None
    store = Store(tmp_path / "news.db")
    store.save_sites(
        [
            {"id": "gov", "name": "某市", "start_urls": ["http://g/"]},
            {
                "id": "reg",
                "name": "某省",
                "province": "浙江省",
                "level": "province",
                "start_urls": ["http://r/"],
            },
        ]
    )
    a = store.save_article(
        {
            "url": "http://g/1",
            "site_id": "gov",
            "title": "t",
            "text": "x",
            "content_hash": "1",
            "site_code": "3203000033",
        }
    ).article_id
    b = store.save_article(
        {
            "url": "http://r/1",
            "site_id": "reg",
            "title": "t",
            "text": "y",
            "content_hash": "2",
            "site_code": "4201000012",
        }
    ).article_id
    rows = {r["id"]: r for r in store.db.query("select id, province, city, level from articles")}
    assert (rows[a]["province"], rows[a]["city"], rows[a]["level"]) == ("江苏省", "徐州市", "city")
    # A registry region is taken whole, never mixed with the code's.
    assert (rows[b]["province"], rows[b]["city"], rows[b]["level"]) == ("浙江省", None, "province")
    store.close()


def test_bulk_rebuild_gives_the_same_index_as_per_article_upkeep(tmp_path):
    """``Store.rebuild_search_index`` (bulk settings, batches) equals indexing one by one."""
    rng = random.Random(7)
    alphabet = "党建工作两个维护主题教育三会一课模范机关，。"
    store = Store(tmp_path / "news.db")
    store.save_sites(
        [
            {
                "id": "s",
                "name": "示例",
                "level": "city",
                "province": "浙江省",
                "start_urls": ["http://a/"],
            }
        ]
    )
    for i in range(300):
        store.save_article(
            {
                "url": f"http://a/{i}.html",
                "site_id": "s",
                "title": "".join(rng.choices(alphabet, k=8)),
                "text": "".join(rng.choices(alphabet, k=rng.randint(0, 80))),
                "content_hash": f"h{i}",
            }
        )
    # An update, so upkeep has had to forget old tokens too.
    store.save_article(
        {
            "url": "http://a/3.html",
            "site_id": "s",
            "title": "模范机关",
            "text": "两个维护",
            "content_hash": "changed",
        }
    )
    queries = ["党", "党建", "两个维护", "会一 -模范", "主题 OR 机关", "会一"]

    def snapshot():
        hits = {
            q: [
                r[0]
                for r in store.db.execute(
                    f"select rowid from {search.FTS_TABLE} where {search.FTS_TABLE} match ? "
                    "order by rowid",
                    [search.match_expression(q)],
                )
            ]
            for q in queries
        }
        term_rows = store.db.execute(
            "select article_id, term, count from article_terms order by 1, 2"
        ).fetchall()
        return hits, term_rows

    before = snapshot()
    assert all(before[0].values()) and before[1]
    assert store.rebuild_search_index() == 300
    assert snapshot() == before
    fts = search.FTS_TABLE
    store.db.execute(f"insert into {fts}({fts}, rank) values ('integrity-check', 0)")
    # Bulk settings are undone: ordinary writes keep FTS5's default memory use.
    assert store.db.execute(f"select v from {fts}_config where k = 'hashsize'").fetchone() == (
        search.FTS5_DEFAULTS["hashsize"],
    )
    assert store.db.execute("pragma cache_size").fetchone()[0] > -search.BULK_CACHE_KIB
    store.close()
