"""The Python selectors of pipeline/extract/selectors.py select exactly what the XPath/EXSLT they replace did.

They exist for speed (see bench/bench_extract.py); these tests keep them honest by running the
original expressions beside them on every saved page and on a page full of edge cases.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from pipeline.extract import parse_html, selectors
from pipeline.extract.decode import decode_html

PAGES = Path(__file__).parent / "pages"
NS = {"re": "http://exslt.org/regular-expressions"}


def _attr(pattern: str) -> str:
    return f"re:test(@class, '{pattern}', 'i') or re:test(@id, '{pattern}', 'i')"


def _token(name: str) -> str:
    return f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


# The body-container searches as they were written before content_candidates, in order.
REFERENCE_CONTENT = [
    etree.XPath(expression)
    for expression in [
        "//div[contains(@class, 'TRS_Editor')]",
        "//div[contains(@class, 'TRS_UEDITOR')]",
        "//*[@id='UCAP-CONTENT']",
        "//*[@id='zoom']",
        _token("bt_content"),
        "//*[@id='Zoom']",
        _token("pages_content"),
        _token("rm_txt_con"),
        "//*[@id='rwb_zw']",
        "//*[@id='detailContent']",
        "//founder-content",
        "//*[@id='js_content']",
        _token("article-content"),
        _token("article_content"),
        "//*[@id='article-content' or @id='articleContent' or @id='article_content']",
        _token("news_content"),
        "//*[@id='news_content' or @id='newsContent' or @id='NewsContent']",
        _token("detail-content"),
        _token("content-text"),
    ]
]
REFERENCE = {
    "TITLE_CANDIDATES_XPATH": etree.XPath(
        "//h1 | //h2 | //h3 | //*["
        + _attr(r"(^|[\s_-])(title|bt|tit|headline|art_?tit\w*|article-?title)($|[\s_-])")
        + "] | //td[contains(@class, 'title') or contains(@class, 'biaoti')] | //td//b"
        " | //td//strong",
        namespaces=NS,
    ),
    "PAGINATION_XPATH": etree.XPath(
        "//*["
        + _attr(r"(^|[\s_-])(page|pages|pager|pagination|fanye|paging)($|[\s_-])")
        + "] | //a[normalize-space() = '下一页' or normalize-space() = '尾页'"
        " or normalize-space() = '下页']",
        namespaces=NS,
    ),
    "DATE_ELEMENT_XPATH": etree.XPath(
        "//*["
        + _attr(r"(^|[\s_-])(pub_?time|pubdate|publish\w*|date|time|fbsj|rq)($|[\s_-])")
        + "]",
        namespaces=NS,
    ),
    "BREADCRUMB_XPATH": etree.XPath(
        "//*["
        + _attr(r"bread|crumb|(^|[\s_-])(position|location|dqwz|weizhi|path)($|[\s_-])")
        + "]",
        namespaces=NS,
    ),
}
REFERENCE_ATTACHMENT = etree.XPath(
    "//a[re:test(@href, '\\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|pptx?)($|[?&#])', 'i')"
    " or re:test(normalize-space(), '\\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|pptx?)$', 'i')]",
    namespaces=NS,
)

EDGE_CASES = """<html><head><title>t</title></head><body>
<div class="TRS_Editor"><p>a</p></div>
<span class="TRS_Editor">not a div</span>
<div class="x\tTRS_UEDITOR_y" id="zoom"><div class="pages_content\nbt_content">b</div></div>
<div class="article-contentx">no token</div><div class="a  article-content">token</div>
<founder-content>e-paper</founder-content><founder-content id="js_content">both</founder-content>
<div id="NewsContent" class="news_content detail-content content-text">many rules</div>
<h2 class="ArticleTitle">T</h2><span id="sub-TITLE">T</span><div class="subtitle">no</div>
<table><tr><td class="mytitle"><font><b>B</b><strong>S</strong></font></td></tr></table>
<b>outside td</b><div class="Pagination">1 2 3</div><a href="#">  下一页 </a><a href="#">尾页</a>
<span class="pubTime">2023</span><span class="update-date">x</span><div id="Position">a > b</div>
<a href="/downfile.jsp?filename=a.PDF&x=1">附件</a><a href="/x">通知.DOCX </a>
<a href="/y.pdfs">no</a><a href="/z">pdf</a>
</body></html>"""


def trees() -> list[tuple[str, etree._Element]]:
    """Return every saved page (decoded as the pipeline does) and the edge-case page."""
    found = [("edge cases", lxml.html.document_fromstring(EDGE_CASES))]
    for path in sorted(PAGES.rglob("*.html")):
        tree = parse_html(decode_html(path.read_bytes()).text)
        if tree is not None:
            found.append((str(path.relative_to(PAGES)), tree))
    return found


TREES = trees()
IDS = [name for name, _ in TREES]


@pytest.mark.parametrize("tree", [tree for _, tree in TREES], ids=IDS)
def test_content_candidates_match_the_xpath_searches(tree: etree._Element) -> None:
    expected = [element for expression in REFERENCE_CONTENT for element in expression(tree)]
    assert selectors.content_candidates(tree) == expected


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("tree", [tree for _, tree in TREES], ids=IDS)
def test_attr_matchers_match_exslt(name: str, tree: etree._Element) -> None:
    assert getattr(selectors, name)(tree) == REFERENCE[name](tree)


@pytest.mark.parametrize("tree", [tree for _, tree in TREES], ids=IDS)
def test_attachment_link_matches_exslt(tree: etree._Element) -> None:
    assert selectors.has_attachment_link(tree) == bool(REFERENCE_ATTACHMENT(tree))


def test_edge_cases_are_selected() -> None:
    """The edge-case page really exercises the selectors (else the comparisons prove little)."""
    tree = TREES[0][1]
    assert len(selectors.content_candidates(tree)) >= 12
    assert len(selectors.TITLE_CANDIDATES_XPATH(tree)) >= 5
    assert selectors.PAGINATION_XPATH(tree)
    assert selectors.has_attachment_link(tree)
