"""Per-site health for operators: what ``dangjian status`` prints (reads through the store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlite_utils

from pipeline.store import runs


def site_status(db_path: str | Path) -> list[dict[str, Any]]:
    """Return one row per crawled site: last run, status, new articles and failure rate (7 days).

    The same SQL is the ``site_health`` canned query in Datasette (``runs.STATUS_SQL``).
    """
    db = sqlite_utils.Database(str(db_path))
    try:
        return runs.site_status(db)
    finally:
        db.close()
