"""XPath expressions used by the extractor, compiled once and grouped by purpose and site family.

Class and id tests use EXSLT regular expressions (``re:test``) so that a token such as
``share`` matches ``bdsharebuttonbox`` but the list stays readable.
"""

from __future__ import annotations

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
DATE_ELEMENT_XPATH = compile_union(
    [
        "//*["
        + _attr_matches(r"(^|[\s_-])(pub_?time|pubdate|publish\w*|date|time|fbsj|rq)($|[\s_-])")
        + "]",
    ]
)
AUTHOR_ELEMENT_XPATH = compile_union(
    [
        "//*[" + _attr_matches(r"(^|[\s_-])(author|writer|zuozhe)($|[\s_-])") + "]",
    ]
)
# Breadcrumbs (their last item names the column, 栏目).
BREADCRUMB_XPATH = compile_union(
    [
        "//*["
        + _attr_matches(r"bread|crumb|(^|[\s_-])(position|location|dqwz|weizhi|path)($|[\s_-])")
        + "]",
    ]
)
# Keyword links: <div class="keyword">关键词:<a>着力</a><a>支部</a></div>
KEYWORD_ELEMENT_XPATH = compile_union(
    ["//*[" + _attr_matches(r"(^|[\s_-])(keywords?|tags?|gjc)($|[\s_-])") + "]"]
)

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
# Widgets and blocks around the article, matched on class/id tokens.
BOILERPLATE_XPATH = compile_union(
    [
        # share bars, print/close, font size (大 中 小), QR codes, app banners
        "//*["
        + _attr_matches(r"share|bdshare|jiathis|(^|[\s_-])(print|close|dayin|guanbi)($|[\s_-])")
        + "]",
        "//*["
        + _attr_matches(r"font-?size|fontsize|zihao|(^|[\s_-])(fz|zh?_?size)($|[\s_-])")
        + "]",
        "//*["
        + _attr_matches(r"qr-?code|erweima|ewm|(^|[\s_-])(app-?down\w*|download-?app)($|[\s_-])")
        + "]",
        # breadcrumbs, headers, navigation, footers
        "//*["
        + _attr_matches(r"bread|crumb|(^|[\s_-])(position|location|dqwz|weizhi)($|[\s_-])")
        + "]",
        "//*["
        + _attr_matches(
            r"(^|[\s_-])(nav|navbar|menu|topbar|top-?bar|header|head|banner|logo)($|[\s_-])"
        )
        + "]",
        "//*["
        + _attr_matches(r"(^|[\s_-])(footer|foot|bottom|copyright|copy|banquan)($|[\s_-])")
        + "]",
        # recommended, related and hot lists, prev/next links, comments, sidebars
        "//*["
        + _attr_matches(
            r"related|relate|recommend|tuijian|xgxw|xgwz|(^|[\s_-])(hot\w*|rank\w*|like)($|[\s_-])"
        )
        + "]",
        "//*[" + _attr_matches(r"prev|next|(^|[\s_-])(pager|pagination|fanye|sxp)($|[\s_-])") + "]",
        "//*["
        + _attr_matches(r"comment|(^|[\s_-])(sidebar|side|aside|right|left-?nav)($|[\s_-])")
        + "]",
    ]
)

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
# Hanweb serves attachments through downfile.jsp?filename=x.pdf, so match anywhere in href.
ATTACHMENT_LINK_XPATH = etree.XPath(
    "//a[re:test(@href, '\\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|pptx?)($|[?&#])', 'i')"
    " or re:test(normalize-space(), '\\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|pptx?)$', 'i')]",
    namespaces=NAMESPACES,
)

# --- <link rel="canonical"> ---------------------------------------------------------------
CANONICAL_XPATH = etree.XPath("//link[@rel='canonical']/@href")
