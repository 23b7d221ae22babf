"""Attachments: the files articles link, their bytes (zlib, like pages) and searchable text.

One row per file URL (``attachments``), tied to the article whose page linked it by that page's
canonical URL (``article_url``) and, once that article is stored, its id (``article_id``):
whichever of the two arrives first, :func:`save_attachment` and :func:`link_article` join them.
Their text is indexed in ``attachments_fts`` with the articles' tokeniser
(``pipeline.store.search``), so the same exact search covers them (``search.attachment_matches``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from pipeline.dedupe import url_variants
from pipeline.store import search

FTS_TABLE = "attachments_fts"
_INSERT = f"INSERT INTO {FTS_TABLE}(rowid, name, text) VALUES (?, ?, ?)"
ATTACHMENT_ONLY = "attachment-only"
"""The ``articles.flags`` entry of a notice whose body is its attachments' text."""


def _index(
    conn: sqlite3.Connection, attachment_id: int, name: str | None, text: str | None
) -> None:
    conn.execute(_INSERT, [attachment_id, search.index_text(name), search.index_text(text)])


def _forget(
    conn: sqlite3.Connection, attachment_id: int, name: str | None, text: str | None
) -> None:
    # A contentless FTS5 table forgets a row only when given the exact tokens it indexed.
    conn.execute(
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name, text) VALUES ('delete', ?, ?, ?)",
        [attachment_id, search.index_text(name), search.index_text(text)],
    )


def rebuild_index(conn: sqlite3.Connection) -> int:
    """Refill ``attachments_fts`` from every attachment's name and text; return the count.

    In the caller's transaction (the ``attachments_search`` backfill)."""
    conn.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
    rows = conn.execute("SELECT id, name, text FROM attachments ORDER BY id")  # streamed
    conn.executemany(
        _INSERT, ((i, search.index_text(name), search.index_text(text)) for i, name, text in rows)
    )
    return conn.execute("SELECT count(*) FROM attachments").fetchone()[0]


def article_id_for(db: sqlite_utils.Database, article_url: str | None) -> int | None:
    """Return the id of the stored article at ``article_url`` (any of its URL variants)."""
    if not article_url:
        return None
    variants = url_variants(article_url)
    row = db.execute(
        f"SELECT id FROM articles WHERE url IN ({', '.join('?' * len(variants))}) "
        "ORDER BY id LIMIT 1",
        variants,
    ).fetchone()
    return int(row[0]) if row else None


def save_attachment(db: sqlite_utils.Database, file: Mapping[str, Any]) -> tuple[int, int | None]:
    """Insert or update the attachment at ``file["url"]``; index its name and text.

    Args:
        db: the database, inside the caller's transaction.
        file: ``url``, ``article_url``, ``site_id``, ``run_id``, ``name``, ``format``,
            ``content_type``, ``status``, ``body`` (bytes, stored compressed), ``text``,
            ``text_status`` and ``fetched_at``.

    Returns:
        The attachment's id and the id of the article that links it (None until stored).
    """
    body: bytes = file.get("body") or b""
    sha1 = hashlib.sha1(body).hexdigest()
    article_id = article_id_for(db, file.get("article_url"))
    existing = db.execute(
        "SELECT id, sha1, name, text, article_id FROM attachments WHERE url = ?", [file["url"]]
    ).fetchone()
    row = {
        "url": file["url"],
        "article_url": file.get("article_url"),
        "site_id": file.get("site_id") or None,
        "run_id": file.get("run_id"),
        "name": file.get("name"),
        "format": file.get("format"),
        "content_type": file.get("content_type"),
        "status": file.get("status"),
        "size": len(body),
        "sha1": sha1,
        "body": zlib.compress(body, 6),
        "text": file.get("text"),
        "text_status": file.get("text_status"),
        "fetched_at": file.get("fetched_at"),
        "last_seen": file.get("fetched_at"),
    }
    table = db["attachments"]
    if existing is None:
        table.insert({**row, "article_id": article_id, "first_seen": file.get("fetched_at")})
        attachment_id = int(table.last_pk)
        _index(db.conn, attachment_id, row["name"], row["text"])
        return attachment_id, article_id
    attachment_id, old_sha1, old_name, old_text, linked = existing
    article_id = linked or article_id
    if old_sha1 == sha1 and old_name == row["name"]:
        table.update(attachment_id, {"last_seen": row["last_seen"], "run_id": row["run_id"],
                                     "article_id": article_id})  # fmt: skip
        return attachment_id, article_id
    _forget(db.conn, attachment_id, old_name, old_text)
    table.update(attachment_id, {**row, "article_id": article_id})
    _index(db.conn, attachment_id, row["name"], row["text"])
    return attachment_id, article_id


def link_article(db: sqlite_utils.Database, article_id: int, article_url: str) -> int:
    """Tie attachments stored before their article to it; return how many were tied."""
    variants = url_variants(article_url)
    cursor = db.execute(
        f"UPDATE attachments SET article_id = ? WHERE article_id IS NULL "
        f"AND article_url IN ({', '.join('?' * len(variants))})",
        [article_id, *variants],
    )
    return cursor.rowcount


def texts(db: sqlite_utils.Database, article_id: int | None = None, article_url: str = "") -> str:
    """Return the text of an article's attachments, in the order they were stored."""
    if article_id is not None:
        rows = db.execute(
            "SELECT text FROM attachments WHERE article_id = ? AND text IS NOT NULL ORDER BY id",
            [article_id],
        ).fetchall()
    else:
        variants = url_variants(article_url)
        rows = db.execute(
            f"SELECT text FROM attachments WHERE text IS NOT NULL "
            f"AND article_url IN ({', '.join('?' * len(variants))}) ORDER BY id",
            variants,
        ).fetchall()
    return "\n".join(r[0] for r in rows)


def is_attachment_only(db: sqlite_utils.Database, article_id: int) -> bool:
    """Tell whether the article is a notice whose body is its attachments' text."""
    row = db.execute("SELECT flags FROM articles WHERE id = ?", [article_id]).fetchone()
    return bool(row and row[0] and ATTACHMENT_ONLY in json.loads(row[0]))


def article_row(db: sqlite_utils.Database, article_id: int) -> dict[str, Any]:
    """Return the stored columns of an article as ``Store.save_article`` takes them."""
    row = db["articles"].get(article_id)
    generated = {"id", "reprint"}
    return {k: v for k, v in row.items() if k not in generated}
