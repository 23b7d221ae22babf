"""``dangjian reprocess``: re-extract stored raw pages and update articles in place."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from click.testing import CliRunner

from dangjian.cli import cli
from pipeline.reprocess import reprocess_pages
from pipeline.store import Store
from tests.conftest import dangjian


def copy_db(source: Path, target: Path) -> Path:
    """Copy a (WAL-mode) database safely with SQLite's backup API."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def articles(db: Path) -> dict[str, tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select url, id, author, editor, text from articles").fetchall()
    return {row[0]: row[1:] for row in rows}


def test_reprocess_updates_articles_in_place(crawled, tmp_path: Path) -> None:
    db = copy_db(crawled.db, tmp_path / "news.db")
    before = articles(db)
    assert len(before) >= 100
    # Spoil some extracted fields the way an older extractor might have left them.
    spoiled = sorted(before)[:5]
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "update articles set author = 'admin', editor = null where url = ?",
            [(url,) for url in spoiled],
        )
    store = Store(db)
    try:
        counts = reprocess_pages(store)
    finally:
        store.close()
    after = articles(db)
    assert set(after) == set(before), "same canonical URLs, no new rows"
    assert {url: row[0] for url, row in after.items()} == {
        url: row[0] for url, row in before.items()
    }, "same article ids"
    assert after == before, "the spoiled fields are extracted again"
    assert counts["updated"] == len(spoiled)
    with sqlite3.connect(db) as conn:
        (extract_failures,) = conn.execute(
            "select count(distinct url) from failures where stage = 'extract'"
        ).fetchone()
    # The sample sites serve a few broken pages on purpose: they fail again, nothing else.
    assert counts["new"] == 0 and counts["failed"] == extract_failures
    assert counts["unchanged"] == len(before) - len(spoiled)


def test_reprocess_command_prints_counts(crawled, tmp_path: Path) -> None:
    db = copy_db(crawled.db, tmp_path / "news.db")
    result = subprocess.run(
        dangjian("reprocess", "--db", str(db), "--site", "wuhan-tzb"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    counts = dict(part.split("=") for part in result.stdout.split())
    assert int(counts["unchanged"]) >= 20
    assert counts["new"] == "0" and counts["updated"] == "0"


def test_reprocess_without_database_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["reprocess", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 2
    assert "no database" in result.output
