"""Page kinds: column (list) pages, attachment-only pages and garbage are not articles."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Container

from lxml.html import HtmlElement

from pipeline.extract import selectors
from pipeline.extract.boilerplate import han_count, is_list_line, is_prose, is_stamp_line
from pipeline.extract.fields import normalise_cached, text_of

PAGINATION_TEXT_RE = re.compile(
    r"下一页|尾页|末页|共\s*\d+\s*页|第\s*\d+\s*页|\d+\s*/\s*\d+\s*页|createPageHTML|countPage"
)
PAGE_NUMBERS_RE = re.compile(r"^(\d+\s+){2,}\d+")
ATTACHMENT_LINE_RE = re.compile(
    r"^(相关)?附件\s*\d*\s*[:：]?|\.(pdf|docx?|xlsx?|wps|ofd|zip|rar|pptx?)\s*$", re.I
)

# Characters of Chinese or Latin prose: Han, ASCII, Latin letters with accents (pinyin tone
# marks), CJK and general punctuation, full-width forms, and the symbols news text uses.
PROSE_CHAR_RE = re.compile(
    r"[\u0020-\u007e\u00a0-\u024f\u2000-\u206f\u2100-\u218f\u2460-\u24ff\u2500-\u27bf"
    r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\s]"
)
NOT_PROSE_CHAR_RE = re.compile("[^" + PROSE_CHAR_RE.pattern[1:])
HAN_CHARS_RE = re.compile(r"[\u4e00-\u9fff]")
MAX_REPLACEMENT_SHARE = 0.01
MIN_PROSE_SHARE = 0.8
MIN_COMMON_HAN_SHARE = 0.75
MIN_DISTINCT_HAN = 8
MAX_ONE_CHAR_SHARE = 0.25
GARBAGE_SAMPLE = 20_000
"""Characters of a body that :func:`garbage_reason` reads (garbage is garbage throughout)."""

# A sentence: a clause of running text ending in a full stop, exclamation or question mark.
SENTENCE_RE = re.compile(r"[\u4e00-\u9fff][^。！？!?]{4,}[。！？]|[。！？]\s*$")
MIN_SENTENCE_CHARS = 30
"""Han characters in sentences under which a page with many links holds no text."""
LIST_ENTRY_SHARE = 0.25
"""Share of list entries (headlines, timestamps, teasers) that makes a body a list."""

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
        self._raw: list[str] | None = None

    @property
    def raw(self) -> list[str]:
        """The link texts as on the page (read once, shared with :func:`is_list_page`)."""
        if self._raw is None:
            self._raw = link_texts(self.tree)
        return self._raw

    def __contains__(self, text: object) -> bool:
        if self.texts is None:
            self.texts = frozenset(normalise_cached(text) for text in self.raw)
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
    paragraphs: list[str],
    link_texts: Container[str],
    min_links: int = LIST_MIN_LINKS,
    max_prose: int = LIST_MAX_PROSE,
    from_container: bool = False,
) -> bool:
    """Tell whether a page is a column (list) page, a portal front page or a news stream.

    Only a page with ``min_links`` title-like links can be one. It is a list page when its
    body has no sentence of running text at all (menus, headlines, a welcome banner), when
    list entries (linked headlines, timestamps, teasers cut with "...") make up a quarter of
    the body, or when the body is short and the page is paginated or holds five entries.

    Args:
        tree: The whole page (title links and pagination bars are looked for here).
        paragraphs: The body paragraphs found (possibly the list itself), Simplified.
        link_texts: The normalised texts of the page's links.
        min_links: Title-like links a list page has at least.
        max_prose: Han characters of running text under which a body is short.
        from_container: The body came from a known CMS article container: a short text
            under a pagination bar is then still an article.

    Returns:
        True when the page lists articles rather than holding one.
    """
    if count_datastore_records(tree) >= 3:
        return True
    titles = (
        [t for t in link_texts.raw if han_count(t) >= 6]
        if isinstance(link_texts, LinkTexts)
        else title_like_links(tree)
    )
    if len(set(titles)) < min_links:
        return False
    if not paragraphs:
        return True
    sentences = sum(han_count(p) for p in paragraphs if SENTENCE_RE.search(p))
    if sentences < MIN_SENTENCE_CHARS:
        return True
    listed = [is_list_line(p, link_texts) for p in paragraphs]
    # A line over a timestamp is the headline or summary of a dated entry.
    entries = [
        p
        for index, p in enumerate(paragraphs)
        if listed[index]
        or index + 1 < len(paragraphs)
        and listed[index + 1]
        and is_stamp_line(paragraphs[index + 1])
    ]
    if len(entries) >= 5 and len(entries) >= LIST_ENTRY_SHARE * len(paragraphs):
        return True
    if from_container and len(entries) < 5:
        return False  # a known article container holding sentences, not a list
    prose_chars = sum(han_count(p) for p in paragraphs if is_prose(p) and p not in entries)
    # A short news item under a pagination bar is still an article: running text that
    # outweighs the list lines in the body decides, pagination or not.
    if prose_chars >= max_prose and prose_chars >= sum(han_count(p) for p in entries):
        return False
    return len(entries) >= 5 or is_paginated(tree)


def is_attachment_only(tree: HtmlElement, paragraphs: list[str]) -> bool:
    """Tell whether the body is only a link to an attachment (``附件: x.pdf``)."""
    rest = [p for p in paragraphs if not ATTACHMENT_LINE_RE.search(p)]
    # The text test first: it settles most pages without a scan of every link.
    return sum(han_count(p) for p in rest) < 30 and selectors.has_attachment_link(tree)


def garbage_reason(text: str) -> str | None:
    """Tell why a body is not prose at all, or None when it reads as Chinese or Latin text.

    Random or binary bytes that got past decoding come out as replacement characters,
    control and symbol characters, or Han characters drawn evenly from all of GBK (most of
    them rare: real Simplified Chinese text keeps over 90 % of its Han characters inside
    GB2312, random GBK pairs about 30 %).

    Args:
        text: The body in Simplified characters (after normalisation).

    Returns:
        A reason such as ``garbage: 12% of the text is U+FFFD (undecodable bytes)``, or None.
    """
    chars = "".join(text[:GARBAGE_SAMPLE].split())
    if not chars:
        return None
    replaced = chars.count("\ufffd") / len(chars)
    if replaced > MAX_REPLACEMENT_SHARE:
        return f"garbage: {replaced:.0%} of the text is U+FFFD (undecodable bytes); wrong charset?"
    prose = 1 - len(NOT_PROSE_CHAR_RE.findall(chars)) / len(chars)
    if prose < MIN_PROSE_SHARE:
        return f"garbage: only {prose:.0%} of the text is Chinese or Latin prose"
    han = "".join(HAN_CHARS_RE.findall(chars))
    if len(han) >= 30:
        common = 1 - han.encode("gb2312", errors="replace").count(b"?") / len(han)
        if common < MIN_COMMON_HAN_SHARE:
            return (
                f"garbage: only {common:.0%} of its Han characters are common ones (random bytes?)"
            )
    if han and len(set(han)) < MIN_DISTINCT_HAN and han_count(text) >= len(chars) / 2:
        return f"garbage: {len(han)} Han characters but only {len(set(han))} distinct ones"
    if len(han) >= 30:
        # In running text the commonest character (的) is about 5 % of the whole.
        top, count = Counter(han).most_common(1)[0]
        if count > MAX_ONE_CHAR_SHARE * len(han):
            return f"garbage: {count / len(han):.0%} of its Han characters are {top!r}"
    return None
