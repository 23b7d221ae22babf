"""Publication dates: parse the forms Chinese news pages use, and the dates hidden in URLs.

Dates are returned as ``YYYY-MM-DD``, or ``YYYY-MM-DDTHH:MM`` when the page gives a time,
in China local time as printed on the page (no time-zone conversion).
"""

from __future__ import annotations

import re
from datetime import date

# 2023-04-19 16:15:00 · 2023/4/19 · 2023.04.19 · 2023年4月19日 16时15分 · 2023-04-19T16:15+08:00
DATE_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?P<s>[-/.年])\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})"
    r"(?!\d)\s*日?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?!\d))?"
)
# Compact dates inside a longer string: 20230419, as in meta tags "20230419 16:15".
COMPACT_DATE_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)"
    r"(?:\s*(?P<H>\d{1,2}):(?P<M>\d{2}))?"
)
# Dates in article URLs, most specific first.
URL_DATE_RES = (
    # TRS: /art/2023/4/19/art_1234_5678.html (Hanweb) or .../t20230419_123456.html
    re.compile(r"[/_]t(?P<y>20\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)_"),
    re.compile(r"/(?P<y>20\d{2})/(?P<m>[01]?\d)/(?P<d>[0-3]?\d)/"),
    # Xinhua and People's Daily: /2023-05/06/c_1129590000.htm, /n1/2023/0506/c117092-...
    re.compile(r"/(?P<y>20\d{2})-(?P<m>[01]\d)/(?P<d>[0-3]\d)/"),
    re.compile(r"/(?P<y>20\d{2})/(?P<m>[01]\d)(?P<d>[0-3]\d)/"),
    re.compile(r"/(?P<y>20\d{2})(?P<m>[01]\d)/(?P<d>[0-3]\d)/"),
    re.compile(r"(?<![\d])(?P<y>20\d{2})-(?P<m>[01]\d)-(?P<d>[0-3]\d)(?!\d)"),
    re.compile(r"/(?P<y>20\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)/"),
    re.compile(r"[/_](?P<y>20\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)[_.]"),
)


def format_date(
    year: int, month: int, day: int, hour: int | None = None, minute: int | None = None
) -> str | None:
    """Return ``YYYY-MM-DD`` (or ``YYYY-MM-DDTHH:MM``) for a valid date, else None."""
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    if not 1990 <= value.year <= 2100:
        return None
    text = value.isoformat()
    if hour is not None and minute is not None and 0 <= hour < 24 and 0 <= minute < 60:
        # Midnight exactly is how many CMSs print "no time given".
        if (hour, minute) != (0, 0):
            text += f"T{hour:02d}:{minute:02d}"
    return text


def _from_match(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    hour = int(groups["H"]) if groups.get("H") else None
    minute = int(groups["M"]) if groups.get("M") else None
    return format_date(int(groups["y"]), int(groups["m"]), int(groups["d"]), hour, minute)


def parse_date(text: str | None) -> str | None:
    """Return the first valid date in a short text (an info line or a meta value).

    Args:
        text: e.g. ``发布时间:2019-08-03`` or ``2023年04月19日 16:15``.

    Returns:
        ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``, or None when no valid date is found.
    """
    if not text:
        return None
    for match in DATE_RE.finditer(text):
        found = _from_match(match)
        if found:
            return found
    for match in COMPACT_DATE_RE.finditer(text):
        found = _from_match(match)
        if found:
            return found
    return None


def find_date_in_url(url: str | None) -> str | None:
    """Return the date an article URL carries (``t20230419_``, ``/2023/4/19/``, ``2023-05/06``).

    Args:
        url: The article URL.

    Returns:
        ``YYYY-MM-DD``, or None when the URL holds no plausible date.
    """
    if not url:
        return None
    path = re.sub(r"^[a-z]+://[^/]+", "", url)
    for pattern in URL_DATE_RES:
        for match in pattern.finditer(path):
            found = format_date(int(match["y"]), int(match["m"]), int(match["d"]))
            if found:
                return found
    return None
