"""XPath expressions and selectors used by the extractor, grouped by purpose and site family.

Class and id tests are Python regular expressions (so that a token such as ``share`` matches
``bdsharebuttonbox`` but the list stays readable) run over the elements that have a class or
id; lxml evaluates EXSLT ``re:test`` through a Python callback per element, which made these
selectors the extractor's largest cost. tests/test_selectors.py checks that every selector picks
exactly what its XPath/EXSLT form did.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from lxml import etree

NAMESPACES = {"re": "http://exslt.org/regular-expressions"}


def compile_union(expressions: list[str]) -> etree.XPath:
    """Compile XPath expressions into one alternation, refusing an empty list.

    Args:
        expressions: XPath expressions selecting elements.

    Returns:
        A compiled ``XPath`` returning matches in document order.
    """
    if not expressions:
        raise ValueError("refusing to compile an empty XPath alternation")
    return etree.XPath(" | ".join(expressions), namespaces=NAMESPACES)


ATTRIBUTED_XPATH = etree.XPath("//*[@class or @id]")
Attributed = list[tuple[etree._Element, str, str]]
_SHARED_SCAN: ContextVar[tuple[etree._Element, Attributed] | None] = ContextVar(
    "_SHARED_SCAN", default=None
)


def attributed(tree: etree._Element) -> Attributed:
    """Return every element with a class or id, with its class and id, in document order."""
    shared = _SHARED_SCAN.get()
    if shared is not None and shared[0] is tree:
        return shared[1]
    return [(e, e.get("class") or "", e.get("id") or "") for e in ATTRIBUTED_XPATH(tree)]


@contextmanager
def shared_scan(tree: etree._Element) -> Iterator[None]:
    """Let the selectors share one :func:`attributed` scan of ``tree`` inside the block.

    The extractor asks half a dozen class/id questions of the same unmodified page; the tree
    must not be changed inside the block.
    """
    token = _SHARED_SCAN.set((tree, attributed(tree)))
    try:
        yield
    finally:
        _SHARED_SCAN.reset(token)


class AttrMatcher:
    """Select elements whose class or id matches a regex, in document order.

    Called like a compiled ``XPath``. One Python regex over the class and id of every element
    that has one is much faster than lxml's EXSLT ``re:test`` (a Python callback per element)
    and than XPath ``contains(translate(...))`` prefilters (measured: 10-15x slower).

    Args:
        pattern: The regex (case-insensitive) tested on ``class`` and on ``id``.
        plain: An XPath whose elements are selected as well, without the regex test.
    """

    def __init__(self, pattern: str, plain: str | None = None) -> None:
        self.pattern = pattern
        self.regex = re.compile(pattern, re.I)
        self.scan = etree.XPath(f"{plain} | //*[@class or @id]") if plain else ATTRIBUTED_XPATH
        self.plain = etree.XPath(plain) if plain else None

    def __call__(self, tree: etree._Element) -> list[etree._Element]:
        test = self.regex.search
        if self.plain is None:
            return [e for e, cls, id_ in attributed(tree) if test(cls) or test(id_)]
        plain = set(self.plain(tree))
        return [
            element
            for element in self.scan(tree)
            if element in plain or test(element.get("class") or "") or test(element.get("id") or "")
        ]


# --- Article body containers, most specific first (the fast path) --------------------------
# Each rule is (tag or None, attribute, test, value): ``class`` with ``substring`` or ``token``
# (a whitespace-separated class name, as ``contains(concat(' ', normalize-space(@class),
# ' '), ' x ')``), or ``id`` equal to one of the values. All rules are checked in one pass over
# the elements that have a class or id, instead of one XPath search of the tree per rule.
ContentRule = tuple[str | None, str, str, tuple[str, ...]]
CONTENT_RULES: tuple[ContentRule, ...] = (
    # TRS WCM gov sites: http://www.wuhan.gov.cn/.../202304/t20230419_2184000.shtml
    ("div", "class", "substring", ("TRS_Editor",)),
    ("div", "class", "substring", ("TRS_UEDITOR",)),
    (None, "id", "equals", ("UCAP-CONTENT",)),
    # Hanweb (大汉) gov sites: http://www.xz.gov.cn/art/2022/1/10/art_1234_567890.html
    (None, "id", "equals", ("zoom",)),
    (None, "class", "token", ("bt_content",)),
    (None, "id", "equals", ("Zoom",)),
    # gov.cn and provincial portals: http://www.gov.cn/xinwen/2023-05/06/content_5754000.htm
    (None, "class", "token", ("pages_content",)),
    # People's Daily channels: http://dangjian.people.com.cn/n1/2023/0506/c117092-32680000.html
    (None, "class", "token", ("rm_txt_con",)),
    (None, "id", "equals", ("rwb_zw",)),
    # Xinhua: http://www.news.cn/politics/2023-05/06/c_1129590000.htm
    (None, "id", "equals", ("detailContent",)),
    # Founder (方正) e-papers: http://xh.xhby.net/pc/con/202306/15/content_12345.html
    ("founder-content", "tag", "any", ()),
    # WeChat articles and their mirrors: https://mp.weixin.qq.com/s/aBcDeF123
    (None, "id", "equals", ("js_content",)),
    # Common CMS templates (newspapers, magazine aggregators, museums)
    (None, "class", "token", ("article-content",)),
    (None, "class", "token", ("article_content",)),
    (None, "id", "equals", ("article-content", "articleContent", "article_content")),
    (None, "class", "token", ("news_content",)),
    (None, "id", "equals", ("news_content", "newsContent", "NewsContent")),
    (None, "class", "token", ("detail-content",)),
    (None, "class", "token", ("content-text",)),
)


# Rules by the id they want, by the class token they want, and the rest.
_RULES_BY_ID: dict[str, list[int]] = {}
_RULES_BY_TOKEN: dict[str, list[int]] = {}
_SUBSTRING_RULES: list[int] = []
_TAG_RULES: list[int] = []
for _index, (_tag, _attribute, _test, _values) in enumerate(CONTENT_RULES):
    for _value in _values:
        if _attribute == "id":
            _RULES_BY_ID.setdefault(_value, []).append(_index)
        elif _test == "token":
            _RULES_BY_TOKEN.setdefault(_value, []).append(_index)
    if _test == "substring":
        # Every substring rule looks for a TRS class; content_candidates relies on it.
        assert all(value.startswith("TRS_") for value in _values)
        _SUBSTRING_RULES.append(_index)
    elif _attribute == "tag":
        _TAG_RULES.append(_index)
CONTENT_TAGS_XPATH = etree.XPath(
    " | ".join(f"//{tag}" for tag, attribute, _, _ in CONTENT_RULES if attribute == "tag")
)
# XPath's normalize-space() splits on these four characters only.
XPATH_SPACE_RE = re.compile(r"[ \t\r\n]+")


def _rule_matches(rule: ContentRule, element: etree._Element, cls: str, tokens: list[str]) -> bool:
    tag, attribute, test, values = rule
    if tag is not None and element.tag != tag:
        return False
    if attribute == "tag":
        return True
    if attribute == "id":
        return element.get("id") in values
    if test == "substring":
        return any(value in cls for value in values)
    return any(value in tokens for value in values)


def content_candidates(tree: etree._Element) -> list[etree._Element]:
    """Return the elements matching :data:`CONTENT_RULES`, by rule order then document order.

    An element matching several rules is listed under each, as the separate XPath searches
    this replaces returned it. One pass over the elements with a class or id does the work of
    one XPath search per rule.
    """
    matched: list[list[etree._Element]] = [[] for _ in CONTENT_RULES]
    for element, cls, id_ in attributed(tree):
        tokens = XPATH_SPACE_RE.split(cls) if cls else []
        indexes = set(_RULES_BY_ID.get(id_, ()))
        for token in tokens:
            indexes.update(_RULES_BY_TOKEN.get(token, ()))
        if "TRS_" in cls:
            indexes.update(
                i for i in _SUBSTRING_RULES if _rule_matches(CONTENT_RULES[i], element, cls, tokens)
            )
        for index in indexes:
            matched[index].append(element)
    for element in CONTENT_TAGS_XPATH(tree):
        for index in _TAG_RULES:
            if _rule_matches(CONTENT_RULES[index], element, "", []):
                matched[index].append(element)
    return [element for elements in matched for element in elements]


# --- Title candidates, checked against <title> ---------------------------------------------
TITLE_CANDIDATES_XPATH = AttrMatcher(
    r"(^|[\s_-])(title|bt|tit|headline|art_?tit\w*|article-?title)($|[\s_-])",
    plain="//h1 | //h2 | //h3"
    " | //td[contains(@class, 'title') or contains(@class, 'biaoti')]"
    # Old table layouts print the title as <font><b>…</b></font>.
    " | //td//b | //td//strong",
)


# --- Meta-like elements: dates and authors printed in their own spans ----------------------
DATE_ELEMENT_XPATH = AttrMatcher(
    r"(^|[\s_-])(pub_?time|pubdate|publish\w*|date|time|fbsj|rq)($|[\s_-])"
)
AUTHOR_ELEMENT_XPATH = AttrMatcher(r"(^|[\s_-])(author|writer|zuozhe)($|[\s_-])")
SOURCE_ELEMENT_XPATH = AttrMatcher(r"(^|[\s_-])(source|laiyuan|ly|come-?from)($|[\s_-])")
# Breadcrumbs (their last item names the column, 栏目).
BREADCRUMB_XPATH = AttrMatcher(
    r"bread|crumb|(^|[\s_-])(position|location|dqwz|weizhi|path)($|[\s_-])"
)
# Keyword links: <div class="keyword">关键词:<a>着力</a><a>支部</a></div>
KEYWORD_ELEMENT_XPATH = AttrMatcher(r"(^|[\s_-])(keywords?|tags?|gjc)($|[\s_-])")

# --- Nodes that never hold article text ---------------------------------------------------
DISCARD_XPATH = compile_union(
    [
        "//script",
        "//style",
        "//noscript",
        "//iframe",
        "//form",
        "//button",
        "//select",
        "//input",
        "//textarea",
        "//object",
        "//embed",
        "//nav",
        "//footer",
        "//header",
        "//aside",
    ]
)
# Widgets and blocks around the article, matched on class/id tokens:
# share bars, print/close, font size (大 中 小), QR codes, app banners; breadcrumbs, headers,
# navigation, footers; recommended, related and hot lists, prev/next links, comments, sidebars.
BOILERPLATE_PATTERNS = (
    r"share|bdshare|jiathis|(^|[\s_-])(print|close|dayin|guanbi)($|[\s_-])",
    r"font-?size|fontsize|zihao|(^|[\s_-])(fz|zh?_?size)($|[\s_-])",
    r"qr-?code|erweima|ewm|(^|[\s_-])(app-?down\w*|download-?app)($|[\s_-])",
    r"bread|crumb|(^|[\s_-])(position|location|dqwz|weizhi)($|[\s_-])",
    r"(^|[\s_-])(\w*nav\w*|menu|topbar|top-?bar|header|head|banner|logo)($|[\s_-])",
    r"(^|[\s_-])(footer|foot|bottom|copyright|copy|banquan)($|[\s_-])",
    r"related|relate|recommend|tuijian|xgxw|xgwz|(^|[\s_-])(hot\w*|rank\w*|like)($|[\s_-])",
    r"prev|next|(^|[\s_-])(pager|pagination|fanye|sxp)($|[\s_-])",
    r"comment|(^|[\s_-])(sidebar|side|aside|right|left|left-?nav)($|[\s_-])",
)
# One regex over the class and id of every element that has one (prune_boilerplate); it is
# several times faster than nine EXSLT calls per element (see bench/bench_extract.py).
BOILERPLATE_ATTR_RE = re.compile("|".join(f"(?:{p})" for p in BOILERPLATE_PATTERNS), re.I)

# --- List (column) pages -----------------------------------------------------------------
LINK_XPATH = etree.XPath("//body//a[@href]")
PAGINATION_XPATH = AttrMatcher(
    r"(^|[\s_-])(page|pages|pager|pagination|fanye|paging)($|[\s_-])",
    plain="//a[normalize-space() = '下一页' or normalize-space() = '尾页' or normalize-space() = '下页']",
)
# Hanweb column pages carry their list as <script type="text/xml"><datastore><record>…, which
# a browser renders with JavaScript: http://www.xz.gov.cn/col/col12345/index.html
DATASTORE_XPATH = etree.XPath("//script[contains(., '<datastore>')]")
# Hanweb serves attachments through downfile.jsp?filename=x.pdf, so match anywhere in href.
ATTACHMENT_HREF_RE = re.compile(r"\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|pptx?)($|[?&#])", re.I)
ATTACHMENT_TEXT_RE = re.compile(r"\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|pptx?)$", re.I)


def has_attachment_link(tree: etree._Element) -> bool:
    """Tell whether a page links to a document (by its ``href`` or its link text)."""
    for link in tree.iter("a"):
        if ATTACHMENT_HREF_RE.search(link.get("href") or ""):
            return True
        text = link.text_content()
        if "." in text and ATTACHMENT_TEXT_RE.search(" ".join(text.split())):
            return True
    return False


# --- <link rel="canonical"> ---------------------------------------------------------------
CANONICAL_XPATH = etree.XPath("//link[@rel='canonical']/@href")
