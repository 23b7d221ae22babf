"""The common machinery of a sample site: routing, page rendering helpers, robots.txt.

Each CMS family subclasses :class:`SampleSite` (``cms_gov.py``, ``cms_press.py``) and supplies its
URL scheme, its templates and its quirks.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from datetime import timedelta, timezone
from email.utils import format_datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from .catalog import ARTICLE, DEAD, DISALLOWED, MALFORMED, PDF, Catalog, Entry, SiteSpec
from .content import BULLET, IMAGE, SLOGAN, SUBHEAD
from .seeds import load_seeds
from .text import inject_pinyin, to_simplified, to_traditional

DEFAULT_PORT = 8780
CHINA = timezone(timedelta(hours=8))
Response = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class ExpectedArticle:
    """An article a complete crawl of the sample sites must find."""

    site_id: str
    path: str  # path+query on that site
    title: str  # as the page shows it (original script, pinyin included)
    title_simplified: str  # after pinyin removal and OpenCC t2s
    published: str  # "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM" when the page shows the time
    seed: str | None  # seed file stem when the article is (a copy of) a seed page
    republished_from: tuple[str, str] | None  # (site_id, path) of the original of a copy


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment over ``templates/``."""
    env = Environment(
        loader=PackageLoader(__package__, "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rfc822"] = lambda when: format_datetime(when.replace(tzinfo=CHINA))
    return env


def route_key(path: str) -> str:
    """Normalise ``path`` so that query parameters match in any order."""
    parts = urlsplit(path)
    query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return parts.path + ("?" + query if query else "")


def route_key_no_query(path: str) -> str:
    return urlsplit(path).path


class SampleSite:
    """One sample site: a catalogue of pages and the CMS that renders them."""

    encoding: ClassVar[str] = "utf-8"
    charset_header: ClassVar[bool] = True  # False: the GBK site sends "text/html" alone
    paragraph_style: ClassVar[str] = ""
    shows_time: ClassVar[bool] = True  # whether article pages show the time of day
    registry: ClassVar[dict[str, Any]] = {}

    def __init__(self, spec: SiteSpec, catalog: Catalog, index: int, meta: dict[str, Any]) -> None:
        self.spec = spec
        self.catalog = catalog
        self.id = spec.id
        self.name = spec.name
        self.meta = meta
        self.default_host = f"127.0.0.{11 + index}"
        self.base_url = f"http://{self.default_host}:{DEFAULT_PORT}"
        self.peer_urls: dict[str, str] = {}  # other sites' base URLs, for off-site links
        self._routes: dict[str, tuple[str, Any]] | None = None

    # -- the public API ------------------------------------------------------------------
    def expected_articles(self) -> list[ExpectedArticle]:
        """Every article a crawl from the start URLs that obeys robots.txt must store."""
        return [
            ExpectedArticle(
                self.id,
                e.path,
                e.title,
                to_simplified(e.title),
                self.shown_published(e),
                e.seed,
                e.republished_from,
            )
            for e in self.catalog.entries
            if e.kind == ARTICLE
        ]

    def expected_failures(self) -> list[tuple[str, str]]:
        """Linked pages that must fail: ``(path, "dead-link" | "malformed")``."""
        kinds = {DEAD: "dead-link", MALFORMED: "malformed"}
        return [(e.link, kinds[e.kind]) for e in self.catalog.entries if e.kind in kinds]

    def disallowed_paths(self) -> list[str]:
        """Linked paths that robots.txt disallows; a polite crawl never fetches them."""
        hidden = [c.key for c in self.spec.columns if not c.crawlable]
        paths = [
            path
            for path, (kind, arg) in self.routes().items()
            if kind == "list" and arg[0] in hidden
        ]
        return paths + [e.path for e in self.catalog.entries if e.kind == DISALLOWED]

    def start_urls(self, base_url: str) -> list[str]:
        return [base_url + self.list_path(c.key, 1) for c in self.spec.columns if c.crawlable]

    def registry_entry(self, base_url: str) -> dict[str, Any]:
        """This site's entry for the site registry, served at ``base_url``."""
        parts = urlsplit(base_url)
        host = parts.hostname or self.default_host
        return {
            "id": self.id,
            "name": self.name,
            **{k: self.registry[k] for k in ("level", "province", "city", "district")},
            "home_url": base_url + self.home_path(),
            "start_urls": self.start_urls(base_url),
            "allowed_hosts": [f"{host}:{parts.port}" if host == "127.0.0.1" else host],
            "article_patterns": list(self.registry["article_patterns"]),
            "list_patterns": list(self.registry["list_patterns"]),
            "encoding": self.registry["encoding"],
            "schedule": self.registry["schedule"],
            "enabled": True,
            "sample": True,
            "delay": 0,
        }

    # -- URL scheme, overridden per CMS ---------------------------------------------------
    def list_path(self, column: str, page: int) -> str:
        raise NotImplementedError

    def home_path(self) -> str:
        return "/"

    def pages(self, column: str) -> int:
        return max(1, -(-len(self.catalog.columns[column]) // self.spec.per_page))

    def robots_disallow(self) -> list[str]:
        return ["/admin/", "/cgi-bin/"]

    def extra_routes(self) -> dict[str, tuple[str, Any]]:
        return {}

    # -- rendering, overridden per CMS ----------------------------------------------------
    list_template: ClassVar[str] = ""
    """The Jinja template of this CMS's column list pages."""

    def list_context(self, column: str, page: int) -> dict[str, Any]:
        """What a list template gets; a CMS whose page bar needs more adds to it."""
        return {
            "site": self,
            "col": self.column(column),
            "page": page,
            "pages": self.pages(column),
            "items": self.page_items(column, page),
        }

    def render_list(self, column: str, page: int) -> str:
        return (
            environment().get_template(self.list_template).render(**self.list_context(column, page))
        )

    def render_article(self, entry: Entry) -> str:
        raise NotImplementedError

    def render_home(self) -> str:
        """The home page: full navigation, news blocks and footer (``home.py``); a site
        without a home page there shows its first column."""
        from .home import HOMES, render_home

        if self.id in HOMES:
            return render_home(self)
        return self.render_list(self.spec.columns[0].key, 1)

    def render_extra(self, kind: str, arg: Any) -> Response:
        raise NotImplementedError

    # -- routing --------------------------------------------------------------------------
    def routes(self) -> dict[str, tuple[str, Any]]:
        if self._routes is None:
            routes: dict[str, tuple[str, Any]] = {"/robots.txt": ("robots", None)}
            routes[route_key(self.home_path())] = ("home", None)
            routes["/"] = ("home", None)
            for column in self.spec.columns:
                for page in range(1, self.pages(column.key) + 1):
                    routes[route_key(self.list_path(column.key, page))] = (
                        "list",
                        (column.key, page),
                    )
            for entry in self.catalog.entries:
                routes[route_key(entry.path)] = ("entry", entry)
                if entry.link != entry.path:
                    routes[route_key(entry.link)] = ("redirect", entry.path)
            routes.update({route_key(k): v for k, v in self.extra_routes().items()})
            self._routes = routes
        return self._routes

    def respond(self, path: str) -> Response:
        """Answer a GET of ``path`` (with its query): status, headers and body."""
        kind, arg = self.routes().get(route_key(path), ("missing", None))
        if kind == "robots":
            lines = ["User-agent: *"] + [f"Disallow: {p}" for p in self.robots_disallow()]
            lines += self.robots_extra()
            return 200, {"Content-Type": "text/plain"}, ("\n".join(lines) + "\n").encode()
        if kind == "home":
            return self.html(self.render_home())
        if kind == "list":
            return self.html(self.render_list(*arg))
        if kind == "redirect":
            return (
                301,
                {"Location": arg, "Content-Type": "text/html"},
                b"<html><body>Moved</body></html>",
            )
        if kind == "entry":
            return self.respond_entry(arg)
        if kind == "missing":
            return self.not_found()
        return self.render_extra(kind, arg)

    def robots_extra(self) -> list[str]:
        return []

    def shown_published(self, entry: Entry) -> str:
        """The publication date as the article page shows it, in ISO form."""
        return (
            f"{entry.published:%Y-%m-%dT%H:%M}"
            if self.shows_time
            else f"{entry.published:%Y-%m-%d}"
        )

    def respond_entry(self, entry: Entry) -> Response:
        if entry.kind == DEAD:
            return self.not_found()
        if entry.kind == MALFORMED:
            return self.malformed(entry)
        return self.html(self.render_article(entry))

    def malformed(self, entry: Entry) -> Response:
        return 200, {"Content-Type": "text/html; charset=utf-8"}, b"<html><body></body></html>"

    def html(self, text: str, status: int = 200) -> Response:
        body = text.encode(self.encoding, "xmlcharrefreplace")
        ctype = "text/html" + (f"; charset={self.encoding}" if self.charset_header else "")
        return status, {"Content-Type": ctype}, body

    def not_found(self) -> Response:
        page = environment().get_template("not_found.html").render(site=self)
        return self.html(page, 404)

    # -- helpers for templates ------------------------------------------------------------
    def column(self, key: str) -> Any:
        return next(c for c in self.spec.columns if c.key == key)

    def page_items(self, column: str, page: int) -> list[Entry]:
        items = self.catalog.columns[column]
        if self.pages(column) == 1:
            return items  # a one-page column (a script array, an e-paper section) lists all
        size = self.spec.per_page
        return items[(page - 1) * size : page * size]

    def neighbours(self, entry: Entry) -> tuple[Entry | None, Entry | None]:
        """The previous (older) and next (newer) article of the same column."""
        items = self.catalog.columns[entry.column]
        i = items.index(entry)
        newer = items[i - 1] if i > 0 else None
        older = items[i + 1] if i + 1 < len(items) else None
        return older, newer

    def related(self, entry: Entry, count: int) -> list[Entry]:
        """Articles of the same site for 相关新闻/为你推荐 boxes, chosen by the entry's path."""
        rng = random.Random(f"related:{entry.path}")
        pool = [e for e in self.catalog.entries[:400] if e.kind == ARTICLE and e is not entry]
        return rng.sample(pool, min(count, len(pool)))

    def latest(self, count: int) -> list[Entry]:
        return [e for e in self.catalog.entries if e.kind == ARTICLE][:count]

    def body_html(self, entry: Entry, traditional: bool = False) -> Markup:
        """Render the story's blocks as the CMS editor would have saved them."""
        story = entry.story()
        blocks = list(story.blocks)
        if entry.seed and traditional:
            blocks = list(load_seeds()[entry.seed].blocks)
        elif traditional:
            blocks = [(k, to_traditional(t)) for k, t in blocks]
        if entry.trim and len(blocks) > 3:
            blocks = blocks[:-1]
        out = []
        for n, (kind, text) in enumerate(blocks):
            if traditional and entry.seed:
                # Seed pages are copied as-is; only some tone marks become character references.
                html_text = Markup(_charref_tones(str(escape(text)), n))
            elif traditional:
                html_text = Markup(inject_pinyin(text, n)[1])
            else:
                html_text = escape(text)
            out.append(self.block_html(kind, html_text, n, entry))
        return Markup("\n".join(out))

    def block_html(self, kind: str, text: Markup, n: int, entry: Entry) -> str:
        style = self.paragraph_style
        if kind == SUBHEAD:
            return f'<p style="text-align: center;"><strong>{text}</strong></p>'
        if kind == SLOGAN:
            return f'<p style="text-align: center;"><span style="color: #c00000;">{text}</span></p>'
        if kind == IMAGE:
            img = f"/uploads/{entry.published:%Y%m}/{entry.num or n}_{n}.jpg"
            return (
                f'<p style="text-align: center;"><img src="{img}" border="0" alt="" /></p>\n'
                f'<p style="text-align: center;">{text}</p>'
            )
        if kind == BULLET:
            return f"<p>{text}</p>"
        return f'<p style="{style}">{text}</p>' if style else f"<p>{text}</p>"


def _charref_tones(text: str, salt: int) -> str:
    """Write the tone-marked vowels of every other pinyin annotation as character references."""
    count = salt

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        if count % 2:
            return match.group()
        return re.sub(
            r"[\u00e0-\u00fc\u0101-\u01dc]", lambda m: f"&#x{ord(m.group()):x};", match.group()
        )

    return re.sub(r"\([a-zü\u00e0-\u00fc\u0101-\u01dc]{1,7}\)", swap, text)


__all__ = ["ARTICLE", "DEAD", "DISALLOWED", "MALFORMED", "PDF", "SampleSite", "route_key"]
