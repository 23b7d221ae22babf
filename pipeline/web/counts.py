"""Counts and facets from the summaries, so no page scans the articles table (issue 14).

Datasette 0.65 has no hook for how a table page counts its rows or computes its facets: it
runs ``select count(*) from articles where ...`` and, per facet, ``select col as value,
count(*) as count from (select ... from articles where ...) group by col ...``. At a million
articles of realistic length each of those reads the whole table (columns added by later
migrations sit after the body text, so reading ``province`` walks every row's overflow
pages). So, for the databases the plugin recognises, :func:`install` wraps the database's
``execute``: a statement of exactly those shapes, on a table and filters the summaries cover,
is answered from them instead (``pipeline.store.summaries``), and everything else runs as
Datasette wrote it. ``?_trace=1`` shows the statements that actually ran.

What is answered, and how (always the same rows Datasette's statement would return):

* the articles table filtered only by ``column=value`` on ``summaries.CUBE_COLUMNS``
  (month, year, site, level, province, city, reprint): count and facets on those columns
  from ``article_counts``;
* the same with ``?_search=`` (the plugin's own search clauses): count from the search index,
  facets from the covering index ``idx_articles_facets`` (one index probe per match);
* any counted table without filters: its count from ``_counts``; the ``article_terms``
  ``term`` facet without filters from ``term_counts``;
* the database page's table counts (``Database.table_counts``): from ``_counts``; full-text
  indexes and their shadow tables (``articles_fts*``, ``attachments_fts*``), which Datasette
  would count by reading the whole index, are shown as "Many rows"; other tables (small
  bookkeeping ones, or newer than this code) are counted as Datasette does.

Facets of the second and later pages (``_next``) are computed over the whole filtered table,
like the first page's, not over the rows after the cursor.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from array import array
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from datasette.database import QueryInterrupted
from datasette.filters import Filters
from datasette.utils import sqlite_timelimit

from pipeline.store import search, summaries
from pipeline.web.caching import Version

ARTICLES = "articles"
TERMS = "article_terms"
_FACET_RE = re.compile(
    r"^\s*select (?P<col>\S+) as value, count\(\*\) as count from \(\s*"
    r"select .+? from (?P<table>\S+) (?:where (?P<where>.*?))?\s*\)\s*"
    r"where (?P=col) is not null\s*group by (?P=col) order by count desc, value "
    r"limit (?P<limit>\d+)\s*$",
    re.S,
)
_COUNT_RE = re.compile(
    r"^select count\(\*\) from (?P<table>\S+) (?:where (?P<where>.*?))?\s*$", re.S
)
_EQ_RE = re.compile(r'^(?:"(?P<q>[a-z_]+)"|\[(?P<b>[a-z_]+)\]|(?P<p>[a-z_]+)) = :(?P<param>p\d+)$')
# The plugin's search clauses (plugin._plan): the ids one query finds
# (search.matching_ids_sql, with or without the check), in one of three forms.
_FTS = search.FTS_TABLE
_MATCHES = (
    rf"select f\.rowid from {_FTS} f (?:cross join articles v on v\.id = f\.rowid )?"
    rf"where f\.{_FTS} match dangjian_match\(:(?P<param>\w+), '(?P<column>\w*)'\)"
    r"(?: and dangjian_found\(:(?P=param), '(?P=column)', v\.title, v\.doc_number, v\.text\))?"
)
_SEARCH_RES = (
    re.compile(rf"^\+?id in \({_MATCHES}\)$"),
    re.compile(rf"^exists \({_MATCHES} and f\.rowid = articles\.id\)$"),
)
_IN_RE = re.compile(rf"(?<![\w.])id in \({_MATCHES}\)")
# The plugin's capped count of one search (plugin._capped_count).
_CAPPED_RE = re.compile(rf"^select count\(\*\) from \({_MATCHES} limit (?P<cap>\d+)\)$")
# Keyset paging (_next) clauses Datasette adds to the facet statements of later pages.
_CURSOR_RE = re.compile(
    r"^\((?:\S+ [<>] :p\d+(?: or \S+ is null)? or \(\S+ = :p\d+ and "
    r"|\S+ is null and |\S+ is not null or \(\S+ is null and |\(\S+ > :p\d+\)\)$)",
    re.S,
)


def split_and(where: str) -> list[str]:
    """Split a WHERE clause on its top-level ``and`` (not inside parentheses or strings)."""
    atoms, depth, start, i, quote = [], 0, 0, 0, ""
    while i < len(where):
        c = where[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"[":
            quote = "]" if c == "[" else c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and where.startswith(" and ", i):
            atoms.append(where[start:i].strip())
            start = i + 5
            i += 4
        i += 1
    atoms.append(where[start:].strip())
    return [a for a in atoms if a]


class Where:
    """A WHERE clause understood as equality filters plus the plugin's search clauses."""

    def __init__(self) -> None:
        self.equal: list[tuple[str, Any]] = []
        self.matches: list[tuple[str, Any]] = []  # (column, query) of each search


def parse_where(
    where: str | None, params: Mapping[str, Any], cursor_ok: bool = False
) -> Where | None:
    """The filters of ``where``, or None when it holds anything else."""
    parsed = Where()
    for atom in split_and(where or ""):
        if m := _EQ_RE.match(atom):
            column = m["q"] or m["b"] or m["p"]
            if column not in summaries.CUBE_COLUMNS or m["param"] not in params:
                return None
            parsed.equal.append((column, params[m["param"]]))
            continue
        for regex in _SEARCH_RES:
            if m := regex.match(atom):
                if m["param"] not in params:
                    return None
                parsed.matches.append((m["column"], params[m["param"]]))
                break
        else:
            if cursor_ok and _CURSOR_RE.match(atom):
                continue
            return None
    return parsed


def _in_matches(parsed: Where) -> list[str]:
    ids = [
        f"id in (select value from json_each(:dangjian_ids_{i}))"
        for i in range(len(parsed.matches))
    ]
    return ids + [f"{c} = ?" for c, _ in parsed.equal]


def rewrite(sql: str, params: Any) -> tuple[str, Any, list[tuple[str, Any]]] | None:
    """The statement answering Datasette's ``sql`` from the summaries, or None to run ``sql``.

    Args:
        sql: a statement Datasette is about to run.
        params: its parameters (a dict for table pages).

    Returns:
        ``(sql, params, searches)``; the caller adds a ``dangjian_ids_<i>`` parameter (a JSON
        list of the ids matching ``searches[i]``) for each search.
    """
    if not params:
        params = {}  # Datasette's facets pass an empty list for "no parameters"
    elif not isinstance(params, Mapping):
        return None
    if m := _CAPPED_RE.match(sql):
        if m["param"] not in params:
            return None
        cap = int(m["cap"])
        return (
            f"select min(:dangjian_count_0, {cap})",
            {},
            [(m["column"], params[m["param"]], cap)],
        )
    if _COUNT_RE.match(sql) is None and _FACET_RE.match(sql) is None and _IN_RE.search(sql):
        # Any other statement (the rows of the page): its IN-list searches read the kept ids.
        searches: list[tuple[str, Any, None]] = []

        def kept(m: re.Match) -> str:
            if m["param"] not in params:
                return m.group(0)
            searches.append((m["column"], params[m["param"]], None))
            return f"id in (select value from json_each(:dangjian_ids_{len(searches) - 1}))"

        new_sql = _IN_RE.sub(kept, sql)
        return (new_sql, dict(params), searches) if searches else None
    if m := _COUNT_RE.match(sql):
        table, where = m["table"], m["where"]
        if not where:
            if table not in summaries.COUNTED_TABLES:
                return None
            return 'select count from _counts where "table" = :table', {"table": table}, []
        if table != ARTICLES or not (parsed := parse_where(where, params)):
            return None
        if not parsed.matches:
            return (*summaries.count_sql(parsed.equal), [])
        if len(parsed.matches) == 1 and not parsed.equal:
            return "select :dangjian_count_0", {}, _complete(parsed)
        return _named(
            f"select count(*) from {ARTICLES} indexed by {summaries.FACETS_INDEX} where "
            + " and ".join(_in_matches(parsed)),
            params,
            parsed,
        )
    if m := _FACET_RE.match(sql):
        table, column, where, limit = m["table"], m["col"].strip('[]"'), m["where"], m["limit"]
        if table == TERMS and not where and column == "term":
            return (
                "select term as value, sum(articles) as count from term_counts "
                f"group by term order by count desc, value limit {int(limit)}",
                {},
                [],
            )
        if table != ARTICLES or column not in summaries.CUBE_COLUMNS:
            return None
        if not (parsed := parse_where(where, params, cursor_ok=True)):
            return None
        if not parsed.matches:
            return (*summaries.facet_sql(column, parsed.equal, int(limit)), [])
        return _named(
            f"select {column} as value, count(*) as count from {ARTICLES} indexed by "
            f"{summaries.FACETS_INDEX} where "
            + " and ".join([*_in_matches(parsed), f"{column} is not null"])
            + f" group by {column} order by count desc, value limit {int(limit)}",
            params,
            parsed,
        )
    return None


def _complete(parsed: Where) -> list[tuple[str, Any, None]]:
    return [(column, query, None) for column, query in parsed.matches]


def _named(
    sql: str, params: Mapping[str, Any], parsed: Where
) -> tuple[str, dict[str, Any], list[tuple[str, Any, None]]]:
    """Turn the ``?`` of the equality filters into named parameters beside the search ones."""
    named: dict[str, Any] = {}
    for i, (_, value) in enumerate(parsed.equal):
        named[f"dangjian_eq_{i}"] = value
        sql = sql.replace("?", f":dangjian_eq_{i}", 1)
    return sql, named, _complete(parsed)


def _full_text_tables(conn: sqlite3.Connection) -> set[str]:
    """FTS5 tables and their shadow tables (``<name>_data``, ``_idx``, ``_docsize`` ...)."""
    names = {
        row[0]
        for row in conn.execute(
            "select name from sqlite_master where type = 'table' "
            "and sql like 'CREATE VIRTUAL TABLE%USING fts5%'"
        )
    }
    return {
        row[0]
        for row in conn.execute("select name from sqlite_master where type = 'table'")
        if row[0] in names or any(row[0].startswith(n + "_") for n in names)
    }


COMPLETE_CAP = 100_000
"""Matches a search may have for its count and facets to be answered from its kept ids."""
KEPT_IDS_TIME_LIMIT_MS = 60_000
"""Time limit for finding a search's checked ids (the page's own statements keep theirs).
Checking reads each candidate (~25-60 µs; ~1.5 s for 40,000 candidates at a million
articles, alone); under load a process shares its core with many requests, and the ids,
once found, serve this search's every request until the data changes."""
KEPT_IDS = 4_000_000
"""Ids kept (8 bytes each) over all recent searches of a database, per process."""


class Matches:
    """The ids matching recent searches of one database, until its data changes.

    A search page asks the index the same question up to eight times (the plan's capped
    counts, the rows, the count, each facet); with the ids kept, the index answers once.
    """

    def __init__(self, db: Any) -> None:
        self.db = db
        self.version = Version(db.path) if db.path and not db.is_memory else None
        self.entries: OrderedDict[tuple, tuple[array, bool, list[str]]] = OrderedDict()
        self.size = 0
        self.seen: Any = None
        self.asking: dict[tuple, asyncio.Future] = {}
        self.lane = Lane(db)

    async def ids(self, column: str, query: Any, cap: int | None) -> tuple[array, bool, list[str]]:
        """The matching ids (at most ``cap``, or ``COMPLETE_CAP + 1``), whether that is all,
        and a slot for their JSON text."""
        version = self.version.current() if self.version else None
        if version != self.seen:
            self.entries.clear()
            self.size, self.seen = 0, version
        key = (column, query)
        # Another request is asking the index this: wait for it. A loop, because a third
        # request may start asking between that answer and this one waking up.
        while key in self.asking:
            await asyncio.shield(self.asking[key])
        kept = self.entries.get(key) if version is not None else None
        if kept is not None and (kept[1] or (cap is not None and len(kept[0]) >= cap)):
            self.entries.move_to_end(key)
            return kept
        limit = cap if cap is not None else COMPLETE_CAP + 1
        asking = self.asking[key] = asyncio.get_running_loop().create_future()
        try:
            sql = search.matching_ids_sql("q", column, search.needs_check(query, column))
            rows = await self.lane.run(_fetch_ids(f"{sql} limit {limit}", {"q": query}))
        finally:
            if self.asking.get(key) is asking:
                del self.asking[key]
            asking.set_result(None)
        ids = array("q", (row[0] for row in rows))
        entry = (ids, len(ids) < limit, [])
        if version is not None:
            self.entries[key] = entry
            self.size += len(ids)
            while self.size > KEPT_IDS and self.entries:
                _, (old, _, _) = self.entries.popitem(last=False)
                self.size -= len(old)
        return entry


class Lane:
    """A thread of its own, with its own read-only connection, for statements of seconds.

    ``datasette.yaml`` sets ``num_sql_threads: 0``: a page's statements run on the event
    loop, one request after another, instead of each statement queueing again behind every
    other request's in a thread pool (a table page runs ~40 statements, so under load it
    waited ~40 times). Finding a search's checked ids can take seconds at a million
    articles; run on the loop it would stop the whole process, so it runs here, and the
    loop keeps serving the other requests meanwhile (the check's Python function shares
    the GIL, so they go slower, not stop). One thread: the ids are kept and shared, so
    two such searches at once take turns.
    """

    def __init__(self, db: Any) -> None:
        self.db = db
        self.executor: ThreadPoolExecutor | None = None
        self.conn: sqlite3.Connection | None = None

    async def run(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """``fn(connection)`` in the lane's thread (or Datasette's way, for a private
        in-memory database, which another connection would not see)."""
        if self.db.is_memory and not self.db.memory_name:
            return await self.db.execute_fn(fn)
        if self.executor is None:
            self.executor = ThreadPoolExecutor(1, thread_name_prefix="dangjian-ids")

        def in_thread() -> Any:
            if self.conn is None:
                self.conn = self.db.connect()
                search.register_functions(self.conn)
            return fn(self.conn)

        return await asyncio.get_running_loop().run_in_executor(self.executor, in_thread)


def _fetch_ids(sql: str, params: dict[str, Any]) -> Callable[[sqlite3.Connection], list]:
    """A function for ``db.execute_fn`` that runs ``sql`` within ``KEPT_IDS_TIME_LIMIT_MS``.

    Datasette's ``execute`` can only lower its ``sql_time_limit_ms``; the ids a search needs
    checked serve every request for it until the data changes (and the requests waiting
    for them now), so interrupting that work at the page's limit would only repeat it.
    """

    def fetch(conn: sqlite3.Connection) -> list:
        with sqlite_timelimit(conn, KEPT_IDS_TIME_LIMIT_MS):
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if exc.args == ("interrupted",):
                    raise QueryInterrupted(exc, sql, params) from exc
                raise

    return fetch


def install(db: Any) -> None:
    """Answer ``db``'s table counts and facets from the summaries (once per Database)."""
    if getattr(db.execute, "dangjian_counts", False):
        return
    original = db.execute
    matches = Matches(db)

    async def execute(sql: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        rewritten = rewrite(sql, params) if isinstance(sql, str) else None
        if rewritten is not None:
            new_sql, new_params, searches = rewritten
            for i, (column, query, cap) in enumerate(searches):
                ids, complete, text = await matches.ids(column, query, cap)
                if cap is None and not complete:
                    break  # too many to answer from kept ids: run Datasette's statement
                if not text:
                    text.append(json.dumps(ids.tolist()))
                new_params[f"dangjian_ids_{i}"] = text[0]
                new_params[f"dangjian_count_{i}"] = len(ids)
            else:
                sql, params = new_sql, new_params
        return await original(sql, params, *args, **kwargs)

    async def table_counts(limit: int = 10) -> dict[str, int | None]:
        cached = await db.execute_fn(summaries.table_counts)
        indexes = await db.execute_fn(_full_text_tables)
        counts: dict[str, int | None] = {}
        for table in await db.table_names():
            if table in cached:
                counts[table] = cached[table]
            elif table in indexes:
                counts[table] = None  # counting an index would read all of it
            else:  # our small bookkeeping tables, and tables newer than this code
                try:
                    result = await original(
                        f"select count(*) from [{table}]", custom_time_limit=limit
                    )
                    counts[table] = result.rows[0][0]
                except (QueryInterrupted, sqlite3.DatabaseError):
                    counts[table] = None
        return counts

    execute.dangjian_counts = True  # type: ignore[attr-defined]
    db.execute = execute
    db.table_counts = table_counts


ESTIMATE_WINDOWS = 10
ESTIMATE_SHARE = 50
"""A search's estimate counts its candidates in 10 windows of ids spread over the table,
together one id in 50 (2%), and scales up: bounded work, and a word's use over the years is
sampled."""
ESTIMATE_CHECKS = 400
"""Candidates of the sample checked against the text, when the query needs the check: the
share that passes scales the estimate (a few per cent of error, for a bounded cost)."""


_KEPT: OrderedDict[tuple, Any] = OrderedDict()
_VERSIONS: dict[str, Version] = {}


async def kept(db: Any, key: tuple, compute: Callable[[], Awaitable[Any]]) -> Any:
    """``await compute()`` for ``key`` on ``db``, kept (1,024 answers) until its data changes.

    For answers that cost a statement or more and that every request would otherwise ask
    again: a search's estimate, its plan's count.
    """
    if not db.path or db.is_memory:
        return await compute()
    version = _VERSIONS.setdefault(db.path, Version(db.path)).current()
    full_key = (db.path, version, *key)
    if full_key in _KEPT:
        _KEPT.move_to_end(full_key)
        return _KEPT[full_key]
    answer = await compute()
    _KEPT[full_key] = answer
    while len(_KEPT) > 1024:
        _KEPT.popitem(last=False)
    return answer


async def estimate_matches(db: Any, column: str, query: str) -> int:
    """Estimate how many articles ``query`` finds (in ``column``) from a 2% sample of ids.

    FTS5 reads only the parts of each doclist inside an id window, so the cost is about 2%
    of an exact count; the estimate is kept until the data changes.
    """
    return await kept(db, ("estimate", column, query), lambda: _estimate_matches(db, column, query))


async def _estimate_matches(db: Any, column: str, query: str) -> int:
    lo, hi = (await db.execute(f"select min(id), max(id) from {ARTICLES}")).first()
    if lo is None:
        return 0
    span = hi - lo + 1
    width = max(1, span // (ESTIMATE_SHARE * ESTIMATE_WINDOWS))
    windows = [lo + (span * i) // ESTIMATE_WINDOWS for i in range(ESTIMATE_WINDOWS)]
    sql = " union all ".join(
        f"select * from (select rowid from {_FTS} where {_FTS} match :e "
        f"and rowid between {start} and {start + width - 1})"
        for start in windows
    )
    expression = search.match_expression(query, column)
    ids = [row[0] for row in (await db.execute(sql, {"e": expression})).rows]
    sampled = float(len(ids))
    if ids and search.needs_check(query, column):
        picked = ids[:: max(1, len(ids) // ESTIMATE_CHECKS)][:ESTIMATE_CHECKS]
        passed = (
            await db.execute(
                f"select count(*) from {ARTICLES} where id in (select value from json_each(:ids))"
                " and dangjian_found(:q, :c, title, doc_number, text)",
                {"ids": json.dumps(picked), "q": query, "c": column},
            )
        ).first()[0]
        sampled *= passed / len(picked)
    return round(sampled * span / (width * len(windows)))


def rounded(n: int) -> int:
    """``n`` to two significant figures (612,345 -> 610,000): what an estimate can promise."""
    if n < 100:
        return n
    scale = 10 ** (len(str(n)) - 2)
    return round(n / scale) * scale


FILTER_SAMPLE = 500
"""Rows read per id window (ten windows) to estimate how many rows other filters keep."""


def scanning_filters(pairs: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """The row filters of an articles request that the summaries cannot count, if any.

    ``column=value`` (or ``column__exact=``) on ``summaries.CUBE_COLUMNS`` is counted from
    ``article_counts``; any other filter (``?source=…``, ``?title__contains=…``, ``_where=``)
    would make Datasette's count and default facets read rows across the whole table.
    """
    filters = [(k, v) for k, v in pairs if not k.startswith("_") or "__" in k]
    if any(k in ("_where", "_through") for k, _ in pairs):
        return filters or [(k, v) for k, v in pairs if k in ("_where", "_through")]
    for key, _ in filters:
        column, _, lookup = key.partition("__")
        if column not in summaries.CUBE_COLUMNS or lookup not in ("", "exact"):
            return filters
    return None


async def estimate_filtered(db: Any, filters: list[tuple[str, str]]) -> int | None:
    """Estimate the articles ``filters`` keep from ten windows of ids (at most 5,000 rows read).

    Returns None when the filters cannot be put into SQL here (``_where=``: its own query).
    """
    where, params = Filters(
        sorted(f for f in filters if not f[0].startswith("_"))
    ).build_where_clauses(ARTICLES)
    if not where or any(k.startswith("_") for k, _ in filters):
        return None
    lo, hi = (await db.execute(f"select min(id), max(id) from {ARTICLES}")).first()
    if lo is None:
        return 0
    span = hi - lo + 1
    width = max(1, min(FILTER_SAMPLE, span // ESTIMATE_WINDOWS))
    starts = [lo + (span * i) // ESTIMATE_WINDOWS for i in range(ESTIMATE_WINDOWS)]
    sql = " union all ".join(
        f"select count(*) as n from {ARTICLES} where id between {start} and {start + width - 1}"
        f" and {' and '.join(where)}"
        for start in starts
    )
    try:
        sampled = (await db.execute(f"select sum(n) from ({sql})", params)).first()[0]
    except (QueryInterrupted, sqlite3.DatabaseError):
        return None
    return round((sampled or 0) * span / (width * len(starts)))
