"""Twins of the real sites' newer CMS families, one shared page layout, each its own URL scheme.

They exist so that every CMS family of a real registry entry is crawled end to end over
loopback (docs/sites.md, "Families and their twins"). Example URLs (size 30, default hosts):

* 人民网 (people-cms): ``/GB/394443/index2.html`` → ``/n1/2024/0619/c394443-300123.html``, GBK
* 共产党员网 (cntv-12371): ``/special/xxzd/`` lists items only in a script array
  ``item=[{'title':…,'link_add':'http://…/2024/06/19/ARTI1718762400000123.shtml'}]``
* Founder e-paper (founder-epaper): ``/pc/html/2024-12/31/node_1.htm`` links its articles only
  through an ``<area>`` image map, the next section through 下一版
* Henan (dated-id): ``/hnxw/index_1.html`` → ``/2024/06-19/500123.html``
* newer Zhejiang Hanweb (hanweb-zj): ``/col/col1229740926/index.html?uid=…&pageNum=2`` →
  ``/col/col1229740926/art/2024/art_<hex32>.html``
* static shtml (static-shtml, 武汉革命博物馆): ``/zhxw/wbxw/index_2.shtml`` →
  ``/doc/2024/06/19/40123.shtml``
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, ClassVar

from .catalog import Entry
from .sites import SampleSite, environment

# The e-paper twin files every article in one edition's folder, as a day's paper does.
EDITION = datetime(2024, 12, 31)


def portal_article_path(site: str, column: str, when: datetime, num: int, key: str) -> str:
    """Return the URL path of an article of a portal twin (``catalog.article_path`` asks)."""
    if site == "renmin-dangjian":
        return f"/n1/{when:%Y}/{when:%m%d}/c{column}-{num}.html"
    if site == "xianfeng-dangyuan":
        seconds = int((when - datetime(1970, 1, 1)).total_seconds())  # no local time zone
        return f"/{when:%Y/%m/%d}/ARTI{seconds}{num:06d}.shtml"
    if site == "jiangcheng-epaper":
        return f"/pc/html/{EDITION:%Y-%m/%d}/content_{column}_{num}.htm"
    if site == "zhongyuan-jgdj":
        return f"/{when:%Y}/{when:%m-%d}/{num}.html"
    if site == "oujiang-jgdj":
        digest = hashlib.sha1(key.encode()).hexdigest()[:32]
        return f"/col/{column}/art/{when:%Y}/art_{digest}.html"
    return f"/doc/{when:%Y/%m/%d}/{num}.shtml"


PORTAL_ID_BASE = {
    "renmin-dangjian": (30000000, 157),
    "xianfeng-dangyuan": (100, 13),
    "jiangcheng-epaper": (880000, 29),
    "zhongyuan-jgdj": (440000, 37),
    "oujiang-jgdj": (0, 1),
    "hongse-museum": (30000, 11),
}


class PortalSite(SampleSite):
    """The shared layout: navigation to every column, a list, an article with related links.

    ``list_style`` says how a list page names its articles: ``links`` (plain ``<a>``),
    ``script`` (a JavaScript item array only) or ``area`` (an image map only).
    """

    list_template = "portal_list.html"
    list_style: ClassVar[str] = "links"
    paragraph_style = "text-indent: 2em;"

    def list_context(self, column: str, page: int) -> dict[str, Any]:
        return {**super().list_context(column, page), "style": self.list_style}

    def nav(self) -> list[tuple[str, str]]:
        """The navigation bar: home and every column's first page."""
        return [("/", "首页")] + [(self.list_path(c.key, 1), c.name) for c in self.spec.columns]

    def render_article(self, entry: Entry) -> str:
        story = entry.story()
        return (
            environment()
            .get_template("portal_article.html")
            .render(
                site=self,
                entry=entry,
                story=story,
                col=self.column(entry.column),
                body=self.body_html(entry),
                source=entry.source or story.source,
                related=self.related(entry, 4),
            )
        )


def _registry(level: str, province: str, city: str | None, **rest: Any) -> dict[str, Any]:
    return {"level": level, "province": province, "city": city, "district": None, **rest}


class RenminDangjian(PortalSite):
    """人民网党建 family: ``/GB/<col>/index.html``, ``index2.html`` …, GBK pages."""

    encoding = "gbk"
    registry: ClassVar[dict[str, Any]] = _registry(
        "province",
        "北京市",
        None,
        article_patterns=[r"/n1/\d{4}/\d{4}/c\d+-\d+\.html$"],
        list_patterns=[r"/GB/\d+/index\d*\.html$"],
        encoding="gbk",
        schedule="6h",
    )

    def list_path(self, column: str, page: int) -> str:
        return f"/GB/{column}/index{page if page > 1 else ''}.html"


class XianfengDangyuan(PortalSite):
    """共产党员网 family: column folders whose items exist only in a script array."""

    list_style = "script"
    registry: ClassVar[dict[str, Any]] = _registry(
        "province",
        "北京市",
        None,
        article_patterns=[r"/\d{4}/\d{2}/\d{2}/ARTI\d+\.shtml$"],
        list_patterns=[r"/special/\w+/$"],
        encoding="utf-8",
        schedule="6h",
    )

    def list_path(self, column: str, page: int) -> str:
        return f"/special/{column}/"

    def pages(self, column: str) -> int:
        return 1  # the whole column is one script array


class JiangchengEpaper(PortalSite):
    """Founder e-paper family: one edition, sections ``node_N.htm`` chained by 下一版.

    Sections link their articles only through an ``<area>`` image map over the page scan.
    """

    list_style = "area"
    registry: ClassVar[dict[str, Any]] = _registry(
        "city",
        "湖北省",
        "武汉市",
        article_patterns=[r"/pc/html/\d{4}-\d{2}/\d{2}/content_\d+_\d+\.htm$"],
        list_patterns=[r"/pc/html/\d{4}-\d{2}/\d{2}/node_\d+\.htm$"],
        encoding="utf-8",
        schedule="1d",
    )

    def list_path(self, column: str, page: int) -> str:
        return f"/pc/html/{EDITION:%Y-%m/%d}/node_{column}.htm"

    def pages(self, column: str) -> int:
        return 1

    def extra_routes(self) -> dict[str, tuple[str, Any]]:
        # The paper's front door redirects to the day's edition, whose 版面导航 names every
        # section (the section pages only chain to the next one).
        edition = f"/pc/html/{EDITION:%Y-%m/%d}/index.htm"
        return {"/": ("redirect", edition), edition: ("home", None)}

    def start_urls(self, base_url: str) -> list[str]:
        # Like the real entry: the crawl starts at section 1 and finds the others by 下一版.
        return super().start_urls(base_url)[:1]

    def next_section(self, column: str) -> str | None:
        keys = [c.key for c in self.spec.columns]
        i = keys.index(column)
        return self.list_path(keys[i + 1], 1).rsplit("/", 1)[1] if i + 1 < len(keys) else None


class ZhongyuanJgdj(PortalSite):
    """Henan family: ``/<col>/index_N.html`` lists, ``/2024/06-19/500123.html`` articles."""

    registry: ClassVar[dict[str, Any]] = _registry(
        "province",
        "河南省",
        None,
        article_patterns=[r"/\d{4}/\d{2}-\d{2}/\d+\.html$"],
        list_patterns=[r"/\w+/index(_\d+)?\.html$"],
        encoding="utf-8",
        schedule="12h",
    )

    def list_path(self, column: str, page: int) -> str:
        return f"/{column}/index{f'_{page - 1}' if page > 1 else ''}.html"


class OujiangJgdj(PortalSite):
    """Newer Zhejiang Hanweb: ``/col/colN/index.html?uid=…&pageNum=N``, ``art_<hex32>`` pages."""

    registry: ClassVar[dict[str, Any]] = _registry(
        "city",
        "浙江省",
        "温州市",
        article_patterns=[r"/col/col\d+/art/\d{4}/art_[0-9a-f]{32}\.html$"],
        list_patterns=[r"/col/col\d+/index\.html(\?uid=\d+&pageNum=\d+)?$"],
        encoding="utf-8",
        schedule="12h",
    )

    def list_path(self, column: str, page: int) -> str:
        base = f"/col/{column}/index.html"
        return base if page == 1 else f"{base}?uid={column[3:]}1&pageNum={page}"


class HongseMuseum(PortalSite):
    """Static shtml family (武汉革命博物馆): ``/zhxw/wbxw/index_N.shtml``, ``/doc/Y/M/D/id.shtml``."""

    registry: ClassVar[dict[str, Any]] = _registry(
        "city",
        "湖北省",
        "武汉市",
        article_patterns=[r"/doc/\d{4}/\d{2}/\d{2}/\d+\.shtml$"],
        list_patterns=[r"/\w+/\w+/(index(_\d+)?\.shtml)?$"],
        encoding="utf-8",
        schedule="1d",
    )

    def list_path(self, column: str, page: int) -> str:
        return f"/{column}/index{f'_{page}' if page > 1 else ''}.shtml"
