"""The plugin's shared search answers (pipeline/web/counts.py ``Matches``) under concurrency.

Many requests for the same search at once, with different caps, while the index answers
slowly: each gets its answer, and none fails (a search page under load once got an HTTP 500
from a KeyError here when a third request started asking between an answer and a waiter).
"""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace

from pipeline.web.counts import Matches


def test_concurrent_askers_of_one_search_all_get_answers():
    asked = []

    class Connection:
        """Stands in for a SQLite connection: 500 matches, any limit."""

        def set_progress_handler(self, handler, n):
            pass

        def execute(self, sql: str, params: dict) -> SimpleNamespace:
            limit = int(sql.rsplit("limit", 1)[1])
            asked.append(limit)
            return SimpleNamespace(fetchall=lambda: [(i,) for i in range(min(limit, 500))])

    async def execute_fn(fn):
        await asyncio.sleep(random.random() / 200)  # the index answers slowly
        return fn(Connection())

    async def main() -> list:
        db = SimpleNamespace(path=None, is_memory=True, memory_name=None, execute_fn=execute_fn)
        matches = Matches(db)
        caps = [random.choice([None, 5, 50, 101, 1000]) for _ in range(300)]

        async def one(cap, delay):
            await asyncio.sleep(delay)
            return cap, await matches.ids("", "党建", cap)

        return await asyncio.gather(*(one(cap, random.random() / 100) for cap in caps))

    random.seed(12)
    for cap, (ids, complete, _) in asyncio.run(main()):
        if cap is not None:
            assert len(ids) == min(cap, 500)
        else:
            assert complete and len(ids) == 500
    assert asked  # the index was really asked


def test_finding_checked_ids_has_its_own_time_limit(monkeypatch):
    """Datasette's ``execute`` can only lower its time limit; the kept ids have their own,
    and going past it is a QueryInterrupted (a time-out page), as for any statement."""
    import sqlite3

    import pytest
    from datasette.database import QueryInterrupted

    from pipeline.web import counts

    conn = sqlite3.connect(":memory:")
    endless = "with recursive n(i) as (select 1 union all select i + 1 from n) select i from n"
    monkeypatch.setattr(counts, "KEPT_IDS_TIME_LIMIT_MS", 50)
    with pytest.raises(QueryInterrupted):
        counts._fetch_ids(endless + " limit 100000000", {})(conn)
    monkeypatch.setattr(counts, "KEPT_IDS_TIME_LIMIT_MS", 10_000)
    assert len(counts._fetch_ids(endless + " limit 1000", {})(conn)) == 1000


def test_checked_ids_are_found_off_the_event_loop(tmp_path):
    """With ``num_sql_threads: 0`` (datasette.yaml) pages run their statements on the event
    loop; finding a search's checked ids, which can take seconds, runs in the plugin's own
    thread, so other requests are answered meanwhile."""
    import sqlite3
    import time

    from datasette.app import Datasette
    from datasette.database import Database

    from pipeline.web.counts import Lane

    path = tmp_path / "news.db"
    sqlite3.connect(path).execute("create table t (x)").connection.close()
    ds = Datasette([], settings={"num_sql_threads": 0})
    db = ds.add_database(Database(ds, path=str(path), is_mutable=True), name="news")
    finished = []

    def slow_ids(conn: sqlite3.Connection) -> list:
        time.sleep(1)  # stands in for checking tens of thousands of candidates
        finished.append("ids")
        return conn.execute("select dangjian_found('党建', '', '党建', '', '')").fetchall()

    async def main() -> list:
        lane = Lane(db)
        ids = asyncio.create_task(lane.run(slow_ids))
        await asyncio.sleep(0.05)
        await db.execute("select count(*) from t")  # another request's statement
        finished.append("page")
        return await ids

    assert asyncio.run(main()) == [(1,)]  # the lane's connection has the functions
    assert finished == ["page", "ids"]
