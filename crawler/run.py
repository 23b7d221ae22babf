"""Run the news spider in this process (used by ``dangjian crawl``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.registry import load_registry, select_sites
from crawler.spiders.news import NewsSpider, new_run_id


def crawl_settings(db_path: str, sites_path: str | None = None,
                   overrides: Mapping[str, Any] | None = None) -> Settings:
    """Return the crawler's settings with the database, registry and overrides applied."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("DANGJIAN_DB", db_path, priority="cmdline")
    if sites_path:
        settings.set("DANGJIAN_SITES", sites_path, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def crawl_sites(db_path: str, site_ids: Iterable[str] = (), *, sample: bool = False,
                sites_path: str | None = None, settings: Mapping[str, Any] | None = None) -> str:
    """Crawl the selected sites into ``db_path`` and return the run id.

    Raises:
        SiteConfigError: the registry is invalid or names an unknown site.
    """
    site_ids = list(site_ids)
    # Validate the selection before starting the reactor, so a typo is a clear error.
    select_sites(load_registry(sites_path), site_ids, sample)
    run_id = new_run_id()
    merged = dict(settings or {})
    merged["DANGJIAN_RUN_ID"] = run_id
    process = CrawlerProcess(crawl_settings(db_path, sites_path, merged))
    process.crawl(NewsSpider, sites=",".join(site_ids), sample="1" if sample else "")
    process.start()
    return run_id


def run_summary(db_path: str, run_id: str) -> list[dict[str, Any]]:
    """Return the crawl_runs rows of one run, one per site."""
    db = sqlite_utils.Database(db_path)
    try:
        return list(db["crawl_runs"].rows_where("run_id = ?", [run_id], order_by="site_id"))
    finally:
        db.close()
