"""``dangjian extract``, ``reprocess`` and ``reindex``: processing pages again, offline."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dangjian.cli.options import db_option


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", help="The page's URL (otherwise taken from the page's meta tags).")
def extract(paths: tuple[str, ...], url: str | None) -> None:
    """Extract and normalise saved pages; print one JSON object per PATH.

    \b
    Example:
        dangjian extract page.html --url http://example.gov.cn/t20230419_1.html
    """
    from pipeline.extract import extract_page
    from pipeline.model import ExtractedPage

    for path in paths:
        try:
            body = Path(path).read_bytes()
        except OSError as exc:  # unreadable file: a JSON line with the error, not a crash
            page = ExtractedPage(url=url, error=f"read: {exc.strerror or exc}")
        else:
            page = extract_page(body, url)
        click.echo(json.dumps({"path": path, **page.to_dict()}, ensure_ascii=False))


@click.command()
@db_option
@click.option("--site", "site_id", default=None, help="Only this site's pages (a registry id).")
def reprocess(db_path: str, site_id: str | None) -> None:
    """Re-run extraction over the stored raw pages and update articles in place.

    Run it after an extraction fix: no page is fetched again, and each canonical URL keeps
    its article row. Prints how many articles were updated, unchanged, new or failed.

    \b
    Example:
        dangjian reprocess --db data/news.db
        dangjian reprocess --site wuhan-tzb
    """
    from pipeline.reprocess import reprocess_pages
    from pipeline.store import Store

    if not Path(db_path).exists():
        raise click.UsageError(f"no database at {db_path}: crawl first or pass --db")
    store = Store(db_path)
    try:
        counts = reprocess_pages(store, site_id)
    finally:
        store.close()
    click.echo(" ".join(f"{name}={counts[name]}" for name in counts))


@click.command()
@db_option
def reindex(db_path: str) -> None:
    """Rebuild the Chinese search index and the term counts of every article.

    Run it after changing the search tokeniser (pipeline/store/search.py) or the term dictionary
    (pipeline/store/terms.py, docs/terms.md); articles are indexed as they are stored otherwise.
    One transaction: readers see the old index until the new one is committed. From 20,000
    articles on, the rebuild runs in a process of its own that asks for huge pages (see
    docs/operations.md, "Rebuilding the search index"); a million articles take about 15
    minutes on 2 cores.

    \b
    Example:
        dangjian reindex --db data/news.db
    """
    from pipeline.store import Store

    if not Path(db_path).exists():
        raise click.UsageError(f"no database at {db_path}: crawl first or pass --db")
    store = Store(db_path)
    try:
        count = store.rebuild_search_index()
    finally:
        store.close()
    click.echo(f"reindexed {count} articles")
