"""Link discovery and classification for list pages: which links are articles, which pages.

Default URL patterns cover the CMS families common on Chinese government sites; a site's
own ``article_patterns`` / ``list_patterns`` in the registry take precedence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urldefrag, urljoin

from lxml import html as lxml_html

from crawler.registry import Site

DEFAULT_ARTICLE_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"/t\d{8}_\d+\.s?html?$",  # TRS WCM: /xwzx/202304/t20230419_4589123.html
        r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html",  # Hanweb: /art/2023/4/19/art_123_4567.html
        r"/content/\d{4}-\d{2}/\d{2}/content_\d+\.s?html?",  # newspaper CMS
        r"/content_\d+\.s?html?$",
        r"/\d{4}-?\d{2}/?\d{2}/[A-Za-z0-9_-]+\.s?html?$",  # dated folders
        r"/(news_?view|view|show|detail|article)\w*\.(asp|aspx|php|jsp)\?(\w+=\w*&)*id=\d+",
    )
)
DEFAULT_LIST_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"/index(_\d+)?\.s?html?$",  # TRS pagination: index.html, index_1.html
        r"/col/col\d+/index\.html",  # Hanweb column
        r"[?&](page|pageNum|pageno|pageIndex|p)=\d+",
        r"/list(_\d+)?\.\w+$",
    )
)
# Hanweb keeps column lists inside <script type="text/xml"><datastore> as CDATA HTML.
SCRIPT_HREF = re.compile(r"""href\s*=\s*['"]([^'"]+)['"][^>]*>([^<]*)""", re.I)


def extract_links(text: str, base_url: str) -> Iterator[tuple[str, str]]:
    """Yield ``(absolute_url, anchor_text)`` for every link of a list page, in order, once.

    Also finds links inside Hanweb ``datastore`` scripts, which browsers render with JS.
    """
    try:
        tree = lxml_html.fromstring(text)
    except (ValueError, lxml_html.etree.ParserError):
        return
    base = tree.xpath("//base/@href")
    base_url = urljoin(base_url, base[0]) if base else base_url
    seen: set[str] = set()
    candidates: list[tuple[str, str]] = [
        (a.get("href", ""), a.text_content()) for a in tree.iter("a") if a.get("href")
    ]
    for script in tree.xpath("//script[contains(., 'href')]/text()"):
        candidates.extend(SCRIPT_HREF.findall(script))
    for href, anchor in candidates:
        href = href.strip()
        if not href or href.startswith(("javascript:", "mailto:", "#", "tel:")):
            continue
        url = urldefrag(urljoin(base_url, href))[0]
        if url not in seen:
            seen.add(url)
            yield url, " ".join(anchor.split())


def column_scope(start_url: str) -> str:
    """Return the folder of a column's start URL; default pagination stays inside it."""
    return start_url.split("?", 1)[0].rsplit("/", 1)[0] + "/"


def classify_link(url: str, anchor: str, site: Site, scope: str = "") -> str | None:
    """Return ``"article"``, ``"list"`` or None (not followed) for a link found on a list page.

    Args:
        url: the absolute link.
        anchor: the link's text.
        site: the registry entry; its own patterns take precedence over the defaults.
        scope: with default list patterns, list pages are followed only under this prefix,
            so a column's pagination is crawled but not every other column of the site.
    """
    article_patterns = site.article_patterns or DEFAULT_ARTICLE_PATTERNS
    if any(p.search(url) for p in article_patterns):
        return "article"
    if site.list_patterns:
        return "list" if any(p.search(url) for p in site.list_patterns) else None
    if not url.startswith(scope):
        return None
    if any(p.search(url) for p in DEFAULT_LIST_PATTERNS):
        return "list"
    return None
