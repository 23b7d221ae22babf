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
    if metadata_path.resolve() == METADATA.resolve():
        # The plugin supplies this file's news block already (get_metadata); given twice,
        # Datasette merges and deep-copies both on every metadata lookup and permission check.
        # A file of the user's own is given whole: its block wins over the plugin's.
        others = {k: v for k, v in (metadata.get("databases") or {}).items() if k != DATABASE_NAME}
        metadata = {k: v for k, v in metadata.items() if k != "databases"}
        if others:
            metadata["databases"] = others
    # The URLs say /news whatever the file is called (tests and docs use /news/articles).
    profile = {**load_settings(), **(load_settings(PUBLIC_CONFIG) if public else {})}
    ds = Datasette([], metadata=metadata, settings={**profile, **(settings or {})})
    ds.add_database(Database(ds, path=str(db_path), is_mutable=True), name=DATABASE_NAME)
    return ds


def serve_one(
    db_path: str | Path,
    host: str,
    port: int,
    metadata_path: str | Path | None = None,
    public: bool = False,
) -> None:
    """Serve ``db_path`` on ``host:port`` with ``SO_REUSEPORT``, so others may share it."""
    import socket

    import uvicorn
    from datasette.cli import run_sync

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    ds = make_datasette(db_path, metadata_path, public=public)
    run_sync(ds.invoke_startup)
    config = uvicorn.Config(ds.app(), log_level="warning", lifespan="on", backlog=2048)
    uvicorn.Server(config).run(sockets=[sock])


def serve_processes(
    db_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8001,
    processes: int = 2,
    metadata_path: str | Path | None = None,
    public: bool = False,
) -> None:
    """Run ``processes`` Datasette processes on one address until interrupted.

    Each process binds ``host:port`` with ``SO_REUSEPORT`` (Linux, BSD): the kernel spreads
    new connections over them, so a Python process per core serves one address without a
    proxy in front (docs/operations.md, "Several processes behind one address"). They share
    nothing but the database file, which each opens read-only; ETags agree across them.
    """
    import multiprocessing
    import signal

    make_datasette(db_path, metadata_path, public=public)  # fail here, not in N children
    spawn = multiprocessing.get_context("spawn")
    children = [
        spawn.Process(target=serve_one, args=(str(db_path), host, port, metadata_path, public))
        for _ in range(processes)
    ]
    for child in children:
        child.start()

    def stop(*_: Any) -> None:
        for child in children:
            if child.is_alive():
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        for child in children:
            child.join()
    except KeyboardInterrupt:
        stop()
        for child in children:
            child.join(timeout=10)


def main(argv: list[str] | None = None) -> None:
    """``python -m dangjian.serve --db PATH --port N --processes N [--host H] [--public]``."""
    import argparse

    parser = argparse.ArgumentParser(description=serve_processes.__doc__.splitlines()[0])
    parser.add_argument("--db", default="data/news.db")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--metadata")
    parser.add_argument("--public", action="store_true")
    args = parser.parse_args(argv)
    serve_processes(args.db, args.host, args.port, args.processes, args.metadata, args.public)


if __name__ == "__main__":
    main()
