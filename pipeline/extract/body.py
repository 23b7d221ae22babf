"""The article body: which block of the page holds it, and its paragraphs.

Three ways in, tried in this order:

1. a known CMS body container (``selectors.CONTENT_RULES``: TRS, Hanweb, People's Daily,
   Xinhua...), the fast path;
2. trafilatura on the page after pruning widgets, menus and footers by their class names;
3. a second opinion when the first answer is empty or much shorter than the text the page
   plainly holds (its *text core*, the block with the most running text of its own): the
   full trafilatura cascade on the unpruned page, which keeps a page whose layout column is
   called ``left`` or whose whole body sits in an ASP.NET ``<form>``.

Pruning never removes the text core or the container, nor any block holding them.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml.html import HtmlElement
from trafilatura import bare_extraction

from pipeline.extract import selectors
from pipeline.extract.boilerplate import han_count
from pipeline.extract.fields import text_of
from pipeline.extract.normalise import collapse_whitespace, remove_zero_width

logger = logging.getLogger(__name__)

BLOCK_TAGS = frozenset(
    "p div br h1 h2 h3 h4 h5 h6 li tr table ul ol section article blockquote center dd dt dl "
    "figcaption figure pre hr tbody thead tfoot header footer main address".split()
)
CONTAINER_TAGS = frozenset(
    "td th div table tbody tr ul ol section article body dl main aside nav header footer form".split()
)
# Elements whose text is never running text (their text is code, or form values).
NOT_TEXT_TAGS = frozenset("script style noscript template textarea select option button".split())
CORE_TAGS = ("td", "div", "article", "section", "main", "form")
MIN_CORE_CHARS = 40
"""A text core with fewer Han characters than this is no evidence of an article."""
# trafilatura's main extractor alone (``fast=True``) gave the same bodies as its full cascade on
# every page of the evaluation set and the sample sites, at about half the cost; the cascade
# (readability and jusText comparison) is still run when the fast result is this thin.
FULL_CASCADE_BELOW = 200
"""Han characters under which trafilatura is run again with its external fallbacks."""


@dataclass
class Body:
    """The body paragraphs found and how they were found."""

    paragraphs: list[str]
    """Paragraphs as extracted, before the boilerplate rules of ``boilerplate.py``."""
    extractor: str
    """``container`` (a known CMS block), ``trafilatura`` or ``densest-block``."""
    container: HtmlElement | None
    """The CMS container in the original tree, when the fast path was taken."""
    core_chars: int
    """Han characters of running text in the page's text core (what the page plainly holds)."""
    core: HtmlElement | None
    """The text core in the original tree (see :func:`locate_text_core`)."""
    pruned: HtmlElement
    """A pruned copy of the whole page (for counting title links on list pages)."""


def element_to_paragraphs(element: HtmlElement) -> list[str]:
    """Flatten an element to paragraphs: one per block element or ``<br>``-separated line.

    Args:
        element: The body container.

    Returns:
        Non-empty paragraphs with whitespace collapsed.
    """
    parts: list[str] = []

    def walk(node: HtmlElement, top: bool = False) -> None:
        if not isinstance(node.tag, str):  # comments and processing instructions
            if node.tail:
                parts.append(node.tail.replace("\n", " "))
            return
        tag = node.tag.lower()
        block = tag in BLOCK_TAGS
        if tag in ("td", "th"):
            parts.append(" ")
        if block:
            parts.append("\n")
        if node.text and tag not in ("script", "style"):
            parts.append(node.text.replace("\n", " "))
        for child in node:
            walk(child)
        if block:
            parts.append("\n")
        if node.tail and not top:
            parts.append(node.tail.replace("\n", " "))

    # libxml2 stops nesting at 255 levels, so the recursion stays far below Python's limit.
    walk(element, top=True)
    return collapse_whitespace(remove_zero_width("".join(parts))).split("\n")


def _link_density(element: HtmlElement) -> float:
    total = len(text_of(element)) or 1
    linked = sum(len(text_of(a)) for a in element.iter("a"))
    return linked / total


def is_boilerplate_element(element: HtmlElement) -> bool:
    """Tell whether an element's class or id names a widget, menu, footer or sidebar."""
    return _is_boilerplate_name(element.get("class") or "") or _is_boilerplate_name(
        element.get("id") or ""
    )


@lru_cache(maxsize=16384)
def _is_boilerplate_name(name: str) -> bool:
    # Templates repeat the same class names on every page, so the nine-way regex is run once
    # per distinct name.
    return bool(selectors.BOILERPLATE_ATTR_RE.search(name))


def prune_boilerplate(
    tree: HtmlElement, protect: Iterable[HtmlElement | None] = (), spare_prose: bool = True
) -> HtmlElement:
    """Remove scripts, widgets, navigation, footers and related lists from a tree.

    Args:
        tree: The page; modified in place.
        protect: Elements that must survive, with every block that holds them (the body
            container and the text core): gov templates call the content column ``right``,
            portals ``left``, ASP.NET wraps the whole page in a ``<form>``.
        spare_prose: Also spare a boilerplate-named element that reads as article text
            itself (200 Han characters or more, under 30 % of it in links).

    Returns:
        The pruned tree.
    """
    keep: set[HtmlElement] = set()
    for element in protect:
        if element is not None:
            keep.add(element)
            keep.update(element.iterancestors())
    for element in selectors.DISCARD_XPATH(tree):
        if element.getparent() is not None and element not in keep:
            element.drop_tree()
    for element in selectors.ATTRIBUTED_XPATH(tree):
        if element.getparent() is None or element.tag in ("body", "html") or element in keep:
            continue
        if not is_boilerplate_element(element):
            continue
        if spare_prose and han_count(text_of(element)) >= 200 and _link_density(element) < 0.3:
            continue
        element.drop_tree()
    return tree


def locate_body(tree: HtmlElement, min_chars: int) -> HtmlElement | None:
    """Return the first known CMS body container with enough text (the fast path)."""
    for element in selectors.content_candidates(tree):
        if _unlinked_chars(element) >= min_chars:
            return element
    return None


def _unlinked_chars(element: HtmlElement) -> int:
    return han_count(text_of(element)) - han_count(" ".join(text_of(a) for a in element.iter("a")))


def _own_chars(element: HtmlElement) -> int:
    """Han characters of the text an element holds itself (not in links or nested blocks)."""
    total = han_count(element.text or "")
    for child in element:
        if (
            isinstance(child.tag, str)
            and child.tag not in CONTAINER_TAGS
            and child.tag not in NOT_TEXT_TAGS
            and child.tag != "a"
        ):
            total += han_count(text_of(child)) - sum(han_count(text_of(a)) for a in child.iter("a"))
        total += han_count(child.tail or "")
    return total


def locate_text_core(tree: HtmlElement) -> tuple[HtmlElement | None, int]:
    """Return the block holding the most running text of its own, and its Han characters.

    Paragraphs (``<p>``, ``<span>``, ``<font>``, ``<br>`` lines) count towards the nearest
    enclosing ``div``, ``td``, ``section``... so the core is the block that directly holds
    the article's paragraphs. It tells what the page plainly holds, and is protected from
    pruning; it is not used as the body by itself except for table layouts.

    Args:
        tree: The parsed page (not modified).

    Returns:
        The core (None when no block holds 40 Han characters) and its character count.
    """
    candidates = []
    for element in tree.iter(*CORE_TAGS):
        if is_boilerplate_element(element):
            continue  # a "recommended" list or a comment thread, however long
        chars = _own_chars(element)
        if chars >= MIN_CORE_CHARS:
            candidates.append((chars, element))
    candidates.sort(key=lambda candidate: candidate[0], reverse=True)
    for chars, element in candidates:
        # An entry of a news stream (<li>) is one teaser among many, not the article.
        if not any(ancestor.tag == "li" for ancestor in element.iterancestors()):
            return element, chars
    return None, 0


def is_link_padded(container: HtmlElement, core: HtmlElement) -> bool:
    """Tell whether a (pruned) container holds its text core plus mostly link lists around it.

    Portals put the article, app promotions and "related" lists in one ``articleContent``
    block; the text outside the core is then mostly link text. A table or a second block of
    paragraphs beside the core is not (the container is kept whole).
    """
    if core is container or container not in core.iterancestors():
        return False
    outside = len(text_of(container)) - len(text_of(core))
    if outside < 100:
        return False
    linked = sum(len(text_of(a)) for a in container.iter("a")) - sum(
        len(text_of(a)) for a in core.iter("a")
    )
    return linked > 0.5 * outside


def _copy_with(
    tree: HtmlElement, elements: list[HtmlElement | None]
) -> tuple[HtmlElement, list[HtmlElement | None]]:
    """Deep-copy a tree and return the copies of ``elements`` in it (None stays None)."""
    duplicate = copy.deepcopy(tree)
    paths = [tree.getroottree().getpath(e) if e is not None else None for e in elements]
    found: list[HtmlElement | None] = []
    for path in paths:
        matches = duplicate.getroottree().xpath(path) if path else []
        found.append(matches[0] if matches else None)
    return duplicate, found


def read_body(
    tree: HtmlElement,
    url: str | None,
    min_container_chars: int = MIN_CORE_CHARS,
    huge: bool = False,
) -> Body:
    """Find the body paragraphs of a page: CMS container, else trafilatura on the pruned page.

    A container is not trusted when the text core lies outside it and holds more than twice
    its text (a one-paragraph ``<span class="content-text">``, a lead box).

    Args:
        tree: The parsed page (not modified).
        url: The page URL, for trafilatura.
        min_container_chars: A container with less unlinked text than this is ignored.
        huge: The page is too large for trafilatura (its cost grows faster than the page):
            without a container, the text core is the body.

    Returns:
        The paragraphs and where they came from.
    """
    core, core_chars = locate_text_core(tree)
    container = locate_body(tree, min_container_chars)
    if (
        container is not None
        and core is not None
        and core is not container
        and container not in core.iterancestors()
        and core_chars > 2 * _unlinked_chars(container)
    ):
        logger.debug("container %s holds less than half the text core: ignored", container.tag)
        container = None
    pruned, (container_copy, core_copy) = _copy_with(tree, [container, core])
    prune_boilerplate(pruned, protect=[container_copy, core_copy], spare_prose=container is None)
    if container_copy is not None and core_copy is not None:
        if is_link_padded(container_copy, core_copy):
            logger.debug("container %s narrowed to its text core", container_copy.tag)
            container_copy = core_copy
    if container_copy is not None:
        return Body(
            element_to_paragraphs(container_copy), "container", container, core_chars, core, pruned
        )
    if huge and core_copy is not None:
        return Body(
            element_to_paragraphs(core_copy), "densest-block", None, core_chars, core, pruned
        )
    paragraphs, extractor = extract_article(pruned, url)
    return Body(paragraphs or [], extractor, None, core_chars, core, pruned)


def extract_article(tree: HtmlElement, url: str | None = None) -> tuple[list[str] | None, str]:
    """Run trafilatura on a (pruned) tree with fixed options and return its paragraphs.

    Args:
        tree: The page after :func:`prune_boilerplate`; a copy is given to trafilatura.
        url: The page URL, for trafilatura's link handling.

    Returns:
        The paragraphs (None when trafilatura finds no main text) and the extractor's name.
    """
    document = _run_trafilatura(tree, url, include_tables=True)
    text = getattr(document, "text", None) if document is not None else None
    if text and _is_layout_table_output(text):
        # Old sites lay whole pages out in tables: read them as text, not as data tables.
        document = _run_trafilatura(tree, url, include_tables=False)
        text = getattr(document, "text", None) if document is not None else None
    if text and _is_layout_table_output(text):
        # trafilatura's own fallbacks kept the layout table: take the densest block instead.
        block, _ = locate_text_core(tree)
        return (element_to_paragraphs(block) if block is not None else None), "densest-block"
    if not text:
        return None, "trafilatura"
    return [line for line in collapse_whitespace(text).split("\n") if line], "trafilatura"


def second_opinion(tree: HtmlElement, url: str | None) -> list[str] | None:
    """Ask trafilatura's full cascade (its own rules, readability, jusText) on the unpruned page.

    Args:
        tree: The parsed page (not modified; trafilatura works on a copy).
        url: The page URL.

    Returns:
        The paragraphs trafilatura finds, or None.
    """
    document = _bare_extraction(tree, url, include_tables=True, fast=False, favor_recall=False)
    text = getattr(document, "text", None) if document is not None else None
    if not text:
        return None
    return [line for line in collapse_whitespace(text).split("\n") if line]


def _run_trafilatura(tree: HtmlElement, url: str | None, include_tables: bool) -> Any:
    document = _bare_extraction(tree, url, include_tables, fast=True)
    text = getattr(document, "text", None) if document is not None else None
    if text and han_count(text) >= FULL_CASCADE_BELOW:
        return document
    return _bare_extraction(tree, url, include_tables, fast=False)


def _bare_extraction(
    tree: HtmlElement, url: str | None, include_tables: bool, fast: bool, favor_recall: bool = True
) -> Any:
    return bare_extraction(
        copy.deepcopy(tree),
        url=url,
        include_comments=False,
        include_tables=include_tables,
        include_images=False,
        include_links=False,
        favor_recall=favor_recall,
        deduplicate=False,
        with_metadata=False,
        fast=fast,
    )


def _is_layout_table_output(text: str) -> bool:
    """Tell whether most of trafilatura's text came out as table rows (``| a | b |``)."""
    lines = [line for line in text.split("\n") if line.strip()]
    rows = [line for line in lines if line.lstrip().startswith("|")]
    return bool(lines) and sum(map(len, rows)) > 0.5 * sum(map(len, lines))
