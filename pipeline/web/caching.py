"""HTTP caching fitted to a database the crawl changes a few times an hour (issue 14).

Every ``GET`` of one of our databases' pages (HTML, JSON, CSV, Atom: the database page, tables,
rows, canned queries) answers with

* ``ETag: W/"<build>-<schema>-<version>"``: ``version`` is the database's data version
  (``_data_version``, moved on by triggers with every committed change, see
  ``pipeline.store.summaries.data_version``), ``schema`` SQLite's schema version and ``build``
  a hash of what else shapes a page (Datasette's and our versions, metadata, settings). Every
  server process computes the same ETag for the same data, so several processes behind one
  address agree;
* ``Cache-Control: public, max-age=60, stale-while-revalidate=300`` (plugin configuration
  ``cache_max_age`` and ``cache_stale_while_revalidate``; ``?_ttl=`` still sets its own).

A request whose ``If-None-Match`` names the current ETag gets ``304 Not Modified`` before
Datasette does any work: one read of a one-row table. Between crawls a browser, or a caching
proxy in front of several servers (docs/operations.md), revalidates a page for nothing.

Left alone: other methods, responses other than 200, responses that set a cookie, requests that
carry one (a signed-in actor may see other rows), ``?_trace=1``, and other databases.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from importlib import metadata
from typing import Any

from datasette.utils import tilde_decode

from pipeline.store import summaries

DEFAULT_MAX_AGE = 60
DEFAULT_STALE_WHILE_REVALIDATE = 300


def build_token(datasette: Any) -> str:
    """A short hash of what shapes a page besides the data: versions, metadata, settings."""
    try:
        ours = metadata.version("dangjian-news")
    except metadata.PackageNotFoundError:
        ours = "checkout"
    parts = {
        "datasette": metadata.version("datasette"),
        "dangjian": ours,
        "metadata": datasette.metadata(),
        "settings": datasette.settings_dict(),
        "plugins": datasette.plugin_config("dangjian"),
    }
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha1(blob).hexdigest()[:10]


def _database(datasette: Any, path: str, is_ours: Any) -> Any:
    """The Database a path belongs to (``/news``, ``/news.json``, ``/news/...``), if ours."""
    base = datasette.setting("base_url") or "/"
    if not path.startswith(base):
        return None
    first = path[len(base) :].lstrip("/").split("/", 1)[0]
    if not first or first.startswith("-"):
        return None
    route = tilde_decode(first.split(".", 1)[0] if "/" not in path[len(base) :] else first)
    try:
        db = datasette.get_database(route=route)
    except KeyError:
        return None
    return db if is_ours(datasette, db.name) else None


def _version_of(conn: Any) -> tuple[int | None, int]:
    return summaries.data_version(conn), conn.execute("PRAGMA schema_version").fetchone()[0]


def wrap(app: Any, datasette: Any, is_ours: Any) -> Any:
    """Wrap Datasette's ASGI ``app`` with ETags, ``Cache-Control`` and ``304`` answers.

    Args:
        app: the ASGI application to wrap.
        datasette: the Datasette instance.
        is_ours: ``is_ours(datasette, database_name) -> bool`` (the plugin's schema check).
    """
    token: list[str] = []

    async def cached(scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET":
            await app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        db = None
        if b"cookie" not in headers and "_trace" not in query:
            db = _database(datasette, scope.get("path", ""), is_ours)
        if db is None:
            await app(scope, receive, send)
            return
        version, schema = await db.execute_fn(_version_of)
        if version is None:  # a database from before 0006_summaries
            await app(scope, receive, send)
            return
        if not token:
            token.append(build_token(datasette))
        etag = f'W/"{token[0]}-{schema}-{version}"'.encode()
        config = datasette.plugin_config("dangjian", database=db.name) or {}
        control = (
            f"public, max-age={int(config.get('cache_max_age', DEFAULT_MAX_AGE))}, "
            "stale-while-revalidate="
            f"{int(config.get('cache_stale_while_revalidate', DEFAULT_STALE_WHILE_REVALIDATE))}"
        ).encode()
        if etag in [t.strip() for t in headers.get(b"if-none-match", b"").split(b",")]:
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [(b"etag", etag), (b"cache-control", control)],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_etag(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                kept = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"etag", b"cache-control")
                ]
                if not any(k.lower() == b"set-cookie" for k, _ in kept):
                    theirs = [
                        v for k, v in message.get("headers", []) if k.lower() == b"cache-control"
                    ]
                    value = theirs[0] if theirs and "_ttl" in query else control
                    message = {
                        **message,
                        "headers": [*kept, (b"etag", etag), (b"cache-control", value)],
                    }
            await send(message)

        await app(scope, receive, send_with_etag)

    return cached
