"""The one generic spider: follows column pages and pagination, fetches article pages.

Everything site-specific comes from the registry (``crawler/sites.yml``); callbacks only
follow links and hand raw pages on. Extraction happens in the item pipeline.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawler.antibot import BLOCKED_STAT
from crawler.incremental_crawl import IncrementalState, NotModifiedItem
from crawler.items import FetchFailureItem, PageItem, SiteBlockedItem
from crawler.links import (
    ATTACHMENT_MAX_BYTES,
    attachment_links,
    column_scope,
    extract_links,
    resolve_link,
)
from crawler.registry import Site, load_registry, select_sites
from pipeline.model import RawPage

# Statuses handed to the callback instead of being dropped, so dead links are recorded.
RECORDED_ERROR_STATUSES = list(range(400, 600))
# Links of a start page quoted in a layout alert (enough to see the URL scheme).
LAYOUT_LINKS = 8


class NewsSpider(scrapy.Spider):
    """Crawl the registry's sites.

    Arguments (``-a``): ``sites`` (comma-separated ids; default: every enabled real site),
    ``sample`` (``1`` to crawl the enabled sample sites instead).
    """

    name = "news"

    def __init__(self, sites: str = "", sample: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requested_ids = [s for s in sites.split(",") if s] if sites else []
        self.sample = sample not in ("", "0", "false", "False")
        self.sites: list[Site] = []
        self.sites_by_id: dict[str, Site] = {}
        self.run_id = ""
        self.blocked_sites: set[str] = set()  # sites whose block was reported (once each)

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Give every site with an explicit ``delay`` its own download slot."""
        super().update_settings(settings)
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        for site in load_registry(settings.get("DANGJIAN_SITES") or None):
            if site.delay is None:
                continue
            for host in site.allowed_hosts:
                slots.setdefault(
                    host.split(":")[0],
                    {
                        "delay": site.delay,
                        "concurrency": settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
                    },
                )
        settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        registry = load_registry(crawler.settings.get("DANGJIAN_SITES") or None)
        spider.sites = select_sites(registry, spider.requested_ids, spider.sample)
        spider.sites_by_id = {s.id: s for s in spider.sites}
        spider.registry = registry
        spider.run_id = crawler.settings.get("DANGJIAN_RUN_ID") or new_run_id()
        spider.incremental = IncrementalState.from_settings(crawler.settings)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        # Sites file by China local date (UTC+8), e.g. e-paper editions.
        today = datetime.now(UTC) + timedelta(hours=8)
        for site in self.sites:
            for url in site.expanded_start_urls(today):
                request = self._request(url, site, "list", column_scope(url))
                request.meta["start_url"] = url  # a start page without articles is reported
                yield request
            # Recent articles not seen for a while: edits, takedowns (incremental_crawl.py).
            for url in self.incremental.due_revisits(site.id):
                self.crawler.stats.inc_value("dangjian/incremental/revisits")
                yield self._request(url, site, "article", "")

    def _request(self, url: str, site: Site, kind: str, scope: str) -> scrapy.Request:
        meta: dict[str, Any] = {
            "site_id": site.id,
            "kind": kind,
            "scope": scope,
            "handle_httpstatus_list": RECORDED_ERROR_STATUSES,
        }
        callback = self.parse_list if kind == "list" else self.parse_article
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            meta=meta,
            cb_kwargs={"site": site},
            priority=1 if kind == "list" else 0,
        )

    def parse_list(self, response: Response, site: Site) -> Iterator[Any]:
        """Hand the list page on, then follow its article links and pagination."""
        yield PageItem(self._raw_page(response, site, "list"))
        start_url = response.meta.get("start_url")
        if response.status >= 400 or not hasattr(response, "text"):
            if start_url:
                self._note_empty_start(site, start_url, response, [], 0)
            return
        stats = self.crawler.stats
        lists, found, known = [], 0, 0
        seen: list[str] = []  # on-site links, named in the layout alert when none is an article
        offsite = 0
        for url, anchor in extract_links(response.text, response.url):
            if not site.allows(url):
                stats.inc_value("dangjian/links/offsite")
                offsite += 1
                continue
            seen.append(url)
            scope = response.meta.get("scope", "")
            kind, url = resolve_link(url, anchor, site, scope)
            if kind == "article":
                found += 1
                stats.inc_value(f"dangjian/links/article/{site.id}")
                article = self.incremental.known(url)
                if article is not None:
                    known += 1
                    if not article.due:
                        stats.inc_value("dangjian/incremental/known_skipped")
                        continue
                yield self._request(url, site, kind, scope)
            elif kind is not None:
                lists.append(self._request(url, site, kind, scope))
        if start_url and not found:
            self._note_empty_start(site, start_url, response, seen, offsite)
        if found and known == found and self.incremental.has_full_crawl(site.id):
            # Every article here is stored already: older pages of this column hold no news.
            stats.inc_value("dangjian/incremental/paging_stopped")
            return
        yield from lists

    def _note_empty_start(
        self, site: Site, start_url: str, response: Response, seen: list[str], offsite: int
    ) -> None:
        """Record a start URL that gave no article link, with the links it did show.

        The run's ``layout`` alert quotes it (stat ``dangjian/layout/<site>``), so an operator
        sees which entry URL or pattern to fix without opening the site.
        """
        where = start_url if response.url == start_url else f"{start_url} (→ {response.url})"
        shown = ", ".join(seen[:LAYOUT_LINKS]) + (" …" if len(seen) > LAYOUT_LINKS else "")
        note = (
            f"start URL {where} (HTTP {response.status}) gave no article link; "
            f"of its {len(seen) + offsite} links ({offsite} off-site) none matched the "
            f"article patterns{': ' + shown if shown else ''}"
        )
        key = f"dangjian/layout/{site.id}"
        earlier = self.crawler.stats.get_value(key)
        self.crawler.stats.set_value(key, f"{earlier}; {note}" if earlier else note)

    def parse_article(self, response: Response, site: Site) -> Iterator[Any]:
        """Hand the article page on; articles are leaves (their sidebars are not followed)."""
        if response.status == 304:  # a conditional request: the stored copy is current
            yield NotModifiedItem(
                response.request.url if response.request else response.url,
                site.id,
                self.run_id,
                self._raw_page(response, site, "article").fetched_at,
            )
            return
        yield PageItem(self._raw_page(response, site, "article"))
        if response.status < 400 and hasattr(response, "text"):
            yield from self._attachment_requests(response, site)

    def _attachment_requests(self, response: Response, site: Site) -> Iterator[scrapy.Request]:
        """Fetch the files an article links on the site's allowed hosts, politely, as pages
        (robots.txt, the per-host budget), up to ``ATTACHMENT_MAX_BYTES`` each."""
        for url, link_text in attachment_links(response.text, response.url):
            if not site.allows(url):
                self.crawler.stats.inc_value("dangjian/links/offsite")
                continue
            self.crawler.stats.inc_value("dangjian/links/attachment")
            yield scrapy.Request(
                url,
                callback=self.parse_attachment,
                errback=self.on_error,
                meta={
                    "site_id": site.id,
                    "kind": "attachment",
                    "referrer": response.url,
                    "link_text": link_text,
                    "download_maxsize": ATTACHMENT_MAX_BYTES,
                    "handle_httpstatus_list": RECORDED_ERROR_STATUSES,
                },
                cb_kwargs={"site": site},
                priority=-1,
            )

    def parse_attachment(self, response: Response, site: Site) -> Iterator[Any]:
        """Hand a file an article links on (the pipeline stores it and reads its text)."""
        yield PageItem(self._raw_page(response, site, "attachment"))

    def on_error(self, failure: Failure) -> Iterator[Any]:
        """Record a request that failed without a response; robots/off-site skips are counted."""
        request = failure.request
        if failure.check(scrapy.exceptions.IgnoreRequest):
            self.crawler.stats.inc_value("dangjian/skipped")
            site_id = request.meta.get("site_id", "")
            blocked = site_id and self.crawler.stats.get_value(BLOCKED_STAT.format(site_id))
            if blocked and site_id not in self.blocked_sites:
                self.blocked_sites.add(site_id)
                yield SiteBlockedItem(
                    url=request.url, site_id=site_id, run_id=self.run_id, reason=blocked
                )
            return
        reason = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        yield FetchFailureItem(
            url=request.url,
            site_id=request.meta.get("site_id", ""),
            run_id=self.run_id,
            reason=reason,
        )

    def _raw_page(self, response: Response, site: Site, kind: str) -> RawPage:
        request_url = (
            response.request.meta.get("redirect_urls", [response.url])[0]
            if response.request is not None
            else response.url
        )
        meta = response.request.meta if response.request is not None else {}
        headers = {
            key.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
            for key, values in response.headers.items()
        }
        return RawPage(
            url=request_url,
            final_url=response.url,
            status=response.status,
            headers=headers,
            body=response.body,
            fetched_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            site_id=site.id,
            run_id=self.run_id,
            kind=kind,
            referrer=meta.get("referrer", ""),
            link_text=meta.get("link_text", ""),
        )


def new_run_id() -> str:
    """Return a sortable, unique run id such as ``20261123T193000Z-3f2a``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(2)
