"""HTML bytes → article fields (:class:`pipeline.model.ExtractedPage`).

:func:`extract_page` runs the stages top to bottom: decode → parse → fields (meta tags, title)
→ body (container or trafilatura, info line, boilerplate rules, second opinion) → page kind
(article, list, attachment, garbage) → normalise. It never raises: whatever goes wrong on one
page becomes that page's ``error``, naming the stage, the exception and where it was raised,
so a batch, an import or a crawl carries on.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from pipeline.errors import DecodeError
from pipeline.extract import selectors
from pipeline.extract.body import MIN_CORE_CHARS, Body, read_body, second_opinion
from pipeline.extract.boilerplate import Cleaned, clean_paragraphs, han_count
from pipeline.extract.bylines import Credits, clean_authors, clean_source, split_names
from pipeline.extract.dates import find_date_in_url, parse_date
from pipeline.extract.decode import Decoded, decode_html
from pipeline.extract.documents import fill_document
from pipeline.extract.fields import (
    extract_column,
    extract_keywords,
    extract_meta,
    extract_title,
    extract_url,
    find_info_credits,
    read_disclosure_table,
    text_of,
    title_site_names,
)
from pipeline.extract.normalise import (
    detect_decoder_damage,
    detect_script,
    normalise_paragraphs,
    normalise_text,
)
from pipeline.extract.pagekind import LinkTexts, garbage_reason, is_attachment_only, is_list_page
from pipeline.model import ExtractedPage

logger = logging.getLogger(__name__)

XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


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
    thin_body_share: float = 0.5
    """A body with less than this share of the page's text core gets a second opinion."""
    max_bytes: int = 16 * 2**20
    """Pages larger than this (bytes) are refused rather than parsed."""
    max_trafilatura_chars: int = 2_000_000
    """Above this many characters of HTML, trafilatura (whose cost grows faster than the
    page) is not run: the text core is the body and there is no second opinion."""


DEFAULT_OPTIONS = ExtractOptions()


@dataclass
class Fields:
    """What the page says about itself outside the body: meta tags, URL, title, info line."""

    meta: dict[str, str]
    url: str | None
    title_original: str | None
    title: str | None
    """The title normalised (Simplified, no pinyin annotations)."""
    title_element: HtmlElement | None
    column: str | None = None
    keywords: str | None = None
    site_names: tuple[str, ...] = ()
    """Segments of ``<title>`` naming the site or a column (``网易财经``), normalised."""
    credits: Credits = field(default_factory=Credits)
    disclosure: dict[str, str] = field(default_factory=dict)
    """The 政府信息公开 index table (索引号, 发文机关, 成文日期, 发布日期...), if any."""


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
        The fields. Never raises: ``error`` is set (``decode: …``, ``parse: …``,
        ``extract: …``, or ``<stage>: <Exception> at <file:line>`` for a bug met on this
        page) and ``is_article`` is False with a ``reason`` for pages that are not articles.
    """
    page = ExtractedPage(url=url)
    stage = "decode"
    try:
        decoded = decode(page, body, headers, options)
        if decoded is None:
            return page
        stage = "parse"
        tree = parse_html(decoded.text)
        if tree is None:
            return fail(
                page,
                "parse: empty document",
                "the HTML holds no text (or only below the 255 levels of nesting the parser keeps)",
            )
        with selectors.shared_scan(tree):
            stage = "fields"
            fields = read_fields(tree, url)
            stage = "body"
            huge = len(decoded.text) > options.max_trafilatura_chars
            found = read_body(tree, fields.url, options.min_container_chars, huge)
            fields.credits = find_info_credits(
                tree,
                fields.title_element,
                found.container,
                found.core if found.container is None else found.container,
            )
            links = LinkTexts(tree)
            cleaned = clean_body(found.paragraphs, fields, links)
            # A notice that is only a link to its file has no article for a second opinion to
            # find (it would take the page's navigation for one): its file is its text.
            only_file = is_attachment_only(tree, cleaned.paragraphs)
            if not huge and not only_file and is_thin(cleaned, found, options):
                ours = cleaned
                cleaned = ask_second_opinion(page, tree, fields, cleaned, links)
                found.extractor = found.extractor if cleaned is ours else "trafilatura-fallback"
            stage = "page kind"
            classify(page, tree, cleaned, links, options, found.extractor == "container")
        stage = "normalise"
        fill_fields(page, fields, cleaned)
        stage = "document"
        fill_document(page, tree, fields.disclosure)
    except Exception as error:  # noqa: BLE001 - one bad page must never stop a batch
        record_crash(page, stage, error)
    return page


# --- decode and parse -----------------------------------------------------------------------


def decode(
    page: ExtractedPage, body: bytes, headers: Mapping[str, str] | None, options: ExtractOptions
) -> Decoded | None:
    """Decode the bytes, noting the encoding and a lossy decode; None (and ``error``) if unreadable."""
    if len(body) > options.max_bytes:
        fail(page, f"decode: page too large ({len(body)} bytes > {options.max_bytes})", None)
        page.reason = "page too large: raise ExtractOptions.max_bytes to read it"
        return None
    content_type = next(
        (value for name, value in (headers or {}).items() if name.lower() == "content-type"), None
    )
    try:
        decoded = decode_html(body, content_type)
    except DecodeError as error:
        fail(page, f"decode: {error}", f"not readable as text: {error}")
        return None
    page.encoding = decoded.encoding
    if decoded.lossy:
        page.flags.append("lossy-decode")
        logger.warning("lossy decode (%s) of %s", decoded.encoding, page.url)
    return decoded


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


# --- fields and body ------------------------------------------------------------------------


def read_fields(tree: HtmlElement, url: str | None) -> Fields:
    """Read the meta tags, the URL, the title and the disclosure table of a parsed page."""
    meta = extract_meta(tree)
    title_original, title_element = extract_title(tree, meta)
    return Fields(
        meta=meta,
        url=extract_url(tree, meta, url),
        title_original=title_original,
        title=normalise_text(title_original) if title_original else None,
        title_element=title_element,
        column=extract_column(tree, meta),
        keywords=extract_keywords(tree, meta),
        disclosure=read_disclosure_table(tree),
        site_names=title_site_names(tree),
    )


def clean_body(paragraphs: list[str], fields: Fields, links: LinkTexts) -> Cleaned:
    """Drop everything up to a repeated title, then the boilerplate paragraphs."""
    known = fields.meta.get("author")
    known_authors = split_names(normalise_text(known)) if known else []
    simplified = [normalise_text(p) for p in paragraphs]
    skip = drop_before_title(paragraphs, simplified, fields.title)
    return clean_paragraphs(
        paragraphs[skip:],
        simplified[skip:],
        title=fields.title,
        known_authors=[*known_authors, *fields.credits.authors],
        link_texts=links,
    )


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


def is_thin(cleaned: Cleaned, found: Body, options: ExtractOptions) -> bool:
    """Tell whether a body is much shorter than the text the page plainly holds.

    A page whose densest block holds no running text (a front page, a list of links) gets
    no second opinion: there is no article for one to find, and asking costs a full
    trafilatura cascade on the largest pages.
    """
    if found.core_chars < MIN_CORE_CHARS:
        return False
    chars = sum(han_count(p) for p in cleaned.simplified)
    return chars < options.min_body_chars or chars < options.thin_body_share * found.core_chars


def ask_second_opinion(
    page: ExtractedPage, tree: HtmlElement, fields: Fields, cleaned: Cleaned, links: LinkTexts
) -> Cleaned:
    """Ask trafilatura's full cascade for the body; keep its answer when it holds more text.

    The answer goes through the same boilerplate rules, and is taken when it holds at least
    1.5 times the Han characters of ours; ``flags`` then records ``body:trafilatura-fallback``.
    """
    paragraphs = second_opinion(tree, fields.url)
    if not paragraphs:
        return cleaned
    other = clean_body(paragraphs, fields, links)
    ours = sum(han_count(p) for p in cleaned.simplified)
    theirs = sum(han_count(p) for p in other.simplified)
    if theirs >= 1.5 * max(ours, 1):
        page.flags.append("body:trafilatura-fallback")
        logger.info(
            "second opinion kept for %s: %d Han characters instead of %d", page.url, theirs, ours
        )
        return other
    return cleaned


# --- page kind ------------------------------------------------------------------------------


def classify(
    page: ExtractedPage,
    tree: HtmlElement,
    cleaned: Cleaned,
    links: LinkTexts,
    options: ExtractOptions,
    from_container: bool = False,
) -> None:
    """Decide whether the page is an article; otherwise set a ``reason`` a user can act on."""
    text = "\n".join(cleaned.simplified)
    if is_list_page(
        tree,
        cleaned.simplified,
        links,
        options.list_min_links,
        options.list_max_prose,
        from_container=from_container,
    ):
        page.reason = "list page: many links, little prose"
    elif is_attachment_only(tree, cleaned.paragraphs):
        page.reason = "attachment only"
    elif han_count(text) < options.min_body_chars:
        fail(
            page,
            "extract: no article body",
            f"no article body: no CMS container, and trafilatura (full cascade included) found "
            f"under {options.min_body_chars} Han characters of text; a page rendered by "
            "JavaScript, a login wall or a redirect stub?",
        )
    elif reason := garbage_reason(text):
        fail(page, f"extract: {reason}", reason)
    else:
        page.is_article = True


# --- normalise ------------------------------------------------------------------------------


def fill_fields(page: ExtractedPage, fields: Fields, cleaned: Cleaned) -> None:
    """Write the normalised fields to ``page``."""
    meta, credits = fields.meta, fields.credits
    credits.merge(cleaned.credits)
    page.url = fields.url
    page.site_name = normalise_text(meta["site_name"]) if meta.get("site_name") else None
    page.site_code = meta.get("site_code")
    page.title_original = fields.title_original
    page.title = fields.title
    table = fields.disclosure
    page.published = choose_published(
        parse_date(table.get("published") or meta.get("published")),
        credits.published,
        find_date_in_url(page.url),
    )
    page.written_date = parse_date(table.get("written")) or credits.written
    source = meta.get("source")
    page.source = clean_source(normalise_text(source) if source else credits.source)
    # The Author meta is checked against the page: TRS and Hanweb often fill it with the
    # account that entered the article, so a byline or 作者 label the page shows wins.
    known = split_names(normalise_text(meta["author"])) if meta.get("author") else []
    organisations = (*(name for name in (page.source, page.site_name) if name), *fields.site_names)
    authors = clean_authors(
        credits.authors, credits.editors, organisations, labelled=True
    ) or clean_authors(known, credits.editors, organisations)
    page.author = "、".join(authors) if authors else None
    page.editor = "、".join(credits.editors) if credits.editors else None
    page.column = normalise_text(fields.column) if fields.column else None
    keywords = fields.keywords or cleaned.keywords
    page.keywords = normalise_text(keywords) if keywords else None

    text_original = "\n".join(cleaned.paragraphs)
    page.text_original = text_original or None
    page.script = detect_script(text_original or fields.title_original or "")
    if text_original and detect_decoder_damage(text_original):
        page.flags.append("decoder-damage")
    page.text = normalise_paragraphs(cleaned.paragraphs, cleaned.simplified) or None
    if page.published is None and page.is_article:
        logger.warning("no publication date found for %s", page.url)


def choose_published(meta: str | None, info: str | None, from_url: str | None) -> str | None:
    """Pick the publication date: meta tag, then info line, then URL.

    A meta tag giving only the day yields to an info line that gives the same day with a time
    (``publishdate=2024-11-20`` beside ``2024-11-20 09:14``).
    """
    if meta and info and len(info) > len(meta) and info.startswith(meta):
        return info
    return meta or info or from_url


# --- failures -------------------------------------------------------------------------------


def fail(page: ExtractedPage, error: str, reason: str | None) -> ExtractedPage:
    """Mark ``page`` as a failure: not an article, with the error and a reason."""
    page.is_article = False
    page.error = error
    page.reason = reason or error
    return page


def record_crash(page: ExtractedPage, stage: str, error: BaseException) -> None:
    """Turn an exception raised while extracting one page into that page's ``error``."""
    frames = traceback.extract_tb(error.__traceback__)
    where = (
        f"{Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}"
        if frames
        else "?"
    )
    message = str(error).splitlines()[0][:200] if str(error) else ""
    logger.error(
        "extraction failed in %s for %s: %r at %s", stage, page.url, error, where, exc_info=error
    )
    fail(
        page,
        f"{stage}: {type(error).__name__}: {message} (at {where})",
        f"extractor error in the {stage} stage; please report it with the page",
    )
    page.text = page.text_original = None
