"""Incremental crawling: know what is stored, ask only for what changed.

Three rules, all read from the news database the crawl writes to:

* **Known articles are not fetched again** when a list page links them, unless they are
  due for a revisit: published (or first seen) within ``DANGJIAN_REVISIT_DAYS`` and not seen
  for ``DANGJIAN_REVISIT_AFTER`` seconds. Due articles are also requested straight from the
  database at the start of a run, so edits and takedowns are caught after the article has
  dropped off the first list page (``pipeline.ingest`` records revisions and takedowns).
* **Paging down a column stops** at a list page whose article links are all known, once the
  site has had one complete crawl (so an interrupted first crawl still reaches the end).
* **Conditional requests**: ``ConditionalRequestMiddleware`` sends the stored page's ETag and
  Last-Modified as ``If-None-Match`` / ``If-Modified-Since``; a ``304`` reaches the spider,
  which hands on a ``NotModifiedItem`` (counted, nothing re-extracted).

``DANGJIAN_INCREMENTAL = False`` turns all three off.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from pipeline.dedupe import canonical_url, url_variants

logger = logging.getLogger(__name__)


@dataclass
class NotModifiedItem:
    """An article that answered 304 Not Modified to a conditional request."""

    url: str
    site_id: str
    run_id: str
    fetched_at: str


@dataclass(frozen=True)
class KnownArticle:
    """What the database holds about one article URL."""

    url: str
    last_seen: str
    due: bool
    etag: str | None
    last_modified: str | None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class IncrementalState:
    """Read-only view of the database for incremental decisions during one crawl.

    Opened lazily, because the store pipeline creates and migrates the database only when
    the spider opens.

    Args:
        db_path: the news database.
        revisit_after: seconds after which a recent article is fetched again.
        revisit_days: how recent (published, else first seen) an article must be to be revisited.
        revisit_max: most articles revisited per site and run.
    """

    def __init__(
        self,
        db_path: str,
        revisit_after: float = 3 * 86400,
        revisit_days: int = 30,
        revisit_max: int = 200,
        enabled: bool = True,
    ) -> None:
        self.db_path = db_path
        self.revisit_after = revisit_after
        self.revisit_days = revisit_days
        self.revisit_max = revisit_max
        self.enabled = enabled
        self._conn: sqlite3.Connection | None = None
        self._full: dict[str, bool] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> IncrementalState:
        return cls(
            settings.get("DANGJIAN_DB"),
            revisit_after=settings.getfloat("DANGJIAN_REVISIT_AFTER", 3 * 86400),
            revisit_days=settings.getint("DANGJIAN_REVISIT_DAYS", 30),
            revisit_max=settings.getint("DANGJIAN_REVISIT_MAX", 200),
            enabled=settings.getbool("DANGJIAN_INCREMENTAL", True),
        )

    def _db(self) -> sqlite3.Connection | None:
        if self._conn is None:
            if not self.enabled or not Path(self.db_path).exists():
                return None
            self._conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
            self._conn.row_factory = sqlite3.Row
        return self._conn

    def _query(self, sql: str, params: list[Any]) -> list[sqlite3.Row]:
        conn = self._db()
        if conn is None:
            return []
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:  # a database from before the migrations
            logger.debug("incremental look-up skipped: %s", exc)
            return []

    def _cutoffs(self) -> tuple[str, str]:
        now = datetime.now(UTC)
        since = (now + timedelta(hours=8) - timedelta(days=self.revisit_days)).strftime("%Y-%m-%d")
        return since, _utc(now - timedelta(seconds=self.revisit_after))

    def known(self, url: str) -> KnownArticle | None:
        """Return the stored article at ``url`` (any http/https, slash variant), or None."""
        variants = url_variants(canonical_url(url))
        since, seen_before = self._cutoffs()
        rows = self._query(
            "select a.url, a.last_seen, p.headers, "
            "coalesce(substr(a.published, 1, 10), substr(a.first_seen, 1, 10)) >= ? "
            "and a.last_seen <= ? as due from articles a left join pages p on p.id = a.page_id "
            f"where a.url in ({', '.join('?' * len(variants))}) order by a.id limit 1",
            [since, seen_before, *variants],
        )
        if not rows:
            # A link that redirects to the article: the stored page keeps the link's URL.
            rows = self._query(
                "select a.url, a.last_seen, p.headers, "
                "coalesce(substr(a.published, 1, 10), substr(a.first_seen, 1, 10)) >= ? "
                "and a.last_seen <= ? as due from pages p join articles a on a.page_id = p.id "
                "where p.url = ? order by p.id desc limit 1",
                [since, seen_before, url],
            )
        if not rows:
            # Fetched before without giving an article: attachments and non-articles are not
            # fetched again; failures are (due), but still count as known for paging.
            pages = self._query(
                "select fetched_at, outcome from pages where url = ? order by id desc limit 1",
                [url],
            )
            if not pages:
                return None
            due = pages[0]["outcome"] not in ("attachment", "not-article")
            return KnownArticle(url, pages[0]["fetched_at"], due, None, None)
        row = rows[0]
        headers = json.loads(row["headers"] or "{}")
        return KnownArticle(
            row["url"],
            row["last_seen"],
            bool(row["due"]),
            headers.get("etag"),
            headers.get("last-modified"),
        )

    def due_revisits(self, site_id: str) -> list[str]:
        """Return the site's recent articles not seen for ``revisit_after``, oldest first."""
        since, seen_before = self._cutoffs()
        return [
            r["url"]
            for r in self._query(
                "select url from articles where site_id = ? and taken_down_at is null "
                "and coalesce(substr(published, 1, 10), substr(first_seen, 1, 10)) >= ? "
                "and last_seen <= ? order by last_seen limit ?",
                [site_id, since, seen_before, self.revisit_max],
            )
        ]

    def has_full_crawl(self, site_id: str) -> bool:
        """Return True once the site has had a crawl that ran to its end."""
        if site_id not in self._full:
            self._full[site_id] = bool(
                self._query(
                    "select 1 from crawl_runs where site_id = ? and finished_at is not null "
                    "and status in ('ok', 'partial') "
                    "and (reason is null or reason not like 'crawl stopped early%') limit 1",
                    [site_id],
                )
            )
        return self._full[site_id]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class ConditionalRequestMiddleware:
    """Send stored validators with article requests and let a 304 through to the spider."""

    def __init__(self, crawler: Crawler, state: IncrementalState) -> None:
        self.crawler = crawler
        self.state = state

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        if not crawler.settings.getbool("DANGJIAN_INCREMENTAL", True):
            raise NotConfigured
        return cls(crawler, IncrementalState.from_settings(crawler.settings))

    def process_request(self, request: Request) -> None:
        if request.meta.get("kind") != "article" or b"If-None-Match" in request.headers:
            return None
        known = self.state.known(request.url)
        if known is None or not (known.etag or known.last_modified):
            return None
        if known.etag:
            request.headers[b"If-None-Match"] = known.etag
        if known.last_modified:
            request.headers[b"If-Modified-Since"] = known.last_modified
        statuses = request.meta.get("handle_httpstatus_list") or []
        request.meta["handle_httpstatus_list"] = [*statuses, 304]
        self.crawler.stats.inc_value("dangjian/incremental/conditional")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 304:
            self.crawler.stats.inc_value("dangjian/incremental/not_modified")
        return response
