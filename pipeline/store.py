"""The one module that writes to SQLite: schema, migrations and writes, through sqlite-utils.

Every page is written in its own transaction (page row, article row, failure row together),
in WAL mode, so a crawl killed at any point leaves a database that opens and passes
``PRAGMA integrity_check`` with everything committed so far.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from pipeline.errors import StoreError
from pipeline.model import RawPage

logger = logging.getLogger(__name__)

migrations = Migrations("dangjian")


@migrations(name="0001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    db["sites"].create(
        {
            "id": str,
            "name": str,
            "level": str,
            "province": str,
            "city": str,
            "district": str,
            "home_url": str,
            "start_urls": str,
            "enabled": int,
            "sample": int,
        },
        pk="id",
        not_null={"name"},
    )
    db["crawl_runs"].create(
        {
            "run_id": str,
            "site_id": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "pages": int,
            "articles_new": int,
            "articles_updated": int,
            "duplicates": int,
            "failures": int,
            "reason": str,
        },
        pk=("run_id", "site_id"),
        foreign_keys=[("site_id", "sites", "id")],
    )
    db["pages"].create(
        {
            "id": int,
            "url": str,
            "final_url": str,
            "site_id": str,
            "run_id": str,
            "kind": str,
            "status": int,
            "content_type": str,
            "headers": str,
            "body": bytes,
            "body_size": int,
            "body_sha1": str,
            "fetched_at": str,
            "outcome": str,
            "reason": str,
        },
        pk="id",
        not_null={"url", "fetched_at"},
        foreign_keys=[("site_id", "sites", "id")],
    )
    db["pages"].create_index(["url"])
    db["pages"].create_index(["site_id", "run_id"])
    db["articles"].create(
        {
            "id": int,
            "url": str,
            "site_id": str,
            "title": str,
            "published": str,
            "published_month": str,
            "published_year": str,
            "source": str,
            "author": str,
            "editor": str,
            "column_name": str,
            "keywords": str,
            "script": str,
            "text": str,
            "title_original": str,
            "text_original": str,
            "encoding": str,
            "site_name": str,
            "flags": str,
            "content_hash": str,
            "duplicate_of": int,
            "page_id": int,
            "run_id": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk="id",
        not_null={"url", "site_id"},
        foreign_keys=[
            ("site_id", "sites", "id"),
            ("page_id", "pages", "id"),
            ("duplicate_of", "articles", "id"),
        ],
    )
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["content_hash"])
    db["articles"].create_index(["published"])
    db["articles"].create_index(["site_id", "published"])
    db["failures"].create(
        {
            "id": int,
            "run_id": str,
            "site_id": str,
            "url": str,
            "stage": str,
            "reason": str,
            "http_status": int,
            "at": str,
        },
        pk="id",
        not_null={"url", "stage", "reason"},
    )
    db["failures"].create_index(["run_id", "site_id"])


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
            migrations.apply(self.db)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"cannot open database {self.path}: {exc}. "
                "Check the path, or delete the file if it is not a dangjian database."
            ) from exc

    def close(self) -> None:
        self.db.close()

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

    def finish_run(self, run_id: str, site_id: str, counts: Mapping[str, int], status: str,
                   reason: str | None = None) -> None:
        """Record a site's counts and final status for a run."""
        with self.db.atomic():
            self.db["crawl_runs"].upsert(
                {
                    "run_id": run_id,
                    "site_id": site_id,
                    "finished_at": utc_now(),
                    "status": status,
                    "reason": reason,
                    **{k: int(counts.get(k, 0)) for k in (
                        "pages", "articles_new", "articles_updated", "duplicates", "failures")},
                },
                pk=("run_id", "site_id"),
            )

    # -- pages, articles, failures --------------------------------------------------------

    def save_page(self, page: RawPage, outcome: str, reason: str | None = None) -> int:
        """Insert a fetched page with its body zlib-compressed; return its row id."""
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

    def save_failure(self, *, url: str, stage: str, reason: str, site_id: str = "",
                     run_id: str = "", http_status: int | None = None) -> None:
        """Record a page that could not be fetched or processed, with the reason."""
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

    def save_article(self, row: dict[str, Any]) -> ArticleWrite:
        """Insert or update the article keyed on ``row["url"]`` (its canonical URL).

        ``row`` holds the articles columns; ``content_hash`` decides whether an existing
        article changed. ``duplicate_of`` is set to the earliest other article with the
        same content hash.
        """
        table = self.db["articles"]
        now = row.get("last_seen") or utc_now()
        existing = next(iter(self.db.query(
            "select id, content_hash from articles where url = ?", [row["url"]])), None)
        dup = next(iter(self.db.query(
            "select id from articles where content_hash = ? and url != ? order by id limit 1",
            [row["content_hash"], row["url"]])), None)
        duplicate_of = dup["id"] if dup else None
        row = {**row, "duplicate_of": duplicate_of, "last_seen": now}
        if existing is None:
            table.insert({**row, "first_seen": now})
            return ArticleWrite(int(table.last_pk), "new", duplicate_of)
        change = "unchanged" if existing["content_hash"] == row["content_hash"] else "updated"
        if change == "unchanged":
            table.update(existing["id"], {"last_seen": now, "page_id": row.get("page_id"),
                                          "run_id": row.get("run_id")})
        else:
            table.update(existing["id"], row)
        return ArticleWrite(int(existing["id"]), change, duplicate_of)

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
