"""Page kinds: column (list) pages and attachment-only pages are not articles."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from pipeline.extract import selectors
from pipeline.extract.boilerplate import han_count, is_prose
from pipeline.extract.fields import normalise_cached, text_of

PAGINATION_TEXT_RE = re.compile(
    r"下一页|尾页|末页|共\s*\d+\s*页|第\s*\d+\s*页|\d+\s*/\s*\d+\s*页|createPageHTML|countPage"
)
PAGE_NUMBERS_RE = re.compile(r"^(\d+\s+){2,}\d+")
ATTACHMENT_LINE_RE = re.compile(
    r"^(相关)?附件\s*\d*\s*[:：]?|\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|pptx?)\s*$", re.I
)

# Thresholds: see ExtractOptions in pipeline/extract/page.py.
LIST_MIN_LINKS = 8
LIST_MAX_PROSE = 150


def link_texts(tree: HtmlElement) -> list[str]:
    """Return the texts of every link in a tree."""
    return [text for a in selectors.LINK_XPATH(tree) if (text := text_of(a))]


class LinkTexts:
    """The normalised texts of a tree's links, read only when first asked for.

    :func:`pipeline.extract.boilerplate.clean_paragraphs` looks a paragraph up here only while the
    text has not begun, and some pages never get that far without prose. Menus repeat on every
    page of a site, so each link text is normalised once (``metadata.normalise_cached`` caches).
    """

    def __init__(self, tree: HtmlElement) -> None:
        self.tree = tree
        self.texts: frozenset[str] | None = None

    def __contains__(self, text: object) -> bool:
        if self.texts is None:
            self.texts = frozenset(normalise_cached(text) for text in link_texts(self.tree))
        return text in self.texts


def title_like_links(tree: HtmlElement) -> list[str]:
    """Return the texts of links long enough to be article titles."""
    return [text for a in selectors.LINK_XPATH(tree) if han_count(text := text_of(a)) >= 6]


def count_datastore_records(tree: HtmlElement) -> int:
    """Return how many list records a Hanweb ``<datastore>`` script holds (0 without one)."""
    return sum((script.text or "").count("<record>") for script in selectors.DATASTORE_XPATH(tree))


def is_paginated(tree: HtmlElement) -> bool:
    """Tell whether a page has a pagination bar (links, or TRS's ``createPageHTML`` script)."""
    for element in selectors.PAGINATION_XPATH(tree):
        text = element.text_content()
        if PAGINATION_TEXT_RE.search(text) or PAGE_NUMBERS_RE.match(" ".join(text.split())):
            return True
    return False


def is_list_page(
    tree: HtmlElement,
    pruned: HtmlElement,
    paragraphs: list[str],
    min_links: int = LIST_MIN_LINKS,
    max_prose: int = LIST_MAX_PROSE,
) -> bool:
    """Tell whether a page is a column (list) page: many title links, little prose.

    Args:
        tree: The whole page (pagination bars are looked for here).
        pruned: The page without navigation and widgets (title links are counted here).
        paragraphs: The body paragraphs found (possibly the list itself).
        min_links: Title-like links a list page has at least.
        max_prose: Han characters of running text a list page has at most.

    Returns:
        True when the page lists articles rather than holding one.
    """
    if count_datastore_records(tree) >= 3:
        return True
    links = set(title_like_links(pruned))
    if len(links) < min_links:
        return False

    def is_link_line(paragraph: str) -> bool:
        stripped = paragraph.lstrip("-•·●▪ ").strip()
        return any(stripped.startswith(link) for link in links)

    link_lines = [p for p in paragraphs if is_link_line(p)]
    prose_chars = sum(han_count(p) for p in paragraphs if is_prose(p) and not is_link_line(p))
    paginated = is_paginated(tree)
    if prose_chars >= max_prose * (2 if paginated else 1):
        return False
    return paginated or len(link_lines) >= 5 or not paragraphs


def is_attachment_only(tree: HtmlElement, paragraphs: list[str]) -> bool:
    """Tell whether the body is only a link to an attachment (``附件: x.pdf``)."""
    rest = [p for p in paragraphs if not ATTACHMENT_LINE_RE.search(p)]
    # The text test first: it settles most pages without a scan of every link.
    return sum(han_count(p) for p in rest) < 30 and selectors.has_attachment_link(tree)
