"""Summaries that answer counts and facets without scanning a table (issue 14).

Migration ``0006_summaries`` created three tables and the triggers that keep them exact on
every write, whichever code path makes it (a new article, a revision, a takedown, a region
or cluster change, a reindex):

* ``_counts``: rows per table (sqlite-utils' cached-counts table), for the database page;
* ``article_counts``: articles per ``CUBE_COLUMNS`` value combination, so the articles table's
  count and facets, filtered by any of those columns, are a sum over a few thousand rows;
* ``term_counts``: per term, month, site and province, the articles mentioning the term and
  its mentions (``article_terms JOIN articles`` grouped), for the term canned queries;
* ``reprint_pairs``: per pair of sites, the reprints of the one's articles by the other and
  the sum and number of their delays in days, for ``reprint_network``;
* ``_data_version``: a number every change moves on, for HTTP ETags (``data_version``).

Bulk rebuilds (``dangjian reindex``, backfills) run inside :func:`paused`: the triggers stand
aside while millions of rows change, and :func:`rebuild` recomputes everything at the end, in
the same transaction, so readers see the old summaries or the new ones.

The plugin reads through :func:`table_counts`, :func:`count_sql` and :func:`facet_sql`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

COUNTED_TABLES = (
    "articles",
    "article_bands",
    "article_minhash",
    "article_revisions",
    "article_terms",
    "clusters",
    "crawl_runs",
    "failures",
    "pages",
    "sites",
)
"""Tables whose row count ``_counts`` keeps."""
CUBE_COLUMNS = (
    "published_month",
    "published_year",
    "site_id",
    "level",
    "province",
    "city",
    "reprint",
)
"""The articles columns ``article_counts`` is grouped by (``reprint``: duplicate_of is set)."""
FACETS_INDEX = "idx_articles_facets"
"""Covering index of the cube columns by article id: facets of a set of ids without row reads."""

_CUBE = ", ".join(CUBE_COLUMNS)
# A reprint's delay in days (whole days: publication dates without the time).
_DELAY = "julianday(substr(r.published, 1, 10)) - julianday(substr(o.published, 1, 10))"
_REBUILD = (
    "DELETE FROM article_counts",
    f"INSERT INTO article_counts ({_CUBE}, articles) SELECT {_CUBE}, count(*) "
    f"FROM articles INDEXED BY {FACETS_INDEX} GROUP BY {_CUBE}",
    "DELETE FROM term_counts",
    "INSERT INTO term_counts (term, published_month, site_id, province, articles, mentions) "
    "SELECT t.term, a.published_month, a.site_id, a.province, count(*), sum(t.count) "
    f"FROM article_terms t JOIN articles a INDEXED BY {FACETS_INDEX} ON a.id = t.article_id "
    "GROUP BY t.term, a.published_month, a.site_id, a.province",
    "DELETE FROM reprint_pairs",
    "INSERT INTO reprint_pairs (original_site, reprinting_site, reprints, delay_days, delays) "
    f"SELECT o.site_id, r.site_id, count(*), coalesce(sum({_DELAY}), 0), count({_DELAY}) "
    "FROM articles r JOIN articles o ON o.id = r.duplicate_of WHERE r.site_id != o.site_id "
    "GROUP BY o.site_id, r.site_id",
)


def rebuild(conn: sqlite3.Connection) -> None:
    """Recompute every summary from the stored rows, in the caller's transaction."""
    for sql in _REBUILD:
        conn.execute(sql)
    for table in COUNTED_TABLES:
        conn.execute(
            f'INSERT INTO _counts ("table", count) VALUES (?, (SELECT count(*) FROM [{table}])) '
            'ON CONFLICT ("table") DO UPDATE SET count = excluded.count',
            [table],
        )
    conn.execute("UPDATE _data_version SET version = version + 1")


@contextmanager
def paused(conn: sqlite3.Connection) -> Iterator[None]:
    """Within this block the summary triggers do nothing; on success, :func:`rebuild`.

    Use it inside one transaction around a bulk change (the pause row is part of it, so a
    rollback or a crash leaves the triggers on and the summaries as they were).
    """
    conn.execute("INSERT INTO _summaries_paused (reason) VALUES ('bulk rebuild')")
    try:
        yield
    finally:
        conn.execute("DELETE FROM _summaries_paused")
    rebuild(conn)


def data_version(conn: sqlite3.Connection) -> int | None:
    """A number that moves on with every committed change (None before 0006_summaries).

    The triggers bump it on every insert, update and delete of the tables the writer fills,
    and a bulk rebuild once at its end; it starts at a random value per database.
    """
    try:
        row = conn.execute("SELECT version FROM _data_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table, as the triggers keep them (no table is scanned)."""
    try:
        return dict(conn.execute('SELECT "table", count FROM _counts').fetchall())
    except sqlite3.OperationalError:  # a database from before 0006_summaries
        return {}


Filters = Sequence[tuple[str, Any]]
"""``(column, value)`` pairs, ANDed: each column must be in ``CUBE_COLUMNS``."""


def _where(filters: Filters) -> tuple[str, list[Any]]:
    unknown = {column for column, _ in filters} - set(CUBE_COLUMNS)
    if unknown:
        raise ValueError(f"not in article_counts: {sorted(unknown)}")
    clauses = [f"{column} = ?" for column, _ in filters]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", [v for _, v in filters]


def count_sql(filters: Filters) -> tuple[str, list[Any]]:
    """SQL and parameters for the number of articles whose cube columns equal ``filters``."""
    where, params = _where(filters)
    return f"SELECT coalesce(sum(articles), 0) FROM article_counts{where}", params


def facet_sql(column: str, filters: Filters, limit: int) -> tuple[str, list[Any]]:
    """SQL and parameters for Datasette's facet rows (``value``, ``count``) of ``column``.

    The same rows, in the same order, as Datasette's own facet query over the articles that
    match ``filters``: most articles first, then by value; NULL left out.
    """
    if column not in CUBE_COLUMNS:
        raise ValueError(f"not in article_counts: {column}")
    where, params = _where(filters)
    where += (" AND " if where else " WHERE ") + f"{column} IS NOT NULL"
    return (
        f"SELECT {column} AS value, sum(articles) AS count FROM article_counts{where} "
        f"GROUP BY {column} ORDER BY count DESC, value LIMIT {int(limit)}",
        params,
    )
