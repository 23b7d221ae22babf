"""Item pipelines: hand raw pages to the processing pipeline and keep per-site run counts."""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.health import BLOCKED_STAT, HealthOptions, evaluate_run, send_alerts
from crawler.incremental_crawl import NotModifiedItem
from pipeline.ingest import ingest_page
from pipeline.store import Store

from .items import FetchFailureItem, PageItem

logger = logging.getLogger(__name__)

# How each ingest outcome counts in crawl_runs.
OUTCOME_COUNTERS = {
    "new": "articles_new",
    "updated": "articles_updated",
    "duplicate": "duplicates",
    "failure": "failures",
}


class StorePipeline:
    """Write every page (and its article or failure) to the SQLite database ``DANGJIAN_DB``.

    Opens one ``crawl_runs`` row per site when the spider opens and closes each with its
    counts and a status: ``ok``, ``partial`` (some pages failed, or the crawl was cut
    short) or ``failed`` (no page could be fetched).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_path = crawler.settings.get("DANGJIAN_DB")
        self.store: Store | None = None
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        # Pages a resumed run stored before it was killed: not stored a second time.
        self.stored: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        # Pipelines close before the close reason is known; the run is finished on the
        # spider_closed signal, which carries it ("finished", "shutdown", ...).
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        self.store = Store(self.db_path)
        self.store.save_sites(site.raw for site in spider.sites)
        started = {
            r["site_id"]
            for r in self.store.db["crawl_runs"].rows_where("run_id = ?", [spider.run_id])
        }
        if started:
            self._resume(spider.run_id)
        self.store.start_run(spider.run_id, [s.id for s in spider.sites if s.id not in started])
        logger.info(
            "run %s: crawling %d site(s) into %s", spider.run_id, len(spider.sites), self.db_path
        )

    def process_item(self, item: Any, spider: Any = None) -> Any:
        assert self.store is not None
        stats = self.crawler.stats
        if isinstance(item, FetchFailureItem):
            self.store.save_failure(
                url=item.url,
                stage="fetch",
                reason=item.reason,
                site_id=item.site_id,
                run_id=item.run_id,
            )
            self.counts[item.site_id]["failures"] += 1
            stats.inc_value("dangjian/outcome/failure")
            logger.warning("fetch failed %s: %s", item.url, item.reason)
            return item
        if isinstance(item, NotModifiedItem):
            self.store.note_not_modified(item.url, item.fetched_at, item.run_id)
            self.counts[item.site_id]["not_modified"] += 1
            stats.inc_value("dangjian/outcome/not-modified")
            return item
        if isinstance(item, PageItem) and item.page.url in self.stored:
            stats.inc_value("dangjian/resume/already_stored")
            return item
        if isinstance(item, PageItem):
            outcome = ingest_page(self.store, item.page)
            counts = self.counts[item.page.site_id]
            counts["pages"] += 1
            if outcome.kind in OUTCOME_COUNTERS:
                counts[OUTCOME_COUNTERS[outcome.kind]] += 1
            stats.inc_value(f"dangjian/outcome/{outcome.kind}")
            if outcome.kind == "failure":
                logger.warning("failed %s: %s", item.page.url, outcome.reason)
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.store is None:
            return
        stats = self.crawler.stats
        options = HealthOptions.from_settings(self.crawler.settings)
        for site in spider.sites:
            counts = self.counts[site.id]
            blocked = stats.get_value(BLOCKED_STAT.format(site.id))
            if blocked:
                status, why = "blocked", f"anti-bot challenge: {blocked}"
            elif reason != "finished":
                status = "partial" if counts["pages"] else "failed"
                why = f"crawl stopped early: {reason}"
            elif counts["pages"] == 0:
                status, why = "failed", "no page could be fetched"
            elif counts["failures"]:
                status, why = "partial", f"{counts['failures']} page(s) failed; see failures"
            else:
                status, why = "ok", None
            self.store.finish_run(spider.run_id, site.id, counts, status, why)
            alerts = evaluate_run(
                self.store.db,
                spider.run_id,
                site.id,
                stats.get_value(f"dangjian/links/article/{site.id}", 0),
                options,
            )
            listed = [{"kind": a.kind, "message": a.message} for a in alerts]
            self.store.update_run(
                spider.run_id,
                site.id,
                not_modified=counts["not_modified"],
                alerts=json.dumps(listed, ensure_ascii=False) if alerts else None,
            )
            send_alerts(alerts, self.crawler.settings.get("DANGJIAN_ALERT_WEBHOOK") or None)
        self.store.close()

    def _resume(self, run_id: str) -> None:
        """Carry on an interrupted run: its counts so far, and the pages it already stored."""
        assert self.store is not None
        db = self.store.db
        self.stored = {
            r["url"] for r in db.query("select url from pages where run_id = ?", [run_id])
        }
        for row in db.query(
            "select site_id, outcome, count(*) as n from pages "
            "where run_id = ? group by site_id, outcome",
            [run_id],
        ):
            counts = self.counts[row["site_id"]]
            counts["pages"] += row["n"]
            if row["outcome"] in OUTCOME_COUNTERS:
                counts[OUTCOME_COUNTERS[row["outcome"]]] += row["n"]
        for row in db.query(
            "select site_id, count(*) as n from failures where run_id = ? "
            "and stage = 'fetch' group by site_id",
            [run_id],
        ):
            self.counts[row["site_id"]]["failures"] += row["n"]
        logger.info("run %s: resuming after %d stored page(s)", run_id, len(self.stored))
