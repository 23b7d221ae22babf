"""Spiders for adding a site: ``discover`` reads a home page and its candidate columns,
``try`` crawls one list page and three articles per column of a registry entry.

Both run with the project's settings, so they are exactly as polite as a crawl: robots.txt,
the User-Agent, the download delay and AutoThrottle, the per-host concurrency limit and the
host guard (every request carries a ``site_id`` whose ``Site`` lists the allowed hosts).
Neither stores anything: items go to whoever runs the spider (``ops/discover.py``). Their
classes have no ``name`` attribute (it is given when they are built), so Scrapy's spider
loader, ``scrapy list`` and a Scrapyd deployment see only the news spider.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.discovery.columns import (
    Candidate,
    is_party_site,
    load_terms,
    navigation_links,
    party_candidates,
)
from crawler.discovery.identity import site_name
from crawler.discovery.lists import ListAnalysis, analyse_list, list_items, parse
from crawler.links import column_scope, extract_links, resolve_link
from crawler.registry import Site
from crawler.spiders.news import NewsSpider

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = [301, 302, 303, 307, 308]
ERROR_STATUSES = list(range(400, 600))
MAX_REDIRECTS = 5
# A page this short that sends the browser elsewhere is a redirect, not a home page.
META_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]+content\s*=\s*["']?\s*\d+\s*;\s*url\s*=\s*['"]?([^"'>\s]+)""",
    re.I,
)
JS_LOCATION = re.compile(
    r"""(?:window|self|top|document)\.location(?:\.href)?\s*=\s*['"]([^'"]+)['"]|location\.replace\(\s*['"]([^'"]+)['"]""",
    re.I,
)
REDIRECT_PAGE_MAX = 4000
# Requests per site: the home page (and its redirects), candidate columns, second pages.
DEFAULT_MAX_REQUESTS = 30
MAX_CONFIRMATIONS = 3
TRY_ARTICLES = 3


@dataclass
class FetchedPage:
    """One page the discovery fetched (or failed to)."""

    url: str
    final_url: str = ""
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    error: str | None = None


@dataclass
class ColumnCheck:
    """A candidate column, the list page fetched for it and what :func:`analyse_list` said.

    ``second`` is the analysis of its second page when the discovery fetched it to confirm
    the pagination scheme.
    """

    candidate: Candidate
    page: FetchedPage | None = None
    analysis: ListAnalysis | None = None
    second: ListAnalysis | None = None
    skipped: str | None = None  # robots.txt, off-site, request budget …


@dataclass
class SiteDiscovery:
    """Everything the discover spider learnt about one site, for ``ops/discover.py``."""

    requested_url: str
    home: FetchedPage | None = None
    redirects: list[str] = field(default_factory=list)
    columns: list[ColumnCheck] = field(default_factory=list)
    home_analysis: ListAnalysis | None = None
    requests: int = 0
    elapsed: float = 0.0
    error: str | None = None
    allowed_hosts: tuple[str, ...] = ()


def allowed_hosts_for(url: str) -> tuple[str, ...]:
    """Hosts a discovery of ``url`` may fetch: the host (with its port when one is given),
    and the bare domain of a ``www.`` host (which covers its other subdomains)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.port:
        return (f"{host}:{parts.port}",)
    return (host, host[4:]) if host.startswith("www.") else (host,)


def _headers(response: Response) -> dict[str, str]:
    return {
        key.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }


def _text(response: Response) -> str:
    return response.text if hasattr(response, "text") else ""


class DiscoverSpider(scrapy.Spider):
    """Read home pages and the party-building columns they link (``dangjian discover``).

    Arguments (``-a``): ``urls`` (comma-separated home pages), ``terms`` (a YAML file that
    extends the column dictionary), ``max_requests`` (per site, default 30).
    """

    custom_settings = {
        "ITEM_PIPELINES": {},
        "DANGJIAN_INCREMENTAL": False,
        "DANGJIAN_PROGRESS": "off",
    }

    def __init__(
        self, urls: str = "", terms: str = "", max_requests: str = "", *args: Any, **kwargs: Any
    ) -> None:
        kwargs.setdefault("name", "discover")
        super().__init__(*args, **kwargs)
        self.urls = [u for u in urls.split(",") if u]
        self.terms = load_terms(terms or None)
        self.max_requests = int(max_requests or DEFAULT_MAX_REQUESTS)
        self.sites: list[Site] = []
        self.sites_by_id: dict[str, Site] = {}
        self.state: dict[str, SiteDiscovery] = {}
        self.pending: dict[str, int] = {}
        self.started: dict[str, float] = {}

    # -- bookkeeping ----------------------------------------------------------------------
    def _key(self, n: int) -> str:
        return f"discover-{n}"

    def _request(self, url: str, key: str, callback: Any, **meta: Any) -> scrapy.Request:
        self.state[key].requests += 1
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            meta={"site_id": key, "handle_httpstatus_list": ERROR_STATUSES, **meta},
            cb_kwargs={"key": key},
            dont_filter=True,
        )

    def _allow(self, key: str, url: str) -> None:
        """Add the host of ``url`` (a redirect of the home page) to the site's hosts."""
        site = self.sites_by_id[key]
        extra = [h for h in allowed_hosts_for(url) if h not in site.allowed_hosts]
        if extra:
            site = replace(site, allowed_hosts=site.allowed_hosts + tuple(extra))
            self.sites_by_id[key] = site
            self.sites = list(self.sites_by_id.values())
        self.state[key].allowed_hosts = site.allowed_hosts

    def _finish(self, key: str) -> SiteDiscovery:
        found = self.state[key]
        found.elapsed = round(time.monotonic() - self.started[key], 2)
        return found

    # -- the home page --------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for n, url in enumerate(self.urls):
            key = self._key(n)
            self.sites_by_id[key] = Site(
                id=key, name=url, level="city", start_urls=(url,), allowed_hosts=()
            )
            self.state[key] = SiteDiscovery(url)
            self.started[key] = time.monotonic()
            self._allow(key, url)
            yield self._home_request(url, key)

    def _home_request(self, url: str, key: str) -> scrapy.Request:
        request = self._request(url, key, self.parse_home, dont_redirect=True, kind="home")
        request.meta["handle_httpstatus_list"] = REDIRECT_STATUSES + ERROR_STATUSES
        return request

    def parse_home(self, response: Response, key: str) -> Iterator[Any]:
        """Follow the home page's own redirects, then queue its candidate columns."""
        found = self.state[key]
        target = self._redirect_target(response)
        if target:
            found.redirects.append(f"{response.status or 'page'} {response.url} → {target}")
            if len(found.redirects) > MAX_REDIRECTS:
                found.error = f"more than {MAX_REDIRECTS} redirects from {found.requested_url}"
                yield self._finish(key)
                return
            self._allow(key, target)
            yield self._home_request(target, key)
            return
        text = _text(response)
        found.home = FetchedPage(
            found.requested_url, response.url, response.status, _headers(response), text
        )
        tree = parse(text) if response.status < 400 else None
        if tree is None:
            found.error = f"home page {response.url} answered HTTP {response.status} with no HTML"
            yield self._finish(key)
            return
        found.home_analysis = analyse_list(tree, response.url)
        party_site = bool(is_party_site(site_name(tree), self.terms))
        site = self.sites_by_id[key]
        budget = max(0, self.max_requests - found.requests - MAX_CONFIRMATIONS)
        articles = {i.url for i in list_items(tree, response.url) if i.date}
        candidates = party_candidates(
            navigation_links(tree, response.url),
            party_site,
            site.allows,
            self.terms,
            budget,
            articles,
        )
        found.columns = [ColumnCheck(c) for c in candidates]
        self.pending[key] = len(candidates)
        if not candidates:
            yield self._finish(key)
            return
        for n, candidate in enumerate(candidates):
            yield self._request(candidate.url, key, self.parse_candidate, column=n, kind="list")

    def _redirect_target(self, response: Response) -> str | None:
        if response.status in REDIRECT_STATUSES:
            location = response.headers.get(b"Location")
            return urljoin(response.url, location.decode("latin-1")) if location else None
        text = _text(response)
        if response.status != 200 or len(text) > REDIRECT_PAGE_MAX:
            return None
        match = META_REFRESH.search(text) or JS_LOCATION.search(text)
        if not match:
            return None
        target = urljoin(response.url, next(g for g in match.groups() if g))
        return target if target != response.url else None

    # -- candidate columns ----------------------------------------------------------------
    def parse_candidate(self, response: Response, key: str) -> Iterator[Any]:
        """Check one candidate column: is it a list of dated article links?"""
        check = self.state[key].columns[response.meta["column"]]
        text = _text(response)
        check.page = FetchedPage(
            check.candidate.url, response.url, response.status, _headers(response), text
        )
        if response.status < 400 and text:
            check.analysis = analyse_list(text, response.url)
        yield from self._candidate_done(key)

    def _candidate_done(self, key: str) -> Iterator[Any]:
        self.pending[key] -= 1
        if self.pending[key] > 0:
            return
        confirm = self._confirmations(key)
        self.pending[key] = len(confirm)
        if not confirm:
            yield self._finish(key)
            return
        for n, url in confirm:
            yield self._request(url, key, self.parse_second, column=n, kind="list", second=True)

    def _confirmations(self, key: str) -> list[tuple[int, str]]:
        """Second pages to fetch: one per pagination scheme, of the best column using it."""
        chosen: dict[str, tuple[int, str]] = {}
        found = self.state[key]
        for n, check in enumerate(found.columns):
            analysis = check.analysis
            if not analysis or not analysis.is_list or not analysis.pagination.next_url:
                continue
            scheme = analysis.pagination.scheme
            if scheme not in chosen and found.requests < self.max_requests:
                if self.sites_by_id[key].allows(analysis.pagination.next_url):
                    chosen[scheme] = (n, analysis.pagination.next_url)
        return list(chosen.values())[:MAX_CONFIRMATIONS]

    def parse_second(self, response: Response, key: str) -> Iterator[Any]:
        """A column's second page: the pagination scheme holds when it lists other articles."""
        check = self.state[key].columns[response.meta["column"]]
        text = _text(response)
        if response.status < 400 and text:
            check.second = analyse_list(text, response.url)
        yield from self._second_done(key)

    def _second_done(self, key: str) -> Iterator[Any]:
        self.pending[key] -= 1
        if self.pending[key] <= 0:
            yield self._finish(key)

    def on_error(self, failure: Failure) -> Iterator[Any]:
        """A request that got no response: robots.txt, the host guard, the network."""
        request = failure.request
        key = request.meta.get("site_id", "")
        if key not in self.state:
            return
        if failure.check(scrapy.exceptions.IgnoreRequest):
            reason = "robots.txt or the host guard refused it"
            message = failure.getErrorMessage()
            if "robots" in message.lower() or "Forbidden by robots.txt" in message:
                reason = "robots.txt disallows it"
            elif "allowed hosts" in message:
                reason = "outside the allowed hosts"
        else:
            reason = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        kind = request.meta.get("kind")
        if kind == "home":
            self.state[key].error = f"home page {request.url}: {reason}"
            yield self._finish(key)
        elif request.meta.get("second"):
            yield from self._second_done(key)
        else:
            self.state[key].columns[request.meta["column"]].skipped = reason
            yield from self._candidate_done(key)


@dataclass
class TriedPage:
    """A page ``crawl --try`` fetched: the list page of a column or one of its articles."""

    site_id: str
    start_url: str
    kind: str  # list | article
    url: str
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    articles: list[str] = field(default_factory=list)  # a list page's article links
    lists: list[str] = field(default_factory=list)  # a list page's next list pages
    error: str | None = None


class TrySpider(NewsSpider):
    """Crawl one list page and its first three articles per start URL (``crawl --try``).

    Takes the news spider's arguments; follows no pagination and stores nothing.
    """

    name = ""  # not listed by the spider loader; "try" is given below
    custom_settings = {
        "ITEM_PIPELINES": {},
        "DANGJIAN_INCREMENTAL": False,
        "DANGJIAN_PROGRESS": "off",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("name", "try")
        super().__init__(*args, **kwargs)

    async def start(self) -> AsyncIterator[Any]:
        async for request in super().start():
            if request.meta.get("kind") == "list":
                yield request

    def parse_list(self, response: Response, site: Site) -> Iterator[Any]:
        start_url = response.meta.get("start_url", response.url)
        tried = TriedPage(
            site.id,
            start_url,
            "list",
            response.url,
            response.status,
            response.body,
            _headers(response),
        )
        scope = response.meta.get("scope", "")
        if response.status < 400 and hasattr(response, "text"):
            for url, anchor in extract_links(response.text, response.url):
                if not site.allows(url):
                    continue
                kind, target = resolve_link(url, anchor, site, scope)
                if kind == "article" and target not in tried.articles:
                    tried.articles.append(target)
                elif kind == "list" and target not in tried.lists and target != response.url:
                    tried.lists.append(target)
        yield tried
        for url in tried.articles[:TRY_ARTICLES]:
            request = self._request(url, site, "article", column_scope(start_url))
            request.meta["start_url"] = start_url
            yield request

    def parse_article(self, response: Response, site: Site) -> Iterator[Any]:
        yield TriedPage(
            site.id,
            response.meta.get("start_url", ""),
            "article",
            response.url,
            response.status,
            response.body,
            _headers(response),
        )

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        yield TriedPage(
            request.meta.get("site_id", ""),
            request.meta.get("start_url", request.url),
            request.meta.get("kind", ""),
            request.url,
            0,
            error=f"{failure.type.__name__}: {failure.getErrorMessage()}",
        )


__all__ = [
    "ColumnCheck",
    "DiscoverSpider",
    "FetchedPage",
    "SiteDiscovery",
    "TriedPage",
    "TrySpider",
]
