"""Rebuilding every article's search tokens, term counts and region columns in bulk.

``Store.rebuild_search_index`` (``dangjian reindex``) and the ``search`` backfill write what
:func:`prepared_batches` prepares. Preparing (reading the articles, tokenising, counting the
dictionary's terms) is Python work; writing is SQLite's. For a large database a helper process
prepares the next batch from its own read-only connection while this one writes the last, so
the two cores work at once (issue 14: ≥ 1,000 articles/s). The helper reads the last committed
state, which the writer's open transaction does not change in the columns read here.
"""

from __future__ import annotations

import logging
import pickle
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from pipeline.errors import StoreError
from pipeline.store import regions, search, terms

logger = logging.getLogger(__name__)

BATCH = 2000
"""Articles prepared (tokens, terms, regions) and written at a time."""
HELPER_MIN_ARTICLES = 20_000
"""Below this many articles a helper process costs more (its start, ~1 s) than it saves."""

Prepared = tuple[list[tuple], list[list[Any]], list[tuple[int, str, int]]]
"""Index rows ``(id, title tokens, text tokens)``, ``REGION_SQL`` parameters, term rows."""

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
    "SELECT id, title, text, site_id, site_code, doc_number FROM articles WHERE id > ? "
    "ORDER BY id LIMIT ?"
)
_KEYS = ("id", "title", "text", "site_id", "site_code", "doc_number")


def region_params(article_id: int, row: Mapping[str, Any]) -> list[Any]:
    """``REGION_SQL``'s parameters for one article (its site's region, else its site code's)."""
    code = regions.region_from_site_code(row.get("site_code"))
    return [code["level"], code["province"], code["city"], row.get("site_id"), article_id]


def term_rows(article_id: int, row: Mapping[str, Any]) -> list[tuple[int, str, int]]:
    """``article_terms`` rows of one article: the dictionary's terms in its title and text."""
    counts = terms.count_terms(row.get("title"), row.get("text"))
    return [(article_id, term, n) for term, n in counts.items()]


def prepared(rows: list[tuple]) -> Prepared:
    """Index rows, region parameters and term rows of ``(id, title, text, site_id,
    site_code, doc_number)`` rows."""
    index_rows, region_rows, all_terms = [], [], []
    for row in rows:
        named = dict(zip(_KEYS, row, strict=True))
        title = search.indexed_title(named["title"], named["doc_number"])
        index_rows.append(
            (row[0], search.title_index_text(title), search.index_text(named["text"]))
        )
        region_rows.append(region_params(row[0], named))
        all_terms.extend(term_rows(row[0], named))
    return index_rows, region_rows, all_terms


def _write_batches(path: str, size: int, out: BinaryIO) -> None:
    """In the helper: prepare every article of ``path`` in batches, pickled to ``out``; an
    empty batch ends the stream."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        last = 0
        while rows := conn.execute(_SELECT, [last, size]).fetchall():
            last = rows[-1][0]
            pickle.dump(prepared(rows), out, protocol=pickle.HIGHEST_PROTOCOL)
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
    (``_HELPER``) prepares the batches and this one writes them as
    they come, the pipe between them holding the helper about a batch ahead; otherwise this
    process prepares them (``conn``). A million articles never sit in memory at once.

    Raises:
        StoreError: the helper failed (its error output is in the message).
    """
    size = size or BATCH
    newest = conn.execute("SELECT max(id) FROM articles").fetchone()[0] or 0
    if path is None or str(path) == ":memory:" or newest < HELPER_MIN_ARTICLES:
        last = 0
        while rows := conn.execute(_SELECT, [last, size]).fetchall():
            last = rows[-1][0]
            yield prepared(rows)
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
        try:
            while True:
                try:
                    batch: Prepared = pickle.load(helper.stdout)
                except EOFError:
                    helper.wait()
                    errors.seek(0)
                    output = errors.read().decode("utf-8", "replace").strip()
                    logger.error("reindex helper output:\n%s", output)
                    last_line = output.splitlines()[-1] if output else "no output"
                    raise StoreError(
                        f"the reindex helper stopped (exit {helper.returncode}): {last_line}"
                    ) from None
                if not batch[0]:
                    return
                yield batch
        finally:
            if helper.poll() is None:
                helper.kill()
            helper.wait()
            helper.stdout.close()
