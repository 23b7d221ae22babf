"""The incremental feed (issue 15): every article created, changed or taken down after a cursor.

The ``changes`` rows are written by triggers in the writer's own transactions; a tool pages
by cursor (the canned query ``changes``). Checked against a writer process that creates,
edits and takes down articles while a reader pages through the feed over HTTP.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
from datasette.app import Datasette

from pipeline.store import Store
from pipeline.store.changes import changes_since, latest_cursor

BODY = "市直机关工委召开党建工作推进会，部署下一阶段重点任务，要求各单位认真抓好落实。"


def article(n: int, text: str = BODY) -> dict:
    return {
        "url": f"http://127.0.0.1/art/{n}.html",
        "site_id": "s",
        "title": f"党建工作推进会{n}",
        "published": "2024-01-05",
        "text": text,
        "content_hash": str(hash(text)),
        "last_seen": "2024-01-06T00:00:00Z",
    }


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "news.db")
    store.save_sites([{"id": "s", "name": "测试站"}])
    yield store
    store.close()


def test_every_kind_of_change_is_one_row_in_order(store):
    with store.db.atomic():
        first = store.save_article(article(1)).article_id
        second = store.save_article(article(2)).article_id
    with store.db.atomic():
        store.save_article(article(1))  # fetched again, unchanged: nothing a reader sees
        store.note_not_modified(article(1)["url"], "2024-01-07T00:00:00Z", "r2")
        store.save_article(article(1, BODY + "会议强调要狠抓落实。"))
        store.mark_taken_down(article(2)["url"], "2024-01-08T00:00:00Z")
        store.save_article(article(2))  # back online
    rows = changes_since(store.db.conn)
    assert [(r["article_id"], r["change"], r["revision"]) for r in rows] == [
        (first, "created", 1),
        (second, "created", 1),
        (first, "changed", 2),
        (second, "taken_down", 1),
        (second, "restored", 1),
    ]
    assert [r["cursor"] for r in rows] == sorted(r["cursor"] for r in rows)
    assert changes_since(store.db.conn, rows[2]["cursor"]) == rows[3:]
    assert latest_cursor(store.db.conn) == rows[-1]["cursor"]
    assert rows[0]["url"] == article(1)["url"] and rows[0]["title"] == "党建工作推进会1"


def test_an_existing_database_starts_its_feed_with_what_it_holds(tmp_path):
    """0007 records the articles already stored as created (and taken down), in id order."""
    import sqlite3

    from pipeline.store import migrations

    db_path = tmp_path / "old.db"
    import sqlite_utils

    db = sqlite_utils.Database(db_path)
    migrations.migrations.apply(db, stop_before="0007_documents")
    db["sites"].insert({"id": "s", "name": "测试站"})
    for n in (1, 2, 3):
        db["articles"].insert({**article(n), "first_seen": f"2024-01-0{n}T00:00:00Z",
                               "revision": 1, "taken_down_at": "2024-02-01" if n == 2 else None})  # fmt: skip
    db.conn.commit()
    db.close()
    Store(db_path).close()
    rows = (
        sqlite3.connect(db_path)
        .execute("select article_id, change, at from changes order by id")
        .fetchall()
    )
    assert rows == [
        (1, "created", "2024-01-01T00:00:00Z"),
        (2, "created", "2024-01-02T00:00:00Z"),
        (3, "created", "2024-01-03T00:00:00Z"),
        (2, "taken_down", "2024-02-01"),
    ]


WRITER = textwrap.dedent(
    """
    import random, sys
    from pipeline.store import Store
    store = Store(sys.argv[1])
    rng = random.Random(7)
    body = "市直机关工委召开党建工作推进会，部署下一阶段重点任务。"
    for n in range(int(sys.argv[2])):
        with store.db.atomic():  # one page's transaction, as a crawl writes them
            url = f"http://127.0.0.1/art/{rng.randrange(60)}.html"
            if rng.random() < 0.15:
                store.mark_taken_down(url, "2024-02-01T00:00:00Z")
            else:
                text = body + "第" + str(rng.randrange(4)) + "稿。"
                store.save_article({"url": url, "site_id": "s", "title": "推进会",
                                    "published": "2024-01-05", "text": text,
                                    "content_hash": text, "last_seen": "2024-01-06T00:00:00Z"})
    store.close()
    """
)


@pytest.mark.e2e
def test_paging_while_a_crawl_writes_never_skips_or_repeats(store, tmp_path):
    path = store.path
    writes = 1500
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(writes)])
    ds = Datasette([str(path)], immutables=[])

    async def read_all() -> list[dict]:
        await ds.invoke_startup()
        seen: list[dict] = []
        cursor, pages = 0, 0
        while True:
            finished = writer.poll() is not None  # asked before the page is read
            response = await ds.client.get(f"/news/changes.json?_shape=array&since={cursor}")
            assert response.status_code == 200, response.text
            rows = response.json()
            pages += 1
            if rows:
                seen.extend(rows)
                cursor = rows[-1]["cursor"]
            elif finished:  # an empty page read after the writer's last commit: complete
                assert pages > 3, "the reader should have paged while the writer wrote"
                return seen
            else:
                await asyncio.sleep(0.01)

    try:
        seen = asyncio.run(read_all())
    finally:
        writer.wait(timeout=120)
    assert writer.returncode == 0
    cursors = [r["cursor"] for r in seen]
    assert len(cursors) == len(set(cursors)), "a change was repeated"
    assert cursors == sorted(cursors)
    # Nothing skipped: every change the database holds, in the same order.
    assert cursors == [r[0] for r in store.db.execute("select id from changes order by id")]
    assert cursors == list(range(1, len(cursors) + 1)), "a gap in the cursors"
    kinds = {r["change"] for r in seen}
    assert {"created", "changed", "taken_down", "restored"} <= kinds
