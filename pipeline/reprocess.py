"""Re-run extraction over the raw pages already stored, updating articles in place.

Raw bytes are kept for exactly this: after an extraction fix, ``dangjian reprocess`` brings
every stored article up to date without crawling again. Each canonical URL keeps its one
article row (``Store.save_article`` is keyed on it); only the newest stored page of a URL is
read again.
"""

from __future__ import annotations

import logging
from collections import Counter

from pipeline.extract import extract_page
from pipeline.ingest import ATTACHMENT_ONLY_REASON, article_row, classify_without_extraction
from pipeline.store import Store
from pipeline.store.clusters import assign_cluster

logger = logging.getLogger(__name__)

# Columns the extractor fills that may change without the text or the title changing.
EXTRACTED_COLUMNS = (
    "published",
    "published_month",
    "published_year",
    "source",
    "author",
    "editor",
    "column_name",
    "keywords",
    "script",
    "title_original",
    "text_original",
    "encoding",
    "site_name",
    "flags",
)
COUNTS = ("updated", "unchanged", "new", "failed", "not-article", "skipped")


def latest_page_ids(store: Store, site_id: str | None = None) -> list[int]:
    """Return the id of the newest stored page of every URL (optionally of one site)."""
    return store.latest_page_ids(site_id)


def reprocess_pages(store: Store, site_id: str | None = None) -> Counter[str]:
    """Extract every stored page again and update its article in place.

    Pages that were never candidates (HTTP errors, PDFs, list pages as crawled) are skipped.
    A page that fails to extract now is counted as ``failed`` and its article, if any, is
    left as it was.

    Args:
        store: The open database.
        site_id: Only this site's pages, when given.

    Returns:
        Counts of ``updated``, ``unchanged``, ``new``, ``failed``, ``not-article`` and
        ``skipped`` pages.
    """
    counts: Counter[str] = Counter(dict.fromkeys(COUNTS, 0))
    for page_id in latest_page_ids(store, site_id):
        raw = next(iter(store.raw_pages("id = ?", [page_id])))
        if classify_without_extraction(raw) is not None:  # the same test as a crawl's
            counts["skipped"] += 1
            continue
        extracted = extract_page(raw.body, raw.final_url or raw.url, raw.headers)
        if extracted.error:
            counts["failed"] += 1
            logger.warning("reprocess: %s: %s", raw.url, extracted.error)
            continue
        if not extracted.is_article:
            # An attachment-only notice's body is its file's text (ingest.ingest_attachment),
            # which its page cannot give again: the article stays as it is.
            attachment_only = extracted.reason == ATTACHMENT_ONLY_REASON
            counts["unchanged" if attachment_only else "not-article"] += 1
            continue
        with store.db.atomic():
            row = article_row(raw, extracted, page_id)
            written = store.save_article(row)
            kind = written.change
            if kind == "unchanged":
                fields = {name: row[name] for name in EXTRACTED_COLUMNS}
                if store.refresh_article(written.article_id, fields):
                    kind = "updated"
            elif kind in ("new", "updated"):
                assign_cluster(store.db, written.article_id)
        counts[kind] += 1
        logger.debug("reprocess: %s %s", kind, raw.url)
    logger.info("reprocessed: %s", dict(counts))
    return counts
