"""Run the news spider in this process (used by ``dangjian crawl``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils
from scrapy.crawler import CrawlerProcess

from crawler.pipelines import FATAL_KIND_STAT, FATAL_STAT
from crawler.process import crawl_settings
from crawler.registry import load_registry, select_sites
from crawler.spiders.news import NewsSpider, new_run_id
from ops.jobs import SiteLocks, jobs_dir, recover_interrupted
from ops.schedule import due_sites
from pipeline.errors import DiskFullError, StoreError
from pipeline.store import runs

logger = logging.getLogger(__name__)


def crawl_sites(
    db_path: str,
    site_ids: Iterable[str] = (),
    *,
    sample: bool = False,
    sites_path: str | None = None,
    settings: Mapping[str, Any] | None = None,
    due: bool = False,
) -> str | None:
    """Crawl the selected sites into ``db_path`` and return the run id.

    With ``due``, only the sites whose schedule makes them due (ops/schedule.py).
    Sites another process is crawling are skipped (ops/jobs.py); returns None when no
    site is left to crawl.

    Raises:
        SiteConfigError: the registry is invalid or names an unknown site.
        StoreError: the database could not take a write (``DiskFullError`` for a full disk);
            the crawl stopped, everything committed is kept and the next crawl resumes.
    """
    site_ids = list(site_ids)
    # Validate the selection before starting the reactor, so a typo is a clear error.
    sites = select_sites(load_registry(sites_path), site_ids, sample)
    if due:
        sites = due_sites(db_path, sites)
    merged = dict(settings or {})
    locks = SiteLocks(
        jobs_dir(
            db_path,
            merged.get("DANGJIAN_JOBS_DIR") or crawl_settings(db_path).get("DANGJIAN_JOBS_DIR"),
        )
    )
    busy = locks.acquire(s.id for s in sites)
    for site_id in busy:
        logger.warning("site %s is being crawled by another process; skipped", site_id)
    ids = [s.id for s in sites if s.id not in busy]
    if not ids:
        locks.release()
        return None
    try:
        # A run killed (SIGKILL, power loss) before it finished is carried on, not redone.
        run_id = recover_interrupted(db_path, ids) or new_run_id()
        merged["DANGJIAN_RUN_ID"] = run_id
        process = CrawlerProcess(crawl_settings(db_path, sites_path, merged))
        crawler = process.create_crawler(NewsSpider)
        process.crawl(crawler, sites=",".join(ids), sample="1" if sample else "")
        process.start()
    finally:
        locks.release()
    fatal = crawler.stats.get_value(FATAL_STAT)
    if fatal:
        kind = (
            DiskFullError
            if crawler.stats.get_value(FATAL_KIND_STAT) == "DiskFullError"
            else StoreError
        )
        raise kind(fatal)
    return run_id


def run_summary(db_path: str, run_id: str) -> list[dict[str, Any]]:
    """Return the crawl_runs rows of one run, one per site."""
    db = sqlite_utils.Database(db_path)
    try:
        return runs.run_rows(db, run_id)
    finally:
        db.close()


def summary_table(rows: list[dict[str, Any]]) -> str:
    """Return the table ``dangjian crawl`` prints after a run: a header, then one line per site."""
    lines = [
        f"{'site':<22} {'status':<8} {'pages':>6} {'new':>5} {'dupes':>6} {'fail':>5} {'304':>5}"
    ]
    for r in rows:
        lines.append(
            f"{r['site_id']:<22} {r['status']:<8} {r['pages'] or 0:>6} "
            f"{r['articles_new'] or 0:>5} {r['duplicates'] or 0:>6} {r['failures'] or 0:>5} "
            f"{r.get('not_modified') or 0:>5}"
        )
    return "\n".join(lines)


def run_failed(rows: list[dict[str, Any]]) -> bool:
    """Return whether any site's run in ``rows`` failed (``dangjian crawl`` then exits 1)."""
    return any(r["status"] == "failed" for r in rows)
