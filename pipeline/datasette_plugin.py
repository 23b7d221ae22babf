"""Datasette hooks for the news database (registered as the ``dangjian`` plugin).

Only hookimpls live here; the plugin never writes to the database.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

# Cells longer than this are shortened on table pages; the row page shows everything.
TABLE_PREVIEW_CHARS = 140


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str,
                request: Any) -> Markup | None:
    """Show article bodies as paragraphs and link titles to the original page."""
    if database != "news" or table != "articles" or not isinstance(value, str):
        return None
    if column in ("text", "text_original"):
        on_row_page = request is not None and request.url_vars.get("pks") is not None
        if not on_row_page and len(value) > TABLE_PREVIEW_CHARS:
            return Markup(escape(value[:TABLE_PREVIEW_CHARS] + "…"))
        return Markup("".join(f"<p>{escape(p)}</p>" for p in value.splitlines() if p.strip()))
    return None
