"""A many-match search's estimate counts the index's candidates and checks a sample of them
(pipeline.web.counts.estimate_matches), through a real Datasette database object."""

from __future__ import annotations

import asyncio

from datasette.app import Datasette

from pipeline.store import Store, search
from pipeline.web import counts


def test_the_estimate_scales_the_candidates_by_the_share_that_passes_the_check(tmp_path):
    path = tmp_path / "news.db"
    store = Store(path)
    store.save_sites([{"id": "s", "name": "示例", "start_urls": ["http://a/"]}])
    # One article in four says 主题教育; one in four holds 主题 and 教育 apart (a candidate
    # the check turns away); the rest hold neither.
    bodies = ["开展主题教育。", "主题党日，教育引导。", "三会一课。", "落实制度。"]
    for i in range(4000):
        store.save_article(
            {
                "url": f"http://a/{i}.html",
                "site_id": "s",
                "title": f"第{i}号",
                "text": bodies[i % 4],
                "content_hash": f"h{i}",
            }
        )
    store.db.conn.commit()
    assert len(search.search_ids(store.db.conn, "主题教育")) == 1000
    store.close()

    db = Datasette([str(path)]).get_database("news")
    candidates = asyncio.run(counts.estimate_matches(db, "", "主题"))  # exact: no check
    estimate = asyncio.run(counts.estimate_matches(db, "", "主题教育"))
    assert 1800 <= candidates <= 2200
    assert 800 <= estimate <= 1200
