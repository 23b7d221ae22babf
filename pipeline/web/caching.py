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
Datasette does any work. Between crawls a browser, or a caching proxy in front of several
servers (docs/operations.md), revalidates a page for nothing.

Each process also keeps the pages it rendered, keyed by host, path, query and ETag, in a
bounded in-memory LRU (``cache_memory_mb``, 64 MiB by default; 0 turns it off): the next
request for the same page at the same data version is answered from memory, and requests
for a page that is being rendered wait for it rather than render it again (after a crawl,
fifty visitors of the front page cost one render). A change to the database changes the
ETag, so a kept page is never served once it is out of date.

Reading the version costs no round trip to Datasette's query threads: each process holds one
read-only connection per database and asks SQLite's ``PRAGMA data_version`` (which moves when
another connection commits) before re-reading ``_data_version``.

Left alone: other methods, responses other than 200, responses that set a cookie, requests that
carry one (a signed-in actor may see other rows), ``?_trace=1``, and other databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import sqlite3
import urllib.parse
from collections import OrderedDict
from importlib import metadata
from typing import Any

from datasette.utils import tilde_decode

from pipeline.store import summaries

DEFAULT_MAX_AGE = 60
DEFAULT_STALE_WHILE_REVALIDATE = 300
DEFAULT_MEMORY_MB = 64
MAX_ENTRY_SHARE = 16  # one page may take at most 1/16 of the cache
WAIT_FOR_RENDER = 10.0  # seconds a request waits for the same page rendered for another


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


class Version:
    """The data and schema version of one database file, read without Datasette's threads."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.seen: int | None = None
        self.value: tuple[int | None, int] | None = None

    def current(self) -> tuple[int | None, int]:
        """``(data version, schema version)``; two pragmas while nothing was committed."""
        changed = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if self.value is None or changed != self.seen:
            self.seen = changed
            self.value = (
                summaries.data_version(self.conn),
                self.conn.execute("PRAGMA schema_version").fetchone()[0],
            )
        return self.value


class Pages:
    """A bounded LRU of rendered pages: key -> (status, headers, body)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self.entries: OrderedDict[tuple, tuple[int, list, bytes]] = OrderedDict()

    def get(self, key: tuple) -> tuple[int, list, bytes] | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: tuple, entry: tuple[int, list, bytes]) -> None:
        size = len(entry[2]) + 512
        if size > self.max_bytes // MAX_ENTRY_SHARE or key in self.entries:
            return
        self.entries[key] = entry
        self.used += size
        while self.used > self.max_bytes:
            _, old = self.entries.popitem(last=False)
            self.used -= len(old[2]) + 512


def _database(datasette: Any, path: str, is_ours: Any) -> Any:
    """The Database a path belongs to (``/news``, ``/news.json``, ``/news/...``), if ours."""
    base = datasette.setting("base_url") or "/"
    if not path.startswith(base):
        return None
    rest = path[len(base) :].lstrip("/")
    first = rest.split("/", 1)[0]
    if not first or first.startswith("-"):
        return None
    route = first if "/" in rest else first.split(".", 1)[0]
    if "~" in route or "+" in route:  # tilde_decode costs a random token per call
        route = tilde_decode(route)
    try:
        db = datasette.get_database(route=route)
    except KeyError:
        return None
    return db if is_ours(datasette, db.name) else None


async def _version_of(db: Any, versions: dict[str, Version]) -> tuple[int | None, int]:
    if db.path and not db.is_memory:
        if db.name not in versions:
            versions[db.name] = Version(db.path)
        return versions[db.name].current()

    def read(conn: sqlite3.Connection) -> tuple[int | None, int]:
        schema = conn.execute("PRAGMA schema_version").fetchone()[0]
        return summaries.data_version(conn), schema

    return await db.execute_fn(read)


async def render(
    app: Any,
    scope: dict,
    receive: Any,
    send: Any,
    query: dict,
    etag: bytes,
    control: bytes,
    pages: Pages | None,
    key: tuple,
) -> None:
    """Let Datasette render the page; tag a 200 with the ETag, and keep it in ``pages``."""
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def send_with_etag(message: dict) -> None:
        if message["type"] == "http.response.start":
            started["status"] = message["status"]
            if message["status"] == 200:
                old = message.get("headers", [])
                own = [(k, v) for k, v in old if k.lower() not in (b"etag", b"cache-control")]
                if any(k.lower() == b"set-cookie" for k, _ in own):
                    started["status"] = None  # personal: neither tagged nor kept
                else:
                    theirs = [v for k, v in old if k.lower() == b"cache-control"]
                    value = theirs[0] if theirs and "_ttl" in query else control
                    message = {
                        **message,
                        "headers": [*own, (b"etag", etag), (b"cache-control", value)],
                    }
            started["headers"] = message.get("headers", [])
        elif (
            message["type"] == "http.response.body"
            and pages is not None
            and started.get("status") == 200
        ):
            chunks.append(message.get("body", b""))
            if sum(map(len, chunks)) > pages.max_bytes // MAX_ENTRY_SHARE:
                started["status"] = None  # too big to keep (a streamed CSV)
                chunks.clear()
            elif not message.get("more_body", False):
                pages.put(key, (200, started["headers"], b"".join(chunks)))
        await send(message)

    await app(scope, receive, send_with_etag)


def wrap(app: Any, datasette: Any, is_ours: Any) -> Any:
    """Wrap Datasette's ASGI ``app`` with ETags, ``Cache-Control``, ``304`` and kept pages.

    Args:
        app: the ASGI application to wrap.
        datasette: the Datasette instance.
        is_ours: ``is_ours(datasette, database_name) -> bool`` (the plugin's schema check).
    """
    token: list[str] = []
    versions: dict[str, Version] = {}
    kept: dict[str, Pages] = {}
    rendering: dict[tuple, asyncio.Future] = {}  # pages being rendered now, by key

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
        version, schema = await _version_of(db, versions)
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
        memory = int(config.get("cache_memory_mb", DEFAULT_MEMORY_MB)) * 2**20
        pages = kept.setdefault(db.name, Pages(memory)) if memory > 0 else None
        key = (headers.get(b"host"), scope.get("path"), scope.get("query_string"), etag)
        if pages is not None and key in rendering:
            # The same page is being rendered for another request: wait for it, not twice.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(rendering[key]), WAIT_FOR_RENDER)
        if pages is not None and (hit := pages.get(key)) is not None:
            status, response_headers, body = hit
            await send(
                {"type": "http.response.start", "status": status, "headers": response_headers}
            )
            await send({"type": "http.response.body", "body": body})
            return
        if pages is None or key in rendering:
            await render(app, scope, receive, send, query, etag, control, pages, key)
            return
        rendering[key] = asyncio.get_running_loop().create_future()
        try:
            await render(app, scope, receive, send, query, etag, control, pages, key)
        finally:
            rendering.pop(key).set_result(None)

    return cached
