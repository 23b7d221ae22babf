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
        db = SimpleNamespace(path=None, is_memory=True, execute_fn=execute_fn)
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
