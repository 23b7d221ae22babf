"""Item pipelines: hand raw pages to the processing pipeline and keep per-site run counts."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from crawler.incremental_crawl import NotModifiedItem
from pipeline.errors import StoreError
from pipeline.ingest import ingest_page
from pipeline.runs import CrawlRun, HealthOptions
from pipeline.store import Store

from .items import FetchFailureItem, PageItem, SiteBlockedItem

logger = logging.getLogger(__name__)

# Set when the database cannot take a write (disk full...): the crawl stops with this message,
# and ``ops.crawl.crawl_sites`` raises it for the command line.
FATAL_STAT = "dangjian/fatal/error"
FATAL_KIND_STAT = "dangjian/fatal/kind"


class StorePipeline:
    """Write every page (and its article or failure) to the SQLite database ``DANGJIAN_DB``.

    The run itself (its ``crawl_runs`` rows, counts, status, alerts and webhook) is
    ``pipeline.runs.CrawlRun``, shared with the distributed ingester and ``dangjian import``;
    this pipeline only feeds it what Scrapy knows: the close reason, anti-bot blocks
    (``SiteBlockedItem``), article links seen on list pages and 304 answers.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_path = crawler.settings.get("DANGJIAN_DB")
        self.store: Store | None = None
        self.run: CrawlRun | None = None
        self.not_modified: Counter[str] = Counter()
        self.resumed = False

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
        self.run = CrawlRun(
            self.store, spider.run_id, HealthOptions.from_settings(self.crawler.settings)
        )
        self.resumed = bool(self.run.begin(site.raw for site in spider.sites))
        logger.info(
            "run %s: crawling %d site(s) into %s", spider.run_id, len(spider.sites), self.db_path
        )

    def process_item(self, item: Any, spider: Any = None) -> Any:
        assert self.store is not None and self.run is not None
        if self.crawler.stats.get_value(FATAL_STAT):
            return item  # the database cannot take more: the resumed run fetches it again
        try:
            return self._store(item)
        except StoreError as exc:
            # A full disk or a broken database is not one page's problem: stop the whole
            # crawl with its message; what was committed stays, and the next run resumes.
            logger.error("stopping the crawl: %s", exc)
            self.crawler.stats.set_value(FATAL_STAT, str(exc))
            self.crawler.stats.set_value(FATAL_KIND_STAT, type(exc).__name__)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))
            return item

    def _store(self, item: Any) -> Any:
        assert self.store is not None and self.run is not None
        stats = self.crawler.stats
        if isinstance(item, FetchFailureItem):
            with self.store.db.atomic():
                self.store.save_failure(
                    url=item.url,
                    stage="fetch",
                    reason=item.reason,
                    site_id=item.site_id,
                    run_id=item.run_id,
                )
            stats.inc_value("dangjian/outcome/failure")
            logger.warning("fetch failed %s: %s", item.url, item.reason)
            return item
        if isinstance(item, SiteBlockedItem):
            self.run.record_block(item.site_id, item.reason, item.url)
            return item
        if isinstance(item, NotModifiedItem):
            self.store.note_not_modified(item.url, item.fetched_at, item.run_id)
            self.not_modified[item.site_id] += 1
            stats.inc_value("dangjian/outcome/not-modified")
            return item
        if isinstance(item, PageItem):
            if self.resumed and self.run.page_stored(item.page.url, item.page.body):
                stats.inc_value("dangjian/resume/already_stored")
                return item
            outcome = ingest_page(self.store, item.page)
            stats.inc_value(f"dangjian/outcome/{outcome.kind}")
            if outcome.kind == "failure":
                logger.warning("failed %s: %s", item.page.url, outcome.reason)
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.store is None or self.run is None:
            return
        stats = self.crawler.stats
        try:
            for site in spider.sites:
                self.run.finish(
                    site.id,
                    stopped=None if reason == "finished" else reason,
                    article_links=stats.get_value(f"dangjian/links/article/{site.id}", 0),
                    not_modified=self.not_modified[site.id],
                    layout_detail=stats.get_value(f"dangjian/layout/{site.id}"),
                )
        except StoreError as exc:
            # The run stays ``running``: the next crawl of these sites carries it on.
            logger.error("run %s left open: %s", spider.run_id, exc)
            stats.set_value(FATAL_STAT, stats.get_value(FATAL_STAT) or str(exc))
            stats.set_value(FATAL_KIND_STAT, stats.get_value(FATAL_KIND_STAT) or type(exc).__name__)
        finally:
            self.store.close()
