"""What a bulk rebuild of the search index writes (pipeline.store.bulk_index)."""

from __future__ import annotations

import sqlite3

from pipeline.store import bulk_index, search


def _wal_bytes_of_a_delete(tmp_path, name: str, fast: bool) -> int:
    """Fill a table with 8 MB, then measure the WAL written by deleting it all."""
    path = tmp_path / name
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = wal")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", ([bytes(4000)] for _ in range(2000)))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA secure_delete = 1")  # as Debian's SQLite is built
    conn.execute("BEGIN")
    if fast:
        with bulk_index.freed_pages_not_zeroed(conn):
            conn.execute("DELETE FROM t")
    else:
        conn.execute("DELETE FROM t")
    conn.execute("COMMIT")
    assert conn.execute("PRAGMA secure_delete").fetchone() == (1,)  # put back
    written = (tmp_path / f"{name}-wal").stat().st_size
    conn.close()
    return written


def test_freed_pages_are_not_written_again_as_zeros(tmp_path):
    zeroed = _wal_bytes_of_a_delete(tmp_path, "zeroed.db", fast=False)
    kept = _wal_bytes_of_a_delete(tmp_path, "kept.db", fast=True)
    assert zeroed > 8_000_000  # every freed page written again, as zeros
    assert kept < zeroed / 20


def test_the_bulk_settings_are_put_back(tmp_path):
    conn = sqlite3.connect(tmp_path / "news.db", isolation_level=None)
    conn.execute(
        f"CREATE VIRTUAL TABLE {search.FTS_TABLE} USING fts5("
        "title, text, content='', tokenize='ascii', detail=none)"
    )
    conn.execute("PRAGMA secure_delete = FAST")
    conn.execute("BEGIN")
    with bulk_index.bulk_mode(conn):
        assert conn.execute("PRAGMA secure_delete").fetchone() == (2,)
    conn.execute("COMMIT")
    assert conn.execute("PRAGMA secure_delete").fetchone() == (2,)
    config = dict(conn.execute(f"SELECT k, v FROM {search.FTS_TABLE}_config"))
    assert {k: config[k] for k in bulk_index.FTS5_DEFAULTS} == bulk_index.FTS5_DEFAULTS
