"""The site registry: ``sites.yml`` loaded, validated and turned into ``Site`` records.

Sites are data, not code: the generic spider reads everything site-specific from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from pipeline.errors import SiteConfigError

DEFAULT_REGISTRY = Path(__file__).with_name("sites.yml")
# "national" is for central sites (共产党员网, 人民网党建) that belong to no province.
LEVELS = ("national", "province", "city", "district")
REQUIRED = ("id", "name", "level", "start_urls")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DATE_PLACEHOLDER = re.compile(r"\{date:([^}]+)\}")


@dataclass(frozen=True)
class Site:
    """One site of the registry (see ``crawler/sites.yml`` for the meaning of each key)."""

    id: str
    name: str
    level: str
    start_urls: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    province: str | None = None
    city: str | None = None
    district: str | None = None
    home_url: str | None = None
    article_patterns: tuple[re.Pattern[str], ...] = ()
    list_patterns: tuple[re.Pattern[str], ...] = ()
    encoding: str | None = None
    schedule: str | None = None
    cms: str | None = None
    enabled: bool = True
    verified: bool = False
    sample: bool = False
    delay: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def expanded_start_urls(self, when: datetime) -> list[str]:
        """Return the start URLs with ``{date:FORMAT}`` filled in (e-papers file by day).

        Example: ``/pc/html/{date:%Y-%m/%d}/node_1.htm`` → ``/pc/html/2026-11/23/node_1.htm``.
        """
        return [
            DATE_PLACEHOLDER.sub(lambda m: when.strftime(m.group(1)), u) for u in self.start_urls
        ]

    def allows(self, url: str) -> bool:
        """Return True when ``url`` is on one of this site's allowed hosts.

        An allowed host written as ``host:port`` must match the port too; a bare host
        matches itself and its subdomains on any port.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        host = parts.hostname.lower()
        netloc = f"{host}:{parts.port}" if parts.port else host
        for allowed in self.allowed_hosts:
            if ":" in allowed:
                if netloc == allowed:
                    return True
            elif host == allowed or host.endswith("." + allowed):
                return True
        return False


def load_registry(path: str | Path | None = None) -> list[Site]:
    """Load and validate a site registry.

    Args:
        path: a YAML file with a top-level ``sites:`` list; the bundled registry by default.

    Returns:
        The sites in file order.

    Raises:
        SiteConfigError: the file is missing or invalid; the message names the site and key.
    """
    path = Path(path) if path else DEFAULT_REGISTRY
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SiteConfigError(f"cannot read site registry {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SiteConfigError(f"site registry {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("sites"), list):
        raise SiteConfigError(f"site registry {path} must have a top-level 'sites:' list")
    sites = [parse_site(entry, path) for entry in data["sites"]]
    seen: set[str] = set()
    for site in sites:
        if site.id in seen:
            raise SiteConfigError(f"{path}: site id {site.id!r} appears twice")
        seen.add(site.id)
    return sites


def parse_site(entry: Any, path: str | Path = "<registry>") -> Site:
    """Validate one registry entry and return it as a ``Site``."""
    if not isinstance(entry, dict):
        raise SiteConfigError(f"{path}: every entry under 'sites:' must be a mapping")
    label = entry.get("id", "<no id>")
    missing = [key for key in REQUIRED if not entry.get(key)]
    if missing:
        raise SiteConfigError(f"{path}: site {label!r} lacks {', '.join(missing)}")
    if not ID_PATTERN.match(str(entry["id"])):
        raise SiteConfigError(f"{path}: site id {label!r} must be lower-case letters, digits, '-'")
    if entry["level"] not in LEVELS:
        raise SiteConfigError(
            f"{path}: site {label!r} has level {entry['level']!r}; use one of {', '.join(LEVELS)}"
        )
    start_urls = _str_list(entry, "start_urls", path)
    for url in start_urls:
        if urlsplit(DATE_PLACEHOLDER.sub("", url)).scheme not in ("http", "https"):
            raise SiteConfigError(f"{path}: site {label!r} start URL {url!r} is not http(s)")
    hosts = _str_list(entry, "allowed_hosts", path) or [
        urlsplit(u).hostname or "" for u in start_urls
    ]
    return Site(
        id=entry["id"],
        name=entry["name"],
        level=entry["level"],
        start_urls=tuple(start_urls),
        allowed_hosts=tuple(h.lower() for h in hosts),
        province=entry.get("province"),
        city=entry.get("city"),
        district=entry.get("district"),
        home_url=entry.get("home_url"),
        article_patterns=_patterns(entry, "article_patterns", path),
        list_patterns=_patterns(entry, "list_patterns", path),
        encoding=entry.get("encoding"),
        schedule=entry.get("schedule"),
        cms=entry.get("cms"),
        enabled=bool(entry.get("enabled", True)),
        verified=bool(entry.get("verified", False)),
        sample=bool(entry.get("sample", False)),
        delay=float(entry["delay"]) if entry.get("delay") is not None else None,
        raw=dict(entry),
    )


def select_sites(
    sites: Iterable[Site], ids: Iterable[str] = (), sample: bool = False
) -> list[Site]:
    """Pick the sites a crawl covers.

    Named ``ids`` are taken whatever their flags (an unknown id is an error); with no ids,
    the enabled sample sites when ``sample`` is set, else the enabled real sites.
    """
    sites = list(sites)
    ids = list(ids)
    if ids:
        by_id = {s.id: s for s in sites}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise SiteConfigError(
                f"unknown site id(s): {', '.join(unknown)}. Known: {', '.join(sorted(by_id))}"
            )
        return [by_id[i] for i in ids]
    return [s for s in sites if s.enabled and s.sample == sample]


def _str_list(entry: dict[str, Any], key: str, path: str | Path) -> list[str]:
    value = entry.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SiteConfigError(
            f"{path}: site {entry.get('id')!r} key {key!r} must be a list of strings"
        )
    return value


def _patterns(entry: dict[str, Any], key: str, path: str | Path) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in _str_list(entry, key, path):
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise SiteConfigError(
                f"{path}: site {entry.get('id')!r} {key} {pattern!r} is not a valid regex: {exc}"
            ) from exc
    return tuple(compiled)
