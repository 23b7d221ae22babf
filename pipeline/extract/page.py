"""HTML bytes → article fields (:class:`pipeline.model.ExtractedPage`).

The flow is decode → parse → metadata (meta tags, title, info line) → body → clean →
normalise. The body comes from a known CMS container when the page has one (the fast path)
and from trafilatura otherwise; either way our paragraph rules (pipeline/extract/boilerplate.py)
clean it. :func:`extract_page` never raises for a bad page: it fills ``error`` instead.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import lxml.etree
import lxml.html
from lxml.html import HtmlElement
from trafilatura import bare_extraction

from pipeline.errors import DecodeError
from pipeline.extract import selectors
from pipeline.extract.boilerplate import clean_paragraphs, han_count
from pipeline.extract.bylines import clean_source, split_names
from pipeline.extract.dates import find_date_in_url, parse_date
from pipeline.extract.decode import decode_html
from pipeline.extract.fields import (
    extract_column,
    extract_keywords,
    extract_meta,
    extract_title,
    extract_url,
    find_info_credits,
    text_of,
)
from pipeline.extract.normalise import (
    collapse_whitespace,
    detect_decoder_damage,
    detect_script,
    normalise_paragraphs,
    normalise_text,
    remove_zero_width,
)
from pipeline.extract.pagekind import LinkTexts, is_attachment_only, is_list_page
from pipeline.model import ExtractedPage

logger = logging.getLogger(__name__)

XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
BLOCK_TAGS = frozenset(
    "p div br h1 h2 h3 h4 h5 h6 li tr table ul ol section article blockquote center dd dt dl "
    "figcaption figure pre hr tbody thead tfoot header footer main address".split()
)


@dataclass(frozen=True)
class ExtractOptions:
    """Thresholds of the extractor, in Han characters unless stated."""

    min_container_chars: int = 40
    """A CMS container with less text than this is ignored (the fast path is not taken)."""
    min_body_chars: int = 10
    """Below this the page has no article body."""
    list_min_links: int = 8
    """Title-like links a page needs before it can be a list page."""
    list_max_prose: int = 150
    """A list page has less running text than this outside its links."""


DEFAULT_OPTIONS = ExtractOptions()


def parse_html(text: str) -> HtmlElement | None:
    """Parse decoded HTML, returning None for an empty or unparseable document."""
    text = XML_DECLARATION_RE.sub("", text, count=1)
    if not text.strip():
        return None
    try:
        tree = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as error:
        logger.debug("parse failed: %s", error)
        return None
    if tree is None or not text_of(tree):
        return None
    return tree


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
    # Templates repeat the same class names on every page (and pages are pruned twice on the
    # fast path), so the nine-way regex is run once per distinct name.
    return bool(selectors.BOILERPLATE_ATTR_RE.search(name))


def prune_boilerplate(tree: HtmlElement, protect: HtmlElement | None = None) -> HtmlElement:
    """Remove scripts, widgets, navigation, footers and related lists from a tree.

    An element is spared when it holds the body container or reads as article text itself
    (many Han characters, few links), because gov templates often call the content column
    ``right`` or ``main-head``.

    Args:
        tree: The page; modified in place.
        protect: The body container, if known.

    Returns:
        The pruned tree.
    """
    for element in selectors.DISCARD_XPATH(tree):
        if element.getparent() is not None and (
            protect is None or element not in protect.iterancestors()
        ):
            element.drop_tree()
    for element in selectors.ATTRIBUTED_XPATH(tree):
        if element.getparent() is None or element.tag in ("body", "html"):
            continue
        if not is_boilerplate_element(element):
            continue
        if protect is not None and (element is protect or element in protect.iterancestors()):
            continue
        if protect is None and han_count(text_of(element)) >= 200 and _link_density(element) < 0.3:
            continue
        element.drop_tree()
    return tree


def locate_body(tree: HtmlElement, options: ExtractOptions = DEFAULT_OPTIONS) -> HtmlElement | None:
    """Return the first known CMS body container with enough text (the fast path)."""
    for element in selectors.content_candidates(tree):
        if (
            han_count(text_of(element)) - han_count(" ".join(text_of(a) for a in element.iter("a")))
            >= options.min_container_chars
        ):
            return element
    return None


def extract_article(tree: HtmlElement, url: str | None = None) -> list[str] | None:
    """Run trafilatura on a (pruned) tree with fixed options and return its paragraphs.

    Args:
        tree: The page after :func:`prune_boilerplate`; a copy is given to trafilatura.
        url: The page URL, for trafilatura's link handling.

    Returns:
        The paragraphs, or None when trafilatura finds no main text.
    """
    document = _run_trafilatura(tree, url, include_tables=True)
    text = getattr(document, "text", None) if document is not None else None
    if text and _is_layout_table_output(text):
        # Old sites lay whole pages out in tables: read them as text, not as data tables.
        document = _run_trafilatura(tree, url, include_tables=False)
        text = getattr(document, "text", None) if document is not None else None
    if text and _is_layout_table_output(text):
        # trafilatura's own fallbacks kept the layout table: take the densest block instead.
        block = locate_densest_block(tree)
        return element_to_paragraphs(block) if block is not None else None
    if not text:
        return None
    return [line for line in collapse_whitespace(text).split("\n") if line]


CONTAINER_TAGS = frozenset("td th div table tbody tr ul ol section article body dl".split())


def _own_chars(element: HtmlElement) -> int:
    """Han characters of the text an element holds itself (not in links or nested blocks)."""
    total = han_count(element.text or "")
    for child in element:
        if isinstance(child.tag, str) and child.tag not in CONTAINER_TAGS and child.tag != "a":
            total += han_count(text_of(child)) - sum(han_count(text_of(a)) for a in child.iter("a"))
        total += han_count(child.tail or "")
    return total


def locate_densest_block(tree: HtmlElement) -> HtmlElement | None:
    """Return the block holding the most running text of its own (for table layouts)."""
    best, best_chars = None, 0
    for element in tree.iter("td", "div", "article", "section"):
        chars = _own_chars(element)
        if chars > best_chars:
            best, best_chars = element, chars
    return best if best_chars >= DEFAULT_OPTIONS.min_container_chars else None


# trafilatura's main extractor alone (``fast=True``) gave the same bodies as its full cascade on
# every page of the evaluation set and the sample sites, at about half the cost; the cascade
# (readability and jusText comparison) is still run when the fast result is this thin.
FULL_CASCADE_BELOW = 200
"""Han characters under which trafilatura is run again with its external fallbacks."""


def _run_trafilatura(tree: HtmlElement, url: str | None, include_tables: bool) -> Any:
    document = _bare_extraction(tree, url, include_tables, fast=True)
    text = getattr(document, "text", None) if document is not None else None
    if text and han_count(text) >= FULL_CASCADE_BELOW:
        return document
    return _bare_extraction(tree, url, include_tables, fast=False)


def _bare_extraction(tree: HtmlElement, url: str | None, include_tables: bool, fast: bool) -> Any:
    return bare_extraction(
        copy.deepcopy(tree),
        url=url,
        include_comments=False,
        include_tables=include_tables,
        include_images=False,
        include_links=False,
        favor_recall=True,
        deduplicate=False,
        with_metadata=False,
        fast=fast,
    )


def _is_layout_table_output(text: str) -> bool:
    """Tell whether most of trafilatura's text came out as table rows (``| a | b |``)."""
    lines = [line for line in text.split("\n") if line.strip()]
    rows = [line for line in lines if line.lstrip().startswith("|")]
    return bool(lines) and sum(map(len, rows)) > 0.5 * sum(map(len, lines))


def drop_before_title(paragraphs: list[str], simplified: list[str], title: str | None) -> int:
    """Return how many leading paragraphs precede (and include) a repeated title.

    trafilatura and loose containers sometimes start with the header, a sidebar and the
    title; everything up to the title line is page furniture.
    """
    if not title:
        return 0
    for index, text in enumerate(simplified[:40]):
        if text == title or (
            len(text) >= 6 and title.startswith(text) and len(text) > 0.6 * len(title)
        ):
            return index + 1
    return 0


def choose_published(meta: str | None, info: str | None, from_url: str | None) -> str | None:
    """Pick the publication date: meta tag, then info line, then URL.

    A meta tag giving only the day yields to an info line that gives the same day with a time
    (``publishdate=2024-11-20`` beside ``2024-11-20 09:14``).
    """
    if meta and info and len(info) > len(meta) and info.startswith(meta):
        return info
    return meta or info or from_url


def extract_page(
    body: bytes,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
    options: ExtractOptions = DEFAULT_OPTIONS,
) -> ExtractedPage:
    """Extract and normalise the article fields of one page.

    Args:
        body: The page bytes as fetched.
        url: The page URL (else taken from the Url meta, canonical link or og:url).
        headers: HTTP response headers (any case); ``Content-Type`` is used for decoding.
        options: Extraction thresholds.

    Returns:
        The fields; ``error`` is set (``decode: …``, ``parse: …``, ``extract: …``) instead of
        raising when the page cannot be read, and ``is_article`` is False with a ``reason``
        for list pages and attachment-only pages.
    """
    page = ExtractedPage(url=url)
    content_type = None
    for name, value in (headers or {}).items():
        if name.lower() == "content-type":
            content_type = value
    try:
        decoded = decode_html(body, content_type)
    except DecodeError as error:
        page.error = f"decode: {error}"
        return page
    page.encoding = decoded.encoding
    if decoded.lossy:
        page.flags.append("lossy-decode")
        logger.warning("lossy decode (%s) of %s", decoded.encoding, url)

    tree = parse_html(decoded.text)
    if tree is None:
        page.error = "parse: empty document"
        return page

    with selectors.shared_scan(tree):
        _extract_fields(page, tree, url, options)
    return page


def _extract_fields(
    page: ExtractedPage, tree: HtmlElement, url: str | None, options: ExtractOptions
) -> None:
    """Fill ``page`` from the parsed, unmodified ``tree`` (see :func:`extract_page`)."""
    meta = extract_meta(tree)
    page.url = extract_url(tree, meta, url)
    page.site_name = meta.get("site_name")
    page.site_code = meta.get("site_code")
    page.column = extract_column(tree, meta)
    page.keywords = extract_keywords(tree, meta)

    title_original, title_element = extract_title(tree, meta)
    body_element = locate_body(tree, options)
    credits = find_info_credits(tree, title_element, body_element)

    pruned = prune_boilerplate(copy.deepcopy(tree)) if body_element is None else None
    if body_element is not None:
        container = copy.deepcopy(body_element)
        prune_boilerplate(container, protect=container)
        paragraphs = element_to_paragraphs(container)
    else:
        assert pruned is not None
        paragraphs = extract_article(pruned, page.url) or []
    list_tree = pruned if pruned is not None else prune_boilerplate(copy.deepcopy(tree))

    title = normalise_text(title_original) if title_original else None
    known_authors = split_names(normalise_text(meta["author"])) if meta.get("author") else []
    simplified = [normalise_text(p) for p in paragraphs]
    skip = drop_before_title(paragraphs, simplified, title)
    cleaned = clean_paragraphs(
        paragraphs[skip:],
        simplified[skip:],
        title=title,
        known_authors=[*known_authors, *credits.authors],
        link_texts=LinkTexts(list_tree),
    )
    credits.merge(cleaned.credits)

    page.title_original = title_original
    page.title = title
    page.published = choose_published(
        parse_date(meta.get("published")), credits.published, find_date_in_url(page.url)
    )
    page.source = clean_source(
        normalise_text(meta["source"]) if meta.get("source") else credits.source
    )
    # The Author meta is checked against the page: TRS and Hanweb often fill it with the
    # account that entered the article, so a byline or 作者 label the page shows wins.
    authors = credits.authors or known_authors
    page.author = "、".join(authors) if authors else None
    page.editor = "、".join(credits.editors) if credits.editors else None
    page.keywords = page.keywords or cleaned.keywords
    if page.keywords:
        page.keywords = normalise_text(page.keywords)
    if page.site_name:
        page.site_name = normalise_text(page.site_name)
    if page.column:
        page.column = normalise_text(page.column)

    text_original = "\n".join(cleaned.paragraphs)
    page.text_original = text_original or None
    page.script = detect_script(text_original or title_original or "")
    if text_original and detect_decoder_damage(text_original):
        page.flags.append("decoder-damage")
    page.text = normalise_paragraphs(cleaned.paragraphs, cleaned.simplified) or None

    if is_list_page(
        tree, list_tree, cleaned.paragraphs, options.list_min_links, options.list_max_prose
    ):
        page.reason = "list page: many links, little prose"
    elif is_attachment_only(tree, cleaned.paragraphs):
        page.reason = "attachment only"
    elif page.text is None or han_count(page.text) < options.min_body_chars:
        page.error = "extract: no article body"
        page.reason = "no article body"
    else:
        page.is_article = True
    if page.published is None and page.is_article:
        logger.warning("no publication date found for %s", page.url)
