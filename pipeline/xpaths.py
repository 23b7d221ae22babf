"""XPath expressions used by the extractor, compiled once and grouped by purpose and site family.

Class and id tests use EXSLT regular expressions (``re:test``) so that a token such as
``share`` matches ``bdsharebuttonbox`` but the list stays readable.
"""

from __future__ import annotations

import re

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


def compile_each(expressions: list[str]) -> tuple[etree.XPath, ...]:
    """Compile XPath expressions separately, to be tried in order of preference."""
    if not expressions:
        raise ValueError("refusing to compile an empty XPath list")
    return tuple(etree.XPath(expr, namespaces=NAMESPACES) for expr in expressions)


class AttrMatcher:
    """Select elements whose class or id matches a regex, in document order.

    Called like a compiled ``XPath``; one Python regex per element is much faster than
    lxml's EXSLT ``re:test``, which these selectors used before.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.regex = re.compile(pattern, re.I)

    def __call__(self, tree: etree._Element) -> list[etree._Element]:
        test = self.regex.search
        return [
            element
            for element in ATTRIBUTED_XPATH(tree)
            if test(element.get("class") or "") or test(element.get("id") or "")
        ]


ATTRIBUTED_XPATH = etree.XPath("//*[@class or @id]")


def _attr_matches(pattern: str) -> str:
    return f"re:test(@class, '{pattern}', 'i') or re:test(@id, '{pattern}', 'i')"


# --- Article body containers, most specific first (the fast path) --------------------------
CONTENT_XPATHS = compile_each(
    [
        # TRS WCM gov sites: http://www.wuhan.gov.cn/.../202304/t20230419_2184000.shtml
        "//div[contains(@class, 'TRS_Editor')]",
        "//div[contains(@class, 'TRS_UEDITOR')]",
        "//*[@id='UCAP-CONTENT']",
        # Hanweb (大汉) gov sites: http://www.xz.gov.cn/art/2022/1/10/art_1234_567890.html
        "//*[@id='zoom']",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' bt_content ')]",
        "//*[@id='Zoom']",
        # gov.cn and provincial portals: http://www.gov.cn/xinwen/2023-05/06/content_5754000.htm
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' pages_content ')]",
        # People's Daily channels: http://dangjian.people.com.cn/n1/2023/0506/c117092-32680000.html
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' rm_txt_con ')]",
        "//*[@id='rwb_zw']",
        # Xinhua: http://www.news.cn/politics/2023-05/06/c_1129590000.htm
        "//*[@id='detailContent']",
        # Founder (方正) e-papers: http://xh.xhby.net/pc/con/202306/15/content_12345.html
        "//founder-content",
        # WeChat articles and their mirrors: https://mp.weixin.qq.com/s/aBcDeF123
        "//*[@id='js_content']",
        # Common CMS templates (newspapers, magazine aggregators, museums)
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' article-content ')]",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' article_content ')]",
        "//*[@id='article-content' or @id='articleContent' or @id='article_content']",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' news_content ')]",
        "//*[@id='news_content' or @id='newsContent' or @id='NewsContent']",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' detail-content ')]",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' content-text ')]",
    ]
)

# --- Title candidates, checked against <title> ---------------------------------------------
TITLE_CANDIDATES_XPATH = compile_union(
    [
        "//h1",
        "//h2",
        "//h3",
        "//*["
        + _attr_matches(r"(^|[\s_-])(title|bt|tit|headline|art_?tit\w*|article-?title)($|[\s_-])")
        + "]",
        "//td[contains(@class, 'title') or contains(@class, 'biaoti')]",
        # Old table layouts print the title as <font><b>…</b></font>.
        "//td//b",
        "//td//strong",
    ]
)

# --- Meta-like elements: dates and authors printed in their own spans ----------------------
DATE_ELEMENT_XPATH = AttrMatcher(
    r"(^|[\s_-])(pub_?time|pubdate|publish\w*|date|time|fbsj|rq)($|[\s_-])"
)
AUTHOR_ELEMENT_XPATH = AttrMatcher(r"(^|[\s_-])(author|writer|zuozhe)($|[\s_-])")
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
BOILERPLATE_XPATH = compile_union(
    ["//*[" + _attr_matches(pattern) + "]" for pattern in BOILERPLATE_PATTERNS]
)
# The same test in Python: one regex over the class and id of every element that has one
# is several times faster than nine EXSLT calls per element (see bench/bench_extract.py).
BOILERPLATE_ATTR_RE = re.compile("|".join(f"(?:{p})" for p in BOILERPLATE_PATTERNS), re.I)

# --- List (column) pages -----------------------------------------------------------------
LINK_XPATH = etree.XPath("//body//a[@href]")
PAGINATION_XPATH = compile_union(
    [
        "//*["
        + _attr_matches(r"(^|[\s_-])(page|pages|pager|pagination|fanye|paging)($|[\s_-])")
        + "]",
        "//a[normalize-space() = '下一页' or normalize-space() = '尾页' or normalize-space() = '下页']",
    ]
)
# Hanweb column pages carry their list as <script type="text/xml"><datastore><record>…, which
# a browser renders with JavaScript: http://www.xz.gov.cn/col/col12345/index.html
DATASTORE_XPATH = etree.XPath("//script[contains(., '<datastore>')]")
# Hanweb serves attachments through downfile.jsp?filename=x.pdf, so match anywhere in href.
ATTACHMENT_LINK_XPATH = etree.XPath(
    "//a[re:test(@href, '\\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|pptx?)($|[?&#])', 'i')"
    " or re:test(normalize-space(), '\\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|pptx?)$', 'i')]",
    namespaces=NAMESPACES,
)

# --- <link rel="canonical"> ---------------------------------------------------------------
CANONICAL_XPATH = etree.XPath("//link[@rel='canonical']/@href")
