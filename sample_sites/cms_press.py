"""Press and reposting sites: a magazine aggregator, a newspaper channel, an old GBK district
site and a traditional-Chinese mirror.

Example URLs (size 30, default hosts):

* ``http://127.0.0.13:8780/qk/djdt/2.shtml`` → ``/page/2021/1208/8934521.shtml``
* ``http://127.0.0.14:8780/node_2101_2.htm`` → ``/content/2023-05/06/content_123456.htm``
* ``http://127.0.0.16:8780/news_list.asp?classid=3&page=2`` → ``/news_view.asp?id=203``
* ``http://127.0.0.17:8780/zh-hant/news/list_2.html`` → ``/zh-hant/news/c380cd92fa50ab78.html``
"""

from __future__ import annotations

import random
import re
from typing import Any, ClassVar

from markupsafe import Markup, escape

from .catalog import Entry
from .content import PARAGRAPH, related_titles
from .seeds import load_seeds
from .sites import Response, SampleSite, _charref_tones, environment
from .text import inject_pinyin, to_traditional


def _summary(entry: Entry, length: int = 60) -> str:
    text = next((t for k, t in entry.story().blocks if k == PARAGRAPH), entry.title_s)
    return re.sub(r"\s+", "", text)[:length] + "…"


class QikanAggregator(SampleSite):
    """期刊文摘网: magazine articles in the style of fx361/qikan hosts, with an RSS feed."""

    shows_time = False
    registry: ClassVar[dict[str, Any]] = {
        "level": "province",
        "province": "北京市",
        "city": None,
        "district": None,
        "article_patterns": [r"/page/\d{4}/\d{4}/\d+\.shtml$"],
        "list_patterns": [r"/qk/\w+/\d+\.shtml$"],
        "encoding": None,
        "schedule": "1d",
    }

    def list_path(self, column: str, page: int) -> str:
        return f"/qk/{column}/{page}.shtml"

    def summary(self, entry: Entry) -> str:
        return _summary(entry)

    def extra_routes(self) -> dict[str, tuple[str, Any]]:
        return {"/rss/djdt.xml": ("rss", "djdt")}

    def render_extra(self, kind: str, arg: Any) -> Response:
        items = [e for e in self.catalog.columns[arg] if e.kind == "article"][:50]
        xml = (
            environment()
            .get_template("qikan_rss.xml")
            .render(site=self, col=self.column(arg), items=items)
        )
        return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, xml.encode()

    def malformed(self, entry: Entry) -> Response:
        # A page cut off by the origin server and padded with bytes from a gzip stream.
        junk = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + random.Random(entry.path).randbytes(
            700
        )
        return 200, {"Content-Type": "text/html; charset=utf-8"}, junk

    list_template = "qikan_list.html"

    def render_article(self, entry: Entry) -> str:
        story = entry.story()
        titles = load_seeds()[entry.seed].trailer if entry.seed else related_titles(entry.path, 10)
        teasers = list(zip(titles, self.related(entry, len(titles)), strict=False))
        return (
            environment()
            .get_template("qikan_article.html")
            .render(
                site=self,
                entry=entry,
                story=story,
                col=self.column(entry.column),
                body=self.body_html(entry),
                magazine=story.magazine or "党建 2022年01期",
                teasers=teasers,
                description=_summary(entry, 90),
            )
        )


class GzDaily(SampleSite):
    """广州日报·党建频道: ``node_N.htm`` lists, ``content_N.htm`` articles and a sitemap.

    One article moved from ``/gzrb/html/...`` to ``/content/...``; lists still link the old URL,
    which answers 301.
    """

    registry: ClassVar[dict[str, Any]] = {
        "level": "city",
        "province": "广东省",
        "city": "广州市",
        "district": None,
        "article_patterns": [r"/\d{4}-\d{2}/\d{2}/content_\d+\.htm$"],
        "list_patterns": [r"/node_\d+(_\d+)?\.htm$"],
        "encoding": "utf-8",
        "schedule": "2h",
    }

    def list_path(self, column: str, page: int) -> str:
        return f"/node_{column}.htm" if page == 1 else f"/node_{column}_{page}.htm"

    def robots_extra(self) -> list[str]:
        return ["", f"Sitemap: {self.base_url}/sitemap.xml"]

    def robots_disallow(self) -> list[str]:
        return ["/search/", "/member/"]

    def extra_routes(self) -> dict[str, tuple[str, Any]]:
        return {"/sitemap.xml": ("sitemap", None)}

    def render_extra(self, kind: str, arg: Any) -> Response:
        entries = [e for e in self.catalog.entries if e.kind == "article"]
        xml = environment().get_template("gz_sitemap.xml").render(site=self, entries=entries)
        return 200, {"Content-Type": "application/xml; charset=utf-8"}, xml.encode()

    list_template = "gz_list.html"

    def list_context(self, column: str, page: int) -> dict[str, Any]:
        return {**super().list_context(column, page), "hot": self.latest(8)}

    def render_article(self, entry: Entry) -> str:
        story = entry.story()
        return (
            environment()
            .get_template("gz_article.html")
            .render(
                site=self,
                entry=entry,
                story=story,
                col=self.column(entry.column),
                body=self.body_html(entry),
                source=entry.source or story.source,
                related=self.related(entry, 6),
                hot=self.latest(8),
                description=_summary(entry, 90),
            )
        )


class OldDistrict(SampleSite):
    """鼓楼区党建网: an ASP site of nested tables, served as GBK without a charset header."""

    encoding = "gbk"
    charset_header = False
    registry: ClassVar[dict[str, Any]] = {
        "level": "district",
        "province": "江苏省",
        "city": "徐州市",
        "district": "鼓楼区",
        "article_patterns": [r"/news_view\.asp\?id=\d+$"],
        "list_patterns": [r"/news_list\.asp\?classid=\d+(&page=\d+)?$"],
        "encoding": "gb18030",
        "schedule": "1d",
    }

    def list_path(self, column: str, page: int) -> str:
        return f"/news_list.asp?classid={column}" + (f"&page={page}" if page > 1 else "")

    def home_path(self) -> str:
        return "/index.asp"

    def robots_disallow(self) -> list[str]:
        return ["/admin/", "/inc/", "/count.asp"]

    def extra_routes(self) -> dict[str, tuple[str, Any]]:
        # The page bar's 首页 link spells page 1 out: news_list.asp?classid=3&page=1.
        return {
            f"/news_list.asp?classid={c.key}&page=1": ("list", (c.key, 1))
            for c in self.spec.columns
        }

    @staticmethod
    def short(title: str, length: int) -> str:
        return title if len(title) <= length else title[: length - 1] + "..."

    @staticmethod
    def date_text(entry: Entry, with_time: bool) -> str:
        d = entry.published
        text = f"{d.year}-{d.month}-{d.day}"
        return text + (f" {d.hour}:{d.minute:02d}:{d.second:02d}" if with_time else "")

    def block_html(self, kind: str, text: Markup, n: int, entry: Entry) -> str:
        if kind == "p":
            return f"<p>　　{text}</p>"
        return super().block_html(kind, text, n, entry)

    list_template = "old_list.html"

    def list_context(self, column: str, page: int) -> dict[str, Any]:
        return {
            **super().list_context(column, page),
            "total": len(self.catalog.columns[column]),
            "per_page": self.spec.per_page,
        }

    def render_article(self, entry: Entry) -> str:
        older, newer = self.neighbours(entry)
        story = entry.story()
        return (
            environment()
            .get_template("old_article.html")
            .render(
                site=self,
                entry=entry,
                col=self.column(entry.column),
                body=self.body_html(entry),
                source=entry.source or story.source,
                author="admin" if entry.num % 2 else story.author,
                older=older,
                newer=newer,
            )
        )


class MirrorHant(SampleSite):
    """華文資訊網: republishes the other sites in traditional script with pinyin injected."""

    registry: ClassVar[dict[str, Any]] = {
        "level": "province",
        "province": "香港特别行政区",
        "city": None,
        "district": None,
        "article_patterns": [r"/zh-hant/\w+/[0-9a-f]{16}\.html$"],
        "list_patterns": [r"/zh-hant/\w+/(list_\d+\.html)?$"],
        "encoding": "utf-8",
        "schedule": "30 2 * * *",
    }
    locations: ClassVar[dict[str, str]] = {
        "wuchang-museum": "武漢",
        "wuhan-tzb": "武漢",
        "gzdaily-dangjian": "廣州",
        "xuzhou-jgdj": "徐州",
        "old-district": "徐州",
        "qikan-aggregator": "北京",
    }

    def list_path(self, column: str, page: int) -> str:
        return f"/zh-hant/{column}/" + (f"list_{page}.html" if page > 1 else "")

    def home_path(self) -> str:
        return "/zh-hant/"

    def robots_disallow(self) -> list[str]:
        return ["/search/", "/api/", "/zh-hans/"]

    list_template = "mirror_list.html"

    def render_article(self, entry: Entry) -> str:
        story = entry.story()
        origin_site, origin_path = entry.republished_from or ("", "")
        tabs = load_seeds()["001_c380cd92fa50ab78"].trailer
        notice, links, head = "", [], []
        if entry.seed:
            seed = load_seeds()[entry.seed]
            title_html = Markup(_charref_tones(str(escape(seed.title)), 1))
            head = seed.head
            if entry.seed.startswith("004"):
                notice = seed.trailer[0]
                links = [
                    (t.lstrip("- "), f"http://www.tibet.cn/cn/news/{n}/t2022011{n}_719{n}.html")
                    for n, t in enumerate(seed.trailer[1:])
                ]
        else:
            title_html = Markup(inject_pinyin(to_traditional(entry.title_s), entry.num)[1])
            source = inject_pinyin(to_traditional(entry.source or story.source))[0]
            head = [f"{entry.published:%Y-%m-%d %H:%M:%S} 來源: {source}"]
            if entry.num % 3 == 0:
                notice = f"版權聲明：本文轉載自{to_traditional(entry.source)}，版權歸原作者所有。"
        origin_url = self.peer_urls.get(origin_site, "") + origin_path if origin_site else ""
        others = [e for e in self.latest(60) if e is not entry]
        return (
            environment()
            .get_template("mirror_article.html")
            .render(
                site=self,
                entry=entry,
                title_html=title_html,
                head_lines=head,
                body=self.body_html(entry, traditional=True),
                origin_url=origin_url,
                notice=notice,
                news_links=links,
                tabs=tabs[:4],
                related=self.related(entry, 9),
                latest=others[:5],
                location=self.locations.get(origin_site, "武漢"),
                published_meta=self.published_meta(entry),
                description=_summary(entry, 80),
            )
        )

    def published_meta(self, entry: Entry) -> str:
        if entry.seed and not entry.seed.startswith("001"):
            return f"{entry.published:%Y-%m-%d}"
        return f"{entry.published:%Y-%m-%dT%H:%M:%S}+08:00"

    def shown_published(self, entry: Entry) -> str:
        if entry.seed and not entry.seed.startswith("001"):
            return f"{entry.published:%Y-%m-%d}"
        return f"{entry.published:%Y-%m-%dT%H:%M}"
