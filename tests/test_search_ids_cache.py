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

    async def original(sql: str, params: dict) -> SimpleNamespace:
        limit = int(sql.rsplit("limit", 1)[1])
        asked.append(limit)
        await asyncio.sleep(random.random() / 200)
        return SimpleNamespace(rows=[(i,) for i in range(min(limit, 500))])

    async def main() -> list:
        matches = Matches(SimpleNamespace(path=None, is_memory=True), original)
        caps = [random.choice([None, 5, 50, 101, 1000]) for _ in range(300)]

        async def one(cap, delay):
            await asyncio.sleep(delay)
            return cap, await matches.ids("articles_fts", '"党建"', cap)

        return await asyncio.gather(*(one(cap, random.random() / 100) for cap in caps))

    random.seed(12)
    for cap, (ids, complete, _) in asyncio.run(main()):
        if cap is not None:
            assert len(ids) == min(cap, 500)
        else:
            assert complete and len(ids) == 500
    assert asked  # the index was really asked
