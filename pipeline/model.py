"""Records passed between the crawler and the pipeline stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RawPage:
    """One fetched page exactly as the crawler got it.

    The crawler (or ``dangjian import``) builds these; the pipeline never needs Scrapy.
    """

    url: str
    """The URL that was requested."""
    final_url: str
    """The URL after redirects."""
    status: int
    headers: dict[str, str]
    """Response headers, names lower-cased."""
    body: bytes
    fetched_at: str
    """ISO 8601 UTC timestamp, e.g. ``2026-11-23T19:30:00Z``."""
    site_id: str = ""
    run_id: str = ""
    kind: str = "article"
    """What the crawler took the page for: ``list``, ``article``, ``attachment`` or ``other``."""
    referrer: str = ""
    """For an attachment: the URL of the article page that links it."""
    link_text: str = ""
    """For an attachment: the text of the link to it (often the file's real name)."""


@dataclass
class ExtractedPage:
    """Fields extracted and normalised from one page (see ``pipeline.extract.extract_page``)."""

    url: str | None = None
    is_article: bool = False
    reason: str | None = None
    """Why the page is not an article (list page, attachment only, empty body...)."""
    title: str | None = None
    title_original: str | None = None
    published: str | None = None
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (China local time). On government notices
    this is the 发布日期 (date of publication), not the 成文日期."""
    written_date: str | None = None
    """The 成文日期 of a government document (the date it was signed), ``YYYY-MM-DD``."""
    # The other fields of a government document (pipeline.extract.documents).
    doc_number: str | None = None
    """文号, normalised: ``湘组发〔2023〕5号`` whatever brackets the page used."""
    issuer: str | None = None
    """发文机关: the issuing organ(s), joined with ``、``."""
    index_number: str | None = None
    """索引号 of the 政府信息公开 catalogue."""
    subject: str | None = None
    """主题分类 as the page states it."""
    validity: str | None = None
    """有效性 (有效, 失效, 废止...) as the page states it."""
    doc_year: str | None = None
    """The document's year: of its 成文日期, else the one in its number."""
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    text: str | None = None
    """Simplified Chinese, one paragraph per line."""
    text_original: str | None = None
    encoding: str | None = None
    script: str | None = None
    """``hans`` or ``hant``: the script of the page before conversion."""
    site_name: str | None = None
    site_code: str | None = None
    """The SiteIDCode meta tag of government sites (its first 6 digits are the region)."""
    column: str | None = None
    keywords: str | None = None
    error: str | None = None
    flags: list[str] = field(default_factory=list)
    """Warnings about the text, e.g. ``lossy-decode`` or ``decoder-damage``, and
    ``body:trafilatura-fallback`` when the body came from the second opinion (trafilatura's
    full cascade) because our rules found too little."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
