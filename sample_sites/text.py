"""Script helpers for the sample sites: OpenCC conversion and pinyin injection/removal.

The traditional mirror (``mirror-hant``) republishes simplified articles as traditional text with
pinyin injected after some characters, the way the seed pages 001, 003 and 004 show it:
``統(tǒng)戰(zhàn)部``.  ``title_simplified`` of every expected article is computed with
:func:`to_simplified`, i.e. exactly what the pipeline is expected to store.
"""

from __future__ import annotations

import functools
import html
import re

import opencc
from pypinyin import Style, pinyin

# A pinyin annotation right after a character: lowercase Latin letters with tone marks, in ASCII
# or full-width parentheses.  Legitimate parentheses in the texts hold CJK or upper-case ASCII
# ("(全面从严治党)", "(APP)"), so they never match.
PINYIN_ANNOTATION = re.compile(r"[(（][a-zü\u00e0-\u00fc\u0101-\u01dc]{1,7}[)）]")

# Characters the mirror annotates: the set seen in the seed pages, plus a few characters whose
# reading is a neutral tone in context (們, 麼) so that unmarked syllables occur too.
ANNOTATED_CHARS = frozenset(
    "優內創務區協嚴堅報學實導強態應戰據業構標機權準現環產當發監穩結統經網續習聯衛規計訓設認調"
    "護責質轉進達醫關領風點們麼"
)

_TONED = re.compile(r"[\u00e0-\u00fc\u0101-\u01dc]")


@functools.lru_cache(maxsize=2)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@functools.lru_cache(maxsize=65536)
def _readings(window: str) -> tuple[str | None, ...]:
    """Tone-marked pinyin of each character of ``window`` (None for non-Chinese)."""
    readings = pinyin(window, style=Style.TONE, errors=lambda chars: [None] * len(chars))
    return tuple(r[0] if r else None for r in readings)


def strip_pinyin(text: str) -> str:
    """Remove pinyin annotations such as ``(tǒng)`` from ``text``."""
    return PINYIN_ANNOTATION.sub("", text)


def to_simplified(text: str) -> str:
    """Return ``text`` without pinyin annotations, converted with OpenCC ``t2s``."""
    return _converter("t2s").convert(strip_pinyin(text))


def to_traditional(text: str) -> str:
    """Convert simplified ``text`` to traditional with OpenCC ``s2t``."""
    return _converter("s2t").convert(text)


def inject_pinyin(text: str, salt: int = 0) -> tuple[str, str]:
    """Annotate the characters of ``ANNOTATED_CHARS`` in ``text`` with their pinyin.

    Args:
        text: traditional Chinese text.
        salt: varies which annotations are written as HTML character references.

    Returns:
        ``(plain, markup)``: the annotated text, and the same text as HTML where every third
        annotation spells its tone-marked vowel as a hexadecimal character reference.
    """
    plain: list[str] = []
    markup: list[str] = []
    count = salt
    for i, char in enumerate(text):
        plain.append(char)
        markup.append(html.escape(char, quote=False))
        if char not in ANNOTATED_CHARS:
            continue
        # The reading in the context of its neighbours (多音字 such as 調, 強, 當).
        start = max(i - 1, 0)
        syllable = _readings(text[start : i + 2])[i - start]
        if not syllable or not syllable.isalpha():
            continue
        count += 1
        plain.append(f"({syllable})")
        if count % 3 == 0 and _TONED.search(syllable):
            syllable = _TONED.sub(lambda m: f"&#x{ord(m.group()):x};", syllable)
        markup.append(f"({syllable})")
    return "".join(plain), "".join(markup)
