"""Run one raw page through the pipeline: decode → extract → normalise → dedupe → store.

The crawl's item pipeline, ``dangjian import`` and ``dangjian reprocess`` all call
``ingest_page``, so every path into the database runs the same code.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from pipeline.dedupe import canonical_url, content_hash
from pipeline.errors import StoreError
from pipeline.extract import extract_page
from pipeline.extract.attachments import file_name, read_attachment
from pipeline.model import ExtractedPage, RawPage
from pipeline.store import Store, attachments
from pipeline.store.clusters import assign_cluster
from pipeline.store.database import disk_full_error

logger = logging.getLogger(__name__)

NON_HTML_TYPES = ("application/pdf", "application/msword", "application/zip", "image/")


@dataclass(frozen=True)
class Outcome:
    """What became of one page: ``kind`` is one of the OUTCOMES, ``reason`` says why."""

    kind: str
    reason: str | None = None
    article_id: int | None = None


OUTCOMES = (
    "list",
    "attachment",
    "not-article",
    "failure",
    "new",
    "updated",
    "unchanged",
    "duplicate",
)


def ingest_page(store: Store, page: RawPage) -> Outcome:
    """Store ``page`` and, when it is an article, its extracted article, in one transaction.

    A page that cannot be fetched or parsed is recorded in ``failures`` with the reason;
    nothing is dropped silently. A page that makes any stage raise (a *poison* page) has its
    transaction rolled back and is recorded as a failure of that stage, with the exception
    type and message, so the crawl, import or ingester goes on with the next page.

    Args:
        store: the open database.
        page: the fetched page, raw bytes and all.

    Returns:
        The outcome, also written to ``pages.outcome``.

    Raises:
        StoreError: the failure itself could not be recorded (disk full, database gone):
            the caller must stop, not go on losing pages.
    """
    progress = _Progress()
    try:
        return _ingest(store, page, progress)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - a poison page must never stop the batch
        full = disk_full_error(store.path, exc, f"storing {page.url}")
        if full is not None:
            raise full from exc  # not the page's fault: stop, and retry it later
        reason = f"{type(exc).__name__} in {progress.stage}: {exc}"[:2000]
        logger.exception("poison page %s (%s)", page.url, reason)
        try:
            with store.db.atomic():
                store.save_page(page, "failure", reason)
                store.save_failure(
                    url=page.url,
                    stage=progress.stage,
                    reason=reason,
                    site_id=page.site_id,
                    run_id=page.run_id,
                    http_status=page.status,
                )
        except Exception as again:
            raise StoreError(f"cannot record the failure of {page.url}: {again}") from again
        return Outcome("failure", reason)


@dataclass
class _Progress:
    """The stage ``_ingest`` is in, so a failure names where it happened."""

    stage: str = "classify"


def _inject_fault(stage: str, page: RawPage) -> None:
    """Raise in ``stage`` for pages whose URL contains a marker (tests only; off by default).

    ``DANGJIAN_FAULT_INJECTION=extract:MARKER`` makes the extract stage raise for those pages,
    so the tests prove each entry point survives a poison page without editing the extractor.
    """
    spec = os.environ.get("DANGJIAN_FAULT_INJECTION", "")
    where, _, marker = spec.partition(":")
    if where == stage and marker and marker in page.url:
        raise RuntimeError(f"injected fault ({spec})")


def _ingest(store: Store, page: RawPage, progress: _Progress) -> Outcome:
    """``ingest_page`` without the poison-page guard."""
    with store.db.atomic():
        if page.kind == "attachment" and page.status < 400:
            progress.stage = "attachment"
            return ingest_attachment(store, page)
        outcome = classify_without_extraction(page)
        if outcome is not None:
            store.save_page(page, outcome.kind, outcome.reason)
            if page.status in (404, 410):
                # A stored article whose page is gone was taken down: mark it, keep it.
                store.mark_taken_down(canonical_url(page.final_url or page.url), page.fetched_at)
            if outcome.kind == "failure":
                stage = "http" if page.status >= 400 else "fetch"
                store.save_failure(
                    url=page.url,
                    stage=stage,
                    reason=outcome.reason or "",
                    site_id=page.site_id,
                    run_id=page.run_id,
                    http_status=page.status,
                )
            return outcome
        progress.stage = "extract"
        _inject_fault("extract", page)
        extracted = extract_page(page.body, page.final_url or page.url, page.headers)
        progress.stage = "store"
        if extracted.error:
            store.save_page(page, "failure", extracted.error)
            store.save_failure(
                url=page.url,
                stage="extract",
                reason=extracted.error,
                site_id=page.site_id,
                run_id=page.run_id,
                http_status=page.status,
            )
            return Outcome("failure", extracted.error)
        attachment_only = extracted.reason == ATTACHMENT_ONLY_REASON
        if not extracted.is_article and not attachment_only:
            store.save_page(page, "not-article", extracted.reason)
            return Outcome("not-article", extracted.reason)
        url = canonical_url(page.final_url or page.url)
        if attachment_only:
            # A notice that is only a link to its file: an article whose body is the file's
            # text (once fetched; until then the page's own line), flagged as such.
            extracted.flags.append(attachments.ATTACHMENT_ONLY)
            text = attachments.texts(store.db, article_url=url)
            extracted.text = extracted.text_original = text or extracted.text
        page_id = store.save_page(page, "article")
        written = store.save_article(article_row(page, extracted, page_id))
        attachments.link_article(store.db, written.article_id, url)
        kind = written.change
        progress.stage = "dedupe"
        if kind in ("new", "updated"):
            cluster = assign_cluster(store.db, written.article_id)
            if kind == "new" and cluster.joined:
                kind = "duplicate"
        store.set_page_outcome(page_id, kind)
        logger.debug("%s %s", kind, page.url)
        return Outcome(kind, None, written.article_id)


ATTACHMENT_ONLY_REASON = "attachment only"
"""``extract_page``'s reason for a page whose only content is a link to a file."""


def ingest_attachment(store: Store, page: RawPage) -> Outcome:
    """Store a file an article links (its bytes and text); an attachment-only notice takes
    its attachments' text as its body (a new revision), in the caller's transaction."""
    content_type = page.headers.get("content-type") or ""
    read = read_attachment(page.body, page.final_url or page.url, content_type)
    _, article_id = attachments.save_attachment(
        store.db,
        {
            "url": page.final_url or page.url,
            "article_url": canonical_url(page.referrer) if page.referrer else None,
            "site_id": page.site_id,
            "run_id": page.run_id,
            "name": file_name(page.final_url or page.url, page.link_text, page.headers),
            "format": read.format,
            "content_type": content_type or None,
            "status": page.status,
            "body": page.body,
            "text": read.text,
            "text_status": read.status,
            "fetched_at": page.fetched_at,
        },
    )
    if (
        article_id is not None
        and read.text
        and attachments.is_attachment_only(store.db, article_id)
    ):
        row = attachments.article_row(store.db, article_id)
        text = attachments.texts(store.db, article_id)
        row.update(text=text, text_original=text, content_hash=content_hash(text))
        if store.save_article({**row, "last_seen": page.fetched_at}).change == "updated":
            assign_cluster(store.db, article_id)
    return Outcome("attachment", read.status, article_id)


def classify_without_extraction(page: RawPage) -> Outcome | None:
    """Return the outcome of a page that needs no extraction, or None for a candidate article.

    HTTP errors, attachments (by type or by a PDF signature) and list pages as crawled;
    ``dangjian reprocess`` skips the same pages.
    """
    if page.status >= 400:
        return Outcome("failure", f"HTTP {page.status}")
    content_type = (page.headers.get("content-type") or "").lower()
    if content_type.startswith(NON_HTML_TYPES) or page.body[:5] == b"%PDF-":
        return Outcome("attachment", content_type or "binary body")
    if page.kind == "list":
        return Outcome("list")
    return None


def article_row(page: RawPage, extracted: ExtractedPage, page_id: int) -> dict[str, Any]:
    """Return the ``articles`` row for an extracted article (shared with reprocessing)."""
    published = extracted.published or ""
    return {
        "url": canonical_url(page.final_url or page.url),
        "site_id": page.site_id,
        "title": extracted.title,
        "published": extracted.published,
        "published_month": published[:7] or None,
        "published_year": published[:4] or None,
        "source": extracted.source,
        "author": extracted.author,
        "editor": extracted.editor,
        "column_name": extracted.column,
        "keywords": extracted.keywords,
        "script": extracted.script,
        "text": extracted.text,
        "title_original": extracted.title_original,
        "text_original": extracted.text_original,
        "encoding": extracted.encoding,
        "site_name": extracted.site_name,
        "site_code": extracted.site_code,
        "flags": json.dumps(extracted.flags) if extracted.flags else None,
        # A government document's fields (pipeline.extract.documents); None elsewhere.
        "doc_number": extracted.doc_number,
        "written_date": extracted.written_date,
        "issuer": extracted.issuer,
        "index_number": extracted.index_number,
        "subject": extracted.subject,
        "validity": extracted.validity,
        "doc_year": extracted.doc_year,
        "content_hash": content_hash(extracted.text or ""),
        "page_id": page_id,
        "run_id": page.run_id,
        "last_seen": page.fetched_at,
    }
