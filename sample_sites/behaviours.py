"""Behaviours a sample site can be switched into, for testing crawl operations.

Every served site answers through a :class:`Behaviour`. By default it only does what the real
static-publishing CMSs behind nginx do: send ``ETag`` and ``Last-Modified`` and answer a
matching conditional request with ``304``. Switched on (``dangjian sample-sites --behaviour
SITE=NAME[:VALUE]``, or ``start_sample_sites(behaviours={...})``), a site can also be slow,
fail, change, or turn into an anti-bot challenge:

======================  ==============================================================
``slow:SECONDS``        every answer waits that long
``5xx_burst:N``         the first N requests (robots.txt aside) answer 503
``5xx_rate:SHARE``      that share of article pages always answers 503
``challenge412``        every answer is a Ruishu-style 412 page with an inline ``$_ts`` script
``wzws``                every answer is a 302 setting ``wzws_cid`` (WZWS challenge redirect)
``captcha``             every answer is a 安全验证 captcha page
``layout_changed``      list pages no longer link their articles (links moved into JS)
``changed:N``           the first N articles are edited (a note added, new ETag)
``removed:N``           the first N articles are taken down (404)
``no_validators``       no ETag / Last-Modified, never 304
======================  ==============================================================

``GET /__stats__.json`` (``?reset=1`` to clear) reports what the site saw: requests, peak
concurrency, user agents, and each request's path, status and whether it was conditional.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from .catalog import ARTICLE
from .sites import route_key

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .sites import Response, SampleSite

STATS_PATH = "/__stats__.json"
BASE_MODIFIED = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = (
    "slow",
    "5xx_burst",
    "5xx_rate",
    "challenge412",
    "wzws",
    "captcha",
    "layout_changed",
    "changed",
    "removed",
    "no_validators",
)
TS_CHALLENGE = (
    b'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; '
    b'charset=utf-8"><script type="text/javascript">$_ts=window[\'$_ts\'];if(!$_ts)$_ts={};'
    b'$_ts.nsd=48271;$_ts.cd="qxrcqqLlErAcGaQaEsqqrsmwwTkwqr";</script>'
    b'<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/c.FxJzG50F.js" '
    b'r="m"></script></head><body></body></html>'
)
CAPTCHA_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>安全验证</title></head><body>'
    '<form method="post" action="/verify"><p>请输入验证码后继续访问</p>'
    '<img src="/captcha.jpg"><input name="code"><button>提交</button></form></body></html>'
).encode()
HREF = re.compile(rb'href="([^"]+)"')


@dataclass
class Behaviour:
    """How one sample site misbehaves; attributes may be changed while it serves."""

    slow: float = 0.0
    burst_5xx: int = 0
    rate_5xx: float = 0.0
    challenge412: bool = False
    wzws: bool = False
    captcha: bool = False
    layout_changed: bool = False
    changed: set[str] = field(default_factory=set)  # article paths whose text was edited
    removed: set[str] = field(default_factory=set)  # article paths taken down (404)
    validators: bool = True
    started: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _inflight: int = 0
    _served: int = 0  # requests other than robots.txt, for 5xx_burst
    _stats: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reset()

    @classmethod
    def from_options(cls, site: SampleSite, options: Mapping[str, Any]) -> Behaviour:
        """Build a behaviour from ``{"slow": 0.5, "changed": 3, "challenge412": True, ...}``."""
        unknown = [k for k in options if k not in NAMES]
        if unknown:
            raise ValueError(f"unknown sample-site behaviour(s) {unknown}; known: {NAMES}")
        articles = [e.path for e in site.catalog.entries if e.kind == ARTICLE]

        def first(n: Any) -> set[str]:
            return set(n) if isinstance(n, (list, set, tuple)) else set(articles[: int(n)])

        return cls(
            slow=float(options.get("slow", 0)),
            burst_5xx=int(options.get("5xx_burst", 0)),
            rate_5xx=float(options.get("5xx_rate", 0)),
            challenge412=bool(options.get("challenge412")),
            wzws=bool(options.get("wzws")),
            captcha=bool(options.get("captcha")),
            layout_changed=bool(options.get("layout_changed")),
            changed=first(options.get("changed", 0)),
            removed=first(options.get("removed", 0)),
            validators=not options.get("no_validators"),
        )

    def reset(self) -> None:
        with self._lock:
            self._served = 0
            self._stats = {"requests": 0, "peak_concurrency": 0, "user_agents": [], "log": []}

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self._stats))

    def respond(self, site: SampleSite, path: str, headers: Mapping[str, str]) -> Response:
        """Answer a GET of ``path`` as ``site`` would with this behaviour."""
        if urlsplit(path).path == STATS_PATH:
            if "reset=1" in path:
                self.reset()
            return 200, {"Content-Type": "application/json"}, json.dumps(self.stats()).encode()
        with self._lock:
            self._inflight += 1
            stats = self._stats
            stats["requests"] += 1
            stats["peak_concurrency"] = max(stats["peak_concurrency"], self._inflight)
            agent = headers.get("User-Agent", "")
            if agent not in stats["user_agents"]:
                stats["user_agents"].append(agent)
            if urlsplit(path).path != "/robots.txt":
                self._served += 1
            count = self._served
        try:
            if self.slow:
                time.sleep(self.slow)
            status, out_headers, body = self._answer(site, path, headers, count)
        finally:
            with self._lock:
                self._inflight -= 1
        with self._lock:
            self._stats["log"].append(
                {
                    "path": path,
                    "status": status,
                    "at": time.time(),
                    "conditional": "If-None-Match" in headers or "If-Modified-Since" in headers,
                }
            )
        return status, out_headers, body

    def _answer(
        self, site: SampleSite, path: str, headers: Mapping[str, str], count: int
    ) -> Response:
        robots = urlsplit(path).path == "/robots.txt"
        if self.challenge412:
            return (
                412,
                {
                    "Content-Type": "text/html; charset=utf-8",
                    "Set-Cookie": "FSSBBIl1UgzbN7N80S=a1b2c3; Path=/; HttpOnly",
                },
                TS_CHALLENGE,
            )
        if self.wzws:
            return (
                302,
                {
                    "Location": f"{path}{'&' if '?' in path else '?'}wzwschallenge=V1ZX",
                    "Set-Cookie": "wzws_cid=3f8e0a1b2c; path=/; HttpOnly",
                    "Content-Type": "text/html",
                },
                b"",
            )
        if self.captcha and not robots:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, CAPTCHA_PAGE
        if not robots and count <= self.burst_5xx:
            return 503, {"Content-Type": "text/html"}, b"<html><body>503</body></html>"
        key = route_key(path)
        kind, arg = site.routes().get(key, ("missing", None))
        if kind == "entry" and arg.kind == ARTICLE:
            if arg.path in self.removed:
                return site.not_found()
            if self.rate_5xx and _share(arg.path) < self.rate_5xx:
                return 503, {"Content-Type": "text/html"}, b"<html><body>503</body></html>"
        status, out_headers, body = site.respond(path)
        modified = BASE_MODIFIED
        if kind == "entry" and arg.path in self.changed:
            body = edit_article(body, site.encoding)
            modified = self.started
        if kind == "list" and self.layout_changed:
            body = hide_article_links(site, path, body)
        if status != 200 or not self.validators or robots:
            return status, out_headers, body
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        out_headers = {
            **out_headers,
            "ETag": etag,
            "Last-Modified": format_datetime(modified, usegmt=True),
        }
        if _not_modified(headers, etag, modified):
            return 304, {"ETag": etag, "Last-Modified": out_headers["Last-Modified"]}, b""
        return status, out_headers, body


def _share(path: str) -> float:
    """A stable number in [0, 1) per path, so the same pages fail on every crawl."""
    return int(hashlib.sha1(path.encode()).hexdigest()[:8], 16) / 0x100000000


def _not_modified(headers: Mapping[str, str], etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match decides when present, else If-Modified-Since."""
    if "If-None-Match" in headers:
        return etag in [t.strip() for t in headers["If-None-Match"].split(",")]
    since = headers.get("If-Modified-Since")
    if since:
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def edit_article(body: bytes, encoding: str) -> bytes:
    """Return the article with a correction note after each paragraph's last sentence."""
    return body.replace("。</p>".encode(encoding), "。（已更正）</p>".encode(encoding))


def hide_article_links(site: SampleSite, path: str, body: bytes) -> bytes:
    """Return a list page whose article links moved into script (``javascript:`` + data-url)."""
    routes = site.routes()

    def swap(match: re.Match[bytes]) -> bytes:
        target = urlsplit(urljoin(path, match.group(1).decode("latin-1")))
        key = route_key(target.path + (f"?{target.query}" if target.query else ""))
        if routes.get(key, ("", None))[0] in ("entry", "redirect"):
            return b'href="javascript:void(0)" data-url="' + match.group(1) + b'"'
        return match.group()

    return HREF.sub(swap, body)


def parse_behaviour_flags(flags: list[str]) -> dict[str, dict[str, Any]]:
    """Parse ``SITE=NAME[:VALUE]`` flags into ``{site: {name: value}}``.

    Example: ``["wuhan-tzb=slow:0.3", "old-district=challenge412"]``.
    """
    result: dict[str, dict[str, Any]] = {}
    for flag in flags:
        site_id, _, spec = flag.partition("=")
        name, _, value = spec.partition(":")
        if not site_id or name not in NAMES:
            raise ValueError(f"behaviour {flag!r}: use SITE=NAME[:VALUE], NAME one of {NAMES}")
        result.setdefault(site_id, {})[name] = value if value else True
    return result
