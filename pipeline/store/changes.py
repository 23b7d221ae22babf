"""The changes feed: every article created, changed, taken down, restored or deleted, in order.

Migration ``0007_documents`` adds the ``changes`` table and the triggers that write it: one
row per article insert, per update of a column a reader sees (title, text, dates, bylines,
document fields, flags, takedown) and per delete, in the same transaction as the write itself.
A tool keeps the last ``id`` it saw (its cursor) and asks for the rows after it.

Why it never skips or repeats a row, even while a crawl writes:

* SQLite runs one write transaction at a time, and ``id`` is ``AUTOINCREMENT``, so ids are
  handed out in commit order and never reused (not even after a delete);
* a reader sees only committed transactions, all of them up to some point: when it sees id
  N, every smaller id is committed already and visible to it;
* so ``WHERE id > cursor ORDER BY id`` (keyset paging) gives each row exactly once, however
  many pages are asked for and whatever is written between them. Offsets are never used.

A row says what happened and when; the article's current fields are one request away
(``/news/articles/<article_id>.json``), and the canned query ``changes`` joins the main ones in.
"""

from __future__ import annotations

import sqlite3
from typing import Any

KINDS = ("created", "changed", "taken_down", "restored", "deleted")
"""What a ``changes`` row can say happened to its article."""
SINCE_SQL = (
    "SELECT c.id AS cursor, c.change, c.at, c.article_id, c.revision, a.url, a.title, "
    "a.published, a.site_id, a.taken_down_at "
    "FROM changes c LEFT JOIN articles a ON a.id = c.article_id "
    "WHERE c.id > ? ORDER BY c.id LIMIT ?"
)
"""The rows after a cursor (the canned query ``changes`` in metadata.yml runs the same)."""


def changes_since(
    conn: sqlite3.Connection, cursor: int = 0, limit: int = 500
) -> list[dict[str, Any]]:
    """Return up to ``limit`` changes after ``cursor``, oldest first.

    Args:
        conn: a connection to the news database (read-only is enough).
        cursor: the ``cursor`` of the last row already seen; 0 for everything.
        limit: the most rows to return.

    Returns:
        Dicts with ``cursor``, ``change``, ``at``, ``article_id``, ``revision`` and the
        article's ``url``, ``title``, ``published``, ``site_id``, ``taken_down_at`` (None for a
        deleted article). The next call passes the last row's ``cursor``.
    """
    rows = conn.execute(SINCE_SQL, [cursor, limit])
    names = [d[0] for d in rows.description]
    return [dict(zip(names, row, strict=True)) for row in rows.fetchall()]


def latest_cursor(conn: sqlite3.Connection) -> int:
    """Return the id of the newest change (0 when there is none): a tool's starting point
    when it wants only what happens from now on."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM changes").fetchone()[0])
