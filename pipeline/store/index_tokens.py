"""The index's token string of a text, computed over arrays of code points (numpy).

:func:`pipeline.store.search.index_text` is called for every article a bulk build indexes,
and a per-token Python loop (a string object per bigram) made it the larger half of a
reindex's Python work. Here a text becomes one array of code points, each classed once
(separator, word character, Han) from a table, and the bigrams, run joins and characters
are sliced out of it and written back as one UTF-32 buffer: Python handles only the words,
which are few. The tokens are exactly those of ``search._sequence_tokens`` plus every Han
character once; ``tests/test_index_tokens.py`` holds the two to that on random texts.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

# Han ideographs: the CJK Unified Ideographs block, extensions A-F and the compatibility block.
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef\U00030000-\U0003134f"
"""The Han characters, as the inside of a regular expression's character class."""
WORD_CHAR = rf"(?:(?![{HAN_RANGES}])[^\W_])"
"""A letter or digit that is not Han (``[^\\W_]``: a word character but the underscore)."""
RUN_RE = re.compile(rf"(?P<han>[{HAN_RANGES}]+)|(?P<word>{WORD_CHAR}+)")
"""A run: Han characters, or letters and digits of any other script (a word)."""

SEPARATOR, WORD, HAN = 0, 1, 2
"""A code point's class: not part of any token, part of a word run, a Han character."""

_SPACE = ord(" ")


@lru_cache(maxsize=1)
def _bmp_classes() -> np.ndarray:
    """The class of every code point below U+10000, built once (~65,536 entries) from the
    very pattern queries are split into runs with (``RUN_RE``), so the two cannot disagree."""
    classes = np.zeros(0x10000, dtype=np.uint8)
    for match in RUN_RE.finditer("".join(map(chr, range(0x10000)))):
        classes[match.start() : match.end()] = _class_of(match)
    return classes


def _class_of(match: re.Match[str] | None) -> int:
    return SEPARATOR if match is None else HAN if match.lastgroup == "han" else WORD


def _classes(points: np.ndarray) -> np.ndarray:
    classes = _bmp_classes()[np.minimum(points, 0xFFFF)]
    for i in np.flatnonzero(points > 0xFFFF):  # rare (extension B and later): one by one
        classes[i] = _class_of(RUN_RE.fullmatch(chr(points[i])))
    return classes


def _spaced_rows(size: int, *columns: np.ndarray | int) -> bytes:
    """``size`` tokens, each the given columns' code points then a space, as UTF-32."""
    rows = np.empty((size, len(columns) + 1), dtype=np.uint32)
    for i, column in enumerate(columns):
        rows[:, i] = column
    rows[:, -1] = _SPACE
    return rows.tobytes()


def index_text(text: str, join: str) -> str:
    """Return the tokens of ``text`` as one space-separated string.

    Each Han bigram, each word (lower-cased), each join of a run's last character to the
    next run's first (``join`` between them), then each Han character once. The order is
    bigrams, joins, characters, words: the index keeps no positions, so order is free.
    """
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    classes = _classes(points)
    token = classes != SEPARATOR
    # A run starts where a token character follows a separator or a character of the other
    # class (``Xi说`` is two runs), and ends where the next character does not continue it.
    changes = np.empty(len(points) + 1, dtype=bool)
    changes[0] = changes[-1] = True
    np.not_equal(classes[1:], classes[:-1], out=changes[1:-1])
    starts = np.flatnonzero(changes[:-1] & token)
    ends = np.flatnonzero(changes[1:] & token)
    if not starts.size:
        return ""
    han = classes == HAN
    pairs = np.flatnonzero(han[:-1] & han[1:])
    firsts, lasts = points[starts].copy(), points[ends].copy()
    words = []
    for i in np.flatnonzero(classes[starts] == WORD):
        word = text[starts[i] : ends[i] + 1].lower()
        words.append(word)
        firsts[i], lasts[i] = ord(word[0]), ord(word[-1])
    characters = np.sort(points[han])  # then each once: np.unique is ~4x slower here
    if characters.size:
        characters = characters[np.concatenate(([True], characters[1:] != characters[:-1]))]
    buffer = b"".join(
        (
            _spaced_rows(pairs.size, points[pairs], points[pairs + 1]),
            _spaced_rows(starts.size - 1, lasts[:-1], ord(join), firsts[1:]),
            _spaced_rows(characters.size, characters),
        )
    )
    tokens = buffer.decode("utf-32-le", "surrogatepass")
    if words:
        return tokens + " ".join(words)
    return tokens[:-1]
