"""Datasette hooks for the news database (registered as the ``dangjian`` plugin).

Only hookimpls live here; the plugin never writes to the database.

Search: Datasette builds its full-text SQL as ``... match escape_fts(:search)``, with
``escape_fts`` a SQL function registered on every connection. For databases that carry our
index (``articles_fts``) we register our own ``escape_fts``, which turns the user's query into
the index's candidate expression (``pipeline.store.search.match_expression``), and the search's
other SQL functions (``search.register_functions``).

The articles table page handles ``?_search=`` itself (``filters_from_request``), with the
index's candidates checked against the text where the index alone cannot tell
(``search.matching_ids_sql``). Datasette's stock clause ``id in (select rowid from
articles_fts where ...)`` would collect *every* match before it can show the newest 20,
which for a word in most of a million articles takes seconds. We count
matches up to a cap first and pick a plan: few matches drive the query from the index; many
matches let the ``published`` index drive and check each newest row against the index, so
only about ``20 × articles / matches`` rows are looked at. Counting or faceting such a search
would still visit every match, so for more than ``search_many_matches`` matches the page says
"more than N" and skips the exact count and the default facets (``asgi_wrapper``); facets the
user asks for with ``_facet=`` still run, within their time limit.

Which databases are ours: any database whose schema has what the plugin needs (an ``articles``
table with the columns it reads, and the ``articles_fts`` index), whatever the file is called.
Each database is checked once, when Datasette starts (or when first seen), so
``datasette party.db`` works like ``dangjian serve`` (which serves its database as ``news``).

Metadata: ``metadata.yml`` (packaged beside this module) describes our schema under
``databases.news``. Datasette keys that block by database name, so ``get_metadata`` supplies it
to every database of ours under that database's own name: its table descriptions, facets,
sort orders and canned queries. Metadata given with ``-m`` is applied on top (Datasette merges
local metadata after plugins'), so ``datasette data/news.db -m metadata.yml`` sees the same
block twice and a user's own file can still override any of it. Settings are not metadata in
Datasette 0.65; they live in ``datasette.yaml`` (see docs/api.md, "Plain Datasette").
"""

from __future__ import annotations

import functools
import json
import sqlite3
import urllib.parse
import weakref
from pathlib import Path
from typing import Any

import yaml
from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.filters import FilterArguments
from datasette.utils import tilde_decode
from datasette.utils.asgi import asgi_static
from markupsafe import Markup, escape

from pipeline.store import search, summaries
from pipeline.web import METADATA, caching, counts

PARAGRAPH_COLUMNS = ("text", "text_original")
SNIPPET_COLUMNS = ("snippet", "title_snippet")
STATIC = Path(__file__).with_name("static")
STATIC_URL = "/-/dangjian/"
SEARCH_TABLE = "articles"
# What makes a database ours: the tables and the articles columns the plugin reads.
ARTICLE_COLUMNS = frozenset({"id", "url", "title", "text", "published"})
# The block of metadata.yml (pipeline.web.METADATA) that describes our schema.
METADATA_DATABASE = "news"
# Plan thresholds (matches found with a capped count): see the module docstring and
# bench/bench_search.py for the figures behind them.
FEW_MATCHES = 2_000
MANY_MATCHES = 10_000  # at least this many ...
MANY_MATCHES_PER = 100  # ... and more than one article in this many


def is_news_database(conn: sqlite3.Connection) -> bool:
    """True when the database has our schema: ``articles`` (with the columns we read) and its
    bigram index ``articles_fts``."""
    try:
        tables = {
            row[0]
            for row in conn.execute(
                "select name from sqlite_master where type = 'table' and name in (?, ?)",
                [SEARCH_TABLE, search.FTS_TABLE],
            )
        }
        if tables != {SEARCH_TABLE, search.FTS_TABLE}:
            return False
        columns = {row[1] for row in conn.execute(f"pragma table_info({SEARCH_TABLE})")}
        return ARTICLE_COLUMNS <= columns
    except sqlite3.Error:
        return False


# Per Datasette instance: database name -> whether it is ours (see _is_ours).
_OURS: weakref.WeakKeyDictionary[Any, dict[str, bool]] = weakref.WeakKeyDictionary()
# Per Datasette instance: database name -> our metadata block for it (see get_metadata).
_BLOCKS: weakref.WeakKeyDictionary[Any, dict[str, dict]] = weakref.WeakKeyDictionary()


def _is_ours(datasette: Any, database: str | None) -> bool:
    """Whether Datasette's database ``database`` has our schema, checked once and remembered.

    ``startup`` checks every database off the event loop; a database added later is checked
    here, synchronously, the first time it is asked about (one query on sqlite_master).
    """
    if not database:
        return False
    known = _OURS.setdefault(datasette, {})
    if database not in known:
        db = datasette.databases.get(database)
        if db is None:
            return False
        conn = db.connect()
        try:
            known[database] = is_news_database(conn)
        finally:
            conn.close()
    return known[database]


@hookimpl
def startup(datasette: Any) -> Any:
    async def inner() -> None:
        known = _OURS.setdefault(datasette, {})
        for name, db in list(datasette.databases.items()):
            known[name] = await db.execute_fn(is_news_database)
            if known[name] and await db.execute_fn(summaries.table_counts):
                counts.install(db)  # counts and facets from the summaries (issue 14)

    return inner


@functools.cache
def _database_metadata_json() -> str:
    if not METADATA.exists():
        return "{}"
    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8")) or {}
    block = (metadata.get("databases") or {}).get(METADATA_DATABASE) or {}
    return json.dumps(block, ensure_ascii=False)


@hookimpl
def get_metadata(datasette: Any, key: str | None, database: str | None, table: Any) -> Any:
    """Our ``databases.news`` block of metadata.yml, for each of our databases by its name."""
    names = [database] if database else list(datasette.databases)
    ours = [name for name in names if _is_ours(datasette, name)]
    if not ours:
        return None
    # One parsed copy per Datasette instance and database, not one per call: Datasette asks
    # for metadata dozens of times a page, and parsing it each time was ~8% of a busy
    # server's CPU. Datasette merges the local metadata into what we return, in place; that
    # merge gives the same result every time, so the kept copy stays what the merge makes it.
    blocks = _BLOCKS.setdefault(datasette, {})
    for name in ours:
        if name not in blocks:
            blocks[name] = json.loads(_database_metadata_json())
    if key == "tables":
        # Datasette's permission check asks for this key several times a page and deep-copies
        # what every source returns: the tables are where that key is looked up.
        return {"databases": {name: {"tables": blocks[name].get("tables", {})} for name in ours}}
    return {"databases": {name: blocks[name] for name in ours}}


PAGE_CACHE_MB = 256
"""SQLite's page cache per connection to our databases (``page_cache_mb``; SQLite's default
is 2 MiB). At a million articles a page probes indexes of hundreds of MiB; pages kept here
are not read again through the operating system (a probe cost 15-25 µs, not 3-5)."""


@hookimpl(trylast=True)
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    """Register the search SQL functions on connections to databases with our schema, and
    give them a larger page cache (``PAGE_CACHE_MB``, plugin setting ``page_cache_mb``).

    ``trylast`` so this runs after Datasette's own ``prepare_connection`` and our
    ``escape_fts`` replaces its stock one (which quotes each word as a phrase of one token).
    """
    if not is_news_database(conn):
        return
    search.register_functions(conn)
    conn.create_function("escape_fts", 1, _match, deterministic=True)
    config = datasette.plugin_config("dangjian", database=database) or {}
    megabytes = int(config.get("page_cache_mb", PAGE_CACHE_MB))
    conn.execute(f"PRAGMA cache_size = -{megabytes * 1024}")


@hookimpl(trylast=True)
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    """Handle ``?_search=`` and ``?_search_<column>=`` on the articles table (see docstring)."""
    if table != SEARCH_TABLE or not _is_ours(datasette, database):
        return None

    async def inner() -> FilterArguments | None:
        db = datasette.get_database(database)
        args = {
            k: request.args[k]
            for k in request.args
            if k.startswith("_search") and k != "_searchmode" and request.args[k].strip()
        }
        # trylast: this extra_context is merged after Datasette's own, so the box shows.
        extra: dict[str, Any] = {"supports_search": True}
        where: list[str] = []
        params: dict[str, Any] = {}
        described: list[str] = []
        columns = set(search.INDEXED_COLUMNS)
        config = datasette.plugin_config("dangjian", database=database, table=table) or {}
        for i, (key, query) in enumerate(sorted(args.items())):
            column = key[len("_search_") :] if key.startswith("_search_") else ""
            if key != "_search" and column not in columns:
                continue
            name = f"dangjian_search_{i}"
            params[name] = query
            matches = search.matching_ids_sql(name, column, search.needs_check(query, column))
            clause, n = await _plan(db, matches, name, query, column, config)
            if key == "_search" and request.args.get("_attachments"):
                # Issue 15: also the articles whose attached files match (an index look-up).
                attached = search.attachment_matches(name, search.needs_check(query))
                clause = f"({clause} or id in ({attached}))"
                query += " (attachments included)"
            where.append(clause)
            many = n > await _many(db, config)
            about = ""
            # Not counted (it would visit every match): estimated from a sample, for the
            # shapes that show a description (not the plain lists of ?_shape=array/object).
            if many and request.args.get("_shape") not in ("array", "object"):
                estimate = await counts.estimate_matches(db, column, params[name])
                about = f": about {counts.rounded(max(estimate, n)):,}, estimated"
            described.append(
                f'{column or "title or text"} contains "{query}"'
                + (f" (more than {n - 1:,} rows{about})" if many else "")
            )
            if key == "_search":
                extra["search"] = request.args[key]
        pairs = [(k, v) for k in request.args for v in request.args.getlist(k)]
        if not args and (filters := counts.scanning_filters(pairs)):
            # Not counted (the count would read rows across the table): an estimate instead.
            estimate = await counts.estimate_filtered(db, filters)
            if estimate is not None:
                described.append(
                    f"about {counts.rounded(estimate):,} rows (estimated from a sample, not counted)"
                )
        return FilterArguments(where, params, described, extra)

    return inner


async def _plan(
    db: Any, matches: str, name: str, query: str, column: str, config: dict[str, Any]
) -> tuple[str, int]:
    """Return the WHERE clause for one search term, chosen by how many rows it matches.

    ``config`` is the plugin configuration; ``search_few_matches`` and
    ``search_many_matches`` override the thresholds (tests use tiny ones).

    Returns:
        The clause and the number of matches, counted up to ``search_many_matches + 1``.
    """
    few = int(config.get("search_few_matches", FEW_MATCHES))
    many = await _many(db, config)
    n = await _count(db, matches, name, query, column, many)
    if n <= few:
        return f"id in ({matches})", n
    if n <= many:
        # The unary + stops SQLite driving the loop from the (large) IN list, so the
        # published index keeps the order and the list is only probed.
        return f"+id in ({matches})", n
    return f"exists ({matches} and f.rowid = articles.id)", n


async def _many(db: Any, config: dict[str, Any]) -> int:
    """Matches above which a search counts as 'many': 1% of the articles, at least 10,000."""
    if "search_many_matches" in config:
        return int(config["search_many_matches"])
    # max(id) is one index step; close enough to the number of articles.
    total = (await db.execute(f"select max(id) from {SEARCH_TABLE}")).first()[0] or 0
    return max(MANY_MATCHES, total // MANY_MATCHES_PER)


async def _capped_count(db: Any, matches: str, params: dict[str, Any], cap: int) -> int:
    return (await db.execute(f"select count(*) from ({matches} limit {cap})", params)).first()[0]


SHORTCUT_CANDIDATES = 20_000
"""Index candidates above which a search that needs the check may skip its exact capped
count: checking candidates one by one until ``many`` pass costs ~25-60 µs each."""
SURELY_MANY = 2
"""... when the sampled estimate (``counts.estimate_matches``) is above this many times
``many``: the search is then planned as 'many' without counting."""


async def _count(db: Any, matches: str, name: str, query: str, column: str, many: int) -> int:
    """The matches of one search, counted up to ``many + 1`` (the plan's question).

    A search whose candidates must be checked against the text and that surely matches
    more than ``many`` articles (many candidates, and a sampled estimate of matches well
    above ``many``) answers ``many + 1`` at once instead of checking ``many`` candidates.
    """
    if search.needs_check(query, column):
        key = ("surely many", column, query, many)
        if await counts.kept(db, key, lambda: _surely_many(db, query, column, many)):
            return many + 1
    return await _capped_count(db, matches, {name: query}, many + 1)


async def _surely_many(db: Any, query: str, column: str, many: int) -> bool:
    """Whether a search needing the check surely matches more than ``many`` articles
    (kept until the data changes: the candidate count is an index read per request)."""
    expression = search.match_expression(query, column)
    cap = SHORTCUT_CANDIDATES + 1
    candidates = (
        await db.execute(
            f"select count(*) from (select rowid from {search.FTS_TABLE} "
            f"where {search.FTS_TABLE} match :e limit {cap})",
            {"e": expression},
        )
    ).first()[0]
    if candidates <= max(SHORTCUT_CANDIDATES, many):
        return False
    return await counts.estimate_matches(db, column, query) > SURELY_MANY * many


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """HTTP caching (``caching``: ETag, Cache-Control, 304) around everything; then skip the
    exact count and default facets of article searches with very many matches."""

    def wrap(app: Any) -> Any:
        async def lean_huge_searches(scope: dict, receive: Any, send: Any) -> None:
            if scope.get("type") == "http":
                database = _articles_page_database(datasette, scope.get("path", ""))
                if database is not None:
                    scope = await _lean_scope(datasette, scope, database)
            await app(scope, receive, send)

        return caching.wrap(lean_huge_searches, datasette, _is_ours)

    return wrap


def _articles_page_database(datasette: Any, path: str) -> str | None:
    """The database of an ``/<database>/articles`` (or ``.json``) path, if it is ours."""
    if not path.rstrip("/").endswith((f"/{SEARCH_TABLE}", f"/{SEARCH_TABLE}.json")):
        return None
    base = datasette.setting("base_url") or "/"
    if not path.startswith(base):
        return None
    parts = path[len(base) :].strip("/").split("/")
    if len(parts) != 2:
        return None
    try:
        database = datasette.get_database(route=tilde_decode(parts[0])).name
    except KeyError:
        return None
    return database if _is_ours(datasette, database) else None


async def _lean_scope(datasette: Any, scope: dict, database: str) -> dict:
    pairs = urllib.parse.parse_qsl(
        scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
    )
    names = {k for k, _ in pairs}
    searches = [
        (k, v)
        for k, v in pairs
        if k == "_search"
        or (k.startswith("_search_") and k[len("_search_") :] in search.INDEXED_COLUMNS)
    ]
    if "_nocount" in names:
        return scope
    if not searches:
        if not counts.scanning_filters(pairs):
            return scope
        # Filters the summaries cannot count: Datasette's count and default facets would read
        # rows across the table; filters_from_request shows an estimate instead.
        extra = [("_nocount", "1")]
        if not any(k.startswith("_facet") for k in names):
            extra.append(("_nofacet", "1"))
        return {**scope, "query_string": urllib.parse.urlencode(pairs + extra).encode("latin-1")}
    db = datasette.get_database(database)
    config = datasette.plugin_config("dangjian", database=database, table=SEARCH_TABLE) or {}
    many = await _many(db, config)
    for key, query in searches:
        column = "" if key == "_search" else key[len("_search_") :]
        matches = search.matching_ids_sql("q", column, search.needs_check(query, column))
        try:
            n = await _count(db, matches, "q", query, column, many)
        except QueryInterrupted:
            # Too slow to count now: leave the page to Datasette, whose own statements run
            # within their time limits (at worst a time-out page, never a server error).
            return scope
        if n > many:
            extra = [("_nocount", "1")]
            if not any(k.startswith("_facet") for k in names):
                extra.append(("_nofacet", "1"))
            query_string = urllib.parse.urlencode(pairs + extra).encode("latin-1")
            return {**scope, "query_string": query_string}
    return scope


def _match(query: str | None) -> str:
    return search.match_expression(query or "")


def _marked(value: str) -> Markup:
    # Escape everything, then give back only the <mark> tags the snippet function added.
    html = str(escape(value)).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
    return Markup(html)


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Markup | None:
    """Show bodies as paragraphs, titles as links to the original, snippets highlighted."""
    if not isinstance(value, str) or not _is_ours(datasette, database):
        return None
    if column in SNIPPET_COLUMNS:
        return _marked(value)
    if table != "articles" and column != "title":
        return None
    if column in PARAGRAPH_COLUMNS and table == "articles":
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in value.splitlines() if p.strip())
        return Markup(f'<div class="dangjian-body">{paragraphs}</div>')
    if column == "title":
        url = _row_value(row, "url")
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return Markup(f'<a href="{escape(url)}" rel="noopener">{escape(value)}</a>')
    return None


def _row_value(row: Any, key: str) -> Any:
    try:
        return row[key]
    except (KeyError, IndexError, TypeError):
        return None


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    # Our plugin is a module, not a package, so Datasette's /-/static-plugins/ cannot find
    # the files beside it; serve them ourselves.
    return [(r"^/-/dangjian/(?P<path>.*)$", asgi_static(STATIC))]


@hookimpl
def extra_css_urls() -> list[str]:
    return [STATIC_URL + "dangjian.css"]


@hookimpl
def extra_js_urls(database: str | None, table: str | None, datasette: Any) -> list[str]:
    # Hides machine-only columns and highlights the ?_search= terms (articles.js).
    if table == SEARCH_TABLE and _is_ours(datasette, database):
        return [STATIC_URL + "articles.js"]
    return []
