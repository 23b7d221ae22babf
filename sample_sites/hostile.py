"""A hostile sample site: every kind of bad input a crawl meets, one link each (issue 12).

Not one of the demo's sites (``SAMPLE_SITE_IDS``): tests start it on demand with
:func:`start_hostile_site`, beside the ordinary sample sites. Its column ``/list/`` links
``ARTICLES`` ordinary articles and one article URL per case below; three more columns are
traps or not HTML at all, and its robots.txt is an HTML page.

=============================  ==============================================================
path                           what it serves
=============================  ==============================================================
``/robots.txt``                an HTML "page not found" page with status 200
``/a/empty.html``              200 ``text/html`` with an empty body
``/a/binary.html``             a PNG image served as ``text/html``
``/a/random-bytes.html``       64 KiB of random bytes as ``text/html; charset=utf-8``
``/a/truncated.html``          an article cut off in the middle of its body (complete answer)
``/a/huge.html``               a 50 MB page, streamed without ``Content-Length``
``/a/gzip-bomb.html``          ``Content-Encoding: gzip``: 256 KB that inflate to 256 MiB
``/a/charset-gbk-is-utf8.html``  a UTF-8 article whose header and ``<meta>`` say GBK
``/a/charset-utf8-is-gbk.html``  a GBK article whose header and ``<meta>`` say UTF-8
``/a/mixed-encodings.html``    a UTF-8 article with one paragraph pasted in as GBK bytes
``/a/utf16-bom.html``          a UTF-16 (little-endian) article with a BOM, ``text/html``
``/a/redirect-loop.html``      302 to ``/a/redirect-loop-2.html``, which 302s back
``/a/redirect-other-site.html``   302 to another registry site's article
``/a/redirect-unlisted.html``  302 to a loopback address in no registry (``CANARY_HOST``)
``/a/slow-loris.html``         headers, then one byte every 0.2 s, for up to a minute
``/a/reset-mid-body.html``     half the promised ``Content-Length``, then a TCP reset
``/a/5xx-storm.html``          503 to every request
``/a/5xx-recovers.html``       503 to the first two requests, then the article
``/trap/index.html``           a column whose pagination never ends (``index_N.html``)
``/calendar/index.html``       a calendar column: months link months and days, days link days,
                               forever in both directions
``/rss.xml``, ``/sitemap.xml``  malformed XML (a column of the registry entry, and advertised
                               in every page's ``<link rel=alternate>`` and footer)
=============================  ==============================================================

``handle.requests()`` lists each request's path and status; ``handle.canary_requests()`` the
requests that reached the unlisted loopback address (a correct crawl sends none).
"""

from __future__ import annotations

import functools
import random
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from markupsafe import escape

from .content import PARAGRAPH, SUBHEAD, make_story, make_title
from .server import _Server

HOSTILE_ID = "hostile-site"
HOSTILE_HOST = "127.0.0.40"
CANARY_HOST = "127.0.0.41"  # a loopback address that no registry entry lists
ARTICLES = 8  # ordinary articles, all of which a crawl must store
PER_PAGE = 5
HUGE_BYTES = 50 * 1000 * 1000
BOMB_BYTES = 256 * 1024 * 1024
TRICKLE_SECONDS = 60.0
FIRST_DAY = datetime(2024, 3, 1, 9, 30)
FOOTER = "主办：中共市直机关工作委员会　承办：市直机关党建网　版权所有"

# Case name -> path; the paths the list page links (redirect-loop-2 is reached by redirect).
CASES: dict[str, str] = {
    name: f"/a/{name}.html"
    for name in (
        "empty",
        "binary",
        "random-bytes",
        "truncated",
        "huge",
        "gzip-bomb",
        "charset-gbk-is-utf8",
        "charset-utf8-is-gbk",
        "mixed-encodings",
        "utf16-bom",
        "redirect-loop",
        "redirect-other-site",
        "redirect-unlisted",
        "slow-loris",
        "reset-mid-body",
        "5xx-storm",
        "5xx-recovers",
    )
}
TRAP_START, CALENDAR_START = "/trap/index.html", "/calendar/index.html"
FEEDS = ("/rss.xml", "/sitemap.xml")
# Cases whose page is an article the crawl must store, with the title it must find.
STORED_CASES = (
    "truncated",
    "charset-gbk-is-utf8",
    "charset-utf8-is-gbk",
    "mixed-encodings",
    "utf16-bom",
    "5xx-recovers",
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
    b"\x1f\xf3\xffa\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x01\x01\x01\x00\x18\xdd\x8d\xb4"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
) + bytes(range(256)) * 16
ROBOTS_HTML = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>页面不存在</title></head>'
    "<body><h1>404</h1><p>您访问的页面不存在或已被删除。</p>"
    '<p><a href="/">返回首页</a></p></body></html>'
).encode()
BROKEN_RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>党建动态 & 要闻'
    "</title><item><title>未闭合的条目<link>/a/news-1.html</item><item><title>\x00\x01"
).encode() + b"\xff\xfe<<<"
BROKEN_SITEMAP = (
    b'<?xml version="1.0" encoding="gbk"?><urlset xmlns="http://www.sitemaps.org/'
    b'schemas/sitemap/0.9"><url><loc>/a/news-1.html<loc></url><url><lastmod>2024-13-45'
)

Body = bytes | Callable[[BaseHTTPRequestHandler], None]  # bytes, or a writer of the raw answer
Answer = tuple[int, dict[str, str], Body]


@dataclass(frozen=True)
class HostileArticle:
    """An article of the hostile site: where it is and what a crawl must store."""

    path: str
    title: str
    published: str  # as the page shows it, "YYYY-MM-DD HH:MM"
    paragraphs: tuple[str, ...]


@functools.cache
def articles() -> dict[str, HostileArticle]:
    """The ordinary articles and the case pages that are articles, by path (deterministic)."""
    rng = random.Random("hostile-site")
    used: set[str] = set()
    paths = [f"/a/news-{n}.html" for n in range(1, ARTICLES + 1)]
    paths += [CASES[name] for name in STORED_CASES]
    out: dict[str, HostileArticle] = {}
    for n, path in enumerate(paths):
        when = FIRST_DAY - timedelta(days=3 * n, hours=n)
        title, ctx = make_title(rng, "organs", when, used)
        story = make_story(f"hostile:{n}", "organs", title, when, ctx)
        paragraphs = tuple(text for kind, text in story.blocks if kind in (PARAGRAPH, SUBHEAD))
        out[path] = HostileArticle(path, title, f"{when:%Y-%m-%d %H:%M}", paragraphs)
    return out


def page_html(title: str, body: str, charset: str = "utf-8") -> str:
    """A page of the hostile site: head with charset and feed links, header, body, footer."""
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
        f"<title>{escape(title)}_机关党建网</title>\n"
        '<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss.xml">\n'
        "</head>\n<body>\n"
        '<div class="header"><a href="/list/index.html">首页</a> &gt; 党建动态</div>\n'
        f"{body}\n"
        '<div class="footer"><a href="/sitemap.xml">网站地图</a> | <a href="/rss.xml">RSS订阅</a>'
        f"<p>{FOOTER}</p></div>\n</body>\n</html>\n"
    )


def article_html(article: HostileArticle, charset: str = "utf-8") -> str:
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    body = (
        f'<div class="article"><h1>{escape(article.title)}</h1>\n'
        f'<div class="info">发布时间：{article.published}　来源：市直机关工委</div>\n'
        f'<div id="zoom">\n{paragraphs}\n</div></div>'
    )
    return page_html(article.title, body, charset)


def list_html(page: int) -> str:
    """The ``/list/`` column: ordinary articles first, then every case, then the pager."""
    links = [(p, a.title) for p, a in articles().items() if p.startswith("/a/news-")]
    links += [(path, f"党建工作动态（{name}）") for name, path in CASES.items()]
    chunk = links[(page - 1) * PER_PAGE * 3 : page * PER_PAGE * 3]
    pages = -(-len(links) // (PER_PAGE * 3))
    items = "\n".join(f'<li><a href="{p}">{escape(t)}</a></li>' for p, t in chunk)
    pager = " ".join(
        f'<a href="/list/index{"" if n == 1 else f"_{n}"}.html">{n}</a>'
        for n in range(1, pages + 1)
    )
    return page_html(
        "党建动态", f'<ul class="list">\n{items}\n</ul>\n<div class="pager">{pager}</div>'
    )


def trap_html(page: int) -> str:
    """Pagination that never ends: every page links the next one and a far "last" page."""
    first = "" if page > 1 else '<li><a href="/a/news-1.html">党建要闻</a></li>'
    pager = (
        f'<a href="/trap/index_{page + 1}.html">下一页</a> '
        f'<a href="/trap/index_{page + 1000}.html">尾页</a>'
    )
    return page_html(f"专题 第{page}页", f"<ul>{first}</ul><div class='pager'>{pager}</div>")


def calendar_html(key: str) -> str:
    """A calendar page: a month links its neighbours and its days, a day its neighbours."""
    if len(key) == 7:  # YYYY-MM
        year, month = int(key[:4]), int(key[5:])
        prev_m = f"{year - (month == 1)}-{12 if month == 1 else month - 1:02d}"
        next_m = f"{year + (month == 12)}-{1 if month == 12 else month + 1:02d}"
        links = [prev_m, next_m] + [f"{key}-{d:02d}" for d in range(1, 29)]
    else:
        day = datetime.strptime(key, "%Y-%m-%d")
        links = [f"{day - timedelta(days=1):%Y-%m-%d}", f"{day + timedelta(days=1):%Y-%m-%d}"]
    cells = " ".join(f'<a href="/calendar/{k}.html">{k}</a>' for k in links)
    return page_html(f"活动日历 {key}", f'<div class="calendar">{cells}</div>')


@functools.cache
def gzip_bomb() -> bytes:
    """``BOMB_BYTES`` of zeros, gzip-compressed (about 250 KB; built once, ~0.7 s)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    out = [packer.compress(zeros) for _ in range(BOMB_BYTES >> 20)]
    return b"".join(out) + packer.flush()


def _html(text: str, charset: str = "utf-8", header: str | None = None) -> Answer:
    declared = header if header is not None else charset
    return (
        200,
        {"Content-Type": f"text/html; charset={declared}"},
        text.encode(charset, "xmlcharrefreplace"),
    )


def _trickle(handler: BaseHTTPRequestHandler) -> None:
    """Slow-loris: promise 4000 bytes, then send one every 0.2 s until the client gives up."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", "4000")
    handler.end_headers()
    deadline = time.monotonic() + TRICKLE_SECONDS
    try:
        while time.monotonic() < deadline:
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass  # the crawler hung up: what it should do
    handler.close_connection = True


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Promise a full article, send half of it, then reset the connection (RST, not FIN)."""
    body = article_html(articles()["/a/news-1.html"]).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    try:
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        time.sleep(0.05)
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    handler.close_connection = True
    handler.connection.close()


def _stream_huge(handler: BaseHTTPRequestHandler) -> None:
    """A 50 MB page without Content-Length: the body ends when the connection closes."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Connection", "close")
    handler.end_headers()
    chunk = ("<p>" + "党建引领基层治理。" * 2000 + "</p>\n").encode()
    sent = 0
    try:
        handler.wfile.write(b"<!DOCTYPE html><html><head><title>huge</title></head><body>")
        while sent < HUGE_BYTES:
            handler.wfile.write(chunk)
            sent += len(chunk)
    except OSError:
        pass  # the crawler stopped reading at its size limit
    handler.close_connection = True


@dataclass
class HostileSite:
    """What the hostile site answers; ``other_url`` is where redirect-other-site points."""

    base_url: str = f"http://{HOSTILE_HOST}"
    canary_url: str = f"http://{CANARY_HOST}"
    other_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _counts: dict[str, int] = field(default_factory=dict, repr=False)

    def registry_entry(self) -> dict[str, Any]:
        """The site's registry entry: four columns, its own host only."""
        parts = urlsplit(self.base_url)
        return {
            "id": HOSTILE_ID,
            "name": "敌意测试党建网",
            "level": "city",
            "province": "湖北省",
            "city": "武汉市",
            "home_url": self.base_url + "/list/index.html",
            "start_urls": [
                self.base_url + p for p in ("/list/index.html", TRAP_START, CALENDAR_START, *FEEDS)
            ],
            "allowed_hosts": [parts.hostname],
            "article_patterns": [r"/a/[\w-]+\.html$"],
            "list_patterns": [
                r"/list/index(_\d+)?\.html$",
                r"/trap/index(_\d+)?\.html$",
                r"/calendar/(index|\d{4}-\d{2}(-\d{2})?)\.html$",
            ],
            "encoding": None,
            "schedule": "1d",
            "enabled": True,
            "sample": True,
            "delay": 0,
        }

    def _count(self, path: str) -> int:
        with self._lock:
            self._counts[path] = self._counts.get(path, 0) + 1
            return self._counts[path]

    def respond(self, path: str) -> Answer:
        """Answer a GET of ``path``: status, headers and a body (bytes, or a writer)."""
        path = urlsplit(path).path
        count = self._count(path)
        arts = articles()
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, ROBOTS_HTML
        if path in ("/", "/list/index.html") or path.startswith("/list/index_"):
            page = 1 if path in ("/", "/list/index.html") else int(path[12:-5])
            return _html(list_html(page))
        if path.startswith("/trap/index"):
            page = 1 if path == TRAP_START else int(path[12:-5])
            return _html(trap_html(page))
        if path.startswith("/calendar/"):
            key = path[10:-5]
            return _html(calendar_html("2024-03" if key == "index" else key))
        if path == "/rss.xml":
            return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, BROKEN_RSS
        if path == "/sitemap.xml":
            return 200, {"Content-Type": "application/xml"}, BROKEN_SITEMAP
        if path.startswith("/a/news-") and path in arts:
            return _html(article_html(arts[path]))
        return self._case(path, count)

    def _case(self, path: str, count: int) -> Answer:
        arts = articles()
        name = path[3:-5]
        if name == "empty":
            return 200, {"Content-Type": "text/html"}, b""
        if name == "binary":
            return 200, {"Content-Type": "text/html"}, PNG
        if name == "random-bytes":
            return (
                200,
                {"Content-Type": "text/html; charset=utf-8"},
                random.Random(7).randbytes(65536),
            )
        if name == "truncated":
            text = article_html(arts[path])
            return _html(text[: text.index("</p>", len(text) // 2)])
        if name == "huge":
            return 200, {}, _stream_huge
        if name == "gzip-bomb":
            headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
            return 200, headers, gzip_bomb()
        if name == "charset-gbk-is-utf8":
            text = article_html(arts[path], charset="gbk")
            return 200, {"Content-Type": "text/html; charset=gbk"}, text.encode("utf-8")
        if name == "charset-utf8-is-gbk":
            return _html(article_html(arts[path]), charset="gbk", header="utf-8")
        if name == "mixed-encodings":
            # The footer is a server-side include still saved in GBK, as on many old sites.
            body = article_html(arts[path]).encode("utf-8")
            footer = FOOTER.encode("utf-8")
            return (
                200,
                {"Content-Type": "text/html; charset=utf-8"},
                body.replace(footer, FOOTER.encode("gbk")),
            )
        if name == "utf16-bom":
            text = article_html(arts[path], charset="utf-16")
            return 200, {"Content-Type": "text/html"}, text.encode("utf-16")
        if name == "redirect-loop":
            return 302, {"Location": "/a/redirect-loop-2.html"}, b""
        if name == "redirect-loop-2":
            return 302, {"Location": "/a/redirect-loop.html"}, b""
        if name == "redirect-other-site":
            return 302, {"Location": self.other_url or self.canary_url + "/a/other.html"}, b""
        if name == "redirect-unlisted":
            return 302, {"Location": self.canary_url + "/a/unlisted.html"}, b""
        if name == "slow-loris":
            return 200, {}, _trickle
        if name == "reset-mid-body":
            return 200, {}, _reset
        if name == "5xx-storm" or (name == "5xx-recovers" and count <= 2):
            return 503, {"Content-Type": "text/html"}, b"<html><body>503</body></html>"
        if name == "5xx-recovers":
            return _html(article_html(arts[path]))
        return 404, {"Content-Type": "text/html; charset=utf-8"}, ROBOTS_HTML


def _handler(answer: Callable[[str], Answer], log: list[tuple[str, int]]) -> type:
    class Handler(BaseHTTPRequestHandler):
        server_version = "nginx"
        sys_version = ""
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            status, headers, body = answer(self.path)
            log.append((self.path, status))
            if callable(body):
                body(self)
                return
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                self.close_connection = True  # the crawler hung up (a body over its limit)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@dataclass
class HostileSiteHandle:
    """The running hostile site and its canary (the unlisted loopback address)."""

    site: HostileSite
    servers: list[_Server]
    log: list[tuple[str, int]]
    canary_log: list[tuple[str, int]]

    @property
    def base_url(self) -> str:
        return self.site.base_url

    def registry_entry(self) -> dict[str, Any]:
        return self.site.registry_entry()

    def requests(self) -> list[tuple[str, int]]:
        """Every request the hostile site answered: ``(path, status)``."""
        return list(self.log)

    def canary_requests(self) -> list[tuple[str, int]]:
        """Requests that reached the unlisted loopback address (a correct crawl sends none)."""
        return list(self.canary_log)

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        self.servers.clear()

    def __enter__(self) -> HostileSiteHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_hostile_site(
    host: str = HOSTILE_HOST, canary_host: str = CANARY_HOST, other_url: str = ""
) -> HostileSiteHandle:
    """Serve the hostile site and its canary on loopback, on ephemeral ports.

    Args:
        host: the hostile site's address.
        canary_host: a loopback address in no registry; redirect-unlisted points there.
        other_url: where redirect-other-site points (another registry site's article);
            the canary when empty.

    Returns:
        A handle: ``base_url``, ``registry_entry()``, ``requests()``, ``canary_requests()``,
        ``stop()``.
    """
    gzip_bomb()  # built before serving, so the first request does not wait for it
    site = HostileSite(other_url=other_url)
    log: list[tuple[str, int]] = []
    canary_log: list[tuple[str, int]] = []
    canary = _Server(
        (canary_host, 0),
        _handler(lambda path: (200, {"Content-Type": "text/html"}, b"<html></html>"), canary_log),
    )
    server = _Server((host, 0), _handler(site.respond, log))
    site.base_url = f"http://{host}:{server.server_address[1]}"
    site.canary_url = f"http://{canary_host}:{canary.server_address[1]}"
    for srv in (server, canary):
        threading.Thread(
            target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
    return HostileSiteHandle(site, [server, canary], log, canary_log)
