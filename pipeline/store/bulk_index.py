"""Building the search index in bulk: FTS5 settings, page handling and the final merge.

``Store.rebuild_search_index`` (``dangjian reindex``) and the ``search`` backfill fill the
index inside :func:`bulk_mode` and then :func:`optimize` it; ordinary writes (one
transaction per page) keep FTS5's defaults.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.store.search import FTS_TABLE

BULK_HASHSIZE = 256 * 2**20
"""FTS5 ``hashsize`` (bytes of pending tokens held in memory) during a bulk build.

FTS5's default, 1 MiB, holds the bigrams of only a few dozen articles, because nearly every
bigram of an article is a new index entry; a bulk build then writes thousands of tiny segments
and merges them again and again, which cost more than everything else together. At 256 MiB a
segment is written about every 50,000 articles (a 1,000,000-article build peaked at 826 MiB).
"""
BULK_CONFIG = {"hashsize": BULK_HASHSIZE, "automerge": 0, "crisismerge": 64}
"""FTS5 settings during a bulk build: large segments, and no merging until ``optimize``
merges them all once (``crisismerge`` bounds the segments of one level meanwhile)."""
FTS5_DEFAULTS = {"hashsize": 2**20, "automerge": 4, "crisismerge": 16}
"""FTS5's own defaults, restored after a bulk build when the table had no setting of its own,
so ordinary writes (one transaction per page) keep their small memory use and merging."""
BULK_CACHE_KIB = 256 * 1024
"""SQLite page cache during a bulk build, so segment writes and the merge stay in memory."""


@contextmanager
def freed_pages_not_zeroed(conn: sqlite3.Connection) -> Iterator[None]:
    """Within this block, pages SQLite frees are not overwritten with zeros.

    Some builds of SQLite (Debian's among them) turn ``secure_delete`` on: each page freed
    is zeroed and written. A rebuild frees the whole old index and the final merge frees
    every segment it merges, gigabytes at a million articles, all written once more to the
    WAL and again to the database. Here ``secure_delete`` is ``fast``: deleted content is
    still zeroed where that costs no write of its own. The connection's setting is put back.
    """
    before = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete = FAST")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA secure_delete = {'FAST' if before == 2 else int(before)}")


@contextmanager
def bulk_mode(conn: sqlite3.Connection) -> Iterator[None]:
    """Within this block, writes to the index use the bulk settings (``BULK_CONFIG``, cache),
    and freed pages are not zeroed (:func:`freed_pages_not_zeroed`).

    Use it inside one transaction around the inserts, then ``optimize``: pending tokens are
    kept across statements until the hash is full or the transaction commits. The
    table's own settings are put back afterwards.
    """
    fts = FTS_TABLE
    before = dict(
        conn.execute(
            f"SELECT k, v FROM {fts}_config WHERE k IN ('hashsize', 'automerge', 'crisismerge')"
        ).fetchall()
    )
    cache_size = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    for key, value in BULK_CONFIG.items():
        conn.execute(f"INSERT INTO {fts}({fts}, rank) VALUES (?, ?)", [key, value])
    try:
        with freed_pages_not_zeroed(conn):
            yield
    finally:
        for key, default in FTS5_DEFAULTS.items():
            conn.execute(
                f"INSERT INTO {fts}({fts}, rank) VALUES (?, ?)", [key, before.get(key, default)]
            )
        conn.execute(f"PRAGMA cache_size = {cache_size}")


def optimize(conn: sqlite3.Connection) -> None:
    """Merge the index into one segment (after a bulk build; commits first)."""
    conn.commit()
    with freed_pages_not_zeroed(conn):  # the merged segments' pages
        conn.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
        conn.commit()
