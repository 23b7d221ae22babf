"""Search, canned queries and feeds through a real ``dangjian serve`` on loopback.

Every search result is compared with a plain ``LIKE '%…%'`` scan of the same database.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from pipeline.store import terms as term_dictionary
from pipeline.store.search import parse_query

pytestmark = pytest.mark.e2e


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def get_json(url: str):
    status, body = get(url)
    assert status == 200, body[:500]
    return json.loads(body)


def like_scan(db_path, query: str, columns=("title", "text")) -> set[int]:
    """The rows a LIKE scan finds for a query: AND of groups, OR within, minus -terms."""
    groups, excluded = parse_query(query)
    db = sqlite3.connect(db_path)

    def where(term: str) -> tuple[str, list[str]]:
        return (
            "(" + " or ".join(f"{c} like ?" for c in columns) + ")",
            [f"%{term}%"] * len(columns),
        )

    clauses, params = [], []
    for group in groups:
        parts = [where(t) for t in group]
        clauses.append("(" + " or ".join(p[0] for p in parts) + ")")
        params += [x for p in parts for x in p[1]]
    for term in excluded:
        sql, p = where(term)
        clauses.append(f"not coalesce({sql}, 0)")
        params += p
    return {
        r[0] for r in db.execute(f"select id from articles where {' and '.join(clauses)}", params)
    }


def api_ids(base: str, **params: str) -> set[int]:
    url = f"{base}/news/articles.json?" + urllib.parse.urlencode(
        {**params, "_shape": "array", "_col": "title", "_size": "max"}
    )
    rows = get_json(url)
    assert len(rows) < 1000, "raise _size or page with _next"
    return {r["id"] for r in rows}


def html_ids(base: str, **params: str) -> set[int]:
    status, body = get(
        f"{base}/news/articles?" + urllib.parse.urlencode({**params, "_size": "max"})
    )
    assert status == 200
    return {
        int(i)
        for i in re.findall(r'<td class="col-id[^"]*"[^>]*><a href="/news/articles/(\d+)"', body)
    }


def latin_word(db_path) -> str:
    """A Latin word that the LIKE scan finds only as a whole word (so both semantics agree)."""
    db = sqlite3.connect(db_path)
    texts = [f"{t or ''}\n{x or ''}" for t, x in db.execute("select title, text from articles")]
    words = Counter(
        w.lower() for t in texts for w in re.findall(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])", t)
    )
    for word, _ in words.most_common():
        inside = sum(len(re.findall(word, t, re.I)) for t in texts)
        if inside == words[word]:
            return word
    pytest.skip("the sample articles contain no Latin word")


QUERIES = [
    "党",
    "的",
    "建",  # one character
    "党建",
    "会议",
    "学习",  # two
    "主题教育",
    "两个维护",
    "三会一课",
    "全面从严治党",  # four and more
    "党建 学习",
    "学习 工作 会议",  # AND
    '"党建工作"',
    '"主题教育"',  # quoted phrases
    "党建 -会议",
    "学习 -党建 -工作",  # NOT
    "主题教育 OR 党史学习教育",
    "三会一课 OR 两个维护 党建",  # OR
    "不存在的词语组合",  # nothing
]


@pytest.mark.parametrize("query", QUERIES)
def test_search_json_equals_like_scan(datasette_url, crawled, query):
    expected = like_scan(crawled.db, query)
    assert api_ids(datasette_url, _search=query) == expected


def test_the_queries_are_not_trivial(crawled):
    sizes = {q: len(like_scan(crawled.db, q)) for q in QUERIES}
    total = sqlite3.connect(crawled.db).execute("select count(*) from articles").fetchone()[0]
    assert sum(1 for n in sizes.values() if 0 < n < total) >= 10, sizes


def test_mixed_chinese_and_latin(datasette_url, crawled):
    word = latin_word(crawled.db)
    for query in (word, f"{word} 党建", f"{word.upper()} -党建"):
        assert api_ids(datasette_url, _search=query) == like_scan(crawled.db, query), query


@pytest.mark.parametrize("query", ["党建", "会议", "主题教育", "党"])
def test_search_one_column(datasette_url, crawled, query):
    assert api_ids(datasette_url, _search_title=query) == like_scan(crawled.db, query, ("title",))


@pytest.mark.parametrize("query", ["党建", "主题教育 -会议", "党"])
def test_html_search_page_shows_the_same_rows(datasette_url, crawled, query):
    assert html_ids(datasette_url, _search=query) == like_scan(crawled.db, query)


def test_search_box_and_facets_render(datasette_url):
    status, body = get(f"{datasette_url}/news/articles?_search=" + urllib.parse.quote("党"))
    assert status == 200
    assert 'name="_search"' in body and "articles.js" in body
    assert 'data-column="province"' in body or "province" in body


def test_newest_first_and_next_page(datasette_url, crawled):
    q = urllib.parse.quote("党")
    first = get_json(f"{datasette_url}/news/articles.json?_search={q}&_size=5&_shape=objects")
    published = [r["published"] for r in first["rows"]]
    assert published == sorted(published, reverse=True)
    assert first["next"]
    second = get_json(
        f"{datasette_url}/news/articles.json?_search={q}&_size=5&_shape=objects"
        f"&_next={urllib.parse.quote(first['next'])}"
    )
    assert not {r["id"] for r in first["rows"]} & {r["id"] for r in second["rows"]}


def test_ranked_search_has_highlighted_snippets(datasette_url, crawled):
    rows = get_json(
        f"{datasette_url}/news/search_ranked.json?_shape=array&q=" + urllib.parse.quote("党建")
    )
    assert {r["id"] for r in rows} == set(list(like_scan(crawled.db, "党建"))[:100]) or len(
        rows
    ) == min(100, len(like_scan(crawled.db, "党建")))
    with_text = [r for r in rows if "党建" in (r["snippet"] or "")]
    assert with_text and all("<mark>党建</mark>" in r["snippet"] for r in with_text)
    status, page = get(f"{datasette_url}/news/search_ranked?q=" + urllib.parse.quote("党建"))
    assert status == 200 and "<mark>党建</mark>" in page


def test_term_trend_matches_the_dictionary(datasette_url, crawled):
    term = next(t for t in term_dictionary.TERMS if t.name == "主题教育")
    rows = get_json(
        f"{datasette_url}/news/term_trend.json?_shape=array&term=" + urllib.parse.quote(term.name)
    )
    db = sqlite3.connect(crawled.db)
    expected: Counter[str] = Counter()
    for title, text, month in db.execute(
        "select title, text, published_month from articles where published_month is not null"
    ):
        if any(form in (title or "") or form in (text or "") for form in term.forms):
            expected[month] += 1
    assert expected, "the sample sites should mention 主题教育"
    assert {r["month"]: r["articles"] for r in rows} == dict(expected)


def test_atom_feeds(datasette_url, crawled):
    status, body = get(f"{datasette_url}/news/feed.atom")
    assert status == 200 and body.count("<entry>") >= 10
    site = sqlite3.connect(crawled.db).execute("select site_id from articles limit 1").fetchone()[0]
    status, body = get(f"{datasette_url}/news/site_feed.atom?site_id={site}")
    assert status == 200 and "<entry>" in body


def test_titles_link_to_the_original_and_bodies_have_paragraphs(datasette_url, crawled):
    article_id, url = (
        sqlite3.connect(crawled.db)
        .execute("select id, url from articles where text like '%' || char(10) || '%' limit 1")
        .fetchone()
    )
    status, body = get(f"{datasette_url}/news/articles/{article_id}")
    assert status == 200
    assert f'href="{html.escape(url)}"' in body and body.count("<p>") >= 2


@pytest.fixture(scope="module")
def tiny_thresholds_url(crawled, tmp_path_factory):
    """A second server whose plugin thresholds are tiny, so every search plan gets used."""
    import os
    import subprocess

    import yaml

    from tests.conftest import dangjian, free_port, stop, wait_for_http

    root_metadata = Path(__file__).resolve().parents[1] / "metadata.yml"
    metadata = yaml.safe_load(root_metadata.read_text(encoding="utf-8"))
    metadata["plugins"] = {"dangjian": {"search_few_matches": 3, "search_many_matches": 15}}
    path = tmp_path_factory.mktemp("meta") / "metadata.yml"
    path.write_text(yaml.safe_dump(metadata, allow_unicode=True), encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        dangjian("serve", "--db", str(crawled.db), "--port", str(port), "--metadata", str(path)),
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/-/versions.json")
        yield url
    finally:
        stop(proc)


@pytest.mark.parametrize("query", QUERIES)
def test_every_plan_returns_the_like_rows(tiny_thresholds_url, crawled, query):
    expected = like_scan(crawled.db, query)
    assert api_ids(tiny_thresholds_url, _search=query) == expected
    q = urllib.parse.quote(query)
    page = get_json(
        f"{tiny_thresholds_url}/news/articles.json?_search={q}&_size=7"
        "&_shape=objects&_col=published"
    )
    published = [r["published"] or "" for r in page["rows"]]
    assert published == sorted(published, reverse=True)
    if len(expected) > 15:
        # Too many to count quickly: no exact count or default facets, and the page says so.
        assert page["filtered_table_rows_count"] is None and not page["facet_results"]
        status, html = get(f"{tiny_thresholds_url}/news/articles?_search={q}")
        assert status == 200 and "more than 15 rows" in html
    else:
        assert page["filtered_table_rows_count"] == len(expected)


# -- Counts and facets from the summaries (issue 14) ------------------------------------------

FACETS = ("site_id", "province", "published_month", "reprint", "level", "city", "published_year")


def scanned_facet(db_path, column: str, where: str = "1", params=()) -> list[tuple]:
    """A facet as Datasette computes it by scanning: most rows first, then by value."""
    return (
        sqlite3.connect(db_path)
        .execute(
            f"select {column}, count(*) as n from articles where {where} and {column} is not null"
            f" group by {column} order by n desc, {column} limit 30",
            list(params),
        )
        .fetchall()
    )


def served_facets(base: str, query: str) -> dict:
    facets = "&".join(f"_facet={c}" for c in FACETS)
    return get_json(f"{base}/news/articles.json?_size=1&_shape=objects&{facets}&{query}")


@pytest.mark.parametrize(
    "filters",
    [{}, {"province": "湖北省"}, {"reprint": "1"}, {"published_year": "2023", "level": "city"}],
    ids=repr,
)
def test_counts_and_facets_equal_a_scan(datasette_url, crawled, filters):
    page = served_facets(datasette_url, urllib.parse.urlencode(filters))
    where = " and ".join(f"{c} = ?" for c in filters) or "1"
    db = sqlite3.connect(crawled.db)
    total = db.execute(f"select count(*) from articles where {where}", list(filters.values()))
    assert page["filtered_table_rows_count"] == total.fetchone()[0]
    for column in FACETS:
        served = [(r["value"], r["count"]) for r in page["facet_results"][column]["results"]]
        assert served == scanned_facet(crawled.db, column, where, filters.values()), column


@pytest.mark.parametrize("query", ["党建", "主题教育 -会议", "三会一课 OR 两个维护"])
def test_facets_of_a_search_equal_a_scan(datasette_url, crawled, query):
    ids = like_scan(crawled.db, query)
    page = served_facets(datasette_url, "_search=" + urllib.parse.quote(query))
    assert page["filtered_table_rows_count"] == len(ids)
    where = f"id in ({','.join(map(str, ids)) or 'null'})"
    for column in FACETS:
        served = [(r["value"], r["count"]) for r in page["facet_results"][column]["results"]]
        assert served == scanned_facet(crawled.db, column, where), column


def test_the_database_page_counts_come_from_the_summaries(datasette_url, crawled):
    tables = {t["name"]: t["count"] for t in get_json(f"{datasette_url}/news.json")["tables"]}
    db = sqlite3.connect(crawled.db)
    for table in ("articles", "pages", "article_terms", "crawl_runs", "article_revisions"):
        assert tables[table] == db.execute(f"select count(*) from {table}").fetchone()[0]
    assert tables["articles_fts"] is None  # counting the index would read all of it


def test_term_queries_equal_the_join_they_summarise(datasette_url, crawled):
    db = sqlite3.connect(crawled.db)
    site, month = db.execute(
        "select site_id, published_month from articles where published_month is not null "
        "group by 1, 2 order by count(*) desc limit 1"
    ).fetchone()
    joined = "from article_terms t join articles a on a.id = t.article_id"
    checks = {
        "term_trend.json?term=" + urllib.parse.quote("主题教育"): (
            f"select a.published_month, count(*), sum(t.count) {joined} where t.term = '主题教育'"
            " and a.published_month is not null group by 1 order by 1"
        ),
        f"top_terms_for_site.json?site_id={site}": (
            f"select t.term, count(*), sum(t.count) {joined} where a.site_id = '{site}' "
            "group by 1 order by 2 desc, 3 desc"
        ),
        f"top_terms_for_month.json?month={month}": (
            f"select t.term, count(*), sum(t.count) {joined} where a.published_month = '{month}'"
            " group by 1 order by 2 desc, 3 desc"
        ),
    }
    for path, sql in checks.items():
        served = get_json(f"{datasette_url}/news/{path}&_shape=array")
        rows = [tuple(r.values()) for r in served]
        expected = db.execute(sql).fetchall()
        assert sorted(rows) == sorted(expected), path
        assert rows, path
    pairs = get_json(f"{datasette_url}/news/reprint_network.json?_shape=array")
    expected = db.execute(
        "select o.site_id, r.site_id, count(*), round(avg(julianday(substr(r.published, 1, 10))"
        " - julianday(substr(o.published, 1, 10))), 1) from articles r join articles o "
        "on o.id = r.duplicate_of where r.site_id != o.site_id group by 1, 2"
    ).fetchall()
    assert sorted(tuple(r.values()) for r in pairs) == sorted(expected)


@pytest.mark.parametrize("terms", [("党建", "主题教育"), ("三会一课", "党建"), ("党建", "不存在")])
def test_terms_together_equals_the_join(datasette_url, crawled, terms):
    served = get_json(
        f"{datasette_url}/news/terms_together.json?_shape=array&"
        + urllib.parse.urlencode({"term1": terms[0], "term2": terms[1]})
    )
    expected = (
        sqlite3.connect(crawled.db)
        .execute(
            "select t1.article_id from article_terms t1 join article_terms t2 "
            "on t2.article_id = t1.article_id and t2.term = ? where t1.term = ?",
            [terms[1], terms[0]],
        )
        .fetchall()
    )
    assert {r["id"] for r in served} == {i for (i,) in expected}
    published = [r["published"] or "" for r in served]
    assert published == sorted(published, reverse=True)


def test_article_page_asks_only_index_lookups(datasette_url, crawled):
    """The row page counts the rows that refer to the article: each must be an index search."""
    db = sqlite3.connect(crawled.db)
    for table, column in (
        ("articles", "duplicate_of"),
        ("clusters", "original_id"),
        ("article_revisions", "article_id"),
        ("article_terms", "article_id"),
    ):
        plan = db.execute(
            f"explain query plan select count(*) from {table} where {column} = 1"
        ).fetchall()
        assert all("SCAN" not in step[-1] for step in plan), (table, plan)


def test_filters_the_summaries_cannot_count_show_an_estimate(datasette_url, crawled):
    page = get_json(f"{datasette_url}/news/articles.json?_size=3&_shape=objects&script=hans")
    total = (
        sqlite3.connect(crawled.db)
        .execute("select count(*) from articles where script = 'hans'")
        .fetchone()[0]
    )
    assert page["filtered_table_rows_count"] is None and not page["facet_results"]
    estimate = int(
        re.search(r"about ([\d,]+) rows", page["human_description_en"])[1].replace(",", "")
    )
    assert 0.5 * total <= estimate <= 1.5 * total
    assert all(r["script"] == "hans" for r in page["rows"])
    # A facet asked for still runs, within its time limit.
    asked = get_json(f"{datasette_url}/news/articles.json?_size=1&script=hans&_facet=site_id")
    assert "site_id" in asked["facet_results"]
