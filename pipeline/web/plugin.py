"""Datasette hooks for the news database (registered as the ``dangjian`` plugin).

Only hookimpls live here; the plugin never writes to the database.

Search: Datasette builds its full-text SQL as ``... match escape_fts(:search)``, with
``escape_fts`` a SQL function registered on every connection. For databases that carry our
bigram index (``articles_fts``) we register our own ``escape_fts``, which turns the user's query
into a phrase of bigrams (``pipeline.store.search.match_expression``), so any MATCH written the
Datasette way gets exact substring semantics.

The articles table page goes one step further (``filters_from_request``): Datasette's stock
clause ``id in (select rowid from articles_fts where ...)`` collects *every* match before it
can show the newest 20, which for a word in most of a million articles takes seconds. We count
matches up to a cap first and pick a plan: few matches drive the query from the index; many
matches let the ``published`` index drive and check each newest row against the index, so
only about ``20 × articles / matches`` rows are looked at. Counting or faceting such a search
would still visit every match, so for more than ``search_many_matches`` matches the page says
"more than N" and skips the exact count and the default facets (``asgi_wrapper``); facets the
user asks for with ``_facet=`` still run, within their time limit.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite
from datasette.utils.asgi import asgi_static
from markupsafe import Markup, escape

from pipeline.store import search

PARAGRAPH_COLUMNS = ("text", "text_original")
SNIPPET_COLUMNS = ("snippet", "title_snippet")
STATIC = Path(__file__).with_name("static")
STATIC_URL = "/-/dangjian/"
SEARCH_TABLE = "articles"
# Plan thresholds (matches found with a capped count): see the module docstring and
# bench/bench_search.py for the figures behind them.
FEW_MATCHES = 2_000
MANY_MATCHES = 10_000  # at least this many ...
MANY_MATCHES_PER = 100  # ... and more than one article in this many


def _has_search_index(conn: sqlite3.Connection) -> bool:
    try:
        return (
            conn.execute(
                "select 1 from sqlite_master where type = 'table' and name = ?", [search.FTS_TABLE]
            ).fetchone()
            is not None
        )
    except sqlite3.Error:
        return False


@hookimpl(trylast=True)
def prepare_connection(conn: sqlite3.Connection, database: str) -> None:
    """Register the search SQL functions on connections to databases with our index.

    ``trylast`` so this runs after Datasette's own ``prepare_connection`` and our
    ``escape_fts`` replaces its stock one (which quotes each word as a phrase of one token).
    """
    if not _has_search_index(conn):
        return
    conn.create_function("escape_fts", 1, _match, deterministic=True)
    conn.create_function("dangjian_match", 1, _match, deterministic=True)
    conn.create_function("dangjian_snippet", 2, _snippet, deterministic=True)


@hookimpl(trylast=True)
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    """Handle ``?_search=`` and ``?_search_<column>=`` on the articles table (see docstring)."""
    if table != SEARCH_TABLE:
        return None

    async def inner() -> FilterArguments | None:
        db = datasette.get_database(database)
        if not await db.table_exists(search.FTS_TABLE):
            return None
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
            column = key[len("_search_") :] if key.startswith("_search_") else None
            if key != "_search" and column not in columns:
                continue
            name = f"dangjian_search_{i}"
            params[name] = search.match_expression(query)
            target = escape_sqlite(column) if column else search.FTS_TABLE
            matches = f"select rowid from {search.FTS_TABLE} where {target} match :{name}"
            clause, n = await _plan(db, matches, name, params[name], config)
            where.append(clause)
            many = n > await _many(db, config)
            described.append(
                f'{column or "title or text"} contains "{query}"'
                + (f" (more than {n - 1:,} rows)" if many else "")
            )
            if key == "_search":
                extra["search"] = query
        return FilterArguments(where, params, described, extra)

    return inner


async def _plan(
    db: Any, matches: str, name: str, expression: str, config: dict[str, Any]
) -> tuple[str, int]:
    """Return the WHERE clause for one search term, chosen by how many rows it matches.

    ``config`` is the plugin configuration; ``search_few_matches`` and
    ``search_many_matches`` override the thresholds (tests use tiny ones).

    Returns:
        The clause and the number of matches, counted up to ``search_many_matches + 1``.
    """
    few = int(config.get("search_few_matches", FEW_MATCHES))
    many = await _many(db, config)
    n = await _capped_count(db, matches, {name: expression}, many + 1)
    if n <= few:
        return f"id in ({matches})", n
    if n <= many:
        # The unary + stops SQLite driving the loop from the (large) IN list, so the
        # published index keeps the order and the list is only probed.
        return f"+id in ({matches})", n
    return f"exists ({matches} and rowid = articles.id)", n


async def _many(db: Any, config: dict[str, Any]) -> int:
    """Matches above which a search counts as 'many': 1% of the articles, at least 10,000."""
    if "search_many_matches" in config:
        return int(config["search_many_matches"])
    # max(id) is one index step; close enough to the number of articles.
    total = (await db.execute(f"select max(id) from {SEARCH_TABLE}")).first()[0] or 0
    return max(MANY_MATCHES, total // MANY_MATCHES_PER)


async def _capped_count(db: Any, matches: str, params: dict[str, Any], cap: int) -> int:
    return (await db.execute(f"select count(*) from ({matches} limit {cap})", params)).first()[0]


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """Skip the exact count and default facets of article searches with very many matches."""

    def wrap(app: Any) -> Any:
        async def lean_huge_searches(scope: dict, receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and scope.get("path", "").startswith(
                "/news/" + SEARCH_TABLE
            ):
                scope = await _lean_scope(datasette, scope)
            await app(scope, receive, send)

        return lean_huge_searches

    return wrap


async def _lean_scope(datasette: Any, scope: dict) -> dict:
    if scope["path"].rstrip("/") not in {f"/news/{SEARCH_TABLE}", f"/news/{SEARCH_TABLE}.json"}:
        return scope
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
    if not searches or "_nocount" in names:
        return scope
    try:
        db = datasette.get_database("news")
    except KeyError:
        return scope
    if not await db.table_exists(search.FTS_TABLE):
        return scope
    config = datasette.plugin_config("dangjian", database="news", table=SEARCH_TABLE) or {}
    many = await _many(db, config)
    for key, query in searches:
        target = search.FTS_TABLE if key == "_search" else key[len("_search_") :]
        matches = f"select rowid from {search.FTS_TABLE} where {target} match :q"
        n = await _capped_count(db, matches, {"q": search.match_expression(query)}, many + 1)
        if n > many:
            extra = [("_nocount", "1")]
            if not any(k.startswith("_facet") for k in names):
                extra.append(("_nofacet", "1"))
            query_string = urllib.parse.urlencode(pairs + extra).encode("latin-1")
            return {**scope, "query_string": query_string}
    return scope


def _match(query: str | None) -> str:
    return search.match_expression(query or "")


def _snippet(text: str | None, query: str | None) -> str:
    return search.snippet(text, query or "")


def _marked(value: str) -> Markup:
    # Escape everything, then give back only the <mark> tags the snippet function added.
    html = str(escape(value)).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
    return Markup(html)


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str
) -> Markup | None:
    """Show bodies as paragraphs, titles as links to the original, snippets highlighted."""
    if database != "news" or not isinstance(value, str):
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
def extra_js_urls(database: str | None, table: str | None) -> list[str]:
    # Hides machine-only columns and highlights the ?_search= terms (articles.js).
    if database == "news" and table == "articles":
        return [STATIC_URL + "articles.js"]
    return []
