"""Datasette hooks for the news database (registered as the ``dangjian`` plugin).

Only hookimpls live here; the plugin never writes to the database.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

PARAGRAPH_COLUMNS = ("text", "text_original")


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str) -> Markup | None:
    """Show article bodies as paragraphs (they are stored one paragraph per line)."""
    if database != "news" or table != "articles" or not isinstance(value, str):
        return None
    if column in PARAGRAPH_COLUMNS:
        return Markup("".join(f"<p>{escape(p)}</p>" for p in value.splitlines() if p.strip()))
    return None
