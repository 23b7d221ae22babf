"""Text normalisation: pinyin-annotation removal, Traditional → Simplified, whitespace, damage.

Traditional-Chinese mirrors of government sites inject the reading of some characters after
them, e.g. ``統(tǒng)戰(zhàn)部``. :func:`normalise_text` undoes that and converts to Simplified
Chinese, in that order: the annotation is checked against the reading of the character just
before it, which has to be the original (Traditional) character.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import Style, pinyin

logger = logging.getLogger(__name__)

ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad]")
# Everything str.split() treats as space except the newline that separates paragraphs.
INLINE_SPACE_RE = re.compile(r"[^\S\n]+")
BLANK_LINES_RE = re.compile(r"\n\s*\n+")

HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN}]")
# A Han character followed by a parenthesised run of Latin letters (with tone marks, tone
# numbers, ü/v, or HTML character references that were escaped twice). Only the innermost
# parentheses can match, so "督查(加強(qiáng)黨建)" is handled from the inside out.
PINYIN_ANNOTATION_RE = re.compile(
    rf"([{HAN}])\s?[(（]\s*((?:[a-zA-Z\u00c0-\u024f\u0300-\u036f:]|&#x?[0-9a-fA-F]+;){{1,8}}[1-5]?)\s*[)）]"
)


@lru_cache(maxsize=1)
def get_converter() -> opencc.OpenCC:
    """Return the one shared OpenCC Traditional → Simplified converter."""
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese to Simplified Chinese with OpenCC ``t2s``.

    Args:
        text: Any text; non-Chinese characters pass through unchanged.

    Returns:
        The text in Simplified characters.
    """
    if not text:
        return text
    return get_converter().convert(text)


def detect_script(text: str) -> str | None:
    """Tell whether a text is written in Simplified (``hans``) or Traditional (``hant``) characters.

    A Simplified text can hold a few characters that ``t2s`` rewrites (乾, 著...), so a text
    counts as Traditional only when more than 3% of its Han characters change.

    Args:
        text: The original text, before conversion.

    Returns:
        ``"hans"``, ``"hant"``, or ``None`` when the text has no Han characters.
    """
    han = HAN_RE.findall(text or "")
    if not han:
        return None
    sample = "".join(han[:5000])
    converted = to_simplified(sample)
    if len(converted) == len(sample):
        changed = sum(1 for a, b in zip(sample, converted, strict=True) if a != b)
    else:
        changed = len(set(sample) - set(converted))
    return "hant" if changed > max(1, 0.03 * len(sample)) else "hans"


def _plain_syllable(syllable: str) -> str:
    """Reduce a pinyin syllable to bare letters: no tone marks or numbers, ü written ``v``."""
    decomposed = unicodedata.normalize("NFD", syllable.lower().replace("u:", "v"))
    decomposed = decomposed.replace("u\u0308", "v")
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return letters.rstrip("012345")


@lru_cache(maxsize=8192)
def get_readings(char: str) -> frozenset[str]:
    """Return every reading of a Han character as bare pinyin letters (``v`` for ü)."""
    readings = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore", v_to_u=False)
    return frozenset(_plain_syllable(r) for group in readings for r in group)


@lru_cache(maxsize=8192)
def is_reading_of(char: str, annotation: str) -> bool:
    """Tell whether ``annotation`` (e.g. ``tǒng``, ``tong3``, ``l&#474;``) is a reading of ``char``.

    Args:
        char: One Han character.
        annotation: The letters found between the parentheses after it.

    Returns:
        True when the letters, ignoring tone, spell one of the character's readings.
    """
    letters = _plain_syllable(html.unescape(annotation))
    if not letters.isascii() or not letters.isalpha():
        return False
    return letters in get_readings(char)


def strip_pinyin_annotations(text: str) -> str:
    """Remove ``(tǒng)``-style reading annotations injected after Han characters.

    An annotation is removed only when its letters are a valid reading of the character right
    before it, so ``統(tǒng)`` becomes ``統`` while ``(APP)``, ``(GDP)``, ``村(居)`` and
    ``高原(北京)`` stay.

    Args:
        text: Text that may carry annotations, before Traditional → Simplified conversion.

    Returns:
        The text without the annotations.
    """

    def replace(match: re.Match[str]) -> str:
        char, letters = match.group(1), match.group(2)
        return char if is_reading_of(char, letters) else match.group(0)

    if "(" not in text and "（" not in text:
        return text  # the common case, and normalise_text runs on every paragraph
    previous = None
    # Repeat so that annotations uncovered by a removal (nested parentheses) are seen too.
    while previous != text:
        previous = text
        text = PINYIN_ANNOTATION_RE.sub(replace, text)
    return text


def remove_zero_width(text: str) -> str:
    """Remove zero-width spaces, joiners, BOMs and soft hyphens."""
    return ZERO_WIDTH_RE.sub("", text)


def collapse_whitespace(text: str) -> str:
    """Collapse runs of spaces inside each paragraph and drop empty paragraphs.

    Args:
        text: Paragraphs separated by newlines.

    Returns:
        One paragraph per line, each stripped, with single spaces inside.
    """
    lines = (INLINE_SPACE_RE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# --- decoder damage ----------------------------------------------------------------------

# GB2312 level-2 characters (rows 0xD8–0xF7) are the rare ones; a GBK page decoded one byte
# out of step turns common characters into them.
RARE_ROWS = range(0xD8, 0xF8)
# "?" (or U+FFFD) standing for the lost byte, then a run of double-byte characters.
DAMAGE_RUN_RE = re.compile(r"[?\ufffd]([!,:;?\uff01-\uff5e\u3000-\u303f" + HAN + r"]{3,40})")
# CJK punctuation whose GBK trail byte may be the first byte of a shifted run.
PUNCTUATION = "。，、；：？！…—“”‘’《》（）"


def _gbk_bytes(text: str) -> bytes | None:
    # Saved pages often fold full-width punctuation to ASCII ("！" → "!"); undo that first.
    text = "".join(chr(ord(ch) + 0xFEE0) if ch in "!,:;?" else ch for ch in text)
    try:
        encoded = text.encode("gb18030")
    except UnicodeEncodeError:
        return None
    # Four-byte GB18030 sequences never come from a GBK page; give up on them.
    return encoded if len(encoded) == 2 * len(text) else None


def _rarity(text: str) -> int:
    count = 0
    for ch in text:
        encoded = _gbk_bytes(ch)
        if encoded is None or encoded[0] in RARE_ROWS or encoded[0] > 0xF7:
            count += 1
    return count


def _shifted_decode(run: str, trail: str) -> tuple[str, str] | None:
    """Decode ``run`` + ``trail`` again one byte later.

    Returns:
        The punctuation mark the lost byte most likely belonged to (or ``""``), and the
        re-decoded text, or None when the shifted bytes are not valid GBK.
    """
    encoded = _gbk_bytes(run)
    if encoded is None:
        return None
    shifted = encoded[1:] + trail.encode("ascii")
    try:
        decoded = shifted.decode("gbk")
    except UnicodeDecodeError:
        return None
    lost = ""
    for lead in range(0xA1, 0xA4):
        try:
            candidate = bytes([lead, encoded[0]]).decode("gbk")
        except UnicodeDecodeError:
            continue
        if candidate in PUNCTUATION:
            lost = candidate
            break
    return lost, decoded


def _find_damage(text: str) -> list[tuple[re.Match[str], str | None]]:
    """Return each damaged run with its safe repair (or None when it cannot be repaired)."""
    found: list[tuple[re.Match[str], str | None]] = []
    if "?" not in text and "\ufffd" not in text:
        return found  # every damaged run starts at one of these
    for match in DAMAGE_RUN_RE.finditer(text):
        run = match.group(1)
        rare = _rarity(run)
        if rare < 2:
            continue
        # The decoder falls back in step where a lead byte swallowed an ASCII byte: the run
        # is then followed by that ASCII letter ("嗅t" was "醫" = E1 74).
        trail = text[match.end() : match.end() + 1]
        shifted = _shifted_decode(run, trail) if trail.isascii() and trail.isalpha() else None
        if shifted is not None and _rarity(shifted[1]) < rare:
            lost, repaired = shifted
            found.append((match, lost + repaired if lost else None))
        elif rare * 3 >= len(run):
            found.append((match, None))
    return found


def detect_decoder_damage(text: str) -> bool:
    """Tell whether part of a text was decoded a byte out of step (GBK read from the wrong byte).

    Seed 004 shows the shape: ``自豪。”徐州市醫`` came out as ``自豪?!毙熘菔嗅t``: the lost
    byte became ``?`` and the following characters turned into rare ones (熘, 菔). A run counts
    as damaged when it follows ``?``/U+FFFD and re-decoding it one byte later gives markedly
    more common characters, or when it is mostly rare characters.

    Args:
        text: The decoded text, before any conversion.

    Returns:
        True when at least one damaged run was found.
    """
    return bool(_find_damage(text))


def repair_decoder_damage(text: str) -> tuple[str, bool]:
    """Repair out-of-step decoded runs where the repair is unambiguous.

    Args:
        text: The decoded text, before any conversion.

    Returns:
        The text with safe repairs applied, and whether any damage was found at all
        (repaired or not).
    """
    found = _find_damage(text)
    for match, repair in reversed(found):
        if repair is None:
            continue
        # The ASCII trail byte belongs to the last repaired character: swallow it.
        text = text[: match.start()] + repair + text[match.end() + 1 :]
    if found:
        logger.debug("decoder damage in %d run(s)", len(found))
    return text, bool(found)


def normalise_text(text: str) -> str:
    """Apply every normalisation step in order.

    Zero-width characters go first, then safe decoder-damage repairs, then pinyin annotations
    (which need the original characters), then Traditional → Simplified, then whitespace.

    Args:
        text: Extracted text, one paragraph per line.

    Returns:
        Simplified Chinese, one paragraph per line.
    """
    if not text:
        return text
    text = remove_zero_width(text)
    text, _ = repair_decoder_damage(text)
    text = strip_pinyin_annotations(text)
    text = to_simplified(text)
    return collapse_whitespace(text)


def normalise_paragraphs(originals: list[str], simplified: list[str]) -> str:
    """Return ``normalise_text("\\n".join(originals))``, reusing the paragraphs' normalised forms.

    Normalising paragraph by paragraph gives the same text, except that a pinyin annotation
    opening a paragraph is checked against the last character of the one before; such pages
    take the whole-text path.
    """
    if any(remove_zero_width(p)[:1] in ("(", "（") for p in originals[1:]):
        return normalise_text("\n".join(originals))
    return "\n".join(simplified)
