"""Exact Chinese full-text search: the one tokeniser, used to index, to query and to check.

SQLite's default FTS5 tokenizer treats a run of Chinese characters as one token, so it cannot
find words inside it. We therefore pre-tokenise text ourselves and store the tokens, separated by
spaces, in FTS5 tables with the built-in ``ascii`` tokenizer, so the database opens with plain
``sqlite3`` and needs no extension. The index (issue 14) is a *candidate filter*:

* a text's tokens are the bigrams of each run of Han characters, every Han character it
  contains (once), each other run of letters or digits as one word (``Xi``, ``2025``), and
  for each two runs that follow each other, the first's last character joined to the
  second's first (``安全，党建`` → ``全·党``); everything else separates.
  ``党建工作`` → ``党建 建工 工作 党 建 工 作``;
* the index stores which articles hold which token and nothing more (``detail=none``): no
  positions, so it is about a third of the size of the text and fast to build;
* an article's title tokens are indexed twice, the second time marked (``§党建``), so a
  search of titles alone (``?_search_title=``) is answered by the index too.

A query term is *exact in the index* when it is one token: one or two Han characters or one
word. Then "the article holds the token" means "the article contains the term". A longer
term (``主题教育``: bigrams ``主题 题教 教育``) finds the articles holding all of its tokens, and
:func:`found` checks each of them against the text itself. Together that is substring
semantics for Chinese: a search matches exactly where the text contains what was typed.

Brackets, like all punctuation, separate runs, so a government document's number reads the
same in every bracket style: ``湘组发〔2023〕5号``, ``湘组发[2023]5号`` and ``湘组发【2023】5号``
are all the runs ``湘组发 2023 5 号``, in the index and in the check. The index's ``title``
column also holds the article's document number (:func:`indexed_title`), so a document is found
by its number even when its text does not print it.

Query syntax (see ``docs/api.md``): terms separated by spaces are ANDed; ``"..."`` quotes a
phrase (spaces included); ``OR`` between two terms makes them alternatives, binding tighter than
AND; ``-term`` excludes rows containing the term.

SQL: :func:`register_functions` adds ``dangjian_match(q, column)`` (the candidate expression),
``dangjian_found(q, column, title, doc_number, text)`` (the check), ``dangjian_relevance`` and
``dangjian_snippet`` to a connection; :func:`matching_ids_sql` is the one statement of "the ids
of the articles a query finds" that the web layer and the canned queries use.
"""

from __future__ import annotations

import operator
import re
import sqlite3
from collections.abc import Callable, Iterable
from functools import lru_cache

from pipeline.store import index_tokens

FTS_TABLE = "articles_fts"
"""The search index: rowid = ``articles.id``; columns ``title`` and ``text`` hold tokens."""
INDEXED_COLUMNS = ("title", "text")
ATTACHMENTS_FTS_TABLE = "attachments_fts"
"""The attachments' index: rowid = ``attachments.id``; columns ``name`` and ``text``."""
TITLE_MARK = "§"
"""Prefix of the title's second set of tokens. Never part of a token (it is punctuation), and
a token character to the ``ascii`` tokenizer (every non-ASCII character is)."""
JOIN = "·"
"""Joins the last character of a run and the first of the next into one token (``全·党``
for ``国家安全，党建``), so a term of several runs finds only the articles where two of its
runs follow each other. Punctuation (never in a token), a token character to ``ascii``."""
NOTHING = '"\u3000"'
"""A MATCH expression that matches no row: FTS5 has no "match everything", and an ideographic
space is never a token."""

_WORD_CHAR = index_tokens.WORD_CHAR
_RUN_RE = index_tokens.RUN_RE
_QUERY_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def _runs(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup or "", m.group()) for m in _RUN_RE.finditer(text or "")]


def index_text(text: str | None) -> str:
    """Return ``text`` as the space-separated token string stored in the index.

    Han bigrams, words (lower-cased), the joins of runs that follow each other, and each Han
    character the text contains, once, in no particular order (the index keeps no
    positions). Bulk builds call it for every article, so it works on arrays of code points
    (:mod:`pipeline.store.index_tokens`); :func:`_sequence_tokens` gives the same tokens for
    a query term.
    """
    if not text:
        return ""
    return index_tokens.index_text(text, JOIN)


def _sequence_tokens(runs: Iterable[tuple[str, str]], single_characters: bool) -> list[str]:
    """The tokens of a sequence of runs: each word (lower-cased), each Han run's bigrams
    (a one-character run: the character, if ``single_characters``), and the join of each
    run to the next. For a query term, and for the text (:func:`index_text`, which adds
    every character itself)."""
    parts: list[str] = []
    last = ""
    for kind, run in runs:
        if kind == "word":
            run = run.lower()
            parts.append(run)
        elif len(run) > 1:
            parts.extend(map(operator.add, run, run[1:]))
        elif single_characters:
            parts.append(run)
        if last:
            parts.append(last + JOIN + run[0])
        last = run[-1]
    return parts


def tokens(text: str | None) -> list[str]:
    """Return the index tokens of ``text`` (``index_text`` as a list); ``None`` gives none."""
    return index_text(text).split()


def title_index_text(title: str | None) -> str:
    """Return what the index's ``title`` column holds: the tokens, then each marked."""
    plain = index_text(title)
    if not plain:
        return ""
    return plain + " " + " ".join(TITLE_MARK + t for t in plain.split(" "))


def indexed_title(title: str | None, doc_number: str | None = None) -> str | None:
    """Return the text the index's ``title`` column covers: the title, then the document
    number (文号) when there is one.

    Every writer of the index (one article, a bulk build, a forgotten row) and the check
    (:func:`found`) use it, so the tokens given to forget a row are the ones it was indexed
    with, and the check reads what the index read.
    """
    if not doc_number:
        return title
    return f"{title or ''}\n{doc_number}"


def article_tokens(title: str | None, doc_number: str | None, text: str | None) -> tuple[str, str]:
    """The index's ``(title, text)`` columns for an article: what every writer inserts, and
    what a contentless table must be given again to forget the article."""
    return title_index_text(indexed_title(title, doc_number)), index_text(text)


def index_rows(rows: Iterable[tuple[int, str | None, str | None]]) -> Iterable[tuple]:
    """Turn ``(id, title, text)`` rows (articles without a document number) into rows for
    ``INSERT INTO articles_fts``."""
    for rowid, title, text in rows:
        yield rowid, *article_tokens(title, None, text)


# -- queries ----------------------------------------------------------------------------------


def parse_query(query: str) -> tuple[list[list[str]], list[str]]:
    """Split a user query into AND-ed groups of OR-ed terms, and the excluded terms.

    Args:
        query: what the user typed, e.g. ``党建 主题教育 OR 党史学习教育 -通知``.

    Returns:
        ``(groups, excluded)``: each group is a list of alternative terms (raw strings).
        Terms with nothing searchable in them (only punctuation) are left out.
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
        if not _runs(term):
            pending_or = False
            continue
        if negative:
            excluded.append(term)
        elif pending_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or = False
    return groups, excluded


def term_tokens(term: str, column: str = "") -> list[str]:
    """Return the tokens an article must hold to contain ``term`` (marked for ``title``)."""
    toks = list(dict.fromkeys(_sequence_tokens(_runs(term), single_characters=True)))
    return [TITLE_MARK + t for t in toks] if column == "title" else toks


def is_exact(term: str) -> bool:
    """True when holding ``term``'s one token means containing it: one word, or one or two
    Han characters. Longer terms need :func:`found` to check the text."""
    runs = _runs(term)
    return len(runs) == 1 and (runs[0][0] == "word" or len(runs[0][1]) <= 2)


def _all_of(toks: list[str]) -> str:
    # Tokens are letters and digits (and the title mark): double quotes never occur in them.
    quoted = [f'"{t}"' for t in toks]
    return quoted[0] if len(quoted) == 1 else "(" + " AND ".join(quoted) + ")"


def match_expression(query: str, column: str = "") -> str:
    """Translate a user query into the FTS5 MATCH expression of its candidate articles.

    Args:
        query: what the user typed (see the module docstring for the syntax).
        column: ``""`` for title or text, ``"title"`` or ``"text"`` for one of them.

    Returns:
        An expression matching every article that holds each term's tokens: exactly the
        answer when :func:`needs_check` is false, a superset to check otherwise. An excluded
        term is left to the check unless it is exact. A query with nothing to search for
        (empty, punctuation only or only ``-terms``) gives ``NOTHING``, never a syntax error.
    """
    groups, excluded = parse_query(query)
    index_column = "title" if column == "title" else ""
    parts: list[str] = []
    for group in groups:
        alternatives = [_all_of(term_tokens(t, index_column)) for t in group]
        parts.append(
            alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
        )
    if not parts:
        return NOTHING
    expression = " AND ".join(parts)
    if column != "text":
        negatives = [_all_of(term_tokens(t, index_column)) for t in excluded if is_exact(t)]
        if negatives:
            expression = f"({expression}) NOT ({' OR '.join(negatives)})"
    return expression


def needs_check(query: str, column: str = "") -> bool:
    """True when the index's candidates for ``query`` must be checked against the text.

    Always for ``column="text"`` (the index holds the title's tokens in the same row).
    """
    groups, excluded = parse_query(query)
    if not groups:
        return False
    if column == "text":
        return True
    return not all(is_exact(t) for t in [*excluded, *(t for g in groups for t in g)])


# -- the check --------------------------------------------------------------------------------

Finder = Callable[[str], int]
"""Counts a term's occurrences in a text (0: the text does not contain it)."""


def _finder(term: str) -> Finder:
    """Return a function counting where ``text`` contains ``term`` as the index reads it.

    One Han run is a plain substring. Otherwise the runs must follow each other with only
    separators between them (at least one between two runs of a kind), a word run must be
    whole, and the first and last Han runs may be the end and the start of longer runs
    (what a phrase of bigrams matched before issue 14).
    """
    runs = _runs(term)
    if len(runs) == 1 and runs[0][0] == "han":
        run = runs[0][1]
        return lambda text: text.count(run)
    pattern = []
    if runs[0][0] == "word":
        pattern.append(f"(?<!{_WORD_CHAR})")
    for i, (kind, run) in enumerate(runs):
        if i:
            pattern.append(r"[\W_]+" if kind == runs[i - 1][0] else r"[\W_]*")
        pattern.append(re.escape(run))
    if runs[-1][0] == "word":
        pattern.append(f"(?!{_WORD_CHAR})")
    regex = re.compile("".join(pattern), re.IGNORECASE)
    return lambda text: sum(1 for _ in regex.finditer(text))


@lru_cache(maxsize=256)
def _compiled(query: str) -> tuple[list[list[Finder]], list[Finder]]:
    groups, excluded = parse_query(query)
    return [[_finder(t) for t in g] for g in groups], [_finder(t) for t in excluded]


def found(
    query: str | None,
    column: str,
    title: str | None,
    doc_number: str | None,
    text: str | None,
) -> bool:
    """Whether an article matches ``query``: each group has a term its text contains, and
    no excluded term occurs.

    Args:
        query: what the user typed.
        column: ``""`` (title, document number or text), ``"title"`` (title or number) or
            ``"text"``.
        title, doc_number, text: the article's columns (an attachment: name, None, text).
    """
    groups, excluded = _compiled(query or "")
    if not groups:
        return False
    fields = [
        f
        for f in (
            indexed_title(title, doc_number) if column != "text" else None,
            text if column != "title" else None,
        )
        if f
    ]

    def contains(find: Finder) -> bool:
        return any(find(f) for f in fields)

    return all(any(contains(f) for f in group) for group in groups) and not any(
        contains(f) for f in excluded
    )


TITLE_WEIGHT = 5.0
"""A term in the title counts as much as five in the body (as ``bm25(articles_fts, 5, 1)`` did)."""
K1, B, MEAN_LENGTH = 1.2, 0.75, 2300


def relevance(query: str | None, title: str | None, text: str | None) -> float:
    """Score an article for ``query``: BM25's term-frequency part, without term rarity.

    Each positive term adds ``tf·(k1+1) / (tf + k1·(1-b+b·len/mean))`` for the title
    (weighted ``TITLE_WEIGHT``) and the body, with occurrences counted in the text itself
    (the index keeps no counts). Higher is better.
    """
    groups, _ = _compiled(query or "")
    score = 0.0
    for field, weight in ((title or "", TITLE_WEIGHT), (text or "", 1.0)):
        norm = K1 * (1 - B + B * len(field) / MEAN_LENGTH)
        for group in groups:
            for find in group:
                tf = find(field) if field else 0
                score += weight * tf * (K1 + 1) / (tf + norm) if tf else 0.0
    return score


def highlight_terms(query: str) -> list[str]:
    """Return the literal strings a query looks for (positive terms), longest first."""
    groups, _ = parse_query(query)
    terms = {t.strip() for group in groups for t in group}
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


# -- SQL --------------------------------------------------------------------------------------


def matching_ids_sql(param: str, column: str = "", check: bool = True) -> str:
    """Return SQL for the ids of the articles that the query in ``:param`` finds.

    Without ``check`` (:func:`needs_check` false) the index answers alone; with it, each
    candidate is read and checked (``dangjian_found``). The index drives either way. The
    index is aliased ``f``: add ``and f.rowid = articles.id`` to probe one article.
    """
    fts = FTS_TABLE
    if not check:
        return (
            f"select f.rowid from {fts} f where f.{fts} match dangjian_match(:{param}, '{column}')"
        )
    return (
        f"select f.rowid from {fts} f cross join articles v on v.id = f.rowid "
        f"where f.{fts} match dangjian_match(:{param}, '{column}') "
        f"and dangjian_found(:{param}, '{column}', v.title, v.doc_number, v.text)"
    )


def attachment_matches(param: str, check: bool = True) -> str:
    """Return SQL for the ids of the articles whose attachments match the query in ``:param``.

    The attachments' index is asked first and each match is one primary-key look-up, so the
    plan stays index-driven.
    """
    fts = ATTACHMENTS_FTS_TABLE
    ids = f"select rowid from {fts} where {fts} match dangjian_match(:{param}, '')"
    if check:
        ids = (
            f"select f.rowid from {fts} f cross join attachments v on v.id = f.rowid "
            f"where f.{fts} match dangjian_match(:{param}, '') "
            f"and dangjian_found(:{param}, '', v.name, null, v.text)"
        )
    return f"select article_id from attachments where article_id is not null and id in ({ids})"


def register_functions(conn: sqlite3.Connection) -> None:
    """Add the search's SQL functions to ``conn`` (the plugin does it for Datasette).

    ``dangjian_match(q[, column])``, ``dangjian_found(q, column, title, doc_number, text)``,
    ``dangjian_relevance(q, title, text)`` and ``dangjian_snippet(text, q)``.
    """
    conn.create_function(
        "dangjian_match", 1, lambda q: match_expression(q or ""), deterministic=True
    )
    conn.create_function(
        "dangjian_match", 2, lambda q, c: match_expression(q or "", c or ""), deterministic=True
    )
    conn.create_function(
        "dangjian_found",
        5,
        lambda q, c, t, d, x: int(found(q, c or "", t, d, x)),
        deterministic=True,
    )
    conn.create_function("dangjian_relevance", 3, relevance, deterministic=True)
    conn.create_function(
        "dangjian_snippet", 2, lambda t, q: snippet(t, q or ""), deterministic=True
    )


def search_ids(conn: sqlite3.Connection, query: str, column: str = "") -> list[int]:
    """Return the ids of the articles ``query`` finds, in id order (registers the functions).

    For scripts and tests; the web layer builds the same SQL (``matching_ids_sql``).
    """
    try:
        conn.execute("select dangjian_found('', '', null, null, null)")
    except sqlite3.OperationalError:  # not registered on this connection yet
        register_functions(conn)
    sql = matching_ids_sql("q", column, needs_check(query, column))
    return [row[0] for row in conn.execute(f"{sql} order by 1", {"q": query})]
