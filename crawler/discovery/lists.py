"""Is a page a list of dated article links? Its items, its article pattern and its pagination.

A column (栏目) page of a news or government site is a run of *rows* that look alike (the
``<li>`` of one ``<ul>``, the ``<tr>`` of one table), each holding one title link and, almost
always, a date. An article page has links too (menus, 相关新闻), but its main content is prose
outside any such row. :func:`analyse_list` looks for the largest group of look-alike rows with
title links, counts how many are dated (by their text or by their URL) and weighs that
against the page's prose; Hanweb ``<datastore>`` records and script item arrays (共产党员网)
are read as rows too, because browsers render them into the page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from crawler.discovery.patterns import article_pattern
from crawler.links import SCRIPT_LINK, SCRIPT_OBJECT, SCRIPT_TITLE, SKIPPED_SCHEMES

HAN = re.compile(r"[\u4e00-\u9fff]")
# Dates as list rows show them: 2024-06-19, 2024/6/19, 2024.06.19, 2024年6月19日, [06-19],
# 6月19日, 19/06, and the relative times of news feeds (3小时前, 昨天 10:20).
DATE_TEXT = re.compile(
    r"(19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?"
    r"|(?<![\d.])(0?[1-9]|1[0-2])\s*[-/月]\s*(0?[1-9]|[12]\d|3[01])(日|(?![\d.]))"
    r"|\d+\s*(秒|分钟|小时|天|周)前|刚刚|昨天|前天|今天\s*\d{1,2}:\d{2}"
)
# Dates in article URLs: t20240619_1.html, /2024/06/19/, /2024-06/19/, /202406/, /2024/0619/.
URL_DATE = re.compile(
    r"(19|20)\d{2}[-/_]?(0[1-9]|1[0-2])[-/_]?(0[1-9]|[12]\d|3[01])(?!\d)"
    r"|/(19|20)\d{2}[-/]?(0[1-9]|1[0-2])/"
    r"|/(19|20)\d{2}/\d{1,2}[-/]\d{1,2}/"
    r"|/(19|20)\d{2}/(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])/"
)
# How many levels above a link its row may be, and how much of a row's text holds its date.
ROW_LEVELS = 5
ROW_MAX_CHARS = 3000
# A title link: at least this many Han characters (or this many characters of any script).
TITLE_MIN_HAN = 5
TITLE_MIN_CHARS = 16
# A list: a group of at least MIN_ITEMS title rows, most of them dated, and less prose outside
# the rows than PROSE_PER_ITEM characters per row (article pages are the opposite).
MIN_ITEMS = 4
MIN_DATED_SHARE = 0.5
PROSE_PARAGRAPH_MIN = 40
LOOKALIKE_ROWS = 3
# A short article beside a box of related links: fewer rows than SHORT_LIST, and more prose
# (at least SHORT_ARTICLE_PROSE characters) than the rows' titles hold.
SHORT_LIST = 20
SHORT_ARTICLE_PROSE = 200
# A page with article metadata (article_metadata) is an article with this much prose; some
# home pages carry the metadata too, with no prose.
DECLARED_ARTICLE_PROSE = 60
# Rankings and indexes list without dates: that many look-alike title rows make a list (but
# not a column for discovery, which needs dated rows).
UNDATED_MIN_ITEMS = 20
PROSE_FLOOR = 500
PROSE_PER_ITEM = 40
NEXT_TEXT = re.compile(r"^\s*(下一页|下页|后一页|下一頁|下頁|next( page)?)?\s*[>›»]{0,2}\s*$", re.I)
PAGE_BAR_TEXT = re.compile(r"^\s*(首页|尾页|末页|上一页|上页|\d{1,4})\s*$")
TRS_PAGER = re.compile(
    r"createPageHTML\(\s*(\w+)\s*,\s*(\w+)\s*,\s*['\"](\w+)['\"]\s*,\s*['\"](\w+)"
)
HANWEB_PAGER = re.compile(r"_?totalRecord|jpage|pageNum|<datastore>", re.I)


Rows = dict[str, set[HtmlElement]]  # row elements by group


@dataclass(frozen=True)
class ListItem:
    """One row of a list: its link, the title shown, the date shown (or in the URL)."""

    url: str
    title: str
    date: str | None
    group: str  # rows with the same group look alike (same container path)
    source: str = "a"  # a | area | datastore | script


@dataclass(frozen=True)
class Pagination:
    """How a column pages: its scheme and the URL of its second page when the page shows it.

    Schemes: ``index_N`` (TRS ``index_1.html`` …), ``indexN`` (人民网 ``index2.html``),
    ``query`` (``?page=N``, Hanweb ``pageNum=N``; ``param`` names it), ``path_N``
    (``/qk/djdt/2.shtml``, ``list_2.html``, ``node_1_2.htm``), ``next_link`` (only a 下一页
    link whose URL follows no known scheme), ``sections`` (e-paper 下一版), ``none``.
    """

    scheme: str
    next_url: str | None = None
    param: str | None = None
    evidence: str = ""


@dataclass
class ListAnalysis:
    """What :func:`analyse_list` found on one page."""

    url: str
    is_list: bool
    items: list[ListItem] = field(default_factory=list)  # the article rows of the best group
    dated: int = 0
    prose: int = 0
    pagination: Pagination = field(default_factory=lambda: Pagination("none"))
    article_pattern: str | None = None
    reason: str = ""


def parse(text: str | bytes) -> HtmlElement | None:
    """Parse a page into an lxml tree; None for an empty or unparseable page."""
    try:
        tree = lxml_html.fromstring(text)
    except (ValueError, etree.ParserError):
        return None
    return tree if isinstance(tree, HtmlElement) else None


def han_count(text: str) -> int:
    """Return how many Han characters ``text`` holds."""
    return len(HAN.findall(text))


def is_title(text: str) -> bool:
    """Tell whether a link text is long enough to be an article title."""
    text = " ".join(text.split())
    return han_count(text) >= TITLE_MIN_HAN or len(text) >= TITLE_MIN_CHARS


def shown_date(text: str) -> str | None:
    """Return the first date written in ``text`` (absolute, month-day or relative), or None."""
    match = DATE_TEXT.search(text)
    return match.group(0) if match else None


def url_date(url: str) -> str | None:
    """Return the date written in an article URL's path (``t20240619_1``, ``/2024/06/19/``)."""
    match = URL_DATE.search(urlsplit(url).path)
    return match.group(0).strip("/") if match else None


def _signature(element: HtmlElement, levels: int = 3) -> str:
    parts = []
    node: HtmlElement | None = element
    for _ in range(levels):
        if node is None or not isinstance(node.tag, str):
            break
        parts.append(f"{node.tag}.{' '.join(sorted((node.get('class') or '').split()))}")
        node = node.getparent()
    return "/".join(reversed(parts))


def _link_text(link: HtmlElement) -> str:
    text = " ".join(link.text_content().split())
    title = " ".join((link.get("title") or "").split())
    # Lists cut long titles ("…", "..."): the title attribute then holds the whole one.
    return title if len(title) > len(text) and title.startswith(text.rstrip(".…")[:4]) else text


def _absolute(href: str, base_url: str) -> str | None:
    href = (href or "").strip()
    if not href or href.lower().startswith(SKIPPED_SCHEMES):
        return None
    return urldefrag(urljoin(base_url, href))[0]


def _html_items(
    tree: HtmlElement, base_url: str, source: str, prefix: str, rows: Rows | None = None
) -> list[ListItem]:
    """Rows of the ``<a>`` title links of a tree, each with its row's date and group.

    A link's row is its highest ancestor (at most ``ROW_LEVELS`` up) that leads to no other
    article: a card linking one URL from its picture and its title is one row. Row elements
    are added to ``rows`` by group when given (the text of look-alike rows is not prose).
    """
    titled = []
    for a in tree.iter("a"):
        text = _link_text(a)
        url = _absolute(a.get("href", ""), base_url) if is_title(text) else None
        if url:
            titled.append((a, text, url))
    below: dict[HtmlElement, set[str]] = defaultdict(set)  # title URLs under each element
    for a, _text, url in titled:
        node = a.getparent()
        for _ in range(ROW_LEVELS + 1):
            if node is None:
                break
            below[node].add(url)
            node = node.getparent()
    items = []
    for a, text, url in titled:
        row, node = a, a.getparent()
        for _ in range(ROW_LEVELS):
            if node is None or len(below[node]) != 1 or node.tag in ("body", "html"):
                break
            row, node = node, node.getparent()
        row_text = " ".join(row.text_content().split())[:ROW_MAX_CHARS]
        rest = row_text.replace(" ".join(a.text_content().split()), " ", 1)
        date = shown_date(rest) or url_date(url) or _nearby_date(node, below) or shown_date(text)
        group = prefix + _signature(row)
        if rows is not None:
            rows[group].add(row)
        items.append(ListItem(url, text, date, group, source))
    return items


def _nearby_date(node: HtmlElement | None, below: dict[HtmlElement, set[str]]) -> str | None:
    """A date just above a row that also links its author or tag (a card: title, author, date)."""
    for _ in range(2):
        if node is None or len(below[node]) > 2 or node.tag in ("body", "html"):
            return None
        text = " ".join(node.text_content().split())
        if len(text) > ROW_MAX_CHARS:
            return None
        if date := shown_date(text):
            return date
        node = node.getparent()
    return None


def _script_items(tree: HtmlElement, base_url: str) -> list[ListItem]:
    """Rows written inside scripts: Hanweb ``<datastore>`` records and item arrays."""
    items: list[ListItem] = []
    for n, script in enumerate(tree.iter("script")):
        code = script.text or ""
        if "<record" in code or "<datastore" in code:
            fragment = "".join(re.findall(r"<!\[CDATA\[(.*?)\]\]>", code, re.S))
            inner = parse(f"<div>{fragment}</div>") if fragment.strip() else None
            if inner is not None:
                items.extend(_html_items(inner, base_url, "datastore", f"datastore{n}:"))
            continue
        for chunk in SCRIPT_OBJECT.findall(code):
            link, title = SCRIPT_LINK.search(chunk), SCRIPT_TITLE.search(chunk)
            if not link or not title or not is_title(title.group(1)):
                continue
            url = _absolute(link.group(1), base_url)
            if url:
                date = shown_date(chunk.replace(title.group(1), " ")) or url_date(url)
                items.append(ListItem(url, title.group(1), date, f"script{n}", "script"))
    return items


def _area_items(tree: HtmlElement, base_url: str) -> list[ListItem]:
    """Rows of e-paper image maps: ``<area href>`` over a page scan (titles in ``alt`` if any)."""
    items = []
    for area in tree.iter("area"):
        url = _absolute(area.get("href", ""), base_url)
        if url and (date := url_date(url)):
            items.append(ListItem(url, area.get("alt") or "", date, "area", "area"))
    return items


def list_items(tree: HtmlElement, base_url: str, rows: Rows | None = None) -> list[ListItem]:
    """Return every title row of a page: ``<a>`` links, image-map areas and script rows.

    Each row keeps the date shown beside its link (or written in its URL) and a group key;
    rows with the same group key are look-alike rows of one list. The row elements of
    ``<a>`` links are added to ``rows`` when given.
    """
    base = tree.xpath("//base/@href")
    base_url = urljoin(base_url, base[0]) if base else base_url
    return (
        _html_items(tree, base_url, "a", "", rows)
        + _script_items(tree, base_url)
        + _area_items(tree, base_url)
    )


INLINE = ("strong", "b", "em", "i", "u", "span", "font", "br", "sup", "sub")


def prose_chars(tree: HtmlElement, rows: Rows | None = None) -> int:
    """Return the Han characters of the page's prose: paragraphs outside links and list rows.

    A paragraph is an element's own text (its text, its inline children's and the tails).
    Paragraphs shorter than ``PROSE_PARAGRAPH_MIN`` Han characters are menus, captions or
    bylines and do not count, nor does anything inside a row of a group of ``rows`` with at
    least ``LOOKALIKE_ROWS`` rows (an article body holding one title link is a row of its own).
    """
    skip = {row for group in (rows or {}).values() if len(group) >= LOOKALIKE_ROWS for row in group}
    total = 0
    for element in tree.iter("p", "div", "td", "section", "article", "li", "dd"):
        own = (element.text or "") + "".join(
            (child.text_content() if _inline(child) else "") + (child.tail or "")
            for child in element
            if isinstance(child.tag, str)
        )
        count = han_count(own)
        if count < PROSE_PARAGRAPH_MIN or _excluded(element, skip):
            continue
        total += count
    return total


def _inline(child: HtmlElement) -> bool:
    """Inline markup inside a paragraph, and links too short to be titles (in-text links)."""
    return child.tag in INLINE or (child.tag == "a" and not is_title(child.text_content()))


def article_metadata(tree: HtmlElement) -> str | None:
    """Return the meta tag that declares the page an article, or None.

    A publication time (``article:published_time``, ``PubDate``, ``publishdate``) or TRS's
    ``ArticleTitle`` does; ``og:type`` does not (home pages declare ``article`` too).
    """
    for meta in tree.iter("meta"):
        name = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = (meta.get("content") or "").strip().lower()
        if name in ARTICLE_META and content:
            return name
    return None


ARTICLE_META = (
    "article:published_time",
    "articletitle",
    "pubdate",
    "publishdate",
    "firstpublishedtime",
)


def _excluded(element: HtmlElement, rows: set[HtmlElement]) -> bool:
    node = element
    while node is not None:
        if node in rows or node.tag in ("a", "script", "style", "noscript", "textarea"):
            return True
        node = node.getparent()
    return False


def best_group(items: list[ListItem]) -> list[ListItem]:
    """Return the group of look-alike rows that most looks like the page's list.

    Groups are ranked by their dated rows, then by their size; rows that repeat a URL
    (a picture and a title linking the same article) count once.
    """
    groups: dict[str, list[ListItem]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for item in items:
        if (item.group, item.url) in seen:
            continue
        seen.add((item.group, item.url))
        groups[item.group].append(item)
    if not groups:
        return []
    return max(groups.values(), key=lambda g: (sum(1 for i in g if i.date), len(g)))


def analyse_list(text: str | bytes | HtmlElement, url: str) -> ListAnalysis:
    """Tell whether a page is a list of dated article links, with its rows and pagination.

    Args:
        text: the page (decoded text, bytes or a parsed tree).
        url: the page's URL, to resolve its links.

    Returns:
        A :class:`ListAnalysis`: ``is_list``, the rows of its best group (``items``), how many
        are dated, the prose outside rows, the pagination scheme and a regex generalising the
        article URLs; ``reason`` says why it is or is not a list.
    """
    tree = text if isinstance(text, HtmlElement) else parse(text)
    if tree is None:
        return ListAnalysis(url, False, reason="empty or unparseable page")
    rows: Rows = defaultdict(set)
    items = list_items(tree, url, rows)
    group = best_group(items)
    dated = sum(1 for i in group if i.date)
    prose = prose_chars(tree, rows)
    analysis = ListAnalysis(url, False, group, dated, prose)
    declared = article_metadata(tree)
    if declared and prose >= DECLARED_ARTICLE_PROSE:
        analysis.reason = (
            f"the page declares itself an article ({declared}), {prose} characters of prose"
        )
        return analysis
    if (
        dated < MIN_DATED_SHARE * len(group)
        and len(group) >= UNDATED_MIN_ITEMS
        and prose <= PROSE_FLOOR
    ):
        analysis.is_list = True
        analysis.reason = (
            f"{len(group)} undated title rows (a ranking or index), {prose} characters of prose"
        )
        return analysis
    if len(group) < MIN_ITEMS or dated < MIN_ITEMS:
        analysis.reason = (
            f"{dated} dated title rows in the largest group of {len(group)} (< {MIN_ITEMS})"
        )
        return analysis
    if dated < MIN_DATED_SHARE * len(group):
        analysis.reason = f"only {dated} of {len(group)} rows dated"
        return analysis
    limit = max(PROSE_FLOOR, PROSE_PER_ITEM * len(group))
    if prose > limit:
        analysis.reason = f"{prose} characters of prose outside the {len(group)} rows: an article"
        return analysis
    titles = sum(han_count(i.title) for i in group)
    if len(group) < SHORT_LIST and prose >= SHORT_ARTICLE_PROSE and prose > titles:
        analysis.reason = (
            f"{prose} characters of prose, more than the {titles} of the {len(group)} "
            "row titles: an article with a list of related links"
        )
        return analysis
    analysis.is_list = True
    analysis.reason = f"{dated} of {len(group)} title rows dated, {prose} characters of prose"
    analysis.items = [i for i in group if i.date]
    analysis.article_pattern = article_pattern([i.url for i in analysis.items])
    analysis.pagination = pagination(tree, url)
    return analysis


def pagination(tree: HtmlElement, url: str) -> Pagination:
    """Return how the column at ``url`` pages, read from its page bar and scripts.

    Order: a 下一页 link (its URL against ``url`` names the scheme), TRS
    ``createPageHTML(count, current, "index", "html")``, numbered page links, Hanweb
    ``jpage``/``pageNum`` scripts, the e-paper 下一版 chain; else ``none``.
    """
    links = [
        (target, " ".join(a.text_content().split()))
        for a in tree.iter("a")
        if (target := _absolute(a.get("href", ""), url))
    ]
    for target, text in links:
        if text and NEXT_TEXT.match(text) and target != url:
            return _scheme(url, target, f"下一页 link {text!r} → {target}")
    for script in tree.iter("script"):
        match = TRS_PAGER.search(script.text or "")
        if match:
            folder = url.split("?", 1)[0].rsplit("/", 1)[0]
            nxt = f"{folder}/{match.group(3)}_1.{match.group(4)}"
            return Pagination(
                "index_N",
                nxt,
                evidence=f"TRS createPageHTML(…, {match.group(3)!r}, {match.group(4)!r})",
            )
    numbered = [t for t, text in links if re.fullmatch(r"\d{1,3}", text) and text == "2"]
    if numbered:
        return _scheme(url, numbered[0], f"page number link 2 → {numbered[0]}")
    for target, text in links:
        if re.match(r"^下一版|下一版$", text):
            return Pagination("sections", target, evidence=f"e-paper 下一版 → {target}")
    for script in tree.iter("script"):
        if HANWEB_PAGER.search(script.text or "") and "record" in (script.text or ""):
            return Pagination("query", None, "pageNum", evidence="Hanweb datastore/jpage script")
    return Pagination("none", evidence="no page bar, 下一页 link or pager script")


def _scheme(current: str, nxt: str, evidence: str) -> Pagination:
    """Name the scheme that leads from ``current`` to its next page ``nxt``."""
    cur, new = urlsplit(current), urlsplit(nxt)
    if new.query and cur.path.rsplit("/", 1)[0] == new.path.rsplit("/", 1)[0]:
        keys = [k for k, _ in _query_pairs(new.query)]
        old = dict(_query_pairs(cur.query))
        for key, value in _query_pairs(new.query):
            if value.isdigit() and old.get(key) != value:
                return Pagination("query", nxt, key, evidence)
        if keys:
            return Pagination("query", nxt, keys[-1], evidence)
    name = new.path.rsplit("/", 1)[-1]
    if re.fullmatch(r"index_\d+\.\w+", name):
        return Pagination("index_N", nxt, evidence=evidence)
    if re.fullmatch(r"index\d+\.\w+", name):
        return Pagination("indexN", nxt, evidence=evidence)
    if re.search(r"\d+\.\w+$", name):
        return Pagination("path_N", nxt, evidence=evidence)
    return Pagination("next_link", nxt, evidence=evidence)


def _query_pairs(query: str) -> Iterator[tuple[str, str]]:
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key:
            yield key, value
