"""Link discovery and classification for list pages: which links are articles, which pages.

Default URL patterns cover the CMS families common on Chinese government and party sites (each
with a real example URL, see ``tests/test_real_urls.py``); a site's own ``article_patterns`` /
``list_patterns`` in the registry take precedence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import html as lxml_html

from crawler.registry import Site
from pipeline.extract.attachments import MAX_BYTES as ATTACHMENT_MAX_BYTES
from pipeline.extract.attachments import is_attachment_url

__all__ = ["ATTACHMENT_MAX_BYTES", "attachment_links", "classify_link", "extract_links"]


def _compile(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    # CMSs on case-insensitive servers link the same path in several spellings
    # (中国西藏网: /cn/Instant/ and /cn/instant/), so the defaults ignore case.
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


DEFAULT_ARTICLE_PATTERNS = _compile(
    (
        # TRS WCM: /xwzx/202304/t20230419_4589123.html
        r"/t\d{8}_\d+\.s?html?$",
        # TRS WCM with bare document ids (长江网): /sywh/202001/t3539167.htm
        r"/\d{6}/t\d{6,}\.s?html?$",
        # Hanweb: /art/2023/4/19/art_123_4567.html
        r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html",
        # newer Zhejiang Hanweb: /col/col1229740926/art/2025/art_08c578065eff4beb90271fdf30a3467c.html
        r"/art/\d{4}/art_[0-9a-f]{32}\.html$",
        # newspaper CMS: /content/2023-05/06/content_123456.htm
        r"/content/\d{4}-\d{2}/\d{2}/content_\d+\.s?html?",
        # Founder e-paper: /pc/html/2025-04/09/content_743_883794.htm
        r"/content_\d+(_\d+)?\.s?html?$",
        # dated folders: /2023-04/19/abc.html, /202304/19/abc.html; an e-paper's pages of the
        # day (/2025-04/09/node_867.htm, index_2025-04-09.htm) are lists, not articles
        r"/\d{4}-?\d{2}/?\d{2}/(?!(node|index|list)[_.\d])[A-Za-z0-9_-]+\.s?html?$",
        # year/month/day/id: /doc/2019/10/01/35244.shtml (武汉革命博物馆)
        r"/\d{4}/\d{1,2}/\d{1,2}/\d+\.s?html?$",
        # year/monthday/id: /page/2023/1231/25666563.shtml (fx361)
        r"/\d{4}/\d{4}/\d+\.s?html?$",
        # 人民网: /n1/2019/0211/c117092-30617896.html
        r"/n\d?/\d{4}/\d{4}/c\d+-\d+\.html$",
        # 共产党员网: /2022/10/15/ARTI1665820365723761.shtml (VIDE… pages are videos)
        r"/\d{4}/\d{2}/\d{2}/ARTI\d+\.shtml$",
        # 新华网: /politics/20250620/79eddf5bff894c6282600fc4445eac83/c.html
        r"/\d{8}/[0-9a-f]{32}/c\.html$",
        # Henan: /2026/03-12/449546.html (河南机关党建)
        r"/\d{4}/\d{2}-\d{2}/\d+\.s?html?$",
        # ASP/PHP/JSP detail pages: /news_view.asp?id=123, /show.php?catid=4&id=56
        r"/(news_?view|view|show|detail|article)\w*\.(asp|aspx|php|jsp)\?(\w+=\w*&)*id=\d+",
        # PHP front controllers: /index.php?c=show&id=51523 (福州机关党建)
        r"/index\.php\?(\w+=\w*&)*c=show&(\w+=\w*&)*id=\d+",
    )
)
DEFAULT_LIST_PATTERNS = _compile(
    (
        # TRS pagination index.html, index_1.html; 人民网 index1.html
        r"/index(_?\d+)?\.s?html?$",
        r"/col/col\d+/index\.html",  # Hanweb column
        r"[?&](page|pageNum|pageno|pageIndex|p)=\d+",
        r"/list(_\d+)?\.\w+$",
        # Founder e-paper sections of one day: /pc/html/2025-04/09/node_867.htm
        r"/node_\d+(_\d+)?\.s?html?$",
    )
)
# Hanweb keeps column lists inside <script type="text/xml"><datastore> as CDATA HTML.
SCRIPT_HREF = re.compile(r"""href\s*=\s*['"]([^'"]+)['"][^>]*>([^<]*)""", re.I)
# Script arrays of list items, as on 共产党员网:
#   item=[{'title':'…','link_add':'https://www.12371.cn/2022/10/15/ARTI….shtml','brief':'…'}]
SCRIPT_OBJECT = re.compile(r"\{[^{}]*\}")
SCRIPT_LINK = re.compile(
    r"""['"]?(?:link_add|link_url|linkurl|link|url)['"]?\s*[:=]\s*['"]([^'"\s<>]+)['"]""", re.I
)
SCRIPT_TITLE = re.compile(r"""['"]?title['"]?\s*[:=]\s*['"]([^'"]*)['"]""", re.I)
# A script value is taken for a link only when it looks like one (not an API name or a class).
LINK_LIKE = re.compile(r"^(https?:)?//|^\.{0,2}/|\.s?html?(\?|$)", re.I)
SKIPPED_SCHEMES = ("javascript:", "mailto:", "#", "tel:", "data:")


def extract_links(text: str, base_url: str) -> Iterator[tuple[str, str]]:
    """Yield ``(absolute_url, anchor_text)`` for every link of a list page, in order, once.

    Besides ``<a href>`` this reads ``<area href>`` (e-paper sections link their articles
    through image maps), links inside Hanweb ``datastore`` scripts and script arrays of list
    items (共产党员网), which browsers render with JavaScript.
    """
    try:
        tree = lxml_html.fromstring(text)
    except (ValueError, lxml_html.etree.ParserError):
        return
    base = tree.xpath("//base/@href")
    base_url = urljoin(base_url, base[0]) if base else base_url
    seen: set[str] = set()
    candidates: list[tuple[str, str]] = [
        (el.get("href", ""), el.text_content() if el.tag == "a" else el.get("alt", ""))
        for el in tree.iter("a", "area")
        if el.get("href")
    ]
    for script in tree.xpath("//script/text()"):
        candidates.extend(script_links(script))
    for href, anchor in candidates:
        href = href.strip()
        if not href or href.lower().startswith(SKIPPED_SCHEMES):
            continue
        url = urldefrag(urljoin(base_url, href))[0]
        if url not in seen:
            seen.add(url)
            yield url, " ".join(anchor.split())


def script_links(script: str) -> list[tuple[str, str]]:
    """Return ``(href, anchor)`` pairs written inside a script: datastore HTML, item arrays."""
    found = SCRIPT_HREF.findall(script) if "href" in script.lower() else []
    for chunk in SCRIPT_OBJECT.findall(script):
        link = SCRIPT_LINK.search(chunk)
        if link and LINK_LIKE.search(link.group(1)):
            title = SCRIPT_TITLE.search(chunk)
            found.append((link.group(1), title.group(1) if title else ""))
    return found


def column_scope(start_url: str) -> str:
    """Return the folder of a column's start URL; default pagination stays inside it."""
    return start_url.split("?", 1)[0].rsplit("/", 1)[0] + "/"


def _matches(patterns: Iterable[re.Pattern[str]], url: str, bare: str) -> str | None:
    """Return the form of the link a pattern matched: the URL, or the URL without its query.

    Patterns anchored with ``$`` fail on a link that carries a tracking query
    (``t3429617.htm?spm=…``, ``node_1.htm?v=1``); the bare path is tried then.
    """
    for pattern in patterns:
        if pattern.search(url):
            return url
    if bare != url:
        for pattern in patterns:
            if pattern.search(bare):
                return bare
    return None


def resolve_link(url: str, anchor: str, site: Site, scope: str = "") -> tuple[str | None, str]:
    """Return the kind of a link found on a list page and the URL to fetch for it.

    The kind is ``"article"``, ``"list"`` or None (not followed). The URL is the link itself,
    or the link without its query string when only the bare path matched (the query is then
    tracking, not identity, and fetching the bare path avoids one copy per tracking value).

    Args:
        url: the absolute link.
        anchor: the link's text.
        site: the registry entry; its own patterns take precedence over the defaults.
        scope: the column folder of the start URL the page was reached from; list pages are
            followed only inside it, so a column's pagination is crawled but not every other
            column of the site (a site's ``list_patterns`` describe its list scheme).
    """
    bare = url.split("?", 1)[0]
    target = _matches(site.article_patterns or DEFAULT_ARTICLE_PATTERNS, url, bare)
    if target:
        return "article", target
    if not in_scope(url, scope):
        return None, url
    if site.list_patterns:
        target = _matches(site.list_patterns, url, bare)
        return ("list", target) if target else (None, url)
    if _path(bare) == _path(scope):
        return "list", url  # the column's own folder, e.g. /special/xxzd/jh/
    target = _matches(DEFAULT_LIST_PATTERNS, url, bare)
    return ("list", target) if target else (None, url)


def in_scope(url: str, scope: str) -> bool:
    """Return True when ``url`` lies in the column folder ``scope`` ("" = anywhere).

    Only the path counts: the host was checked against the site's allowed hosts already, and
    a column reached through a sibling or successor host (m1.tibet.cn, fx361.cc) keeps its
    pagination. Case is ignored: a CMS may link /cn/Instant/ and /cn/instant/.
    """
    return not scope or _path(url).startswith(_path(scope))


def _path(url: str) -> str:
    return urlsplit(url).path.lower()


def classify_link(url: str, anchor: str, site: Site, scope: str = "") -> str | None:
    """Return ``"article"``, ``"list"`` or None (not followed) for a link found on a list page.

    Args:
        url: the absolute link.
        anchor: the link's text.
        site: the registry entry; its own patterns take precedence over the defaults.
        scope: list pages are followed only inside this column folder ("" = anywhere).
    """
    return resolve_link(url, anchor, site, scope)[0]


# Page furniture whose file links (a disclosure guide, an app) belong to no one article.
FURNITURE = re.compile(
    r"foot|header|(^|[-_\s])nav|menu|banner|sidebar|(^|[-_\s])top([-_\s]|$)", re.I
)


def attachment_links(text: str, base_url: str) -> list[tuple[str, str]]:
    """Return ``(absolute_url, link_text)`` for the files an article page links (PDF, DOC...).

    Links inside the page's header, footer, navigation or sidebar are left out: they are the
    site's, not the article's.
    """
    try:
        tree = lxml_html.fromstring(text)
    except (ValueError, lxml_html.etree.ParserError):
        return []
    found: dict[str, str] = {}
    for link in tree.iter("a"):
        href = (link.get("href") or "").strip()
        if not href or href.lower().startswith(SKIPPED_SCHEMES):
            continue
        url = urldefrag(urljoin(base_url, href))[0]
        if url in found or not is_attachment_url(url):
            continue
        if any(
            el.tag in ("header", "footer", "nav")
            or FURNITURE.search(f"{el.get('class', '')} {el.get('id', '')}")
            for el in link.iterancestors()
        ):
            continue
        found[url] = " ".join(link.text_content().split())
    return list(found.items())
