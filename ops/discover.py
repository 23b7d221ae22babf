"""Propose a registry entry from a home page (``dangjian discover``) and try an entry
(``dangjian crawl ID --try``).

``discover_sites`` runs the discover spider (``crawler/spiders/discover.py``: home page,
candidate columns, a second page per pagination scheme, as politely as a crawl);
``propose`` turns what it fetched into a :class:`Proposal` with the plain functions of
``crawler/discovery``; ``render_yaml`` writes the entry, with its confidence and the
evidence for every column, for the operator to review. See docs/discover.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import yaml
from scrapy import signals
from scrapy.crawler import CrawlerProcess

from crawler.discovery.columns import Candidate, column_key
from crawler.discovery.fingerprint import Fingerprint, fingerprint
from crawler.discovery.identity import Identity, declared_encoding, identify
from crawler.discovery.lists import MIN_ITEMS, ListAnalysis, parse
from crawler.discovery.patterns import article_pattern, list_pattern
from crawler.process import crawl_settings
from crawler.registry import load_registry, parse_site, select_sites
from crawler.spiders.discover import (
    DEFAULT_MAX_REQUESTS,
    ColumnCheck,
    DiscoverSpider,
    SiteDiscovery,
    TriedPage,
    TrySpider,
)
from pipeline.errors import SiteConfigError
from pipeline.extract import extract_page

# Schedules by articles per day on the columns' first pages (docs/discover.md).
SCHEDULES = ((4.0, "2h"), (1.0, "6h"), (1 / 3, "12h"))
SLOW_SCHEDULE = "1d"
DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
URL_DAY_RE = re.compile(r"/((?:19|20)\d{2})-?(\d{2})/(\d{2})/")


@dataclass
class ProposedColumn:
    """A column kept for the entry: where it starts, how it pages, how sure, and why."""

    name: str
    start_url: str
    pagination: str
    list_pattern: str
    article_pattern: str | None
    articles: int
    confidence: float
    evidence: list[str] = field(default_factory=list)


@dataclass
class Proposal:
    """A proposed registry entry for one site and what backs it."""

    url: str
    entry: dict[str, Any]
    confidence: float
    cms: Fingerprint
    identity: Identity | None
    columns: list[ProposedColumn]
    rejected: list[str]
    requests: int
    elapsed: float
    error: str | None = None
    redirects: list[str] = field(default_factory=list)


# -- running the spiders ------------------------------------------------------------------
def discover_sites(
    urls: Sequence[str],
    *,
    terms_path: str | None = None,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    settings: Mapping[str, Any] | None = None,
) -> list[SiteDiscovery]:
    """Fetch each home page and its candidate columns with the discover spider.

    Runs Scrapy in this process (once per process) with the crawler's settings and
    ``settings`` on top; returns one :class:`SiteDiscovery` per URL, in order.
    """
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise SiteConfigError(f"{url!r} is not an http(s) URL of a home page")
    found: list[SiteDiscovery] = []
    process = CrawlerProcess(crawl_settings("", None, dict(settings or {})))
    crawler = process.create_crawler(DiscoverSpider)
    crawler.signals.connect(
        lambda item, **_: found.append(item) if isinstance(item, SiteDiscovery) else None,
        signal=signals.item_scraped,
        weak=False,
    )
    process.crawl(
        crawler, urls=",".join(urls), terms=terms_path or "", max_requests=str(max_requests)
    )
    process.start()
    order = {u: n for n, u in enumerate(urls)}
    return sorted(found, key=lambda d: order.get(d.requested_url, len(order)))


def try_sites(
    site_ids: Iterable[str],
    *,
    sites_path: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> list[TriedPage]:
    """Fetch one list page and three articles per start URL of each site, storing nothing.

    Raises:
        SiteConfigError: the registry is invalid or names an unknown site.
    """
    ids = [s.id for s in select_sites(load_registry(sites_path), site_ids)]
    pages: list[TriedPage] = []
    process = CrawlerProcess(crawl_settings("", sites_path, dict(settings or {})))
    crawler = process.create_crawler(TrySpider)
    crawler.signals.connect(
        lambda item, **_: pages.append(item) if isinstance(item, TriedPage) else None,
        signal=signals.item_scraped,
        weak=False,
    )
    process.crawl(crawler, sites=",".join(ids))
    process.start()
    return pages


# -- from fetched pages to an entry -------------------------------------------------------
def keep_column(check: ColumnCheck) -> bool:
    """Keep a candidate whose page is a list with at least ``MIN_ITEMS`` dated articles."""
    a = check.analysis
    return bool(a and a.is_list and a.dated >= MIN_ITEMS and a.items)


def rejection(check: ColumnCheck) -> str:
    """Say why a candidate column was not kept."""
    c = check.candidate
    if check.skipped:
        why = check.skipped
    elif check.page is None:
        why = "not fetched"
    elif check.page.status >= 400:
        why = f"HTTP {check.page.status}"
    elif check.analysis is None:
        why = "not HTML"
    else:
        why = f"not a list of dated articles: {check.analysis.reason}"
    return f"{c.name} {c.url}: {why}"


def column_confidence(check: ColumnCheck) -> float:
    """How sure a column is: its dictionary score and the quality of its list (0..1)."""
    a = check.analysis
    assert a is not None
    quality = min(1.0, a.dated / 10) * (a.dated / max(1, len(a.items) or a.dated))
    if a.pagination.scheme != "none" and check.second is not None:
        quality = min(1.0, quality + (0.1 if check.second.is_list else -0.2))
    return round(0.5 * min(1.0, check.candidate.score) + 0.5 * quality, 2)


def home_column(found: SiteDiscovery) -> None:
    """Take the home page itself as the column of a site whose home page lists its news and
    that showed no other column (河南机关党建-like sites)."""
    assert found.home is not None and found.home_analysis is not None
    candidate = Candidate(found.home.final_url, "首页", 0.5, ["the home page lists the news"])
    check = ColumnCheck(candidate, found.home, found.home_analysis)
    if keep_column(check):
        found.columns.append(check)


def proposed_columns(
    found: SiteDiscovery, cms: str = "unknown"
) -> tuple[list[ProposedColumn], list[str]]:
    """Return the kept columns (one per list page) and why the other candidates were not.

    An e-paper's sections (``cms`` founder-epaper) get a list pattern of their dated
    folders, since the crawl starts from today's edition.
    """
    kept: list[ProposedColumn] = []
    rejected: list[str] = []
    seen: set[str] = set()
    for check in found.columns:
        if not keep_column(check):
            rejected.append(rejection(check))
            continue
        assert check.page is not None and check.analysis is not None
        start = check.page.final_url or check.candidate.url
        if column_key(start) in seen:
            continue
        seen.add(column_key(start))
        a = check.analysis
        scheme, next_url = a.pagination.scheme, a.pagination.next_url
        if cms == "founder-epaper":
            scheme, next_url = "sections", next_url or start
        kept.append(
            ProposedColumn(
                name=check.candidate.name,
                start_url=start,
                pagination=a.pagination.scheme,
                list_pattern=list_pattern(start, scheme, next_url),
                article_pattern=a.article_pattern,
                articles=len(a.items),
                confidence=column_confidence(check),
                evidence=_evidence(check),
            )
        )
    return kept, rejected


def _evidence(check: ColumnCheck) -> list[str]:
    a = check.analysis
    assert a is not None
    lines = [*check.candidate.evidence, f"list: {a.reason}"]
    pagination = f"pagination {a.pagination.scheme}"
    if a.pagination.evidence:
        pagination += f" ({a.pagination.evidence})"
    if check.second is not None:
        pagination += "; page 2 is a list too" if check.second.is_list else "; page 2 is NOT a list"
    lines.append(pagination)
    lines.append(f"articles like {a.items[0].url}")
    return lines


def site_article_patterns(found: SiteDiscovery) -> list[str]:
    """One regex per URL shape of the kept columns' articles (usually one for the site)."""
    urls = []
    for check in found.columns:
        if keep_column(check):
            for analysis in (check.analysis, check.second):
                if analysis is not None and analysis.is_list:
                    urls += [i.url for i in analysis.items]
    patterns: list[str] = []
    remaining = list(urls)
    while remaining:
        pattern = article_pattern(remaining)
        if not pattern:
            break
        matcher = re.compile(pattern)
        rest = [u for u in remaining if not matcher.search(u)]
        if len(rest) == len(remaining):
            break
        patterns.append(pattern)
        remaining = rest
    return patterns


def schedule_for(analyses: Iterable[ListAnalysis]) -> str:
    """Propose a schedule from the dates on the columns' first pages.

    Articles per day = articles with a full date / the days they span; at least 4 a day
    → ``2h``, 1 → ``6h``, 1 in 3 days → ``12h``, else ``1d``.
    """
    days: list[date] = []
    for analysis in analyses:
        for item in analysis.items:
            when = _day(item.date or "") or _day(urlsplit(item.url).path)
            if when:
                days.append(when)
    if len(days) < 2:
        return SLOW_SCHEDULE
    span = max(1, (max(days) - min(days)).days)
    rate = len(days) / span
    return next((s for floor, s in SCHEDULES if rate >= floor), SLOW_SCHEDULE)


def _day(text: str) -> date | None:
    match = DATE_RE.search(text) or URL_DAY_RE.search(text)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def dated_start_url(url: str, cms: str, today: date | None = None) -> str:
    """Write an e-paper section of today's edition as a ``{date:…}`` start URL.

    A Founder e-paper files each day's edition in its own folder
    (``/pc/html/2026-11/23/node_1.htm``); only today's folder is worth starting from.
    """
    today = today or (datetime.now(UTC) + timedelta(hours=8)).date()
    folder = today.strftime("/%Y-%m/%d/")
    if cms == "founder-epaper" and folder in url:
        return url.replace(folder, "/{date:%Y-%m/%d}/")
    return url


def propose(found: SiteDiscovery, site_id: str | None = None) -> Proposal:
    """Turn what the discover spider fetched into a proposed registry entry.

    Args:
        found: the spider's :class:`SiteDiscovery` of one site.
        site_id: the registry id to use (default: proposed from the host or the name).
    """
    if found.home is None or found.error and found.home is None:
        return Proposal(
            found.requested_url, {}, 0.0, Fingerprint("unknown", 0.0), None, [], [],
            found.requests, found.elapsed, found.error or "no home page", found.redirects,
        )  # fmt: skip
    home = found.home
    tree = parse(home.text)
    assert tree is not None
    ident = identify(tree, home.text, home.final_url)
    pages = [(tree, home.text, home.final_url)]
    links = [a.get("href", "") for a in tree.iter("a")]
    for check in found.columns:
        if check.page and check.page.text and keep_column(check):
            page_tree = parse(check.page.text)
            if page_tree is not None:
                pages.append((page_tree, check.page.text, check.page.final_url))
                links += [a.get("href", "") for a in page_tree.iter("a")]
    cms = fingerprint(pages, links, home.headers)
    if not any(keep_column(c) for c in found.columns) and found.home_analysis:
        home_column(found)
    columns, rejected = proposed_columns(found, cms.cms)
    hosts = list(found.allowed_hosts)
    entry: dict[str, Any] = {
        "id": site_id or ident.id,
        "name": ident.name or urlsplit(home.final_url).hostname,
        "level": ident.level,
        "province": ident.province,
        "city": ident.city,
        "district": ident.district,
        "home_url": home.final_url,
        "start_urls": [dated_start_url(c.start_url, cms.cms) for c in columns],
        "allowed_hosts": hosts,
        "article_patterns": site_article_patterns(found),
        "list_patterns": list(dict.fromkeys(c.list_pattern for c in columns)),
        "encoding": declared_encoding(home.headers, tree),
        "schedule": schedule_for(c.analysis for c in found.columns if keep_column(c)),  # type: ignore[misc]
        "cms": cms.cms,
        "enabled": False,
        "verified": False,
    }
    confidence = round(sum(c.confidence for c in columns) / len(columns), 2) if columns else 0.0
    entry["discovery"] = {
        "confidence": confidence,
        "cms": {"family": cms.cms, "confidence": cms.confidence, "evidence": list(cms.evidence)},
        "identity": list(ident.evidence),
        "columns": [
            {"name": c.name, "url": c.start_url, "confidence": c.confidence, "evidence": c.evidence}
            for c in columns
        ],
        "rejected": rejected,
        "requests": found.requests,
        "seconds": found.elapsed,
        **({"redirects": found.redirects} if found.redirects else {}),
    }
    error = None if columns else "no party-building column found (see rejected)"
    if columns:
        parse_site(entry)  # the proposal must be a valid registry entry
    return Proposal(
        found.requested_url, entry, confidence, cms, ident, columns, rejected,
        found.requests, found.elapsed, error, found.redirects,
    )  # fmt: skip


def render_yaml(proposals: Sequence[Proposal]) -> str:
    """Return the proposals as a registry file (``sites:`` list) with a comment per site."""
    lines = [
        "# Proposed by `dangjian discover`: review, then set enabled: true (docs/discover.md)."
    ]
    entries = []
    for p in proposals:
        if not p.entry:
            lines.append(f"# {p.url}: {p.error}")
            continue
        lines.append(
            f"# {p.entry['id']}: {len(p.columns)} column(s), confidence {p.confidence}, "
            f"CMS {p.cms.cms}, {p.requests} requests in {p.elapsed} s"
            + (f"; {p.error}" if p.error else "")
        )
        entries.append(p.entry)
    body = yaml.safe_dump(
        {"sites": entries}, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )
    return "\n".join(lines) + "\n" + body


# -- crawl --try --------------------------------------------------------------------------
def describe_tried(pages: Sequence[TriedPage]) -> str:
    """Return what ``crawl --try`` got, per site and column: the list page, then each article
    with its extracted title, date and length (or why it is not an article)."""
    out: list[str] = []
    by_start: dict[tuple[str, str], list[TriedPage]] = {}
    for page in pages:
        by_start.setdefault((page.site_id, page.start_url), []).append(page)
    for (site_id, start), group in by_start.items():
        lists = [p for p in group if p.kind == "list"]
        out.append(f"{site_id}  {start}")
        for page in lists:
            if page.error or page.status >= 400:
                out.append(f"  list page: {page.error or f'HTTP {page.status}'}")
                continue
            out.append(
                f"  list page: HTTP {page.status}, {len(page.articles)} article links, "
                f"{len(page.lists)} more list pages"
                + (f" (e.g. {page.lists[0]})" if page.lists else "")
            )
            if not page.articles:
                out.append("  !! no link matched the article patterns")
        for page in (p for p in group if p.kind == "article"):
            if page.error or page.status >= 400:
                out.append(f"  article {page.url}: {page.error or f'HTTP {page.status}'}")
                continue
            got = extract_page(page.body, page.url, page.headers)
            if got.is_article:
                out.append(
                    f"  article {page.url}\n    {got.published or 'no date'}  {got.title}  "
                    f"({len(got.text or '')} characters"
                    + (f", 来源 {got.source}" if got.source else "")
                    + ")"
                )
            else:
                out.append(f"  article {page.url}: not an article ({got.reason or got.error})")
    counts = Counter(p.kind for p in pages if not p.error and p.status < 400)
    out.append(
        f"{counts['list']} list page(s), {counts['article']} article(s) fetched; nothing stored"
    )
    return "\n".join(out)
