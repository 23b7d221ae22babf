"""Extensions: a progress display."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from tqdm import tqdm

logger = logging.getLogger(__name__)


class CrawlProgress:
    """Show pages, articles, failures and rate while crawling.

    On a terminal a single tqdm line; elsewhere a plain log line every
    ``DANGJIAN_PROGRESS_INTERVAL`` seconds. ``DANGJIAN_PROGRESS`` = auto | on | off.
    """

    def __init__(self, crawler: Crawler, tty: bool, interval: float) -> None:
        self.stats = crawler.stats
        self.tty = tty
        self.interval = interval
        self.bar: tqdm | None = None
        self.last_log = time.monotonic()
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        mode = crawler.settings.get("DANGJIAN_PROGRESS", "auto")
        if mode == "off":
            raise NotConfigured
        tty = mode == "on" or sys.stderr.isatty()
        ext = cls(crawler, tty, crawler.settings.getfloat("DANGJIAN_PROGRESS_INTERVAL", 10.0))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _figures(self) -> dict[str, Any]:
        get = self.stats.get_value
        pages = sum(
            get(f"dangjian/outcome/{k}", 0)
            for k in (
                "list",
                "attachment",
                "not-article",
                "new",
                "updated",
                "unchanged",
                "duplicate",
            )
        )
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return {
            "pages": pages,
            "articles": get("dangjian/outcome/new", 0) + get("dangjian/outcome/duplicate", 0),
            "failures": get("dangjian/outcome/failure", 0),
            "rate": f"{pages / elapsed:.1f}/s",
        }

    def item_scraped(self, item: Any = None, **kwargs: Any) -> None:
        figures = self._figures()
        if self.tty:
            if self.bar is None:
                self.bar = tqdm(desc="crawl", unit=" pages", dynamic_ncols=True, leave=True)
            self.bar.n = figures["pages"]
            self.bar.set_postfix(
                articles=figures["articles"], failures=figures["failures"], refresh=False
            )
            self.bar.refresh()
        elif time.monotonic() - self.last_log >= self.interval:
            self.last_log = time.monotonic()
            logger.info(
                "progress: %(pages)d pages, %(articles)d new articles, "
                "%(failures)d failures, %(rate)s",
                figures,
            )

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.bar is not None:
            self.bar.close()
        logger.info(
            "done: %(pages)d pages, %(articles)d new articles, %(failures)d failures, %(rate)s",
            self._figures(),
        )
