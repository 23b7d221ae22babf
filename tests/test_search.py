"""The bigram tokeniser and query translator give exact substring semantics (pipeline.store.search)."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys

import pytest

from pipeline.store import Store, bulk_index, search


def test_tokens_are_bigrams_words_and_every_character_once():
    tokens = search.tokens("党建工作，Xi说党")
    # Runs that follow each other are joined by a token: 作·x (工作，Xi) and i·说 (Xi说).
    # The index keeps no positions, so the order is free; each character comes once.
    assert sorted(tokens) == sorted(
        ["党建", "建工", "工作", "xi", "作·x", "说党", "i·说", "党", "建", "工", "作", "说"]
    )
    assert search.index_text(None) == ""
    assert sorted(search.title_index_text("党建").split()) == sorted(
        ["党建", "党", "建", "§党建", "§党", "§建"]
    )
    # Every Han block is covered: extension B and the compatibility block too.
    assert search.tokens("\U00020000") == ["\U00020000"] and search.tokens("\uf900") == ["\uf900"]


@pytest.mark.parametrize(
    ("query", "column", "expected", "check"),
    [
        ("党", "", '"党"', False),
        ("党建", "", '"党建"', False),
        ("党建", "title", '"§党建"', False),
        ("党建", "text", '"党建"', True),
        ("两个维护", "", '("两个" AND "个维" AND "维护")', True),
        ('"两个 维护"', "", '("两个" AND "维护" AND "个·维")', True),
        ("党建 -通知", "", '("党建") NOT ("通知")', False),
        # An excluded term the index cannot decide is left to the check.
        ("党建 -通知书", "", '"党建"', True),
        ("主题教育 OR 党建", "", '(("主题" AND "题教" AND "教育") OR "党建")', True),
        ("Party 党建", "", '"party" AND "党建"', False),
        ("，。", "", search.NOTHING, False),
    ],
)
def test_match_expression_and_whether_the_candidates_need_the_check(query, column, expected, check):
    assert search.match_expression(query, column) == expected
    assert search.needs_check(query, column) is check


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


def _random_indexed_articles(
    rng: random.Random, alphabet: str, n: int
) -> tuple[list[tuple[int, str, str]], sqlite3.Connection]:
    """``n`` articles of random title (0-8) and text (0-60) over ``alphabet``, stored and
    indexed in memory as the schema has them (articles, and the candidate index)."""
    rows = [
        (
            i,
            "".join(rng.choices(alphabet, k=rng.randint(0, 8))),
            "".join(rng.choices(alphabet, k=rng.randint(0, 60))),
        )
        for i in range(1, n + 1)
    ]
    db = sqlite3.connect(":memory:")
    db.execute("create table articles (id integer primary key, title, doc_number, text)")
    db.execute(
        f"create virtual table {search.FTS_TABLE} using fts5("
        "title, text, content='', tokenize='ascii', detail=none)"
    )
    db.executemany("insert into articles (id, title, text) values (?, ?, ?)", rows)
    db.executemany(
        f"insert into {search.FTS_TABLE}(rowid, title, text) values (?, ?, ?)",
        list(search.index_rows(rows)),
    )
    return rows, db


def test_random_texts_match_exactly_the_substring_scan():
    """Over a tiny alphabet almost every substring occurs: a strong check of exactness."""
    rng = random.Random(5)
    alphabet = "党建工作两个维护主题教育，。 "
    rows, db = _random_indexed_articles(rng, alphabet, 399)

    def found(query):
        return set(search.search_ids(db, query))

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
        return search.search_ids(store.db.conn, query)

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


@pytest.mark.parametrize(
    "mode", ["in-process", "helper-process", "own-process"], ids=lambda mode: mode
)
def test_bulk_rebuild_gives_the_same_index_as_per_article_upkeep(tmp_path, monkeypatch, mode):
    """``Store.rebuild_search_index`` (bulk settings, batches) equals indexing one by one,
    whether this process prepares the batches, a helper process does, or the whole rebuild
    runs in a process of its own that asks for huge pages (large databases)."""
    from pipeline.store import reindex

    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    monkeypatch.setattr(reindex.sys, "platform", "linux")
    monkeypatch.setattr(reindex, "HELPER_MIN_ARTICLES", 0 if mode == "helper-process" else 10**9)
    monkeypatch.setattr(reindex, "OWN_PROCESS_MIN_ARTICLES", 0 if mode == "own-process" else 10**9)
    monkeypatch.setattr(reindex, "BATCH", 64)  # several batches through the pipe
    started = []
    popen = reindex.subprocess.Popen
    monkeypatch.setattr(
        reindex.subprocess, "Popen", lambda *a, **k: started.append((a, k)) or popen(*a, **k)
    )
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
        hits = {q: search.search_ids(store.db.conn, q) for q in queries}
        term_rows = store.db.execute(
            "select article_id, term, count from article_terms order by 1, 2"
        ).fetchall()
        return hits, term_rows

    store.db.conn.commit()
    before = snapshot()
    assert all(before[0].values()) and before[1]
    assert store.rebuild_search_index() == 300
    assert len(started) == (0 if mode == "in-process" else 1)
    if mode == "own-process":
        args, kwargs = started[0]
        assert "_rebuild" in args[0][2] and args[0][3] == str(store.path)
        assert kwargs["env"]["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=1"
    assert snapshot() == before
    fts = search.FTS_TABLE
    store.db.execute(f"insert into {fts}({fts}, rank) values ('integrity-check', 0)")
    # Bulk settings are undone: ordinary writes keep FTS5's default memory use.
    assert store.db.execute(f"select v from {fts}_config where k = 'hashsize'").fetchone() == (
        bulk_index.FTS5_DEFAULTS["hashsize"],
    )
    assert store.db.execute("pragma cache_size").fetchone()[0] > -bulk_index.BULK_CACHE_KIB
    store.close()


def _runs_contain(text: str, term: str) -> bool:
    """Reference: the term's runs follow each other among the text's runs; a word run is
    whole, a Han run whole in the middle, the first may end a run and the last start one."""
    want, have = search._runs(term), search._runs(text)
    for start in range(len(have) - len(want) + 1):
        for j, (kind, run) in enumerate(want):
            got_kind, got = have[start + j]
            if got_kind != kind:
                break
            if kind == "word":
                ok = got.lower() == run.lower()
            elif len(want) == 1:
                ok = run in got
            else:
                first, last = j == 0, j == len(want) - 1
                ok = (first and got.endswith(run)) or (last and got.startswith(run)) or got == run
            if not ok:
                break
        else:
            return True
    return False


def test_terms_with_words_and_punctuation_match_as_their_runs_read():
    """Mixed Han, words, digits and separators, per column: the index and check agree with a
    brute-force reading of the runs (what a phrase of tokens matched before issue 14)."""
    rng = random.Random(11)
    rows, db = _random_indexed_articles(rng, "党建工作两个维护，。 ab12Xi-", 499)
    queries = ["ab", "AB", "xi", "a", "b1", "ab 党", "党-ab", "建ab", "ab12", "2ab", "维护，ab"]
    queries += ["工作 -ab", "党 OR 建工 -作", '"作 两个"', "作两 -两个维"]
    han = "党建工作两个维护"
    queries += ["".join(rng.choices(han, k=n)) for n in (1, 2, 3, 4) for _ in range(8)]

    def expected(query: str, column: str) -> set[int]:
        groups, excluded = search.parse_query(query)
        out = set()
        for i, title, text in rows:
            fields = {"": [title, text], "title": [title], "text": [text]}[column]

            def has(term, fields=fields):
                return any(_runs_contain(f, term) for f in fields)

            if all(any(has(t) for t in g) for g in groups) and not any(map(has, excluded)):
                out.add(i)
        return out

    for query in queries:
        for column in ("", "title", "text"):
            assert set(search.search_ids(db, query, column)) == expected(query, column), (
                query,
                column,
            )


def test_a_failing_reindex_helper_is_a_clear_error(tmp_path, monkeypatch):
    from pipeline.errors import StoreError
    from pipeline.store import reindex

    monkeypatch.setattr(reindex, "HELPER_MIN_ARTICLES", 0)
    conn = sqlite3.connect(":memory:")
    conn.execute("create table articles (id integer primary key)")
    with pytest.raises(StoreError, match="reindex helper stopped.*unable to open"):
        list(reindex.prepared_batches(conn, tmp_path / "missing.db"))


def test_a_failing_reindex_process_is_a_clear_error(tmp_path):
    from pipeline.errors import StoreError
    from pipeline.store import reindex

    junk = tmp_path / "news.db"
    junk.write_bytes(b"not sqlite" * 1000)
    with pytest.raises(StoreError, match="reindex process stopped.*not a database"):
        reindex.rebuild_in_own_process(junk)


def test_the_reindex_process_stops_when_the_process_that_started_it_is_gone(tmp_path):
    """A killed ``dangjian reindex`` closes the pipe its rebuild process holds: the rebuild
    stops, its transaction rolled back, instead of running on unseen."""
    from pipeline.store import reindex

    store = Store(tmp_path / "news.db")
    store.save_sites([{"id": "s", "name": "示例", "start_urls": ["http://a/"]}])
    store.save_article(
        {"url": "http://a/1.html", "site_id": "s", "title": "党建", "text": "党建工作"}
    )
    store.close()
    child = subprocess.Popen(
        [sys.executable, "-c", reindex._REBUILD, str(tmp_path / "news.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    child.stdin.close()  # what the kernel does when the starting process dies
    assert child.wait(timeout=60) == reindex._ORPHANED_EXIT
    assert child.stdout.read() == b""  # it never got to print a count


def test_only_a_large_committed_database_file_is_rebuilt_in_its_own_process(monkeypatch):
    from pipeline.store import reindex

    monkeypatch.setattr(reindex.sys, "platform", "linux")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    monkeypatch.setattr(reindex, "OWN_PROCESS_MIN_ARTICLES", 2)
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("create table articles (id integer primary key)")
    conn.execute("insert into articles values (1)")
    assert not reindex.wants_own_process(conn, "news.db")  # small
    conn.execute("insert into articles values (2)")
    assert reindex.wants_own_process(conn, "news.db")
    assert not reindex.wants_own_process(conn, ":memory:")
    conn.execute("begin")
    assert not reindex.wants_own_process(conn, "news.db")  # the other process could not see
    conn.execute("rollback")
    # Other tunables are kept; the process that was started with huge pages does the work.
    env = reindex.own_process_environment()
    assert env["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
    monkeypatch.setenv("GLIBC_TUNABLES", env["GLIBC_TUNABLES"])
    assert not reindex.wants_own_process(conn, "news.db")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0")  # a user's own choice
    assert not reindex.wants_own_process(conn, "news.db")
    monkeypatch.setattr(reindex.sys, "platform", "darwin")
    monkeypatch.delenv("GLIBC_TUNABLES")
    assert not reindex.wants_own_process(conn, "news.db")


def test_reindex_computes_regions_as_the_sql_does_and_rewrites_only_wrong_ones(tmp_path):
    """``reindex.region_of`` (the helper's pre-check) agrees with ``REGION_SQL`` for every
    mix of registry region and site code, and a reindex repairs a region changed behind its
    back while leaving right ones unwritten."""
    import itertools

    from pipeline.store import reindex

    store = Store(tmp_path / "news.db")
    regions = [(None, None, None), ("city", "浙江省", "杭州市"), ("province", "湖北省", None)]
    regions += [(None, None, "某市"), ("district", None, None)]
    store.save_sites(
        [
            {"id": f"s{i}", "name": f"站{i}", "level": lv, "province": pr, "city": ct}
            for i, (lv, pr, ct) in enumerate(regions)
        ]
    )
    codes = [None, "4201000012", "3203000033", "1101050001", "bm04000001", "junk"]
    combos = list(itertools.product([f"s{i}" for i in range(len(regions))] + ["nosite"], codes))
    for n, (site, code) in enumerate(combos):
        store.db.execute("PRAGMA foreign_keys=OFF")
        store.save_article(
            {
                "url": f"http://a/{n}",
                "site_id": site,
                "title": "t",
                "text": "x",
                "content_hash": str(n),
                "site_code": code,
            }
        )
    store.db.conn.commit()
    sites = reindex.site_regions(store.db.conn)
    rows = store.db.execute(
        "select site_id, site_code, level, province, city from articles order by id"
    ).fetchall()
    for site, code, *stored in rows:
        assert reindex.region_of({"site_id": site, "site_code": code}, sites) == tuple(stored)
    store.db.execute("update articles set province = '错', level = null where id % 3 = 0")
    store.db.conn.commit()
    store.rebuild_search_index()
    after = store.db.execute(
        "select site_id, site_code, level, province, city from articles order by id"
    ).fetchall()
    assert after == rows
    store.close()


def test_a_writer_that_stops_early_stops_the_reindex_helper(tmp_path, monkeypatch):
    """A rebuild that fails mid-way (disk full, say) closes the batches: the helper process
    is killed and its reader thread ends, nothing is left running."""
    import threading

    from pipeline.store import reindex

    store = Store(tmp_path / "news.db")
    store.save_sites([{"id": "s", "name": "示例", "start_urls": ["http://a/"]}])
    for i in range(200):
        store.save_article(
            {
                "url": f"http://a/{i}",
                "site_id": "s",
                "title": "党建",
                "text": "主题教育" * 50,
                "content_hash": str(i),
            }
        )
    store.db.conn.commit()
    monkeypatch.setattr(reindex, "HELPER_MIN_ARTICLES", 0)
    helpers = []
    popen = reindex.subprocess.Popen
    monkeypatch.setattr(
        reindex.subprocess, "Popen", lambda *a, **k: helpers.append(popen(*a, **k)) or helpers[-1]
    )
    threads_before = threading.active_count()
    batches = reindex.prepared_batches(store.db.conn, store.path, 5)
    assert len(next(batches)[0]) == 5
    batches.close()
    assert helpers[0].returncode is not None  # waited for: no zombie, no orphan
    assert threading.active_count() == threads_before
    store.close()
