"""Bring saved pages into the database: HTML files, folders of them, and WARC archives.

Every record becomes a :class:`~pipeline.model.RawPage` and goes through
:func:`pipeline.ingest.ingest_page`, exactly like a crawled page, so archives made by other
crawlers (wget --warc-file, Heritrix, browsertrix) get the same extraction, dedupe and
clustering. A record keeps its URL: the WARC-Target-URI, or for a bare HTML file the URL the
page states (Url meta, canonical link or og:url).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from pipeline.errors import DangjianError, StoreError
from pipeline.extract import extract_page
from pipeline.ingest import ingest_page
from pipeline.model import RawPage
from pipeline.runs import CrawlRun, HealthOptions
from pipeline.store import Store, runs

logger = logging.getLogger(__name__)

HTML_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")


class ImportPathError(DangjianError):
    """Raised when a path cannot be imported (missing, unreadable, not HTML or WARC)."""


def _iso(ts: float | None = None) -> str:
    when = datetime.fromtimestamp(ts, UTC) if ts is not None else datetime.now(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Yield the HTML and WARC files named by ``paths``, walking folders in sorted order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.name.lower().endswith(HTML_SUFFIXES + WARC_SUFFIXES):
                    yield child
        elif path.is_file():
            yield path
        else:
            raise ImportPathError(f"{path}: no such file or folder")


def html_file_page(path: Path, run_id: str) -> RawPage:
    """Return a saved HTML file as a RawPage, with the URL the page states about itself."""
    body = path.read_bytes()
    url = extract_page(body, None).url
    if not url:
        url = path.resolve().as_uri()
        logger.warning("%s states no URL (Url meta, canonical, og:url); using %s", path, url)
    return RawPage(
        url=url,
        final_url=url,
        status=200,
        headers={},
        body=body,
        fetched_at=_iso(path.stat().st_mtime),
        run_id=run_id,
    )


def warc_pages(path: Path, run_id: str) -> Iterator[RawPage]:
    """Yield the HTTP responses archived in a WARC (or ARC) file as RawPages."""
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, arc2warc=True):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            if not url or not url.startswith(("http://", "https://")):
                continue
            headers = {k.lower(): v for k, v in record.http_headers.headers}
            status = int(record.http_headers.get_statuscode() or 0)
            date = record.rec_headers.get_header("WARC-Date") or _iso()
            yield RawPage(
                url=url,
                final_url=url,
                status=status,
                headers=headers,
                body=record.content_stream().read(),
                fetched_at=date[:19].rstrip("Z") + "Z",
                run_id=run_id,
            )


def _site_for(store: Store, url: str, site_id: str | None) -> str:
    """Return the registry site serving ``url`` (by host), adding one named after the host."""
    if site_id:
        return site_id
    host = (urlsplit(url).hostname or "local").lower()
    known = store.site_for_host(host)
    if known:
        return known
    store.save_sites(
        [
            {
                "id": host,
                "name": host,
                "home_url": f"{urlsplit(url).scheme}://{host}/",
                "start_urls": [],
            }
        ]
    )
    return host


def _finish(run: CrawlRun, stopped: str | None = None) -> None:
    """Close the import's run for every site it touched (status, alerts, as for a crawl)."""
    for sid in run.site_ids():
        run.finish(sid, stopped=stopped)


def import_paths(
    store: Store,
    paths: Iterable[str | Path],
    site_id: str | None = None,
    options: HealthOptions | None = None,
) -> Counter[str]:
    """Import saved pages and WARC files into ``store`` through the crawl's pipeline.

    Args:
        store: the open database.
        paths: HTML files, WARC/ARC files (optionally gzipped) and folders of them.
        site_id: the registry site every page belongs to; by default matched on the host.
        options: alert thresholds and webhook for the import's run (``crawl_runs``).

    Returns:
        Outcome counts (``new``, ``duplicate``, ``updated``, ``unchanged``, ``failure``...,
        and ``skipped`` for records imported before).
    """
    run = CrawlRun(store, "import-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"), options)
    run_id = run.run_id
    counts: Counter[str] = Counter()
    for path in expand_paths(paths):
        name = path.name.lower()
        try:
            if name.endswith(WARC_SUFFIXES):
                pages: Iterable[RawPage] = warc_pages(path, run_id)
            else:
                pages = [html_file_page(path, run_id)]
            for page in pages:
                if runs.page_stored(store.db, page.url, page.body):
                    counts["skipped"] += 1  # this very body was stored before: adds nothing
                    continue
                page = RawPage(**{**page.__dict__, "site_id": _site_for(store, page.url, site_id)})
                run.include(page.site_id)
                outcome = ingest_page(store, page)
                counts[outcome.kind] += 1
                logger.debug("%s %s (%s)", outcome.kind, page.url, path)
        except OSError as exc:
            _finish(run, stopped=f"cannot read {path}")
            raise ImportPathError(f"{path}: cannot read ({exc})") from exc
        except StoreError as exc:
            try:
                _finish(run, stopped=f"the database failed: {exc}")
            except StoreError:
                pass  # no room even for that: the run stays open, the next import redoes it
            raise
    _finish(run)
    logger.info("imported %s", dict(counts))
    return counts
