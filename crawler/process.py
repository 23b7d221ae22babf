"""The crawler's Scrapy settings for one process: the project's module plus our overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.settings import Settings


def crawl_settings(
    db_path: str, sites_path: str | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Return the crawler's settings with the database, registry and overrides applied."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("DANGJIAN_DB", db_path, priority="cmdline")
    if sites_path:
        settings.set("DANGJIAN_SITES", sites_path, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings
