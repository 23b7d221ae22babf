"""Identity of articles: canonical URLs, content hashes and MinHash signatures.

The canonical URL is the article's key (one row per canonical URL). The content hash finds
the same text republished under another URL, in either script; the MinHash signature finds
near-duplicates (a paragraph added or dropped, residue of another site's boilerplate).
Everything compares :func:`dedupe_text`, the same normalised form, so a traditional-script
mirror with injected pinyin compares equal to its simplified original.

MinHash is computed here with numpy rather than ``datasketch.MinHash.update_batch``, which
hashes each shingle in a Python call and applies 128 permutations to each: about 1.5 ms for a
1,000-character article, so 1,000,000 articles would take 25 CPU-minutes for signatures alone.
One-permutation hashing with densification (:func:`minhash`) estimates the same Jaccard
similarity with the same spread for about 0.1 ms; ``tests/test_dedupe.py`` checks its
estimates against exact Jaccard and against datasketch's.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from w3lib.url import canonicalize_url, url_query_cleaner

from pipeline.extract.normalise import strip_pinyin_annotations, to_simplified

# Query parameters that only track where a click came from; they never change the page.
TRACKING_PARAMETERS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "utm_id",
    "spm",
    "from",
    "isappinstalled",
    "share_token",
    "scene",
    "clicktime",
    "enterid",
    "wfr",
    "gclid",
    "fbclid",
)
DEFAULT_PORTS = {"http": 80, "https": 443}
# Static directory index documents: /a/index.html and /a/ are the same page. Scripts such as
# /index.php?m=content&id=1 are not: their query picks the page, so they stay.
INDEX_RE = re.compile(r"/(?:index|default)\.(?:html?|shtml)$", re.I)

SHINGLE = 5
"""Characters per shingle: on Chinese text 5 keeps different articles that share stock
phrases apart (highest Jaccard between different sample-site articles 0.41) while copies stay
above 0.87 (see docs/dedupe.md)."""
NUM_PERM = 128  # signature slots; the one-permutation scheme below needs a power of 2 (2**7)
BANDS, ROWS = 20, 5
"""LSH: 20 bands of 5 slots (100 of the 128). A pair with Jaccard 0.7 becomes a candidate with
probability 0.975, 0.8 with 0.9996, 0.4 with 0.19 (then rejected by the THRESHOLD check)."""
THRESHOLD = 0.7
"""Estimated Jaccard at or above which two articles are the same story."""

_rng = np.random.default_rng(20261123)
_EMPTY = np.uint64(2**64 - 1)
_VALUE_MASK = np.uint64(2**56 - 1)
_ROTATION = np.uint64(2**49)
_SLOTS = np.arange(NUM_PERM)
_BAND_MIX = _rng.integers(1, 2**63, ROWS, dtype=np.uint64) | np.uint64(1)
_SHINGLE_POW = np.array([(1_000_003**j) % 2**64 for j in range(SHINGLE)], dtype=np.uint64)


def canonical_url(url: str) -> str:
    """Return the URL that identifies a page.

    Lower-case scheme and host, no default port, no trailing ``index.html``, no fragment, no
    tracking parameters, query sorted (w3lib's ``canonicalize_url``).

    Args:
        url: an absolute URL as fetched or linked.

    Returns:
        The canonical form; ``http://A.gov.cn:80/x/index.html?utm_source=wx#top`` gives
        ``http://a.gov.cn/x/``.
    """
    cleaned = url_query_cleaner(url, TRACKING_PARAMETERS, remove=True, keep_fragments=False)
    canon = canonicalize_url(cleaned, keep_fragments=False)
    parts = urlsplit(canon)
    scheme = parts.scheme.lower()
    netloc = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and port != DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = (INDEX_RE.sub("/", parts.path) if not parts.query else parts.path) or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def url_variants(url: str) -> list[str]:
    """Return ``url`` canonicalised, then the same under the other scheme (http ↔ https).

    Sites serve the same page over both; the article row keeps the first URL it was seen at.
    """
    canon = canonical_url(url)
    scheme, rest = canon.split(":", 1)
    other = {"http": "https", "https": "http"}.get(scheme)
    return [canon, f"{other}:{rest}"] if other else [canon]


# Everything that is not a letter or digit: whitespace, punctuation, symbols, marks, controls.
# One C-level re.sub is several times faster than testing each character's category.
NON_WORD_RE = re.compile(r"[\W_]+")


def text_fingerprint(text: str) -> str:
    """Return the comparison form of a normalised text: NFKC, letters and digits only."""
    # Punctuation goes first: full-width marks are what usually keeps a text from being NFKC,
    # and the quick check then spares most texts the (slow) normalisation.
    bare = NON_WORD_RE.sub("", text)
    if unicodedata.is_normalized("NFKC", bare):
        return bare
    return NON_WORD_RE.sub("", unicodedata.normalize("NFKC", bare))


def dedupe_text(text: str) -> str:
    """Return the text every identity check compares: simplified, no pinyin, no punctuation.

    The pipeline's texts are already normalised; doing it again here costs little and makes
    the hash right for texts that come from elsewhere (tests, imports of other databases).
    """
    return text_fingerprint(to_simplified(strip_pinyin_annotations(text or "")))


def content_hash(text: str) -> str:
    """Return the SHA-1 of :func:`dedupe_text`: equal for exact republications."""
    return hashlib.sha1(dedupe_text(text).encode("utf-8")).hexdigest()


def shingle_hashes(fingerprint: str) -> np.ndarray:
    """Return the 64-bit hashes of the ``SHINGLE``-character shingles of a fingerprint.

    Repeated shingles repeat their hash; a minimum does not mind.
    """
    codes = np.frombuffer(fingerprint.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < SHINGLE:
        codes = np.concatenate([codes, np.zeros(SHINGLE - len(codes), dtype=np.uint64)])
    n = len(codes) - SHINGLE + 1
    h = np.zeros(n, dtype=np.uint64)
    for j in range(SHINGLE):
        h += codes[j : j + n] * _SHINGLE_POW[j]
    # splitmix64 finaliser: spreads the polynomial hash over all 64 bits.
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def minhash(fingerprint: str) -> np.ndarray:
    """Return the ``NUM_PERM``-slot MinHash signature (uint32) of a fingerprint's shingles.

    One-permutation hashing: the top 7 bits of a shingle's hash pick its slot, the rest is
    its value, and each slot keeps its minimum. A slot no shingle fell into borrows from the
    next filled slot to its right, offset by the distance (Shrivastava & Li's "rotation"
    densification), so two texts agree on a slot with probability equal to their Jaccard
    similarity, as with ``NUM_PERM`` independent permutations, at a fraction of the cost.
    """
    h = shingle_hashes(fingerprint)
    sig = np.full(NUM_PERM, _EMPTY, dtype=np.uint64)
    np.minimum.at(sig, (h >> np.uint64(57)).astype(np.intp), h & _VALUE_MASK)
    empty = sig == _EMPTY
    if empty.any():
        filled = np.flatnonzero(~empty)
        source = filled[np.searchsorted(filled, _SLOTS) % len(filled)]
        sig = sig[source] + ((source - _SLOTS) % NUM_PERM).astype(np.uint64) * _ROTATION
    # 56-bit values plus at most 127 rotations of 2**49 fit in 57 bits: keep the top 32.
    return (sig >> np.uint64(25)).astype(np.uint32)


def band_hashes(signatures: np.ndarray) -> np.ndarray:
    """Return the LSH band keys (int64, band number mixed in) of one or many signatures."""
    sig = np.atleast_2d(signatures)[:, : BANDS * ROWS].astype(np.uint64)
    bands = sig.reshape(len(sig), BANDS, ROWS)
    with np.errstate(over="ignore"):
        keys = (bands * _BAND_MIX).sum(axis=2) + np.arange(BANDS, dtype=np.uint64) * np.uint64(
            0x9E3779B97F4A7C15
        )
        keys ^= keys >> np.uint64(29)
    return keys.view(np.int64)


def estimated_jaccard(sig: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Return the Jaccard similarity estimated from signatures: share of equal slots."""
    return (np.atleast_2d(others) == sig).mean(axis=1)


def jaccard(a: str, b: str) -> float:
    """Return the exact Jaccard similarity of two texts' shingle sets (for evaluation)."""
    sa, sb = (
        set(shingle_hashes(dedupe_text(a)).tolist()),
        set(shingle_hashes(dedupe_text(b)).tolist()),
    )
    return len(sa & sb) / max(1, len(sa | sb))
