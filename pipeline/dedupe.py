"""Identity of articles: canonical URLs and content hashes.

The canonical URL is the article's key (one row per canonical URL); the content hash
finds the same text republished under another URL, in either script.
"""

from __future__ import annotations

import hashlib
import unicodedata

from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that only track where a click came from; they never change the page.
TRACKING_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                       "spm", "from", "isappinstalled", "share_token")


def canonical_url(url: str) -> str:
    """Return the URL that identifies a page: sorted query, no fragment, no tracking tags.

    Args:
        url: an absolute URL as fetched or linked.

    Returns:
        The canonical form (w3lib's ``canonicalize_url`` minus tracking parameters).
    """
    cleaned = url_query_cleaner(url, TRACKING_PARAMETERS, remove=True, keep_fragments=False)
    return canonicalize_url(cleaned, keep_fragments=False)


def text_fingerprint(text: str) -> str:
    """Return the comparison form of a normalised text: NFKC, no whitespace or punctuation."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        ch for ch in folded if not (ch.isspace() or unicodedata.category(ch).startswith(("P", "S")))
    )


def content_hash(text: str) -> str:
    """Return the SHA-1 of ``text_fingerprint(text)``: equal for exact republications."""
    return hashlib.sha1(text_fingerprint(text).encode("utf-8")).hexdigest()
