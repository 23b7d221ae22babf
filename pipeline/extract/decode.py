"""Bytes → text: the one place where page encodings are decided.

Chinese government sites serve UTF-8, GBK, GB2312 and the odd Big5 page, and a page that was
re-saved in another encoding often keeps its old ``<meta charset>``. The order of evidence is:
BOM, HTTP charset, valid UTF-8, ``<meta>`` charset, GB18030, then charset_normalizer (a BOM
wins over the header, as in the WHATWG encoding sniffing algorithm: a UTF-16 page served
as ``charset=iso-8859-1`` is still UTF-16). GB2312 and GBK are always read as GB18030 (its
superset), as w3lib does. Nothing is ever decoded with ``errors="ignore"``: when no encoding
fits, the closest one is used with replacement characters and the result is marked ``lossy``;
bytes that are not text (binary files, random bytes) or that no encoding reads without
replacing a large share of them raise :class:`~pipeline.errors.DecodeError` instead.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

import charset_normalizer

from pipeline.errors import DecodeError

logger = logging.getLogger(__name__)

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels seen on Chinese sites that Python's codec registry does not know.
ALIASES = {
    "x-gbk": "gbk",
    "gb_2312-80": "gb2312",
    "x-euc-cn": "gb2312",
    "x-big5": "big5",
    "unicode": "utf-8",
}
# Encodings read as their superset.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "ascii": "utf-8",
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
}
# File signatures of documents that are not HTML (PDF, ZIP/Office, images, OLE Word, gzip).
BINARY_SIGNATURES = (
    b"%PDF",
    b"PK\x03\x04",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"\xd0\xcf\x11\xe0",
    b"\x1f\x8b",
)
HTTP_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
META_CHARSET_RE = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*[\"']([\w.:-]+)",
    re.I,
)
# Share of replacement characters under which a failed UTF-8 decode is still taken as UTF-8
# with a few bad bytes (a GBK page read as UTF-8 is replacement characters throughout).
NEARLY_UTF8_RATIO = 0.005
# C0 control bytes other than tab, newline, form feed, carriage return and ESC (ISO-2022):
# no HTML page holds them, and no legacy Chinese encoding uses them inside a character
# (GBK and Big5 trail bytes are >= 0x40, UTF-8 continuation bytes >= 0x80).
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])
NOT_CONTROL = bytes(b for b in range(256) if b not in CONTROL_BYTES)
# Share of control bytes above which a body is binary: random bytes have about 10 %.
MAX_CONTROL_RATIO = 0.01
# Share of replacement characters above which a lossy decode is given up as undecodable.
MAX_LOSSY_RATIO = 0.05
SNIFF_BYTES = 65536


@dataclass(frozen=True)
class Decoded:
    """The text of a page and how it was obtained."""

    text: str
    encoding: str
    """Python codec name actually used, e.g. ``utf-8`` or ``gb18030``."""
    lossy: bool
    """True when some bytes could not be decoded and were replaced by U+FFFD."""
    method: str
    """Which evidence decided: ``http``, ``bom``, ``utf-8``, ``meta``, ``gb18030`` or ``detected``."""


def normalise_encoding(label: str | None) -> str | None:
    """Map an encoding label to the Python codec we decode with, or None if unknown.

    Args:
        label: A charset label from a header or a ``<meta>`` tag, e.g. ``GB2312``.

    Returns:
        A codec name, with GB2312/GBK widened to ``gb18030``.
    """
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(ALIASES.get(label, label)).name
    except LookupError:
        return None
    return SUPERSETS.get(name, name)


def find_http_charset(content_type: str | None) -> str | None:
    """Return the codec named by a Content-Type header's ``charset`` parameter."""
    if not content_type:
        return None
    match = HTTP_CHARSET_RE.search(content_type)
    return normalise_encoding(match.group(1)) if match else None


def find_meta_charset(body: bytes) -> str | None:
    """Return the codec declared by ``<meta charset>``, ``http-equiv`` or an XML declaration."""
    match = META_CHARSET_RE.search(body[:4096])
    if not match:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii", "replace")
    return normalise_encoding(label)


def is_binary(body: bytes, declared: str | None = None) -> bool:
    """Tell whether bytes are a non-HTML document (PDF, Office, image) or not text at all.

    Args:
        body: The page bytes.
        declared: The encoding declared by HTTP, if any (UTF-16/32 legitimately hold NULs).

    Returns:
        True when the bytes should not be decoded as a web page: a known file signature, or
        more than 1 % of control bytes in the first 64 KiB (random bytes have about 10 %).
    """
    head = body[:4096].lstrip()
    if head.startswith(BINARY_SIGNATURES):
        return True
    if declared and declared.startswith(("utf-16", "utf-32")):
        return False
    if any(body.startswith(bom) for bom, name in BOMS if name.startswith(("utf-16", "utf-32"))):
        return False
    sample = body[:SNIFF_BYTES]
    controls = len(sample.translate(None, NOT_CONTROL))
    return controls > max(2, MAX_CONTROL_RATIO * len(sample))


def _try(body: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _replacements(body: bytes, encoding: str) -> tuple[str, int]:
    text = body.decode(encoding, errors="replace")
    return text, text.count("\ufffd")


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode the bytes of an HTML page.

    Args:
        body: The page exactly as fetched.
        content_type: The HTTP ``Content-Type`` header, if any.

    Returns:
        The text, the codec used, whether replacement was needed, and which evidence decided.

    Raises:
        DecodeError: When the body is empty, is not text (PDF, image, control bytes), or no
            encoding reads it without replacing more than 5 % of it.
    """
    if not body or not body.strip():
        raise DecodeError("empty body: nothing to decode")
    http = find_http_charset(content_type)
    if is_binary(body, http):
        raise DecodeError(
            f"binary body ({body[:8]!r}...): not an HTML page (a file signature or control bytes)"
        )
    for bom, name in BOMS:
        if body.startswith(bom):
            text, bad = _replacements(body[len(bom) :], name)
            return _checked(Decoded(text, name, bad > 0, "bom"), bad)

    is_utf8 = _try(body, "utf-8")
    if http:
        text = _try(body, http)
        # A header naming a legacy charset on bytes that are valid, non-ASCII UTF-8 is a
        # server default left unchanged; valid UTF-8 almost never happens by accident.
        if text is not None and not (
            is_utf8 is not None and http != "utf-8" and not body.isascii()
        ):
            return Decoded(text, http, False, "http")
    if is_utf8 is not None:
        return Decoded(is_utf8, "utf-8", False, "utf-8")

    text, bad = _replacements(body, "utf-8")
    if bad <= NEARLY_UTF8_RATIO * len(text) and not body.isascii():
        logger.warning("lossy UTF-8 decode: %d undecodable byte sequence(s)", bad)
        return Decoded(text, "utf-8", True, "utf-8")

    meta = find_meta_charset(body)
    text = _try(body, meta)
    if text is not None and meta:
        return Decoded(text, meta, False, "meta")
    text = _try(body, "gb18030")
    if text is not None:
        return Decoded(text, "gb18030", False, "gb18030")

    best = charset_normalizer.from_bytes(body).best()
    detected = normalise_encoding(best.encoding) if best else None
    text = _try(body, detected)
    if text is not None and detected:
        return Decoded(text, detected, False, "detected")

    # Nothing fits: take the declared or most likely encoding with the fewest replacements.
    candidates = [(http, "http"), (meta, "meta"), ("gb18030", "gb18030"), ("utf-8", "utf-8")]
    scored = [(_replacements(body, enc), enc, how) for enc, how in candidates if enc]
    (text, bad), encoding, method = min(scored, key=lambda item: item[0][1])
    logger.warning("lossy %s decode: %d replacement character(s)", encoding, bad)
    return _checked(Decoded(text, encoding, True, method), bad)


def _checked(decoded: Decoded, bad: int) -> Decoded:
    """Give up on a decode that had to replace more than 5 % of the characters."""
    if bad > MAX_LOSSY_RATIO * max(1, len(decoded.text)):
        raise DecodeError(
            f"undecodable: {bad} of {len(decoded.text)} characters could not be read as "
            f"{decoded.encoding} or any other encoding tried (pass the right charset in the "
            "Content-Type header if the page declares none)"
        )
    return decoded
