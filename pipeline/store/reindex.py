"""Rebuilding every article's search tokens, term counts and region columns in bulk.

``Store.rebuild_search_index`` (``dangjian reindex``) and the ``search`` backfill write what
:func:`prepared_batches` prepares. Preparing (reading the articles, tokenising, counting the
dictionary's terms) is Python work; writing is SQLite's. For a large database a helper process
prepares the next batch from its own read-only connection while this one writes the last, so
the two cores work at once (issue 14: ≥ 1,000 articles/s). The helper reads the last committed
state, which the writer's open transaction does not change in the columns read here.

Most of the writer's time is FTS5 adding tokens to its pending index, a hash table of a few
hundred MB: nearly every look-up misses the processor's caches and, with 4 KiB pages, its TLB.
So a large rebuild runs in a process of its own started with glibc's malloc asking for
transparent huge pages (:func:`rebuild_in_own_process`).
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from pipeline.errors import DiskFullError, StoreError
from pipeline.store import regions, search, terms

logger = logging.getLogger(__name__)

BATCH = 2000
"""Articles prepared (tokens, terms, regions) and written at a time."""
AHEAD = 2
"""Prepared batches the writer may have waiting (each ~2,000 articles' tokens, tens of MB)."""
HELPER_MIN_ARTICLES = 20_000
"""Below this many articles a helper process costs more (its start, ~1 s) than it saves."""

OWN_PROCESS_MIN_ARTICLES = 20_000
"""From this many articles ``dangjian reindex`` rebuilds in a process of its own that asks
for huge pages (:func:`rebuild_in_own_process`)."""
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb"
"""The glibc tunable that makes ``malloc`` ask the kernel for transparent huge pages."""
HUGE_PAGES = f"{HUGE_PAGES_TUNABLE}=1"
_DISK_FULL_EXIT = 3
_ORPHANED_EXIT = 4

Prepared = tuple[list[tuple], list[list[Any]], list[tuple[int, str, int]]]
"""Index rows ``(id, title tokens, text tokens)`` for ``INDEX_SQL``, ``REGION_SQL``
parameters, term rows."""

# The tokens come as UTF-8 bytes, cast to text here: the writer then neither decodes them
# from the pipe nor encodes them for SQLite (~8% of its time as Python strings). A cast,
# not a blob, because newer FTS5 versions refuse blobs in a table without locales.
INDEX_SQL = (
    f"INSERT INTO {search.FTS_TABLE}(rowid, title, text) "
    "VALUES (?, CAST(? AS TEXT), CAST(? AS TEXT))"
)

# The registry's region wins; a government page's SiteIDCode fills what it leaves out.
# Only a row whose region changes is written: a reindex of articles whose sites did not
# change rewrites no row (each row holds its bodies, so rewriting is the costly part).
REGION_SQL = (
    "UPDATE articles SET level = r.level, province = r.province, city = r.city "
    "FROM (SELECT coalesce(s.level, ?1) AS level, coalesce(s.province, ?2) AS province,"
    " CASE WHEN s.province IS NULL THEN coalesce(s.city, ?3) ELSE s.city END AS city"
    " FROM (SELECT NULL) LEFT JOIN sites s ON s.id = ?4) AS r "
    "WHERE articles.id = ?5 AND (articles.level IS NOT r.level"
    " OR articles.province IS NOT r.province OR articles.city IS NOT r.city)"
)
TERMS_SQL = "INSERT INTO article_terms (article_id, term, count) VALUES (?, ?, ?)"
_SELECT = (
    "SELECT id, title, text, site_id, site_code, doc_number, level, province, city "
    "FROM articles WHERE id > ? ORDER BY id LIMIT ?"
)
_KEYS = ("id", "title", "text", "site_id", "site_code", "doc_number", "level", "province", "city")
SiteRegions = dict[str, tuple[str | None, str | None, str | None]]
"""Site id -> its registry region ``(level, province, city)``."""


def site_regions(conn: sqlite3.Connection) -> SiteRegions:
    """Every site's registry region (the sites table is small)."""
    return {
        row[0]: (row[1], row[2], row[3])
        for row in conn.execute("SELECT id, level, province, city FROM sites")
    }


def region_params(article_id: int, row: Mapping[str, Any]) -> list[Any]:
    """``REGION_SQL``'s parameters for one article (its site's region, else its site code's)."""
    code = regions.region_from_site_code(row.get("site_code"))
    return [code["level"], code["province"], code["city"], row.get("site_id"), article_id]


def region_of(
    row: Mapping[str, Any], sites: SiteRegions
) -> tuple[str | None, str | None, str | None]:
    """The region ``REGION_SQL`` gives an article, computed here: the site's wins, the site
    code fills what it leaves out (the city only when the site names no province)."""
    code = regions.region_from_site_code(row.get("site_code"))
    level, province, city = sites.get(row.get("site_id") or "", (None, None, None))
    return (
        level if level is not None else code["level"],
        province if province is not None else code["province"],
        (city if city is not None else code["city"]) if province is None else city,
    )


def term_rows(article_id: int, row: Mapping[str, Any]) -> list[tuple[int, str, int]]:
    """``article_terms`` rows of one article: the dictionary's terms in its title and text."""
    counts = terms.count_terms(row.get("title"), row.get("text"))
    return [(article_id, term, n) for term, n in counts.items()]


def prepared(rows: list[tuple], sites: SiteRegions) -> Prepared:
    """Index rows, region parameters and term rows of ``_SELECT`` rows.

    Region parameters only for the articles whose stored region differs from what
    ``REGION_SQL`` would write: the writer then reads no other article's row (the region
    columns sit after the bodies, so reading them walks each row's overflow pages).
    """
    index_rows, region_rows, all_terms = [], [], []
    for row in rows:
        named = dict(zip(_KEYS, row, strict=True))
        tokens = search.article_tokens(named["title"], named["doc_number"], named["text"])
        index_rows.append((row[0], tokens[0].encode(), tokens[1].encode()))
        if region_of(named, sites) != (named["level"], named["province"], named["city"]):
            region_rows.append(region_params(row[0], named))
        all_terms.extend(term_rows(row[0], named))
    return index_rows, region_rows, all_terms


def _write_batches(path: str, size: int, out: BinaryIO) -> None:
    """In the helper: prepare every article of ``path`` in batches, pickled to ``out``; an
    empty batch ends the stream."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        sites = site_regions(conn)
        last = 0
        while rows := conn.execute(_SELECT, [last, size]).fetchall():
            last = rows[-1][0]
            pickle.dump(prepared(rows, sites), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
    finally:
        conn.close()
    pickle.dump(([], [], []), out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


_HELPER = (
    "import sys; from pipeline.store import reindex; "
    "reindex._write_batches(sys.argv[1], int(sys.argv[2]), sys.stdout.buffer)"
)


def prepared_batches(
    conn: sqlite3.Connection, path: Path | str | None, size: int | None = None
) -> Iterator[Prepared]:
    """Yield every article's prepared rows, ``size`` articles at a time, in id order.

    With a database file of at least ``HELPER_MIN_ARTICLES`` articles, a helper process
    (``_HELPER``) prepares the batches and this one writes them as they come, with up to
    ``AHEAD`` of them waiting; otherwise this process prepares them (``conn``). A million
    articles never sit in memory at once.

    Raises:
        StoreError: the helper failed (its error output is in the message).
    """
    size = size or BATCH
    if path is None or str(path) == ":memory:" or _newest_id(conn) < HELPER_MIN_ARTICLES:
        sites = site_regions(conn)
        last = 0
        while rows := conn.execute(_SELECT, [last, size]).fetchall():
            last = rows[-1][0]
            yield prepared(rows, sites)
        return
    # A subprocess, not multiprocessing: no fork of a process holding SQLite connections
    # and threads, and no re-import of the caller's __main__ (scripts without a main guard).
    with tempfile.TemporaryFile() as errors:
        helper = subprocess.Popen(
            [sys.executable, "-c", _HELPER, str(path), str(size)],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert helper.stdout is not None
        # A reader thread keeps up to AHEAD batches unpickled, so the helper never waits
        # for the writer to finish a batch before it may send the next.
        batches: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
        reader = threading.Thread(target=_read, args=(helper.stdout, batches), daemon=True)
        reader.start()
        try:
            while True:
                batch = batches.get()
                if isinstance(batch, BaseException):
                    raise batch
                if batch is None:
                    helper.wait()
                    output, last_line = _error_output(errors)
                    logger.error("reindex helper output:\n%s", output)
                    raise StoreError(
                        f"the reindex helper stopped (exit {helper.returncode}): {last_line}"
                    )
                if not batch[0]:
                    return
                yield batch
        finally:
            if helper.poll() is None:
                helper.kill()
            while reader.is_alive():  # let the reader see the end and finish
                try:
                    batches.get(timeout=0.1)
                except queue.Empty:
                    pass
            helper.wait()
            helper.stdout.close()


def _newest_id(conn: sqlite3.Connection) -> int:
    """The largest article id: the number of articles, near enough, without counting them."""
    return conn.execute("SELECT max(id) FROM articles").fetchone()[0] or 0


def _error_output(errors: BinaryIO) -> tuple[str, str]:
    """What a stopped helper or rebuild process wrote to ``errors``, and its last line."""
    errors.seek(0)
    output = errors.read().decode("utf-8", "replace").strip()
    return output, output.splitlines()[-1] if output else "no output"


def _read(stream: BinaryIO, batches: queue.Queue[Any]) -> None:
    """In the reader thread: unpickle batches into ``batches``; ``None`` when the stream
    ends without the empty batch that closes it (the helper failed), or the exception."""
    try:
        while True:
            batch = pickle.load(stream)
            batches.put(batch)
            if not batch[0]:
                return
    except EOFError:
        batches.put(None)
    except BaseException as exc:  # handed to the writer, which raises it
        batches.put(exc)


def wants_own_process(conn: sqlite3.Connection, path: Path | str | None) -> bool:
    """True when a rebuild of ``path`` should run in a process of its own with huge pages.

    FTS5 keeps the pending index in a hash table of a few hundred MB and looks every token
    up in it; with 4 KiB pages nearly each look-up misses the TLB too. glibc's ``malloc``
    asks for huge pages only when told at start-up (``GLIBC_TUNABLES``), so a large rebuild
    starts a process that is told. Measured at 100,000 articles: docs/benchmarks-search.md.
    Not for an in-memory database, a small one, a caller with writes pending (the other
    process could not see them), or a process whose huge-page setting was already given
    (the one started here, or a user's own ``glibc.malloc.hugetlb``, which is kept).
    """
    if path is None or str(path) == ":memory:" or conn.in_transaction:
        return False
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if not sys.platform.startswith("linux") or f"{HUGE_PAGES_TUNABLE}=" in tunables:
        return False
    return _newest_id(conn) >= OWN_PROCESS_MIN_ARTICLES


def own_process_environment() -> dict[str, str]:
    """This process's environment with ``HUGE_PAGES`` added to ``GLIBC_TUNABLES``."""
    env = dict(os.environ)
    tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
    env["GLIBC_TUNABLES"] = ":".join([*tunables, HUGE_PAGES])
    return env


_REBUILD = "import sys; from pipeline.store import reindex; reindex._rebuild(sys.argv[1])"


def rebuild_in_own_process(path: Path | str) -> int:
    """Run ``Store.rebuild_search_index`` on ``path`` in a new process with huge pages.

    The caller must hold no transaction. Returns the number of articles indexed. The new
    process holds a pipe from this one and stops, its transaction rolled back, when the
    pipe closes: a ``dangjian reindex`` that is killed takes its rebuild with it.

    Raises:
        DiskFullError: the disk filled up; the rebuild rolled back, the old index is whole.
        StoreError: the rebuild failed (its error output is in the message).
    """
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(
            [sys.executable, "-c", _REBUILD, str(path)],
            stdin=subprocess.PIPE,  # never written: closed when this process ends
            stdout=subprocess.PIPE,
            stderr=errors,
            env=own_process_environment(),
        ) as process:
            assert process.stdout is not None
            printed = process.stdout.read()
            returncode = process.wait()
        if returncode == 0:
            return int(printed)
        output, last_line = _error_output(errors)
    if returncode == _DISK_FULL_EXIT:
        raise DiskFullError(last_line)
    logger.error("reindex process output:\n%s", output)
    raise StoreError(f"the reindex process stopped (exit {returncode}): {last_line}")


def _stop_when_orphaned(fd: int) -> None:
    """In a thread of the rebuild's process: end the process when ``fd`` (a pipe from the
    process that started it) closes. Nothing is committed before the rebuild's end, so
    ending at any moment leaves the old index whole. ``os.read``, not ``sys.stdin``: a
    thread blocked in a buffered reader holds its lock, which Python's shutdown needs."""
    while os.read(fd, 4096):
        pass
    os._exit(_ORPHANED_EXIT)


def _rebuild(path: str) -> None:
    """In the process ``rebuild_in_own_process`` starts: rebuild, print the count."""
    from pipeline.store.database import Store  # database imports this module

    threading.Thread(target=_stop_when_orphaned, args=(sys.stdin.fileno(),), daemon=True).start()
    store = Store(path)
    try:
        count = store.rebuild_search_index()
    except DiskFullError as exc:
        print(exc, file=sys.stderr)
        sys.exit(_DISK_FULL_EXIT)
    finally:
        store.close()
    print(count, flush=True)
