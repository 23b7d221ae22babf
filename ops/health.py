"""Per-site health for operators: what ``dangjian status`` prints (reads through the store)."""

from __future__ import annotations

import json
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


def status_table(rows: list[dict[str, Any]]) -> str:
    """Return the table ``dangjian status`` prints: a header, then one line per site."""
    lines = [f"{'site':<22} {'last run':<21} {'status':<8} {'new 7d':>6} {'fail%':>6}  alerts"]
    for r in rows:
        alerts = ", ".join(a["kind"] for a in json.loads(r["alerts"] or "[]"))
        lines.append(
            f"{r['site_id']:<22} {r['last_run'] or '-':<21} {r['status'] or '-':<8} "
            f"{r['new_7d']:>6} {100 * (r['failure_rate'] or 0):>5.0f}%  {alerts}"
        )
    return "\n".join(lines)
