"""Exact Chinese full-text search: the one tokeniser, used to index and to query.

SQLite's default FTS5 tokenizer treats a run of Chinese characters as one token, so it cannot
find words inside it. We therefore pre-tokenise text ourselves and store the tokens, separated by
spaces, in an FTS5 table that keeps the default ``unicode61`` tokenizer, so the database opens
with plain ``sqlite3`` and needs no extension:

* a run of Han characters becomes its overlapping bigrams, followed by the run's last character
  as a unigram (``党建工作`` → ``党建 建工 工作 作``);
* any other run of letters or digits is one word (``Xi``, ``2025``); everything else separates.

A query string becomes the *phrase* of its tokens, so it matches exactly where the text contains
it (substring semantics for Chinese). The query drops the trailing unigram of its last run,
because the text may go on after it; a one-character last run becomes a prefix query (``党*``),
which matches the bigrams that start with it and the unigram that ends a run.

Brackets, like all punctuation, separate tokens, so a government document's number reads the
same in every bracket style: ``湘组发〔2023〕5号``, ``湘组发[2023]5号`` and ``湘组发【2023】5号``
are all ``湘组 组发 发 2023 5 号`` in the index and in a query. The index's ``title`` column
also holds the article's document number (:func:`indexed_title`), so a document is found by
its number even when its text does not print it (the number only in the index table).

Query syntax (see ``docs/api.md``): terms separated by spaces are ANDed; ``"..."`` quotes a
phrase (spaces included); ``OR`` between two terms makes them alternatives, binding tighter than
AND; ``-term`` excludes rows containing the term.
"""

from __future__ import annotations

import operator
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

FTS_TABLE = "articles_fts"
"""The search index: rowid = ``articles.id``; columns ``title`` and ``text`` hold tokens."""
INDEXED_COLUMNS = ("title", "text")
ATTACHMENTS_FTS_TABLE = "attachments_fts"
"""The attachments' index: rowid = ``attachments.id``; columns ``name`` and ``text``."""

# Han ideographs: the CJK Unified Ideographs block, extensions A-F and the compatibility block.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef\U00030000-\U0003134f"
_RUN_RE = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<word>(?:(?![{_HAN}])[^\W_])+)")
_QUERY_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def _runs(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup or "", m.group()) for m in _RUN_RE.finditer(text or "")]


def _run_tokens(kind: str, run: str) -> list[str]:
    if kind == "word":
        return [run.lower()]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def tokens(text: str | None) -> list[str]:
    """Return the index tokens of ``text``: Han bigrams plus each run's last character, words.

    Args:
        text: any text; ``None`` gives no tokens.

    Returns:
        The tokens in order; ``" ".join`` of them is what the index stores.
    """
    out: list[str] = []
    for kind, run in _runs(text or ""):
        out.extend(_run_tokens(kind, run))
    return out


def index_text(text: str | None) -> str:
    """Return ``text`` as the space-separated token string stored in the index.

    Equal to ``" ".join(tokens(text))``, written for speed: bulk builds call it for every
    article, and ``map(operator.add, ...)`` pairs a run's characters in C.
    """
    parts: list[str] = []
    for m in _RUN_RE.finditer(text or ""):
        run = m.group()
        if m.lastgroup == "word":
            parts.append(run.lower())
        else:
            parts.extend(map(operator.add, run, run[1:]))
            parts.append(run[-1])
    return " ".join(parts)


def attachment_matches(param: str) -> str:
    """Return SQL for the ids of the articles whose attachments match ``:param``.

    ``param`` names a MATCH expression (:func:`match_expression`); the attachments' index is
    asked first and each match is one primary-key look-up, so the plan stays index-driven.
    """
    fts = ATTACHMENTS_FTS_TABLE
    return (
        f"select article_id from attachments where article_id is not null and id in "
        f"(select rowid from {fts} where {fts} match :{param})"
    )


def indexed_title(title: str | None, doc_number: str | None = None) -> str | None:
    """Return what the index's ``title`` column holds for an article: its title, then its
    document number (文号) when it has one.

    Every writer of the index (one article, a bulk build, a forgotten row) must use it, so
    the tokens given to forget a row are the ones it was indexed with.
    """
    if not doc_number:
        return title
    return f"{title or ''}\n{doc_number}"


def phrase(term: str) -> str | None:
    """Return the FTS5 phrase (or prefix phrase) that matches exactly where ``term`` occurs.

    Args:
        term: one search term or quoted phrase, without its quotes.

    Returns:
        An FTS5 expression such as ``"党建 建工 工作"`` or ``"党"*``, or ``None`` when the term
        has no searchable characters (only punctuation).
    """
    runs = _runs(term)
    if not runs:
        return None
    toks: list[str] = []
    for kind, run in runs[:-1]:
        toks.extend(_run_tokens(kind, run))
    kind, run = runs[-1]
    prefix = False
    if kind == "word":
        toks.append(run.lower())
    elif len(run) == 1:
        toks.append(run)
        prefix = True
    else:
        toks.extend(run[i : i + 2] for i in range(len(run) - 1))
    # Tokens are letters and digits only, so double quotes cannot occur inside them.
    return '"' + " ".join(toks) + '"' + ("*" if prefix else "")


def parse_query(query: str) -> tuple[list[list[str]], list[str]]:
    """Split a user query into AND-ed groups of OR-ed terms, and the excluded terms.

    Args:
        query: what the user typed, e.g. ``党建 主题教育 OR 党史学习教育 -通知``.

    Returns:
        ``(groups, excluded)``: each group is a list of alternative terms (raw strings).
    """
    groups: list[list[str]] = []
    excluded: list[str] = []
    pending_or = False
    for m in _QUERY_RE.finditer(query or ""):
        if m.group(3) is not None:
            word = m.group(3)
            if word == "OR":
                pending_or = bool(groups)
                continue
            negative, term = word.startswith("-") and len(word) > 1, word
            if negative:
                term = word[1:]
        else:
            negative, term = bool(m.group(1)), m.group(2)
        if negative:
            excluded.append(term)
        elif pending_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or = False
    return groups, excluded


def match_expression(query: str) -> str:
    """Translate a user query into an FTS5 MATCH expression for the bigram index.

    Args:
        query: what the user typed (see the module docstring for the syntax).

    Returns:
        The MATCH expression. A query with nothing to search for (empty, punctuation only or
        only ``-terms``) returns an expression that matches no row, never a syntax error.
    """
    groups, excluded = parse_query(query)
    parts: list[str] = []
    for group in groups:
        alternatives = [p for p in (phrase(t) for t in group) if p]
        if alternatives:
            parts.append(
                alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
            )
    if not parts:
        # FTS5 has no "match everything"; a token that is never indexed matches nothing.
        return '"\u3000"'
    expression = " AND ".join(parts)
    negatives = [p for p in (phrase(t) for t in excluded) if p]
    if negatives:
        expression = f"({expression}) NOT ({' OR '.join(negatives)})"
    return expression


def highlight_terms(query: str) -> list[str]:
    """Return the literal strings a query looks for (positive terms), longest first."""
    groups, _ = parse_query(query)
    terms = {t.strip() for group in groups for t in group if _runs(t)}
    return sorted(terms, key=len, reverse=True)


def snippet(text: str | None, query: str, width: int = 60) -> str:
    """Return a window of ``text`` around the first match, matches wrapped in ``<mark>``.

    The text itself is not HTML-escaped here: the plugin escapes it and then restores only
    the ``<mark>`` tags, so no other markup can reach a page.

    Args:
        text: the article title or body.
        query: the user query.
        width: characters shown on each side of the first match.
    """
    text = text or ""
    terms = highlight_terms(query)
    if not terms or not text:
        return text[: 2 * width]
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    first = pattern.search(text)
    start = max(0, first.start() - width) if first else 0
    end = min(len(text), (first.end() if first else 0) + width)
    window = text[start:end].replace("\n", " ")
    marked = pattern.sub(lambda m: f"<mark>{m.group()}</mark>", window)
    return ("…" if start else "") + marked + ("…" if end < len(text) else "")


def index_rows(rows: Iterable[tuple[int, str | None, str | None]]) -> Iterable[tuple]:
    """Turn ``(id, title, text)`` rows into rows for ``INSERT INTO articles_fts``."""
    for rowid, title, text in rows:
        yield rowid, index_text(title), index_text(text)


BULK_HASHSIZE = 256 * 2**20
"""FTS5 ``hashsize`` (bytes of pending tokens held in memory) during a bulk build.

FTS5's default, 1 MiB, holds the bigrams of only a few dozen articles, because nearly every
bigram of an article is a new index entry; a bulk build then writes thousands of tiny segments
and merges them again and again, which cost more than everything else together. At 256 MiB a
segment is written about every 50,000 articles (a 1,000,000-article build peaked at 826 MiB).
"""
BULK_CONFIG = {"hashsize": BULK_HASHSIZE, "automerge": 0, "crisismerge": 64}
"""FTS5 settings during a bulk build: large segments, and no merging until ``optimize``
merges them all once (``crisismerge`` bounds the segments of one level meanwhile)."""
FTS5_DEFAULTS = {"hashsize": 2**20, "automerge": 4, "crisismerge": 16}
"""FTS5's own defaults, restored after a bulk build when the table had no setting of its own,
so ordinary writes (one transaction per page) keep their small memory use and merging."""
BULK_CACHE_KIB = 256 * 1024
"""SQLite page cache during a bulk build, so segment writes and the merge stay in memory."""


@contextmanager
def bulk_mode(conn: sqlite3.Connection) -> Iterator[None]:
    """Within this block, writes to the index use the bulk settings (``BULK_CONFIG``, cache).

    Use it inside one transaction around ``bulk_index`` calls, then ``optimize``: pending
    tokens are kept across calls until the hash is full or the transaction commits. The
    table's own settings are put back afterwards.
    """
    fts = FTS_TABLE
    before = dict(
        conn.execute(
            f"SELECT k, v FROM {fts}_config WHERE k IN ('hashsize', 'automerge', 'crisismerge')"
        ).fetchall()
    )
    cache_size = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    for key, value in BULK_CONFIG.items():
        conn.execute(f"INSERT INTO {fts}({fts}, rank) VALUES (?, ?)", [key, value])
    try:
        yield
    finally:
        for key, default in FTS5_DEFAULTS.items():
            conn.execute(
                f"INSERT INTO {fts}({fts}, rank) VALUES (?, ?)", [key, before.get(key, default)]
            )
        conn.execute(f"PRAGMA cache_size = {cache_size}")


def bulk_index(conn: sqlite3.Connection, rows: Iterable[tuple[int, str | None, str | None]]) -> int:
    """Add many ``(id, title, text)`` rows to the index; return how many.

    Call it inside ``bulk_mode`` and one transaction, then commit and ``optimize``, as
    ``Store.rebuild_search_index`` does. Rows must not be in the index already: a contentless
    table cannot replace a row, only forget it given its old tokens.

    Args:
        conn: a connection to a database with the ``articles_fts`` table.
        rows: ``(id, title, text)`` tuples, best in ``id`` order (FTS5 appends doclists then).
    """
    count = 0

    def counted() -> Iterator[tuple]:
        nonlocal count
        for row in index_rows(rows):
            count += 1
            yield row

    conn.executemany(f"INSERT INTO {FTS_TABLE}(rowid, title, text) VALUES (?, ?, ?)", counted())
    return count


def optimize(conn: sqlite3.Connection) -> None:
    """Merge the index into one segment (after a bulk build; commits first)."""
    conn.commit()
    conn.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
    conn.commit()
