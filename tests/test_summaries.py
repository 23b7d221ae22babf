"""Summaries stay exact under every write: inserts, revisions, takedowns, clusters, reindex.

``_counts``, ``article_counts`` and ``term_counts`` (migration 0006_summaries) are compared
after each step with the same numbers computed from the rows by plain SQL.
"""

from __future__ import annotations

import sqlite3

import pytest

from pipeline.dedupe import content_hash
from pipeline.model import RawPage
from pipeline.store import Store, summaries
from pipeline.store.clusters import assign_cluster, rebuild_clusters
from tests.test_migrations import write_first_release

CUBE = ", ".join(summaries.CUBE_COLUMNS)
TEXT = (
    "市直机关工委召开党建工作推进会，深入开展主题教育，严格落实三会一课制度。"
    "会议强调，要坚持全面从严治党，推动基层党建高质量发展。"
)
SITES = [
    {"id": "hz", "name": "杭州党建", "level": "city", "province": "浙江省", "city": "杭州市"},
    {"id": "nj", "name": "南京党建", "level": "city", "province": "江苏省", "city": "南京市"},
    {"id": "bare", "name": "无地区", "start_urls": ["http://bare.example/"]},
]


def expected(conn: sqlite3.Connection) -> dict[str, list]:
    """The summaries as plain SQL computes them from the rows."""
    return {
        "_counts": sorted(
            (t, conn.execute(f"select count(*) from [{t}]").fetchone()[0])
            for t in summaries.COUNTED_TABLES
        ),
        "article_counts": sorted(
            conn.execute(f"select {CUBE}, count(*) from articles group by {CUBE}").fetchall(),
            key=repr,
        ),
        "term_counts": sorted(
            conn.execute(
                "select t.term, a.published_month, a.site_id, a.province, count(*), sum(t.count) "
                "from article_terms t join articles a on a.id = t.article_id "
                "group by t.term, a.published_month, a.site_id, a.province"
            ).fetchall(),
            key=repr,
        ),
        # reprint_network as it was written before the summary (a scan of every article).
        "reprint_pairs": sorted(
            conn.execute(
                "select o.site_id, r.site_id, count(*), round(avg(julianday(substr(r.published, "
                "1, 10)) - julianday(substr(o.published, 1, 10))), 1) "
                "from articles r join articles o on o.id = r.duplicate_of "
                "where r.site_id != o.site_id group by o.site_id, r.site_id"
            ).fetchall(),
            key=repr,
        ),
    }


def kept(conn: sqlite3.Connection) -> dict[str, list]:
    """The summaries as the triggers keep them."""
    return {
        "_counts": sorted(conn.execute('select "table", count from _counts').fetchall()),
        "article_counts": sorted(
            conn.execute(f"select {CUBE}, articles from article_counts").fetchall(), key=repr
        ),
        "term_counts": sorted(
            conn.execute(
                "select term, published_month, site_id, province, articles, mentions "
                "from term_counts"
            ).fetchall(),
            key=repr,
        ),
        "reprint_pairs": sorted(
            conn.execute(
                "select original_site, reprinting_site, reprints, "
                "round(delay_days / nullif(delays, 0), 1) from reprint_pairs"
            ).fetchall(),
            key=repr,
        ),
    }


def assert_exact(store: Store) -> None:
    conn = store.db.conn
    assert kept(conn) == expected(conn)
    assert conn.execute("select count(*) from _summaries_paused").fetchone() == (0,)


def article(url: str, text: str, site: str = "hz", published: str = "2024-03-05", **extra):
    return {
        "url": url,
        "site_id": site,
        "title": "党建工作推进会",
        "text": text,
        "published": published,
        "published_month": published and published[:7],
        "published_year": published and published[:4],
        "content_hash": content_hash(text),
        **extra,
    }


def page(url: str) -> RawPage:
    return RawPage(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/html"},
        body=b"<html></html>",
        fetched_at="2026-11-23T00:00:00Z",
        site_id="hz",
    )


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "news.db")
    s.save_sites(SITES)
    yield s
    s.close()


def test_a_new_database_starts_with_zero_counts(store):
    assert_exact(store)
    assert summaries.table_counts(store.db.conn)["sites"] == 3


def test_inserts_revisions_takedowns_and_clusters_keep_them_exact(store):
    ids = []
    for i, (site, day) in enumerate(
        [("hz", "2024-03-05"), ("nj", "2024-03-06"), ("bare", "2024-04-01"), ("hz", "2024-04-02")]
    ):
        text = TEXT + f"第{i}段。" + ("两个维护。" * i)
        store.save_page(page(f"http://{site}.example/{i}.html"), "new")
        written = store.save_article(
            article(f"http://{site}.example/{i}.html", text, site, day, site_code=None)
        )
        ids.append(written.article_id)
        assert_exact(store)
    # A revision: new text (other terms) and another month.
    store.save_article(
        article("http://hz.example/0.html", "主题教育走深走实。巡察整改。", "hz", "2024-05-01")
    )
    assert_exact(store)
    # Unchanged, 304, takedown: counts stay as they are.
    store.save_article(
        article("http://hz.example/0.html", "主题教育走深走实。巡察整改。", "hz", "2024-05-01")
    )
    store.note_not_modified("http://nj.example/1.html", "2026-11-24T00:00:00Z", "r2")
    store.mark_taken_down("http://nj.example/1.html", "2026-11-24T01:00:00Z")
    store.save_failure(url="http://hz.example/x.html", stage="http", reason="404")
    assert_exact(store)
    # A reprint on another site: clustering sets duplicate_of (the reprint facet moves).
    reprint = store.save_article(
        article("http://nj.example/copy.html", TEXT + "第0段。", "nj", "2024-03-07")
    )
    for article_id in [*ids, reprint.article_id]:
        assign_cluster(store.db, article_id)
    assert store.db.execute(
        "select count(*) from articles where duplicate_of is not null"
    ).fetchone()[0]
    assert_exact(store)
    rebuild_clusters(store.db)  # the bulk path, with the triggers on
    assert_exact(store)
    conn = store.db.conn
    assert conn.execute("select count(*) from article_counts where reprint = 1").fetchone()[0]
    assert conn.execute("select count(distinct term) from term_counts").fetchone()[0] >= 4


def test_the_check_is_not_vacuous(store):
    store.db.execute("drop trigger summaries_article_terms_insert")
    store.save_article(article("http://hz.example/1.html", TEXT))
    with pytest.raises(AssertionError):
        assert_exact(store)


def test_a_region_change_and_reindex_move_the_cells(store):
    for i in range(3):
        store.save_article(article(f"http://bare.example/{i}.html", TEXT, "bare", "2024-03-05"))
    assert_exact(store)
    # The registry now knows the site's province: a reindex fills the region columns.
    store.save_sites([{**SITES[2], "level": "district", "province": "湖北省", "city": "武汉市"}])
    store.rebuild_search_index()
    assert_exact(store)
    provinces = store.db.execute("select distinct province from article_counts").fetchall()
    assert provinces == [("湖北省",)]
    # A region change written row by row (no reindex) is kept by the triggers too.
    with store.db.atomic():
        store.db.execute("update articles set province = '湖南省' where id = 1")
    assert_exact(store)


def test_a_failed_rebuild_leaves_the_triggers_on(store, monkeypatch):
    store.save_article(article("http://hz.example/1.html", TEXT))

    def crash(*args, **kwargs):
        raise RuntimeError("killed mid-rebuild")

    monkeypatch.setattr(store, "_fill_search_index", crash)
    with pytest.raises(RuntimeError):
        store.rebuild_search_index()
    monkeypatch.undo()
    store.save_article(article("http://hz.example/2.html", TEXT + "巡察。"))
    assert_exact(store)


def test_an_old_database_is_summarised_when_it_opens(tmp_path):
    path = tmp_path / "news.db"
    write_first_release(path)
    store = Store(path)
    assert_exact(store)
    counts = summaries.table_counts(store.db.conn)
    assert counts["articles"] == 2 and counts["article_terms"] > 0
    store.close()


def test_facet_and_count_sql_agree_with_a_scan(store):
    for i, (site, day) in enumerate(
        [("hz", "2024-03-05"), ("nj", "2024-03-06"), ("nj", "2024-04-01"), ("bare", "2023-01-02")]
    ):
        store.save_article(article(f"http://{site}.example/{i}.html", TEXT + str(i), site, day))
    conn = store.db.conn
    for filters in (
        [],
        [("province", "江苏省")],
        [("published_month", "2024-03"), ("level", "city")],
    ):
        where = " and ".join(f"{c} = ?" for c, _ in filters) or "1"
        values = [v for _, v in filters]
        sql, params = summaries.count_sql(filters)
        scanned = conn.execute(f"select count(*) from articles where {where}", values)
        assert conn.execute(sql, params).fetchone() == scanned.fetchone()
        for column in summaries.CUBE_COLUMNS:
            sql, params = summaries.facet_sql(column, filters, 31)
            assert (
                conn.execute(sql, params).fetchall()
                == conn.execute(
                    f"select {column} as value, count(*) as count from articles where {where} "
                    f"and {column} is not null group by {column} order by count desc, value limit 31",
                    values,
                ).fetchall()
            ), (column, filters)
    with pytest.raises(ValueError):
        summaries.facet_sql("source", [], 10)


def test_every_change_moves_the_data_version_on(store):
    conn = store.db.conn
    seen = [summaries.data_version(conn)]

    def moved() -> bool:
        seen.append(summaries.data_version(conn))
        return seen[-1] != seen[-2]

    written = store.save_article(article("http://hz.example/1.html", TEXT))
    assert moved()
    store.save_article(article("http://hz.example/1.html", TEXT))  # unchanged: last_seen
    assert moved()
    store.mark_taken_down("http://hz.example/1.html", "2026-11-24T01:00:00Z")
    assert moved()
    store.update_run("r1", "hz", status="ok")
    assert moved()
    store.rebuild_search_index()
    assert moved()
    assert not moved()  # reading changes nothing
    assert written.article_id and len(set(seen)) == len(seen) - 1


def test_reprint_pairs_follow_reprints_and_their_originals(store):
    ids = [
        store.save_article(article(f"http://{s}.example/{i}.html", TEXT + str(i), s, d)).article_id
        for i, (s, d) in enumerate(
            [("hz", "2024-03-01"), ("nj", "2024-03-04"), ("bare", "2024-03-09"), ("nj", None)]
        )
    ]
    conn = store.db.conn
    steps = [
        # reprints of the first article, one without a date (no delay, still a reprint)
        f"update articles set duplicate_of = {ids[0]} where id in ({ids[1]}, {ids[2]}, {ids[3]})",
        # the original moves to another day and another site
        f"update articles set published = '2024-02-20', site_id = 'bare' where id = {ids[0]}",
        # a reprint changes site (same site as its original: no longer a pair)
        f"update articles set site_id = 'bare' where id = {ids[1]}",
        # a reprint becomes an original again; another is deleted
        f"update articles set duplicate_of = null where id = {ids[2]}",
        f"delete from article_revisions where article_id = {ids[3]}; "
        f"delete from article_terms where article_id = {ids[3]}; "
        f"delete from articles where id = {ids[3]}",
    ]
    pairs_seen = []
    for step in steps:
        with store.db.atomic():
            for sql in step.split("; "):
                conn.execute(sql)
        assert_exact(store)
        pairs_seen.append(conn.execute("select count(*) from reprint_pairs").fetchone()[0])
    assert max(pairs_seen) >= 2 and pairs_seen[-1] == 0


def schema_of(conn: sqlite3.Connection, table: str) -> list[tuple]:
    return conn.execute(
        "select type, name, sql from sqlite_master where tbl_name = ? order by type, name",
        (table,),
    ).fetchall()


def test_a_reindex_keeps_the_term_table_s_index_and_triggers(store):
    """After a reindex (which pauses the summary triggers) article_terms has the same schema,
    its term index is used and later writes are still counted."""
    store.save_article(article("http://hz.example/1.html", TEXT))
    before = schema_of(store.db.conn, "article_terms")
    assert any(kind == "trigger" for kind, _, _ in before)
    store.rebuild_search_index()
    assert schema_of(store.db.conn, "article_terms") == before
    plan = store.db.execute(
        "explain query plan select article_id from article_terms where term = '党建'"
    ).fetchall()
    assert "idx_article_terms_term_article_id" in str(plan)
    assert_exact(store)
    store.save_article(article("http://nj.example/2.html", TEXT + "巡察。", "nj"))
    assert_exact(store)


def test_a_reindex_failing_mid_way_leaves_the_term_table_whole(store, monkeypatch):
    from pipeline.store import reindex

    store.save_article(article("http://hz.example/1.html", TEXT))
    before = schema_of(store.db.conn, "article_terms")
    rows = store.db.execute("select * from article_terms order by 1, 2").fetchall()

    def crash(*args, **kwargs):
        raise RuntimeError("killed after the old term rows were deleted")
        yield

    monkeypatch.setattr(reindex, "prepared_batches", crash)
    with pytest.raises(RuntimeError):
        store.rebuild_search_index()
    assert schema_of(store.db.conn, "article_terms") == before
    assert store.db.execute("select * from article_terms order by 1, 2").fetchall() == rows
    monkeypatch.undo()
    store.save_article(article("http://nj.example/2.html", TEXT + "巡察。", "nj"))
    assert_exact(store)


@pytest.mark.parametrize("column", ["province", "city", "site_id"])
def test_a_filtered_page_s_count_and_facets_read_only_the_filter_s_summary_rows(store, column):
    """``?province=…`` (or city, site): the count and the four default facets read an index
    led by that column (0009), not every row of ``article_counts``."""
    conn = store.db.conn
    statements = [summaries.count_sql([(column, "x")])] + [
        summaries.facet_sql(facet, [(column, "x")], 31)
        for facet in ("site_id", "province", "published_month", "reprint")
    ]
    for sql, params in statements:
        plan = " ".join(r[3] for r in conn.execute("explain query plan " + sql, params))
        assert f"COVERING INDEX idx_article_counts_{column} ({column}=?" in plan, plan
