"""Downloader middlewares: the host guard and the crawl's limits (docs/operations.md#limits).

A request the crawl refuses for a reason an operator should see (a redirect off the site, a
redirect loop, a column that pages forever, a body over the size limit) fails with a
:class:`FetchFailure`, not Scrapy's ``IgnoreRequest``: the spider's errback records it as one
``fetch`` failure with the message, where an ignored request is only counted.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, ResponseDataLossError
from scrapy.http import Response
from w3lib.url import safe_url_string

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class FetchFailure(Exception):
    """A page the crawl could not or would not take; a ``fetch`` failure with this message."""


class RedirectRefused(FetchFailure):
    """A redirect to a host outside the site's ``allowed_hosts``."""


class RedirectLoop(FetchFailure):
    """A redirect back to a URL of the same chain, or a chain over ``REDIRECT_MAX_TIMES``."""


class ListPageCapReached(FetchFailure):
    """A column with more list pages than ``DANGJIAN_MAX_LIST_PAGES`` (a paging trap)."""


class ResponseTooLarge(FetchFailure):
    """A body over ``DOWNLOAD_MAXSIZE``, as sent or once decompressed (a gzip bomb)."""


class ResponseCutShort(FetchFailure):
    """A body that ended before its ``Content-Length`` (connection reset), retries spent."""


class HostGuardMiddleware:
    """Drop any request whose host is not one of its site's allowed hosts.

    The spider already filters links; this is the guarantee, and it also catches
    redirects that point off-site. Requests without a ``site_id`` (robots.txt) pass.
    A redirect to another allowed host (a sibling or successor domain) is followed and
    logged at INFO; a refused redirect is logged at WARNING and fails with
    :class:`RedirectRefused`.
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
                # A meta-refresh redirect (RedirectGuardMiddleware refuses HTTP ones sooner).
                raise refuse_redirect(self.stats, site_id, redirected_from, request.url)
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


def refuse_redirect(stats: Any, site_id: str, source: str, target: str) -> RedirectRefused:
    """Log and count a redirect off the site; return the failure to raise."""
    # A site that moved to a domain the registry does not know: say so loudly, the
    # entry's allowed_hosts needs the new domain once it is confirmed.
    stats.inc_value("dangjian/offsite_blocked")
    stats.inc_value("dangjian/redirect/offsite_blocked")
    logger.warning(
        "refused redirect of site %s from %s to %s: host not in allowed_hosts",
        site_id,
        source,
        target,
    )
    return RedirectRefused(
        f"redirect from {source} to {target} refused: host not in the allowed_hosts of "
        f"{site_id} (add it to the registry entry if the site moved there)"
    )


class RedirectGuardMiddleware:
    """Refuse a redirect before Scrapy follows it: off the site, in a loop, or too long a chain.

    Runs at 610, so it sees a 3xx answer before ``RedirectMiddleware`` (600) does. Scrapy alone
    would let the duplicate filter drop the second visit of a loop, and drop the 21st hop of
    a chain with an ``IgnoreRequest``: both silently. Here each fails the page once, with the
    chain in the message.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_redirects = crawler.settings.getint("REDIRECT_MAX_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectGuardMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if (
            response.status not in REDIRECT_STATUSES
            or b"Location" not in response.headers
            or request.meta.get("dont_redirect")
            or response.status in request.meta.get("handle_httpstatus_list", ())
        ):
            return response
        location = safe_url_string(response.headers[b"Location"].decode("latin-1"))
        target = urldefrag(urljoin(request.url, location))[0]
        chain = [*request.meta.get("redirect_urls", []), request.url]
        stats = self.crawler.stats
        if target in {urldefrag(u)[0] for u in chain}:
            stats.inc_value("dangjian/redirect/loop")
            raise RedirectLoop(f"redirect loop: {' → '.join([*chain, target])}")
        if len(chain) > self.max_redirects:
            stats.inc_value("dangjian/redirect/too_many")
            raise RedirectLoop(
                f"more than {self.max_redirects} redirects (REDIRECT_MAX_TIMES): "
                f"{chain[0]} → … → {target}"
            )
        site_id = request.meta.get("site_id")
        sites = getattr(self.crawler.spider, "sites_by_id", None) or {}
        if site_id in sites and not sites[site_id].allows(target):
            raise refuse_redirect(stats, site_id, request.url, target)
        return response


class ListPageCapMiddleware:
    """Fetch at most ``DANGJIAN_MAX_LIST_PAGES`` list pages per column and crawl process.

    A column is a site and the folder of its start URL (the spider's ``scope``). An endless
    pagination or a calendar (each day links the next) would otherwise be crawled forever:
    the first list page over the cap fails with :class:`ListPageCapReached` (one ``fetch``
    failure naming the column), the others are dropped quietly. 0 turns the cap off.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.cap = crawler.settings.getint("DANGJIAN_MAX_LIST_PAGES")
        self.pages: dict[tuple[str, str], set[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ListPageCapMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        site_id = request.meta.get("site_id")
        if not self.cap or not site_id or request.meta.get("kind") != "list":
            return None
        key = (site_id, request.meta.get("scope", ""))
        seen = self.pages.setdefault(key, set())
        if request.url in seen:  # a retry or a resumed request, not a new page
            return None
        if len(seen) < self.cap:
            seen.add(request.url)
            return None
        stats = self.crawler.stats
        stats.inc_value("dangjian/list_pages/capped")
        if stats.get_value(f"dangjian/list_pages/capped/{site_id}/{key[1]}"):
            raise IgnoreRequest(f"{request.url}: column over DANGJIAN_MAX_LIST_PAGES")
        stats.set_value(f"dangjian/list_pages/capped/{site_id}/{key[1]}", request.url)
        logger.warning(
            "site %s: column %s has more than %d list pages; stopped at %s",
            site_id,
            key[1] or "(start URL)",
            self.cap,
            request.url,
        )
        raise ListPageCapReached(
            f"column {key[1] or request.url} of {site_id} has more than {self.cap} list pages "
            "(DANGJIAN_MAX_LIST_PAGES): a pagination or calendar trap? Raise the cap for a "
            "deep first crawl"
        )


class BodyLimitMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression, and body failures named for the ``failures`` table.

    Replaces ``HttpCompressionMiddleware`` at 540, below the retries (550), so that its
    ``process_exception`` sees only what the retries gave up on. ``DOWNLOAD_MAXSIZE`` applies
    to the inflated body too: over it, a gzip bomb is a :class:`ResponseTooLarge` instead of
    an ``IgnoreRequest`` nobody sees. Scrapy reports a body stopped at the limit and a body
    cut short by the server with empty messages; they become :class:`ResponseTooLarge` and
    :class:`ResponseCutShort`.
    """

    max_size = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BodyLimitMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        return middleware

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            self._count("dangjian/too_large")
            raise ResponseTooLarge(
                f"body over DOWNLOAD_MAXSIZE ({self._limit(request)} B) once decompressed "
                f"({len(response.body)} B compressed): a compression bomb?"
            ) from exc

    def process_exception(self, request: Request, exception: Exception) -> None:
        # Scrapy cancels a body that grows over the limit with an empty message (one whose
        # Content-Length is over it gets a message; both are over the limit).
        if isinstance(exception, DownloadCancelledError):
            self._count("dangjian/too_large")
            raise ResponseTooLarge(
                f"body over DOWNLOAD_MAXSIZE ({self._limit(request)} B): download stopped"
                + (f" ({exception})" if str(exception) else "")
            ) from exception
        if isinstance(exception, ResponseDataLossError):
            self._count("dangjian/cut_short")
            raise ResponseCutShort(
                "the connection closed before the end of the body (fewer bytes than its "
                f"Content-Length), {request.meta.get('retry_times', 0) + 1} attempt(s)"
            ) from exception
        return None

    def _limit(self, request: Request) -> int:
        return int(request.meta.get("download_maxsize", self.max_size))

    def _count(self, key: str) -> None:
        if self.stats:
            self.stats.inc_value(key)
