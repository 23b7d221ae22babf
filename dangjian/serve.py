"""Datasette wiring: serve a news database as ``news`` with the project's metadata and settings.

``dangjian serve`` is plain Datasette with two files: the metadata (``metadata.yml``) and the
settings (``datasette.yaml``), the same files docs/api.md's plain ``datasette`` command uses.
The ``dangjian`` plugin (pipeline/web/plugin.py) recognises the database by its schema, not
by this name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from datasette.app import DEFAULT_SETTINGS, Datasette
from datasette.database import Database

from pipeline.errors import StoreError
from pipeline.web import CONFIG, METADATA, PUBLIC_CONFIG

DEFAULT_METADATA = METADATA
DEFAULT_CONFIG = CONFIG
DATABASE_NAME = "news"


def load_settings(config_path: str | Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """The ``settings:`` block of a Datasette configuration file (``datasette.yaml``)."""
    config_path = Path(config_path)
    if not config_path.exists():
        return {}
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    settings = config.get("settings") or {}
    unknown = sorted(set(settings) - set(DEFAULT_SETTINGS))
    if unknown:
        raise StoreError(f"{config_path}: unknown Datasette settings {', '.join(unknown)}")
    return settings


def make_datasette(
    db_path: str | Path,
    metadata_path: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    public: bool = False,
) -> Datasette:
    """Return a Datasette instance serving ``db_path`` under the name ``news``.

    Args:
        db_path: an existing news database (created by ``dangjian crawl``).
        metadata_path: the metadata YAML; the repository's ``metadata.yml`` by default.
        settings: Datasette settings on top of those in ``datasette.yaml``.
        public: apply the public profile (``datasette-public.yaml``): no arbitrary SQL, no
            download, tighter limits. The database is read-only in every mode.
    """
    db_path = Path(db_path)
    if not db_path.exists():
        raise StoreError(f"database {db_path} does not exist; run `dangjian crawl` first")
    metadata_path = Path(metadata_path) if metadata_path else DEFAULT_METADATA
    metadata = (
        yaml.safe_load(metadata_path.read_text(encoding="utf-8")) if metadata_path.exists() else {}
    )
    # The URLs say /news whatever the file is called (tests and docs use /news/articles).
    profile = {**load_settings(), **(load_settings(PUBLIC_CONFIG) if public else {})}
    ds = Datasette([], metadata=metadata, settings={**profile, **(settings or {})})
    ds.add_database(Database(ds, path=str(db_path), is_mutable=True), name=DATABASE_NAME)
    return ds
