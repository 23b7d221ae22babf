"""Downloader middlewares."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

logger = logging.getLogger(__name__)


class HostGuardMiddleware:
    """Drop any request whose host is not one of its site's allowed hosts.

    The spider already filters links; this is the guarantee, and it also catches
    redirects that point off-site. Requests without a ``site_id`` (robots.txt) pass.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        site_id = request.meta.get("site_id")
        sites = getattr(self.crawler.spider, "sites_by_id", None)
        if not site_id or not sites or site_id not in sites:
            return None
        if not sites[site_id].allows(request.url):
            self.stats.inc_value("dangjian/offsite_blocked")
            logger.debug("blocked off-site request %s for site %s", request.url, site_id)
            raise IgnoreRequest(f"{request.url} is outside the allowed hosts of {site_id}")
        return None
