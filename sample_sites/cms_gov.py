"""Government CMS families: PHPCMS (the museum), TRS WCM (武汉统战) and Hanweb 大汉 (徐州).

Example URLs (at size 30, on the default hosts):

* ``http://127.0.0.11:8780/index.php?m=content&c=index&a=lists&catid=45&page=2``
* ``http://127.0.0.12:8780/xwzx/tzyw/index_1.html`` → ``./202304/t20230419_4589123.html``
* ``http://127.0.0.15:8780/col/col12345/index.html?uid=67890&pageNum=2``
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from .catalog import DISALLOWED, PDF, Entry
from .pdf import tiny_pdf
from .sites import Response, SampleSite, environment


def _description(site: SampleSite, entry: Entry) -> str:
    text = next((t for k, t in entry.story().blocks if k == "p"), entry.title)
    return re.sub(r"\s+", "", text)[:90]


class WuchangMuseum(SampleSite):
    """武汉革命博物馆: a PHPCMS v9 site with dynamic ``index.php?`` URLs."""

    paragraph_style = "text-indent: 2em;"
    shows_time = False
    registry: ClassVar[dict[str, Any]] = {
        "level": "city",
        "province": "湖北省",
        "city": "武汉市",
        "district": None,
        "article_patterns": [r"/index\.php\?m=content&c=index&a=show&catid=\d+&id=\d+$"],
        "list_patterns": [r"/index\.php\?m=content&c=index&a=lists&catid=\d+(&page=\d+)?$"],
        "encoding": None,
        "schedule": "12h",
    }

    def list_path(self, column: str, page: int) -> str:
        suffix = f"&page={page}" if page > 1 else ""
        return f"/index.php?m=content&c=index&a=lists&catid={column}{suffix}"

    def home_path(self) -> str:
        return "/index.html"

    def render_list(self, column: str, page: int) -> str:
        return (
            environment()
            .get_template("wuchang_list.html")
            .render(
                site=self,
                column=column,
                page=page,
                pages=self.pages(column),
                items=self.page_items(column, page),
                total=len(self.catalog.columns[column]),
            )
        )

    def render_article(self, entry: Entry) -> str:
        older, newer = self.neighbours(entry)
        source = "" if entry.seed else entry.story().source
        return (
            environment()
            .get_template("wuchang_article.html")
            .render(
                site=self,
                entry=entry,
                body=self.body_html(entry),
                source=source,
                older=older,
                newer=newer,
            )
        )


class WuhanTzb(SampleSite):
    """武汉统战: TRS WCM, ``index.html``/``index_1.html`` lists and ``tYYYYMMDD_N.html`` articles.

    The page bar is written by ``createPageHTML()`` in JavaScript; a ``<noscript>`` copy holds
    plain links.  ``/xwzx/nbzl/`` (内部资料) is linked from the navigation and from 相关新闻 but
    disallowed by robots.txt.
    """

    paragraph_style = "text-indent: 2em; line-height: 2;"
    registry: ClassVar[dict[str, Any]] = {
        "level": "city",
        "province": "湖北省",
        "city": "武汉市",
        "district": None,
        "article_patterns": [r"/xwzx/\w+/\d{6}/t\d{8}_\d+\.html$"],
        "list_patterns": [r"/xwzx/\w+/(index(_\d+)?\.html)?$"],
        "encoding": "utf-8",
        "schedule": "6h",
    }

    def list_path(self, column: str, page: int) -> str:
        return f"/xwzx/{column}/{self.page_name(page)}"

    @staticmethod
    def page_name(page: int) -> str:
        return "index.html" if page == 1 else f"index_{page - 1}.html"

    def robots_disallow(self) -> list[str]:
        return ["/xwzx/nbzl/", "/was5/", "/images/"]

    def extra_routes(self) -> dict[str, tuple[str, Any]]:
        return {f"/xwzx/{c.key}/": ("list", (c.key, 1)) for c in self.spec.columns}

    list_template = "tzb_list.html"

    def render_article(self, entry: Entry) -> str:
        older, newer = self.neighbours(entry)
        related = self.related(entry, 5)
        hidden = [e for e in self.catalog.entries if e.kind == DISALLOWED]
        if hidden and entry.kind != DISALLOWED:
            related.insert(2, hidden[-1])
        story = entry.story()
        source = entry.source or story.source
        return (
            environment()
            .get_template("tzb_article.html")
            .render(
                site=self,
                entry=entry,
                story=story,
                col=self.column(entry.column),
                body=self.body_html(entry),
                source=source,
                older=older,
                newer=newer,
                related=related,
                description=_description(self, entry),
            )
        )


class XuzhouHanweb(SampleSite):
    """徐州市级机关党建网: Hanweb (大汉) ``/col/colN/index.html`` lists and ``/art/Y/M/D/art_C_N.html``.

    The 工作动态 column (col12345) lists its articles only inside
    ``<script type="text/xml"><datastore><recordset><record><![CDATA[<li><a href=…>]]>``, as real
    Hanweb pages do; the 基层党建 column (col12346) uses a plain ``<ul>``.  Both have a plain page
    bar with ``index.html?uid=…&pageNum=N`` links.  One article of col12346 is only a PDF link.
    """

    paragraph_style = "text-indent: 2em;"
    uids: ClassVar[dict[str, int]] = {"col12345": 67890, "col12346": 67891}
    pdf_path: ClassVar[str] = "/attach/0/2023jgdjgzyd.pdf"
    registry: ClassVar[dict[str, Any]] = {
        "level": "city",
        "province": "江苏省",
        "city": "徐州市",
        "district": None,
        "article_patterns": [r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html$"],
        "list_patterns": [r"/col/col\d+/index\.html(\?uid=\d+&pageNum=\d+)?$"],
        "encoding": "utf-8",
        "schedule": "0 */4 * * *",
    }

    def list_path(self, column: str, page: int) -> str:
        base = f"/col/{column}/index.html"
        return base if page == 1 else f"{base}?uid={self.uids[column]}&pageNum={page}"

    def home_path(self) -> str:
        return "/index.html"

    def extra_routes(self) -> dict[str, tuple[str, Any]]:
        return {self.pdf_path: ("pdf", None)}

    def robots_disallow(self) -> list[str]:
        return ["/module/", "/script/"]

    def render_extra(self, kind: str, arg: Any) -> Response:
        return (
            200,
            {"Content-Type": "application/pdf"},
            tiny_pdf("Xuzhou 2023 party-building work points"),
        )

    list_template = "hanweb_list.html"

    def list_context(self, column: str, page: int) -> dict[str, Any]:
        return {
            **super().list_context(column, page),
            "total": len(self.catalog.columns[column]),
            "per_page": self.spec.per_page,
            "uid": self.uids[column],
            "datastore": column == "col12345",
        }

    def render_article(self, entry: Entry) -> str:
        if entry.kind == PDF:
            from markupsafe import Markup

            body = Markup(
                f'<p>附件：<a href="{self.pdf_path}">2023年市级机关党建工作要点.pdf</a></p>'
            )
            story = entry.story()
            source = "市级机关工委"
        else:
            body, story = self.body_html(entry), entry.story()
            source = entry.source or story.source
        return (
            environment()
            .get_template("hanweb_article.html")
            .render(
                site=self,
                entry=entry,
                story=story,
                col=self.column(entry.column),
                body=body,
                source=source,
                description=entry.title,
            )
        )
