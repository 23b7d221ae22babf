"""The one module that writes to SQLite (schema steps live in ``pipeline.store.migrations``).

Every page is written in its own transaction (page row, article row, failure row together),
in WAL mode, so a crawl killed at any point leaves a database that opens and passes
``PRAGMA integrity_check`` with everything committed so far.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import logging
import os
import sqlite3
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from pipeline.dedupe import url_variants
from pipeline.errors import DiskFullError, StoreError
from pipeline.model import RawPage
from pipeline.store import attachments, bulk_index, clusters, reindex, search, summaries
from pipeline.store.migrations import migrations

logger = logging.getLogger(__name__)


def index_article(
    db: sqlite_utils.Database,
    article_id: int,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
) -> None:
    """Keep the search index and term counts of one article in step with its row."""
    fts = search.FTS_TABLE
    if old is not None:
        # A contentless FTS5 table forgets a row only when given the exact tokens it indexed.
        db.execute(
            f"INSERT INTO {fts}({fts}, rowid, title, text) VALUES ('delete', ?, ?, ?)",
            [article_id, *search.article_tokens(old["title"], old.get("doc_number"), old["text"])],
        )
        db.execute("DELETE FROM article_terms WHERE article_id = ?", [article_id])
    db.execute(
        f"INSERT INTO {fts}(rowid, title, text) VALUES (?, ?, ?)",
        [
            article_id,
            *search.article_tokens(new.get("title"), new.get("doc_number"), new.get("text")),
        ],
    )
    db.conn.execute(reindex.REGION_SQL, reindex.region_params(article_id, new))
    db.conn.executemany(reindex.TERMS_SQL, reindex.term_rows(article_id, new))


DISK_FULL_MESSAGE = "database or disk is full"  # SQLite's text for SQLITE_FULL
MAX_PAGES_ENV = "DANGJIAN_DB_MAX_PAGES"
"""Tests only: the most pages the database may grow to (``PRAGMA max_page_count``), so that
a write past it fails as on a full disk (tests/test_faults.py; docs/settings.md)."""


def limit_size(conn: sqlite3.Connection) -> None:
    """Apply ``DANGJIAN_DB_MAX_PAGES`` when set (SQLite keeps it at least the current size)."""
    pages = os.environ.get(MAX_PAGES_ENV, "").strip()
    if pages:
        conn.execute(f"PRAGMA max_page_count = {int(pages)}")


def is_disk_full(exc: BaseException) -> bool:
    """Tell whether ``exc`` (or its cause) is SQLite's SQLITE_FULL or an OS "no space left"."""
    seen: BaseException | None = exc
    for _ in range(10):  # an exception and the ones it was raised from
        if seen is None:
            break
        if isinstance(seen, sqlite3.Error) and (
            getattr(seen, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or DISK_FULL_MESSAGE in str(seen)
        ):
            return True
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def disk_full_error(path: str | Path, exc: BaseException, doing: str = "") -> DiskFullError | None:
    """Return the one-line error a user sees when ``exc`` is a full disk, else None.

    The transaction that hit it was rolled back, so the database holds only whole pages.
    """
    if not is_disk_full(exc):
        return None
    return DiskFullError(
        f"database {path} is full{' while ' + doing if doing else ''}: no room left on its "
        "disk (or DANGJIAN_DB_MAX_PAGES reached). Nothing half-written was kept: free some "
        "space and run the command again; a crawl or import carries on where it stopped."
    )


def _disk_full() -> sqlite3.OperationalError:
    return sqlite3.OperationalError(DISK_FULL_MESSAGE)


def utc_now() -> str:
    """Return the current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ArticleWrite:
    """What ``Store.save_article`` did: the row id and whether it was new, changed or the same."""

    article_id: int
    change: str  # "new" | "updated" | "unchanged"
    duplicate_of: int | None


class Store:
    """A news database: opens (creating and migrating) ``path`` and writes to it.

    Args:
        path: the SQLite file; its folder is created when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            limit_size(self.db.conn)
            migrations.apply(self.db)
            self._run_pending_backfills()
        except (sqlite3.Error, OSError) as exc:
            raise disk_full_error(self.path, exc) or StoreError(
                f"cannot open database {self.path}: {exc}. "
                "Check the path, or delete the file if it is not a dangjian database."
            ) from exc

    def close(self) -> None:
        self.db.close()

    def _run_pending_backfills(self) -> None:
        """Run the data backfills that migrations asked for, with today's code; clear them.

        A migration holds only the SQL it shipped with; filling new tables from existing
        articles needs the current tokeniser, term dictionary and clustering, so a migration
        adds a row to ``pending_backfills`` instead (only when there are articles: a new
        database costs one read here). The work and the clearing of the rows are one
        ``BEGIN IMMEDIATE`` transaction, taken before the rows are read again, so two
        processes opening the database at once do the work once, and a crash leaves the rows
        for the next open. A name this version does not know (a newer one wrote it) stays.
        """
        conn = self.db.conn
        if conn.execute("SELECT 1 FROM pending_backfills LIMIT 1").fetchone() is None:
            return
        done: list[str] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Bulk work: the summary triggers stand aside and the summaries are recomputed.
            with summaries.paused(conn):
                for (name,) in conn.execute(
                    "SELECT name FROM pending_backfills ORDER BY rowid"
                ).fetchall():
                    if name == "clusters":
                        count = clusters.rebuild_clusters(self.db)
                    elif name == "search":
                        count = self._fill_search_index()
                    elif name == "attachments_search":
                        count = attachments.rebuild_index(conn)
                    else:
                        logger.warning("backfill %r is unknown to this version: left pending", name)
                        continue
                    conn.execute("DELETE FROM pending_backfills WHERE name = ?", [name])
                    logger.info("backfill %s done (%d rows) in %s", name, count, self.path)
                    done.append(name)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        if "search" in done:
            bulk_index.optimize(conn)

    def rebuild_search_index(self) -> int:
        """Rebuild the search index and term counts of every article; return the count.

        Needed after the tokeniser or the term dictionary changes (issue 5). One transaction,
        so readers see the old index or the new one; the index is filled in bulk
        (``bulk_index.bulk_mode``) and merged once at the end. The summaries (``_counts``,
        ``article_counts``, ``term_counts``) are recomputed once, not row by row. A large
        database is rebuilt by a process of its own (``reindex.wants_own_process``).
        """
        if reindex.wants_own_process(self.db.conn, self.path):
            return reindex.rebuild_in_own_process(self.path)
        # A helper process reads committed rows only: not while the caller has writes pending.
        helper = not self.db.conn.in_transaction
        try:
            with self.db.atomic(), summaries.paused(self.db.conn):
                count = self._fill_search_index(helper)
            bulk_index.optimize(self.db.conn)
        except (sqlite3.Error, OSError) as exc:
            full = disk_full_error(self.path, exc, "rebuilding the search index")
            if full is None:
                raise
            raise full from exc  # the transaction rolled back: the old index is whole
        return count

    def _fill_search_index(self, helper: bool = True) -> int:
        """Rebuild the index, term counts and region columns, in the caller's transaction.

        One pass over the articles, a batch at a time; a large database's batches are
        prepared by a helper process while this one writes (``reindex.prepared_batches``),
        when ``helper`` says the articles are all committed (the helper reads them itself).
        """
        fts = search.FTS_TABLE
        conn = self.db.conn
        count = 0
        with bulk_index.bulk_mode(conn):
            conn.execute("DELETE FROM article_terms")
            conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('delete-all')")
            path = self.path if helper else None
            for index_rows, region_rows, term_rows in reindex.prepared_batches(conn, path):
                conn.executemany(reindex.INDEX_SQL, index_rows)
                conn.executemany(reindex.REGION_SQL, region_rows)
                conn.executemany(reindex.TERMS_SQL, term_rows)
                count += len(index_rows)
        return count

    # -- sites and runs -------------------------------------------------------------------

    def save_sites(self, sites: Iterable[Mapping[str, Any]]) -> None:
        """Upsert the registry's sites so articles can refer to them."""
        rows = [
            {
                "id": s["id"],
                "name": s["name"],
                "level": s.get("level"),
                "province": s.get("province"),
                "city": s.get("city"),
                "district": s.get("district"),
                "home_url": s.get("home_url") or (s.get("start_urls") or [None])[0],
                "start_urls": json.dumps(list(s.get("start_urls") or []), ensure_ascii=False),
                "enabled": int(bool(s.get("enabled", True))),
                "sample": int(bool(s.get("sample", False))),
            }
            for s in sites
        ]
        with self.db.atomic():
            self.db["sites"].upsert_all(rows, pk="id")

    def site_for_host(self, host: str) -> str | None:
        """Return the id of the stored site whose home or start URLs are on ``host``, if any."""
        for row in self.db.query("select id, home_url, start_urls from sites"):
            urls = [row["home_url"] or "", *json.loads(row["start_urls"] or "[]")]
            if host in {urlsplit(u).hostname for u in urls if u}:
                return str(row["id"])
        return None

    def start_run(self, run_id: str, site_ids: Iterable[str]) -> None:
        """Record that a run of these sites has started (status ``running``)."""
        now = utc_now()
        with self.db.atomic():
            self.db["crawl_runs"].upsert_all(
                [
                    {"run_id": run_id, "site_id": sid, "started_at": now, "status": "running"}
                    for sid in site_ids
                ],
                pk=("run_id", "site_id"),
            )

    def finish_run(
        self,
        run_id: str,
        site_id: str,
        counts: Mapping[str, int],
        status: str,
        reason: str | None = None,
    ) -> None:
        """Record a site's counts and final status for a run."""
        with self.db.atomic():
            self.db["crawl_runs"].upsert(
                {
                    "run_id": run_id,
                    "site_id": site_id,
                    "finished_at": utc_now(),
                    "status": status,
                    "reason": reason,
                    **{
                        k: int(counts.get(k, 0))
                        for k in (
                            "pages",
                            "articles_new",
                            "articles_updated",
                            "duplicates",
                            "failures",
                        )
                    },
                },
                pk=("run_id", "site_id"),
            )

    def update_run(self, run_id: str, site_id: str, **fields: Any) -> None:
        """Set more columns of a site's ``crawl_runs`` row (304 counts, alerts, status)."""
        with self.db.atomic():
            self.db["crawl_runs"].upsert(
                {"run_id": run_id, "site_id": site_id, **fields}, pk=("run_id", "site_id")
            )

    def note_not_modified(self, url: str, seen_at: str, run_id: str) -> int | None:
        """Record that the article at ``url`` answered 304 Not Modified: it is still there.

        Returns the article id, or None when no stored article has that URL.
        """
        variants = url_variants(url)
        row = next(
            iter(
                self.db.query(
                    f"select id from articles where url in ({', '.join('?' * len(variants))}) "
                    "order by id limit 1",
                    variants,
                )
            ),
            None,
        )
        if row is None:
            return None
        with self.db.atomic():
            self.db["articles"].update(
                row["id"], {"last_seen": seen_at, "run_id": run_id, "taken_down_at": None}
            )
        return int(row["id"])

    # -- pages, articles, failures --------------------------------------------------------

    def save_page(self, page: RawPage, outcome: str, reason: str | None = None) -> int:
        """Insert a fetched page with its body zlib-compressed; return its row id.

        Raises:
            DiskFullError: ``reason`` is SQLite's "database or disk is full" (see
                ``_refuse_disk_full``).
        """
        if outcome == "failure":
            self._refuse_disk_full(page.url, reason)
        table = self.db["pages"]
        table.insert(
            {
                "url": page.url,
                "final_url": page.final_url,
                "site_id": page.site_id or None,
                "run_id": page.run_id,
                "kind": page.kind,
                "status": page.status,
                "content_type": page.headers.get("content-type"),
                "headers": json.dumps(page.headers, ensure_ascii=False),
                "body": zlib.compress(page.body, 6),
                "body_size": len(page.body),
                "body_sha1": hashlib.sha1(page.body).hexdigest(),
                "fetched_at": page.fetched_at,
                "outcome": outcome,
                "reason": reason,
            }
        )
        return int(table.last_pk)

    def save_failure(
        self,
        *,
        url: str,
        stage: str,
        reason: str,
        site_id: str = "",
        run_id: str = "",
        http_status: int | None = None,
    ) -> None:
        """Record a page that could not be fetched or processed, with the reason."""
        self._refuse_disk_full(url, reason)
        self.db["failures"].insert(
            {
                "run_id": run_id,
                "site_id": site_id or None,
                "url": url,
                "stage": stage,
                "reason": reason,
                "http_status": http_status,
                "at": utc_now(),
            }
        )

    def _refuse_disk_full(self, url: str, reason: str | None) -> None:
        """Never record a full disk as a page's failure: raise ``DiskFullError`` instead.

        A page that failed because the database could not grow is not a bad page: recorded,
        it would count as stored, and a resumed crawl or a second ``dangjian import`` would
        skip it for good. Refused, the page is simply not stored and is fetched again.
        """
        if reason and DISK_FULL_MESSAGE in reason:
            raise disk_full_error(self.path, _disk_full(), f"storing {url}") or StoreError(reason)

    def save_article(self, row: dict[str, Any]) -> ArticleWrite:
        """Insert or update the article keyed on ``row["url"]`` (its canonical URL).

        ``row`` holds the articles columns; a different ``content_hash`` or title makes the
        page a new revision (``article_revisions`` keeps every version, what changed and
        when). Clusters and ``duplicate_of`` are set afterwards by ``pipeline.store.clusters``.
        """
        table = self.db["articles"]
        now = row.get("last_seen") or utc_now()
        variants = url_variants(row["url"])
        existing = next(
            iter(
                self.db.query(
                    f"select * from articles where url in ({', '.join('?' * len(variants))}) "
                    "order by id limit 1",
                    variants,
                )
            ),
            None,
        )
        row = {**row, "last_seen": now}
        if existing is None:
            table.insert({**row, "first_seen": now, "revision": 1})
            article_id = int(table.last_pk)
            index_article(self.db, article_id, None, row)
            self._save_revision(article_id, 1, None, row, ["new"])
            return ArticleWrite(article_id, "new", None)
        row["url"] = existing["url"]  # the first URL seen stays the key (http/https twins)
        changed = [f for f in ("content_hash", "title") if existing[f] != row.get(f)]
        if not changed:
            table.update(
                existing["id"],
                {
                    "last_seen": now,
                    "page_id": row.get("page_id"),
                    "run_id": row.get("run_id"),
                    "taken_down_at": None,
                },
            )
            return ArticleWrite(int(existing["id"]), "unchanged", existing["duplicate_of"])
        revision = (existing["revision"] or 1) + 1
        table.update(existing["id"], {**row, "revision": revision, "taken_down_at": None})
        index_article(self.db, int(existing["id"]), existing, {**existing, **row})
        self._save_revision(
            int(existing["id"]),
            revision,
            existing,
            row,
            ["text" if f == "content_hash" else f for f in changed],
        )
        return ArticleWrite(int(existing["id"]), "updated", existing["duplicate_of"])

    def _save_revision(
        self,
        article_id: int,
        revision: int,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any],
        changed: list[str],
    ) -> None:
        """Record one version of an article, with a line diff against the previous one."""
        old_lines = (old["text"] or "").splitlines() if old else []
        new_lines = (new.get("text") or "").splitlines()
        diff = (
            [
                d
                for d in difflib.unified_diff(old_lines, new_lines, lineterm="", n=0)
                if d[:1] in "+-" and d[:3] not in ("+++", "---")
            ]
            if old
            else []
        )
        self.db["article_revisions"].insert(
            {
                "article_id": article_id,
                "revision": revision,
                "seen_at": new.get("last_seen"),
                "page_id": new.get("page_id"),
                "run_id": new.get("run_id"),
                "content_hash": new.get("content_hash"),
                "title": new.get("title"),
                "text": new.get("text"),
                "changed": json.dumps(changed),
                "diff": "\n".join(diff) or None,
                "chars_added": sum(len(d) - 1 for d in diff if d.startswith("+")),
                "chars_removed": sum(len(d) - 1 for d in diff if d.startswith("-")),
            }
        )

    def refresh_article(self, article_id: int, fields: Mapping[str, Any]) -> list[str]:
        """Overwrite the extracted fields of an article whose text and title did not change.

        Used by reprocessing, where a better extractor may find an author or a date that the
        first run missed; a changed text or title goes through :meth:`save_article` instead.

        Returns:
            The names of the columns whose value changed (empty when nothing did).
        """
        existing = self.db["articles"].get(article_id)
        changed = {k: v for k, v in fields.items() if k in existing and existing[k] != v}
        if changed:
            self.db["articles"].update(article_id, changed)
            if "doc_number" in changed:  # indexed with the title (search.indexed_title)
                index_article(self.db, article_id, existing, {**existing, **changed})
        return sorted(changed)

    def mark_taken_down(self, url: str, at: str) -> int | None:
        """Mark the article at ``url`` as taken down (its page now answers 404/410).

        The row and its revisions stay; returns the article id, or None for an unknown URL.
        """
        variants = url_variants(url)
        row = next(
            iter(
                self.db.query(
                    f"select id, taken_down_at from articles where url in "
                    f"({', '.join('?' * len(variants))}) order by id limit 1",
                    variants,
                )
            ),
            None,
        )
        if row is None:
            return None
        if not row["taken_down_at"]:
            self.db["articles"].update(row["id"], {"taken_down_at": at})
        return int(row["id"])

    def set_page_outcome(self, page_id: int, outcome: str) -> None:
        """Record what became of a stored page once its article is written (new, duplicate...)."""
        self.db["pages"].update(page_id, {"outcome": outcome})

    def latest_page_ids(self, site_id: str | None = None) -> list[int]:
        """Return the id of the newest stored page of every URL (optionally of one site)."""
        where = "where site_id = ?" if site_id else ""
        sql = (
            f"select max(id) as id from pages {where} group by coalesce(final_url, url) order by id"
        )
        return [row["id"] for row in self.db.query(sql, [site_id] if site_id else [])]

    def raw_pages(self, where: str | None = None, params: Iterable[Any] = ()) -> Iterable[RawPage]:
        """Yield stored pages as ``RawPage`` (body decompressed), for re-extraction."""
        for row in self.db["pages"].rows_where(where, list(params), order_by="id"):
            yield RawPage(
                url=row["url"],
                final_url=row["final_url"] or row["url"],
                status=row["status"],
                headers=json.loads(row["headers"] or "{}"),
                body=zlib.decompress(row["body"]) if row["body"] else b"",
                fetched_at=row["fetched_at"],
                site_id=row["site_id"] or "",
                run_id=row["run_id"] or "",
                kind=row["kind"] or "article",
            )
