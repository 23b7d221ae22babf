"""Page metadata: gov ``<meta>`` tags, title, info line under the title, column, URL.

Chinese government CMSs (TRS, Hanweb) publish their metadata as ``<meta name="ArticleTitle">``,
``PubDate``, ``ContentSource``, ``ColumnName``, ``SiteName``; other sites print it in an info
line under the title (``发布时间:2019-08-03 来源:``). Meta tags win; the info line is read
only near the title so that a sidebar date or today's date in the header is never taken.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache

from lxml.html import HtmlElement

from pipeline.extract import selectors
from pipeline.extract.boilerplate import ISSUE_LINE_RE, is_info_line, is_prose
from pipeline.extract.bylines import (
    Credits,
    is_credit_line,
    is_person_name,
    merge_names,
    parse_byline,
    parse_info_line,
    split_names,
)
from pipeline.extract.dates import parse_date
from pipeline.extract.normalise import normalise_text, strip_pinyin_annotations

# <meta> names (lower-cased) per field, in order of preference.
META_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("articletitle",),
    "og_title": ("og:title",),
    "published": (
        "pubdate",
        "publishdate",
        "firstpublishedtime",
        "article:published_time",
        "datepublished",
        "og:release_date",
        "publish_time",
        "publishtime",
    ),
    "source": ("contentsource", "source", "article:source"),
    "author": ("author", "article:author", "contentauthor"),
    "site_name": ("sitename", "og:site_name", "site_name", "application-name"),
    "site_code": ("siteidcode",),
    "column": ("columnname", "column", "catalogs"),
    "keywords": ("keywords", "news_keywords", "tags"),
    "url": ("url", "og:url"),
}
TITLE_SEPARATORS_RE = re.compile(
    r"\s+[-－—–|｜_]+\s+|_+|\s*--+\s*|\s*——\s*|\s*[|｜]\s*|(?<=\S)[-－]\s+|\s+[-－](?=\S)"
)
MARKUP_RE = re.compile(r"</?[a-zA-Z][^<>]*>")
TITLE_PARTS_RE = re.compile(r"[-－_|｜]+")
QUOTES_RE = re.compile("[“”„‟「」『』″]")
HAN_START_RE = re.compile(r"[\u4e00-\u9fff]")
SITE_WORDS_RE = re.compile(
    r"(网|站|政府|门户|官网|委员会|日报|晚报|在线|频道|博物馆|纪念馆|统战|工委|党建)$"
)
MAX_INFO_CHARS = 200
CREDITS_AFTER_TEXT = 200
"""Elements after the text block in which closing credit lines are still looked for."""
SOURCE_PREFIX_RE = re.compile(r"^\s*(本文|文章|信息|新闻)?(来源于|来源|出自|稿源)\s*[:：]?")


def text_of(element: HtmlElement) -> str:
    """Return an element's text with whitespace collapsed."""
    return " ".join(element.text_content().split())


def extract_meta(tree: HtmlElement) -> dict[str, str]:
    """Return the page's ``<meta>`` values by field name (see ``META_KEYS``).

    Args:
        tree: The parsed page.

    Returns:
        Field name → first non-empty value, e.g. ``{"published": "2023-04-19 16:15"}``.
    """
    values: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").strip()
        content = " ".join((meta.get("content") or "").split())
        if key and content:
            values.setdefault(key.lower(), content)
    found: dict[str, str] = {}
    for field_name, keys in META_KEYS.items():
        for key in keys:
            value = values.get(key)
            if value and not (field_name == "author" and value.startswith("http")):
                found[field_name] = value
                break
    return found


def extract_url(tree: HtmlElement, meta: dict[str, str], url: str | None) -> str | None:
    """Return the given URL, else the page's Url meta, canonical link or og:url."""
    if url:
        return url
    canonical = [href.strip() for href in selectors.CANONICAL_XPATH(tree) if href.strip()]
    return (
        meta.get("url")
        if "url" in meta and meta["url"].startswith("http")
        else (canonical[0] if canonical else meta.get("url"))
    )


def split_title(title: str) -> list[str]:
    """Split a ``<title>`` into its segments (headline, column, site) on ``-``, ``_``, ``|``, ``——``.

    A hyphen without spaces is a separator only before or after a segment that names a site
    (``静夜思•夜-中国诗歌网``), since headlines hold hyphens of their own (``2023-2024``).
    """
    pieces = [piece.strip() for piece in TITLE_SEPARATORS_RE.split(title)]
    pieces = [piece for piece in pieces if piece]
    if pieces:
        last = pieces[-1].rsplit("-", 1)
        if len(last) == 2 and all(last) and is_site_name(last[1]):
            pieces[-1:] = [last[0].strip(), last[1].strip()]
        first = pieces[0].split("-", 1)
        if len(first) == 2 and all(first) and is_site_name(first[0]):
            pieces[:1] = [first[0].strip(), first[1].strip()]
    return pieces


def is_site_name(segment: str, site_names: tuple[str, ...] = ()) -> bool:
    """Tell whether a title segment names a site or column (``中国科普网``, ``凯里市人民政府``)."""
    segment = segment.strip()
    if not segment:
        return True
    if any(name and (segment in name or name in segment) for name in site_names):
        return True
    return bool(SITE_WORDS_RE.search(normalise_cached(segment)))


def strip_site_name(title: str, site_names: tuple[str, ...] = ()) -> str:
    """Remove site and column names joined to a ``<title>`` at either end.

    Args:
        title: The ``<title>`` (or ``og:title``) text.
        site_names: The site's names, from ``SiteName``/``og:site_name`` meta tags.

    Returns:
        The headline: what is left once the segments naming the site or a column are taken
        off both ends (``凯里市人民政府- 凯里市教育系统…方案`` → ``凯里市教育系统…方案``).
    """
    pieces = split_title(title)
    while len(pieces) > 1 and is_site_name(pieces[-1], site_names):
        pieces.pop()
    while len(pieces) > 1 and is_site_name(pieces[0], site_names):
        pieces.pop(0)
    if not pieces:
        return title.strip()
    # Rejoin what is left with the separators it had ("周周讲第57讲 | 政治体检进行时").
    start = title.find(pieces[0])
    end = title.rfind(pieces[-1]) + len(pieces[-1])
    return title[start:end].strip() if 0 <= start < end else " ".join(pieces)


def strip_markup(text: str) -> str:
    """Remove tags left in a title (``…力量<div>——热烈祝贺…</div>``: ``<title>`` is raw text).

    Returns:
        The text without tags, with whitespace collapsed.
    """
    return " ".join(MARKUP_RE.sub("", text).split())


def title_site_names(tree: HtmlElement) -> tuple[str, ...]:
    """Return the segments of ``<title>`` other than its headline (site and column names)."""
    pieces = split_title(strip_markup(tree.findtext(".//title") or ""))
    if len(pieces) < 2:
        return ()
    headline = max(pieces, key=len)
    return tuple(normalise_text(piece) for piece in pieces if piece != headline)


def comparable(text: str) -> str:
    """Reduce a title to what must agree between ``<title>``, meta tags and the heading.

    Pinyin annotations (mirrors annotate the heading but not ``<title>``), curly and
    straight quotes, full-width forms and spaces do not count.
    """
    text = unicodedata.normalize("NFKC", strip_pinyin_annotations(text))
    return "".join(QUOTES_RE.sub('"', text).split())


def extract_title(tree: HtmlElement, meta: dict[str, str]) -> tuple[str | None, HtmlElement | None]:
    """Find the article title and the element that displays it.

    The candidates are the ``ArticleTitle`` meta, ``<title>``, ``og:title`` and the page's
    headings; the one they agree on wins:

    1. ``ArticleTitle`` (government CMSs fill it with the bare headline);
    2. a heading that ``<title>`` (or ``og:title``) contains, the longest such;
    3. a segment of ``<title>`` that a heading starts with, the heading carrying a counter
       or an edit link after it (``雄安新区[编辑]``, ``第二章 失乡号的船长241``);
    4. the page's one ``<h1>`` when nothing agrees (the visible headline over a stale
       ``<title>``);
    5. ``og:title``, then ``<title>``, without site and column names at either end;
       a ``<title>`` naming only the site and column yields to a title-like heading.

    Markup is never kept: every candidate is element text.

    Args:
        tree: The parsed page.
        meta: Values from :func:`extract_meta`.

    Returns:
        The title as written on the page (not yet normalised), and its element if found.
    """
    page_title = strip_markup(tree.findtext(".//title") or "")
    meta = {
        key: strip_markup(value) if key in ("title", "og_title") else value
        for key, value in meta.items()
    }
    site_names = (meta["site_name"],) if meta.get("site_name") else ()
    wanted = [comparable(v) for v in (meta.get("title"), page_title, meta.get("og_title")) if v]
    pieces = split_title(page_title)
    segments = [comparable(piece) for piece in pieces]
    best: HtmlElement | None = None
    best_text = ""
    prefixed: tuple[str, HtmlElement] | None = None
    headings = []
    for element in selectors.TITLE_CANDIDATES_XPATH(tree):
        text = text_of(element)
        if len(text) < 2 or len(text) > 200:
            continue
        headings.append((element, text))
        key = comparable(text)
        agrees = any(key == w or w.startswith(key) or key in w for w in wanted)
        if agrees and (len(key) >= 6 or key in segments) and len(text) > len(best_text):
            best, best_text = element, text
        if prefixed is None:
            prefixed = _segment_with_extra(key, segments, pieces, element)
    if meta.get("title"):
        return meta["title"], best
    if best is not None:
        return best_text, best
    if prefixed is not None:
        return prefixed
    h1s = [(e, t) for e, t in headings if e.tag == "h1" and len(t) >= 8]
    if len(h1s) == 1 and not is_site_name(h1s[0][1], site_names):
        return h1s[0][1], h1s[0][0]
    if meta.get("og_title"):
        return strip_site_name(meta["og_title"], site_names), best
    heading = _only_heading(tree, page_title)
    if heading is not None:
        return text_of(heading), heading
    headline = strip_site_name(page_title, site_names) if page_title else ""
    if all(len(part) <= 6 for part in TITLE_PARTS_RE.split(headline)):
        # "科普中国-辟谣文章": the <title> names the site and the column, not the article.
        for element, text in headings:
            if len(text) >= 8 and not is_site_name(text, site_names):
                return text, element
    if headline:
        return headline, best
    first = [text_of(h) for h in tree.iter("h1") if text_of(h)]
    return (first[0] if first else None), None


def _segment_with_extra(
    key: str, segments: list[str], pieces: list[str], element: HtmlElement
) -> tuple[str, HtmlElement] | None:
    """Return the ``<title>`` segment a heading starts with, when the rest is a counter or a link."""
    for segment, piece in zip(segments, pieces, strict=True):
        extra = key[len(segment) :]
        if len(segment) >= 2 and key.startswith(segment) and 0 < len(extra) <= 8:
            if not HAN_START_RE.match(extra) and not is_site_name(piece):
                return piece, element
    return None


def _only_heading(tree: HtmlElement, page_title: str) -> HtmlElement | None:
    """Return the page's one ``<h1>`` when ``<title>`` names only the site.

    E-papers and some old CMSs print the same ``<title>`` (``新华日报数字报``) on every page; the
    article title is then the ``<h1>`` that the ``<title>`` does not contain (a logo ``<h1>``
    holding the site name is contained in it).
    """
    if page_title and any(
        page_title in text_of(element) for element in selectors.TITLE_CANDIDATES_XPATH(tree)
    ):
        return None
    headings = [h for h in tree.iter("h1") if len(text_of(h)) >= 6 and text_of(h) not in page_title]
    return headings[0] if len(headings) == 1 else None


@lru_cache(maxsize=4096)
def normalise_cached(text: str) -> str:
    # Nested elements repeat the same short texts; normalising each once is the hot path.
    return normalise_text(text)


def document_order(tree: HtmlElement) -> dict[HtmlElement, int]:
    """Map every element to its position in document order."""
    return dict(zip(tree.iter(), itertools.count()))


def find_info_credits(
    tree: HtmlElement,
    title_element: HtmlElement | None,
    body_element: HtmlElement | None,
    text_block: HtmlElement | None = None,
) -> Credits:
    """Read the info line(s) printed between the title and the body.

    Only short elements after the title (and, when the body is known, before its end) are
    read, so dates in the header, sidebars or the text itself are never taken.

    Args:
        tree: The parsed page.
        title_element: The element showing the title, if found.
        body_element: The article body container, if found.
        text_block: The block holding the text (the container or the text core): credit
            lines after the text are looked for up to 200 elements past its end, not in the
            rest of a portal page.

    Returns:
        The credits found (published, source, authors, editors).
    """
    order = document_order(tree)
    scan_end = len(order)
    if text_block is not None and text_block in order:
        last = max((order.get(e, 0) for e in text_block.iterdescendants()), default=0)
        scan_end = max(last, order[text_block]) + CREDITS_AFTER_TEXT
    start = order.get(title_element, -1) if title_element is not None else -1
    stop = len(order)
    if body_element is not None:
        # .get: an element from another tree (a copy) must not end the extraction with a
        # KeyError, as it once did on a government page.
        stop = order.get(body_element, stop)
        if start >= stop:
            start = -1
    credits = Credits()
    candidates: list[HtmlElement] = []
    title_ancestors = set(title_element.iterancestors()) if title_element is not None else set()
    in_text = False
    text_start = stop
    for element in tree.iter("div", "p", "span", "td", "li", "h5", "h6", "em", "font", "small"):
        position = order.get(element, -1)
        if position > scan_end:
            break
        if position <= start or element in title_ancestors:
            continue
        text = text_of(element)
        if element.tag == "p" and is_prose(text) and not in_text:
            # The text has begun: dates further down belong to it or to other articles.
            in_text = True
            text_start = position
        if not text or len(text) > MAX_INFO_CHARS:
            continue
        if candidates and any(ancestor in candidates for ancestor in element.iterancestors()):
            continue
        if in_text or position >= stop:
            # After the text only credit lines count ("编辑:张成付" under a magazine article).
            # They need a colon, which normalising never adds (unless repairing a "?" run).
            if not any(mark in text for mark in ":：?\ufffd"):
                continue
            normalised = normalise_cached(text)
            if is_credit_line(normalised):
                found = parse_info_line(normalised)
                credits.editors = merge_names(credits.editors, found.editors)
                credits.authors = merge_names(credits.authors, found.authors)
                credits.source = credits.source or found.source
                candidates.append(element)
            continue
        normalised = normalise_cached(text)
        issue = ISSUE_LINE_RE.match(normalised)
        if issue:
            credits.source = credits.source or issue.group("source")
            continue
        if not is_info_line(normalised):
            # An unlabelled byline between title and body ("本报记者 吴晓 通讯员 钱进").
            names = parse_byline(normalised) if len(normalised) <= 60 else None
            if names:
                credits.authors = merge_names(credits.authors, names)
                candidates.append(element)
            continue
        candidates.append(element)
        credits.merge(parse_info_line(normalised))
    if credits.published is None or not credits.authors or credits.source is None:
        credits.merge(_credits_from_classes(tree, order, start, stop, text_start))
    return credits


def _credits_from_classes(
    tree: HtmlElement, order: dict[HtmlElement, int], start: int, stop: int, text_start: int
) -> Credits:
    """Read unlabelled date and author spans (``<span class="date">``) near the title.

    Author blocks count only before the text begins: later ones are comment threads, login
    boxes and "more by this writer" cards.
    """
    credits = Credits()
    for element in selectors.DATE_ELEMENT_XPATH(tree):
        if start < order.get(element, -1) < stop and len(text_of(element)) <= 60:
            credits.published = parse_date(text_of(element))
            if credits.published:
                break
    for element in selectors.SOURCE_ELEMENT_XPATH(tree):
        text = normalise_text(text_of(element))
        if start < order.get(element, -1) < min(stop, text_start) and 0 < len(text) <= 40:
            # "本文来源于北京商报", "来源：新华社", or the name alone.
            value = SOURCE_PREFIX_RE.sub("", text).strip()
            if value and not parse_date(value):
                credits.source = value
                break
    for element in selectors.AUTHOR_ELEMENT_XPATH(tree):
        text = normalise_text(text_of(element))
        if start < order.get(element, -1) < min(stop, text_start) and 0 < len(text) <= 30:
            names = [
                name
                for name in split_names(text.split("：")[-1].split(":")[-1])
                if is_person_name(name)
            ]
            if names:
                # The first author block under the title; later ones are comment threads,
                # login boxes and "other articles by" cards.
                credits.authors = merge_names(credits.authors, names)
                break
    return credits


def extract_column(tree: HtmlElement, meta: dict[str, str]) -> str | None:
    """Return the news section (栏目): ColumnName meta, else the breadcrumb's last item."""
    if meta.get("column"):
        return meta["column"]
    for element in selectors.BREADCRUMB_XPATH(tree):
        items = [text_of(a) for a in element.iter("a") if text_of(a)]
        text = text_of(element)
        tail = re.split(r"\s*[>›»＞/]+\s*", text)[-1].strip() if text else ""
        if tail and tail not in ("正文", "详情", "内容") and len(tail) <= 20:
            return tail
        if items:
            return items[-1]
    return None


def extract_keywords(tree: HtmlElement, meta: dict[str, str]) -> str | None:
    """Return keywords from the Keywords meta or a ``关键词:`` block of links."""
    if meta.get("keywords"):
        words = [w for w in re.split(r"[,，;；、\s]+", meta["keywords"]) if w]
        return ",".join(dict.fromkeys(words)) or None
    for element in selectors.KEYWORD_ELEMENT_XPATH(tree):
        words = [text_of(a) for a in element.iter("a") if text_of(a)]
        if words and len(words) <= 20:
            return ",".join(dict.fromkeys(words))
    return None


# --- 政府信息公开 index tables -------------------------------------------------------------

# Labels of the index table printed above a government document, by field. Whitespace inside
# a label is ignored ("文　　号").
DISCLOSURE_LABELS: dict[str, tuple[str, ...]] = {
    "index_no": ("索引号",),
    "subject": ("主题分类", "信息分类", "分类"),
    "issuer": ("发文机关", "发布机构", "发文单位", "发布单位", "公开责任部门"),
    "doc_no": ("发文字号", "文号"),
    "written": ("成文日期", "成文时间", "印发日期"),
    "published": ("发布日期", "发布时间", "公开日期"),
    "validity": ("有效性",),
}
DISCLOSURE_KIND = {label: kind for kind, labels in DISCLOSURE_LABELS.items() for label in labels}
DISCLOSURE_LABEL_RE = re.compile(
    r"^\s*(?P<label>"
    + "|".join(r"\s*".join(label) for label in sorted(DISCLOSURE_KIND, key=len, reverse=True))
    + r")\s*[:：]?(?P<value>.*)$",
    re.S,
)
# The labels the table must hold one of (索引号 or 成文日期), spaced or not.
DISCLOSURE_GATE_RE = re.compile(r"索\s*引\s*号|成\s*文\s*(日\s*期|时\s*间)|印\s*发\s*日\s*期")
DISCLOSURE_TAGS = ("td", "th", "li", "span", "p", "div", "dt", "dd", "b", "strong", "label", "em")


def read_disclosure_table(tree: HtmlElement) -> dict[str, str]:
    """Read the index table of a 政府信息公开 page (索引号, 发文机关, 文号, 成文日期, 发布日期...).

    A label and its value sit in one cell (``<td>成文日期：2023-03-01</td>``) or in two
    neighbouring ones (``<th>成文日期</th><td>2023-03-01</td>``). Two labels at least must be
    found (索引号 and 发布日期, say) for the block to count as such a table, so that a lone
    ``发布时间`` in an info line is left to :func:`find_info_credits`.

    Args:
        tree: The parsed page.

    Returns:
        Field → value, e.g. ``{"written": "2023-03-01", "published": "2023-03-06"}``; empty
        when the page has no such table.
    """
    if not DISCLOSURE_GATE_RE.search(tree.text_content()):
        return {}  # most pages: one pass of libxml2 instead of one per cell
    found: dict[str, str] = {}
    for element in tree.iter(*DISCLOSURE_TAGS):
        text = element.text_content()
        if len(text) > 80:
            continue
        match = DISCLOSURE_LABEL_RE.match(text)
        if match is None:
            continue
        kind = DISCLOSURE_KIND["".join(match.group("label").split())]
        value = " ".join(match.group("value").split()).strip(" :：")
        if not value:
            sibling = element.getnext()
            value = " ".join(sibling.text_content().split()) if sibling is not None else ""
        if value and kind not in found and len(value) <= 60:
            found[kind] = value
    return found if len(found) >= 2 and ("index_no" in found or "written" in found) else {}
