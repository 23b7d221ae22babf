"""Downloader middlewares."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

logger = logging.getLogger(__name__)


class HostGuardMiddleware:
    """Drop any request whose host is not one of its site's allowed hosts.

    The spider already filters links; this is the guarantee, and it also catches
    redirects that point off-site. Requests without a ``site_id`` (robots.txt) pass.
    A redirect to another allowed host (a sibling or successor domain) is followed and
    logged at INFO; a refused redirect is logged at WARNING.
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
        redirected_from = (request.meta.get("redirect_urls") or [None])[-1]
        if not sites[site_id].allows(request.url):
            self.stats.inc_value("dangjian/offsite_blocked")
            if redirected_from:
                # A site that moved to a domain the registry does not know: say so loudly,
                # the entry's allowed_hosts needs the new domain once it is confirmed.
                self.stats.inc_value("dangjian/redirect/offsite_blocked")
                logger.warning(
                    "refused redirect of site %s from %s to %s: host not in allowed_hosts",
                    site_id,
                    redirected_from,
                    request.url,
                )
            else:
                logger.debug("blocked off-site request %s for site %s", request.url, site_id)
            raise IgnoreRequest(f"{request.url} is outside the allowed hosts of {site_id}")
        if redirected_from and _host(redirected_from) != _host(request.url):
            # A known sibling or successor domain (fx361.com -> fx361.cc): follow, but log it,
            # so a permanent move is noticed and the start URLs can be updated.
            self.stats.inc_value("dangjian/redirect/other_host")
            logger.info(
                "followed redirect of site %s from %s to %s (allowed host)",
                site_id,
                redirected_from,
                request.url,
            )
        return None


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
