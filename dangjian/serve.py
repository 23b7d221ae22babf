"""Datasette wiring: serve a news database as ``news`` with the project's metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from datasette.app import Datasette
from datasette.database import Database

from pipeline.errors import StoreError

# A link to the top-level metadata.yml in a checkout, a copy in an installed package.
DEFAULT_METADATA = Path(__file__).with_name("metadata.yml")
DATABASE_NAME = "news"
# Settings we ship (issue 5). Facet suggestions would scan every row a search matches, so they
# are off; queries get room to spare, facets give up early (Datasette then shows them as timed
# out, never a 400 page), and the plugin skips the count of searches with very many matches.
DEFAULT_SETTINGS: dict[str, Any] = {
    "suggest_facets": False,
    "sql_time_limit_ms": 3000,
    "facet_time_limit_ms": 200,
}


def make_datasette(
    db_path: str | Path,
    metadata_path: str | Path | None = None,
    settings: dict[str, Any] | None = None,
) -> Datasette:
    """Return a Datasette instance serving ``db_path`` under the name ``news``.

    Args:
        db_path: an existing news database (created by ``dangjian crawl``).
        metadata_path: the metadata YAML; the repository's ``metadata.yml`` by default.
        settings: extra Datasette settings.
    """
    db_path = Path(db_path)
    if not db_path.exists():
        raise StoreError(f"database {db_path} does not exist; run `dangjian crawl` first")
    metadata_path = Path(metadata_path) if metadata_path else DEFAULT_METADATA
    metadata = (
        yaml.safe_load(metadata_path.read_text(encoding="utf-8")) if metadata_path.exists() else {}
    )
    # The metadata describes the database as "news" whatever the file is called.
    ds = Datasette([], metadata=metadata, settings={**DEFAULT_SETTINGS, **(settings or {})})
    ds.add_database(Database(ds, path=str(db_path), is_mutable=True), name=DATABASE_NAME)
    return ds
