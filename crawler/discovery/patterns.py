"""Regular expressions that generalise a set of URLs, for a registry entry's patterns.

URLs are compared from the right, segment by segment: ``/xwzx/tzyw/202304/t20230419_1.html``
and ``/xwzx/jgdj/202305/t20230502_7.html`` give ``/xwzx/\\w+/\\d{6}/t\\d{8}_\\d+\\.html$``. A
segment is split into words at ``_ - .``; each word position becomes a literal when every URL
has the same word, else a class (digits, hex, a fixed prefix and digits, letters). Segments
are taken from the file name leftwards while every URL has the same shape there, so a column
whose old URLs live under another prefix (``/gzrb/html/…``) is still matched. Patterns are
searched (``re.search``) like the registry's, and end with ``$``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlsplit

WORD_SPLIT = re.compile(r"([_\-.])")
PREFIX_DIGITS = re.compile(r"^([A-Za-z]+)(\d+)$")
HEX = re.compile(r"^[0-9a-f]+$")
# At most this many distinct values of a column-naming word become an alternation
# (``classid=(?:3|5)``) in list patterns; more become a class.
MAX_ALTERNATIVES = 6
# Article patterns keep at least this many variable segments when leading words are dropped.
MIN_VARIABLE_SEGMENTS = 3


def escape(text: str) -> str:
    """``re.escape`` without the backslashes it puts before ``- & = ~ # %`` (not special)."""
    return re.sub(r"\\([-&=~#%])", r"\1", re.escape(text))


def digits(words: Sequence[str]) -> str:
    """Return a regex for numbers: fixed lengths for dates, open ones for ids.

    ``2024``/``0619``/``202406``/``20240619`` keep their length; one or two digits (a month
    or day written ``4`` or ``19``) become ``\\d{1,2}``; anything else ``\\d+`` (ids grow).
    """
    lengths = {len(w) for w in words}
    if lengths <= {1, 2} and all(int(w) <= 31 for w in words):
        return r"\d{1,2}"
    if len(lengths) == 1:
        size = next(iter(lengths))
        if size == 4 and all(_year(w) or _month_day(w) for w in words):
            return r"\d{4}"
        if size in (6, 8) and all(_year(w[:4]) and _month_day(w[4:6] + "01") for w in words):
            return rf"\d{{{size}}}"
    return r"\d+"


def _year(word: str) -> bool:
    return word[:2] in ("19", "20")


def _month_day(word: str) -> bool:
    return 1 <= int(word[:2]) <= 12 and 1 <= int(word[2:4] or "1") <= 31


def generalise_word(words: Sequence[str], alternatives: bool = False) -> str:
    """Return a regex for one word position given every URL's word there.

    Numbers always become ``\\d{n}`` or ``\\d+`` (dates and ids change with every article),
    except in list patterns where a number names a column.

    Args:
        words: the words (no separators) at one position of every URL.
        alternatives: write a few distinct values as an alternation instead of a class
            (list patterns name their columns exactly).
    """
    distinct = sorted(set(words))
    if all(w.isdigit() for w in words) and not (alternatives and len(distinct) == 1):
        if alternatives and len(distinct) <= MAX_ALTERNATIVES:
            return "(?:" + "|".join(distinct) + ")"
        return digits(words)
    prefixed = [PREFIX_DIGITS.match(w) for w in words]
    if all(prefixed) and len({m.group(1) for m in prefixed if m}) == 1 and not alternatives:
        prefix = prefixed[0].group(1) if prefixed[0] else ""
        return escape(prefix) + digits([m.group(2) for m in prefixed if m])
    if len(distinct) == 1:
        return escape(distinct[0])
    lengths = {len(w) for w in words}
    if len(lengths) == 1 and all(HEX.match(w) for w in words) and lengths != {0}:
        size = next(iter(lengths))
        if size >= 8:
            return f"[0-9a-f]{{{size}}}"
    if alternatives and len(distinct) <= MAX_ALTERNATIVES:
        return "(?:" + "|".join(escape(w) for w in distinct) + ")"
    if all(re.fullmatch(r"\w+", w) for w in words):
        return r"\w+"
    return r"[^/]+"


def _shape(segment: str) -> tuple[str, ...]:
    """The separators of a segment, which every URL must share at that position."""
    return tuple(part for part in WORD_SPLIT.split(segment) if WORD_SPLIT.fullmatch(part))


def generalise_segments(segments: Sequence[Sequence[str]], alternatives: bool = False) -> str:
    """Return a regex for path segments at one position of every URL (same shape assumed)."""
    split = [WORD_SPLIT.split(s) for s in segments]
    out = []
    for i in range(len(split[0])):
        column = [parts[i] for parts in split]
        if i % 2:  # a separator
            out.append(escape(column[0]))
        else:
            out.append(generalise_word(column, alternatives))
    return "".join(out)


def generalise_paths(
    paths: Sequence[str], alternatives: bool = False, trim: bool = False
) -> str | None:
    """Return a regex matching every path: segments compared from the right, while alike.

    Returns None for an empty input. The leftmost segments are dropped where the URLs
    disagree in shape (the regex is then not anchored at the path's start). With ``trim``,
    leading segments that are plain words (``/content/``, ``/xwzx/tzyw/``) are dropped too
    while at least ``MIN_VARIABLE_SEGMENTS`` variable segments (dates, ids) remain: a CMS
    files the same article under more than one prefix (广州日报 ``/gzrb/html/2020-12/18/…``
    and ``/content/2023-05/06/…``).
    """
    if not paths:
        return None
    split = [p.split("/") for p in paths]
    depth = min(len(s) for s in split)
    pieces: list[str] = []
    anchored = False
    for k in range(1, depth + 1):
        column = [s[-k] for s in split]
        shapes = Counter(_shape(c) for c in column)
        if len(shapes) > 1 or (k == depth and any(len(s) > depth for s in split)):
            break
        if k == depth:
            anchored = True
        pieces.append(generalise_segments(column, alternatives))
    if trim:
        while pieces and _variable(pieces) > MIN_VARIABLE_SEGMENTS - 1 and _literal(pieces[-1]):
            if _variable(pieces[:-1]) < MIN_VARIABLE_SEGMENTS:
                break
            pieces.pop()
            anchored = False
    body = "/".join(reversed(pieces))
    return "^" + body if anchored else "/" + body


def _literal(piece: str) -> bool:
    return piece == "" or re.fullmatch(r"(\\.|[A-Za-z_-])+", piece) is not None


def _variable(pieces: Sequence[str]) -> int:
    """Pieces with numbers in them (dates, ids): what makes an article URL specific."""
    return sum(1 for p in pieces if "\\d" in p or "[0-9a-f]" in p)


def generalise_query(queries: Sequence[str], alternatives: bool = False) -> str | None:
    """Return a regex for query strings with the same keys in the same order, else None."""
    pairs = [[part.partition("=") for part in q.split("&") if part] for q in queries]
    keys = {tuple(k for k, _, _ in p) for p in pairs}
    if len(keys) != 1:
        return None
    out = []
    for i, key in enumerate(next(iter(keys))):
        values = [p[i][2] for p in pairs]
        if all(v.isdigit() for v in values) and not alternatives:
            word = r"\d+"
        else:
            word = generalise_word(values, alternatives)
        out.append(f"{escape(key)}={word}")
    return "&".join(out)


def article_pattern(urls: Sequence[str]) -> str | None:
    """Return one regex matching every article URL of ``urls`` (by their paths and queries).

    The URLs with the most common shape decide (a stray link of another shape is left
    out); digits become ``\\d{n}``/``\\d+``, hex ids ``[0-9a-f]{n}``, differing words ``\\w+``.

    Example: ``/n1/2024/0619/c394443-300123.html`` and ``/n1/2024/0618/c219967-300119.html``
    give ``/n1/\\d{4}/\\d{4}/c\\d{6}-\\d{6}\\.html$``.
    """
    if not urls:
        return None
    parts = [urlsplit(u) for u in urls]
    by_query = Counter(bool(p.query) for p in parts)
    with_query = by_query[True] > by_query[False]
    chosen = [p for p in parts if bool(p.query) == with_query]
    if with_query:
        keys = Counter(tuple(k.split("=")[0] for k in p.query.split("&")) for p in chosen)
        common = keys.most_common(1)[0][0]
        chosen = [p for p in chosen if tuple(k.split("=")[0] for k in p.query.split("&")) == common]
    shape = Counter(_path_shape(p.path) for p in chosen).most_common(1)[0][0]
    chosen = [p for p in chosen if _path_shape(p.path) == shape]
    path = generalise_paths([p.path for p in chosen], trim=True)
    if path is None:
        return None
    path = _unanchor(path)
    if with_query:
        query = generalise_query([p.query for p in chosen])
        return f"{path}\\?{query}$" if query else f"{path}\\?"
    return path + "$"


def _path_shape(path: str) -> tuple[tuple[str, ...], ...]:
    """The separators of the last two segments: URLs of one kind share them."""
    return tuple(_shape(s) for s in path.split("/")[-2:])


def _unanchor(regex: str) -> str:
    """Turn a path regex anchored at the path's start into one searched in the whole URL."""
    return regex[1:] if regex.startswith("^") else regex


def list_pattern(start_url: str, scheme: str, next_url: str | None = None) -> str:
    """Return a regex for a column's list pages: its start URL and the pages after it.

    Args:
        start_url: the column's first page (a folder, ``index.html``, ``?catid=45`` …).
        scheme: the pagination scheme (``crawler.discovery.lists.Pagination``).
        next_url: the second page's URL when known.

    The part that changes from the start URL to the next page becomes an optional group
    (``/xwzx/tzyw/(index(_\\d+)?\\.html)?$``, ``catid=45(&page=\\d+)?$``); the column's own
    folder and ids stay literal, so the crawl does not wander into other columns. E-paper
    sections (``sections``) keep only the shape of their dated folders.
    """
    start = _path_query(start_url)
    if scheme == "sections" and next_url:
        return article_pattern([start_url, next_url]) or escape(start) + "$"
    if scheme == "index_N" and not next_url:
        next_url = start_url.split("?", 1)[0].rsplit("/", 1)[0] + "/index_1.html"
    if not next_url or scheme == "none":
        return escape(start) + "$"
    nxt = _path_query(next_url)
    if scheme == "index_N" or (start.endswith("/") and "/" not in nxt[len(start) :]):
        folder = start.rsplit("/", 1)[0] + "/"
        name = nxt[len(folder) :] if nxt.startswith(folder) else nxt.rsplit("/", 1)[-1]
        stem, _, ext = name.rpartition(".")
        stem = re.sub(r"[_-]?\d+$", "", stem) or "index"
        sep = "_" if scheme == "index_N" else ""
        if scheme == "index_N":
            return f"{escape(folder)}({escape(stem)}({sep}\\d+)?\\.{escape(ext)})?$"
        return f"{escape(folder)}({escape(stem)}[_-]?\\d+\\.{escape(ext)})?$"
    prefix = _common_prefix(start, nxt)
    suffix = _common_prefix(start[len(prefix) :][::-1], nxt[len(prefix) :][::-1])[::-1]
    middle_start = start[len(prefix) : len(start) - len(suffix)]
    middle_next = nxt[len(prefix) : len(nxt) - len(suffix)]
    if not middle_start:
        variable = re.sub(r"\d+", r"\\d+", escape(middle_next).replace(r"\d+", "\0")).replace(
            "\0", r"\d+"
        )
        return f"{escape(prefix)}({variable})?{escape(suffix)}$"
    if middle_start.isdigit() and middle_next.isdigit():
        return f"{escape(prefix)}\\d+{escape(suffix)}$"
    return f"{escape(start)}$|{escape(nxt)}$"


def _path_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    # Do not cut a number in two: 1.shtml / 12.shtml share "1" but differ as numbers.
    while (
        n
        and a[n - 1].isdigit()
        and ((n < len(a) and a[n].isdigit()) or (n < len(b) and b[n].isdigit()))
    ):
        n -= 1
    return a[:n]
