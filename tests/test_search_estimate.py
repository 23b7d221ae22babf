"""A many-match search's estimate counts the index's candidates and checks a sample of them
(pipeline.web.counts.estimate_matches), through a real Datasette database object."""

from __future__ import annotations

import asyncio

from datasette.app import Datasette

from pipeline.store import Store, search
from pipeline.web import counts


def test_the_estimate_scales_the_candidates_by_the_share_that_passes_the_check(tmp_path):
    # One article in four says 主题教育; one in four holds 主题 and 教育 apart (not 题教);
    # the rest hold neither.
    store = _store_of_bodies(
        tmp_path, ["开展主题教育。", "主题党日，教育引导。", "三会一课。", "落实制度。"]
    )
    assert len(search.search_ids(store.db.conn, "主题教育")) == 1000
    store.close()

    db = Datasette([str(store.path)]).get_database("news")
    candidates = asyncio.run(counts.estimate_matches(db, "", "主题"))  # exact: no check
    estimate = asyncio.run(counts.estimate_matches(db, "", "主题教育"))
    assert 1800 <= candidates <= 2200
    assert 800 <= estimate <= 1200


def _store_of_bodies(tmp_path, bodies: list[str]) -> Store:
    """A committed database of 4,000 articles whose texts take ``bodies`` in turn."""
    store = Store(tmp_path / "news.db")
    store.save_sites([{"id": "s", "name": "示例", "start_urls": ["http://a/"]}])
    for i in range(4000):
        store.save_article(
            {
                "url": f"http://a/{i}.html",
                "site_id": "s",
                "title": f"第{i}号",
                "text": bodies[i % len(bodies)],
                "content_hash": f"h{i}",
            }
        )
    store.db.conn.commit()
    return store


def _database_with_candidates(tmp_path):
    """4,000 articles: 1,000 say 主题教育, 1,000 hold its bigrams apart (candidates only)."""
    store = _store_of_bodies(
        tmp_path, ["开展主题教育。", "主题党日，题教，教育。", "三会一课。", "落实制度。"]
    )
    store.close()
    return Datasette([str(store.path)])


def test_a_search_surely_many_is_planned_without_checking_its_candidates(tmp_path, monkeypatch):
    from pipeline.web import plugin

    ds = _database_with_candidates(tmp_path)
    db = ds.get_database("news")
    matches = search.matching_ids_sql("q", "", True)
    monkeypatch.setattr(plugin, "SHORTCUT_CANDIDATES", 500)

    async def refuse(*args, **kwargs):
        raise AssertionError("counted by checking candidates")

    with monkeypatch.context() as m:
        m.setattr(plugin, "_capped_count", refuse)
        # ~1,000 matches estimated, more than twice many=100: 'many' without counting.
        assert asyncio.run(plugin._count(db, matches, "q", "主题教育", "", 100)) == 101
    # Not surely many (estimate below 2 × 1,000): counted exactly, candidates checked.
    assert asyncio.run(plugin._count(db, matches, "q", "主题教育", "", 1000)) == 1000


def test_a_search_too_slow_to_count_leaves_the_page_to_datasette(tmp_path, monkeypatch):
    """An interrupted count in the ASGI wrapper is not a server error: the scope is kept."""
    from datasette.database import QueryInterrupted

    from pipeline.web import plugin

    ds = _database_with_candidates(tmp_path)

    async def interrupted(*args, **kwargs):
        raise QueryInterrupted(Exception("interrupted"), "select ...", {})

    monkeypatch.setattr(plugin, "_count", interrupted)
    scope = {"type": "http", "path": "/news/articles", "query_string": "_search=主题教育".encode()}
    assert asyncio.run(plugin._lean_scope(ds, scope, "news")) is scope


def test_every_form_of_the_search_clause_is_recognised_for_the_summaries():
    """counts.py answers counts and facets from kept ids only for clauses it recognises:
    the index alone, or the index with the check (``dangjian_found``), in all three plans."""
    for query, column in [
        ("党建", ""),
        ("红色基因", ""),
        ("红色基因", "title"),
        ("党建", "text"),
        ('"国家安全 党建"', ""),
        ("湘组发〔2023〕5号", "title"),
    ]:
        check = search.needs_check(query, column)
        sql = search.matching_ids_sql("p0", column, check)
        assert ("dangjian_found" in sql) == check
        for clause in (
            f"id in ({sql})",
            f"+id in ({sql})",
            f"exists ({sql} and f.rowid = articles.id)",
        ):
            parsed = counts.parse_where(clause, {"p0": query})
            assert parsed is not None and parsed.matches == [(column, query)], clause
