"""Faults during large writes (issue 12, item 3): SIGKILL mid-import and mid-reindex, full disk.

Whatever the moment of the fault, the database must open, pass ``PRAGMA integrity_check`` and
FTS5's own integrity check, and hold no half-written article: every article has its page,
its first revision, its cluster and its search-index row, and no page is left in the
intermediate ``article`` outcome. Running the same command again then completes the work.

A full disk is simulated with ``DANGJIAN_DB_MAX_PAGES`` (``PRAGMA max_page_count`` on every
connection the store opens; tests only, see docs/settings.md): SQLite then fails a write that
needs a new page with SQLITE_FULL, as it does on a disk without room. (SIGKILL points are
drawn from a seeded generator, so a failure names a reproducible point.)
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pipeline.dedupe import canonical_url
from pipeline.store import search
from sample_sites import build_sites, registry_entries, start_sample_sites

from .conftest import dangjian
from .test_import import write_warc

SIZE = 8  # articles per sample site: 104 WARC records, an import of a few seconds
SEED = 1212
REINDEX_KILLS = 3
FULL_AT_PAGES = 300  # DANGJIAN_DB_MAX_PAGES: a fresh schema fits, a third of the articles do
PHRASES = ("党建", "基层党组织", "学习教育")
# The sites of the full-disk crawl (one of them republishes the others: duplicates too).
CRAWLED = ("wuchang-museum", "wuhan-tzb", "xuzhou-jgdj", "old-district", "mirror-hant")


def assert_whole(db: Path) -> dict[str, int]:
    """Assert the database is intact and holds only whole articles; return a few counts."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchall() == [("ok",)]
        assert conn.execute("pragma foreign_key_check").fetchall() == []
        # FTS5 checks its own structure (raises SQLITE_CORRUPT_VTAB when broken).
        conn.execute("insert into articles_fts(articles_fts, rank) values ('integrity-check', 0)")
        conn.rollback()
        articles = {i for (i,) in conn.execute("select id from articles")}
        indexed = {i for (i,) in conn.execute("select id from articles_fts_docsize")}
        assert indexed == articles, "search index rows differ from the articles"
        orphans = {
            "without page": "select count(*) from articles a left join pages p "
            "on p.id = a.page_id where p.id is null",
            "without revision": "select count(*) from articles a where not exists "
            "(select 1 from article_revisions r where r.article_id = a.id)",
            "without cluster": "select count(*) from articles a left join clusters c "
            "on c.id = a.cluster_id where c.id is null",
            "terms of no article": "select count(*) from article_terms t where t.article_id "
            "not in (select id from articles)",
            "pages stuck in 'article'": "select count(*) from pages where outcome = 'article'",
        }
        for what, sql in orphans.items():
            assert conn.execute(sql).fetchone()[0] == 0, f"article {what}"
        return {
            "articles": len(articles),
            "pages": conn.execute("select count(*) from pages").fetchone()[0],
            "terms": conn.execute("select count(*) from article_terms").fetchone()[0],
        }
    finally:
        conn.close()


def searches(db: Path) -> dict[str, list[int]]:
    """What a few searches find (to compare the index before and after a fault)."""
    conn = sqlite3.connect(db)
    try:
        return {q: search.search_ids(conn, q) for q in PHRASES}
    finally:
        conn.close()


def count(db: Path, sql: str) -> int:
    """Read a count from a database another process is writing (0 until it exists)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def opened(pid: int, db: Path) -> bool:
    """Tell whether process ``pid`` has the database file open yet."""
    try:
        return any(
            os.readlink(f"/proc/{pid}/fd/{fd}") == str(db) for fd in os.listdir(f"/proc/{pid}/fd")
        )
    except OSError:
        return False


def run(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(dangjian(*args), capture_output=True, text=True, timeout=timeout, env=env)


def kill(proc: subprocess.Popen) -> bool:
    """SIGKILL ``proc`` if it still runs; return whether it did."""
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return alive


@dataclass
class Records:
    warc: Path
    urls: set[str]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Records:
    """Every article of the sample sites (SIZE each) in one WARC file."""
    warc = tmp_path_factory.mktemp("faults") / "articles.warc.gz"
    rows = []
    for site in build_sites(SIZE).values():
        for article in site.expected_articles():
            status, headers, body = site.respond(article.path)
            rows.append((site.base_url + article.path, status, body, headers["Content-Type"]))
    write_warc(warc, rows)
    return Records(warc, {canonical_url(url) for url, *_ in rows})


@dataclass
class Imported:
    db: Path
    halfway: dict[str, int]  # assert_whole's counts right after the kill


@pytest.fixture(scope="module")
def imported(records: Records, tmp_path_factory: pytest.TempPathFactory) -> Imported:
    """An import SIGKILLed halfway, then run again to the end (the reindex tests' database)."""
    db = tmp_path_factory.mktemp("import-kill") / "news.db"
    rng = random.Random(SEED)
    point = rng.randrange(len(records.urls) // 4, len(records.urls) * 3 // 4)
    proc = subprocess.Popen(
        dangjian("import", str(records.warc), "--db", str(db)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if count(db, "select count(*) from pages") >= point:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))
        assert kill(proc), "the import finished before it could be killed"
    finally:
        if proc.poll() is None:
            proc.kill()
    halfway = assert_whole(db)
    result = run("import", str(records.warc), "--db", str(db))
    assert result.returncode == 0, result.stderr[-3000:]
    return Imported(db, halfway)


def test_sigkill_mid_import_leaves_whole_articles_and_a_rerun_completes(imported, records):
    assert 0 < imported.halfway["articles"] < len(records.urls), imported.halfway
    counts = assert_whole(imported.db)
    conn = sqlite3.connect(imported.db)
    stored = {u for (u,) in conn.execute("select url from articles")}
    assert stored == records.urls
    # Each record stored once: the second import skipped what the first had committed.
    assert counts["pages"] == len(records.urls)
    assert conn.execute("select count(*) from failures").fetchone()[0] == 0


def test_sigkill_mid_reindex_keeps_a_whole_index(imported, tmp_path):
    """``dangjian reindex`` rebuilds the index in one transaction: killed at any point, the
    old index (or, once committed, the new one) is whole and finds the same articles."""
    before, found = assert_whole(imported.db), searches(imported.db)
    assert all(found.values()), found
    rng = random.Random(SEED + 1)
    killed_mid_run = 0
    for n in range(REINDEX_KILLS):
        db = tmp_path / f"news-{n}.db"
        source, copy = sqlite3.connect(imported.db), sqlite3.connect(db)
        source.backup(copy)
        source.close()
        copy.close()
        proc = subprocess.Popen(
            dangjian("reindex", "--db", str(db)), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 60
            while proc.poll() is None and not opened(proc.pid, db) and time.monotonic() < deadline:
                time.sleep(0.002)
            # The rebuild itself takes a few tenths of a second once the store is open.
            time.sleep(rng.uniform(0.02, 0.3))
            killed_mid_run += kill(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert assert_whole(db) == before
        assert searches(db) == found
    assert killed_mid_run >= REINDEX_KILLS // 2, "the reindex finished before most kills"
    result = run("reindex", "--db", str(db))
    assert result.returncode == 0 and result.stdout.startswith("reindexed"), result.stderr
    assert assert_whole(db) == before and searches(db) == found


@dataclass
class FullImport:
    db: Path
    full: subprocess.CompletedProcess  # the import into a database that fills up
    halfway: dict[str, int]  # assert_whole's counts after it
    again: subprocess.CompletedProcess  # the same import with room


@pytest.fixture(scope="module")
def full_import(records: Records, tmp_path_factory: pytest.TempPathFactory) -> FullImport:
    db = tmp_path_factory.mktemp("full-import") / "news.db"
    env = {**os.environ, "DANGJIAN_DB_MAX_PAGES": str(FULL_AT_PAGES)}
    full = run("import", str(records.warc), "--db", str(db), env=env)
    halfway = assert_whole(db)
    return FullImport(db, full, halfway, run("import", str(records.warc), "--db", str(db)))


def test_full_disk_during_import_is_one_clear_error_and_loses_nothing(full_import, records):
    db, full = full_import.db, full_import.full
    assert full.returncode == 1, full.stdout + full.stderr[-3000:]
    # The command ends on one line naming the database and the fix, not on a traceback.
    message = full.stderr.strip().splitlines()[-1]
    assert message.startswith("Error: ") and f"database {db} is full" in message, message
    assert "free some space and run the command again" in message
    assert 0 < full_import.halfway["articles"] < len(records.urls), full_import.halfway
    # A full disk is no page's failure: nothing was recorded as failed, so nothing is skipped.
    assert count(db, "select count(*) from failures") == 0

    assert full_import.again.returncode == 0, full_import.again.stderr[-3000:]
    assert_whole(db)
    conn = sqlite3.connect(db)
    assert {u for (u,) in conn.execute("select url from articles")} == records.urls


def test_full_disk_during_import_logs_no_traceback(full_import):
    assert "Traceback" not in full_import.full.stderr


@dataclass
class FullCrawl:
    db: Path
    full: subprocess.CompletedProcess  # the crawl into a database that fills up
    halfway: dict[str, int]  # assert_whole's counts after it
    again: subprocess.CompletedProcess  # the same crawl with room
    reference: set[str]  # what an uninterrupted crawl stores


@pytest.fixture(scope="module")
def full_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullCrawl]:
    """A crawl into a database that fills up, the same crawl with room, and a reference."""
    tmp = tmp_path_factory.mktemp("full-disk")
    handle = start_sample_sites(port=0, size=SIZE)
    try:
        registry = tmp / "sites.yml"
        entries = [e for e in registry_entries(handle.addresses, SIZE) if e["id"] in CRAWLED]
        registry.write_text(
            yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8"
        )

        def crawl(db: Path, env: dict | None = None) -> subprocess.CompletedProcess:
            return run(
                *("crawl", "--sample", "--sites", str(registry), "--db", str(db)),
                "--no-progress",
                env=env,
            )

        reference = tmp / "reference.db"
        assert crawl(reference).returncode == 0
        db = tmp / "news.db"
        full = crawl(db, {**os.environ, "DANGJIAN_DB_MAX_PAGES": str(FULL_AT_PAGES)})
        halfway = assert_whole(db)
        conn = sqlite3.connect(reference)
        urls = {u for (u,) in conn.execute("select url from articles")}
        conn.close()
        yield FullCrawl(db, full, halfway, crawl(db), urls)
    finally:
        handle.stop()


def test_full_disk_during_a_crawl_loses_nothing_and_the_next_crawl_completes(full_crawl):
    assert 0 < full_crawl.halfway["articles"] < len(full_crawl.reference), full_crawl.halfway
    reasons = [r for (r,) in sqlite3.connect(full_crawl.db).execute("select reason from failures")]
    assert not [r for r in reasons if "disk is full" in r], reasons
    assert full_crawl.again.returncode == 0, full_crawl.again.stderr[-3000:]
    assert_whole(full_crawl.db)
    conn = sqlite3.connect(full_crawl.db)
    assert {u for (u,) in conn.execute("select url from articles")} == full_crawl.reference


def test_full_disk_stops_the_crawl_with_one_clear_error(full_crawl):
    output = full_crawl.full.stdout + full_crawl.full.stderr
    assert full_crawl.full.returncode == 1, output[-2000:]
    assert "Traceback" not in output
    assert f"Error: database {full_crawl.db} is full" in output
