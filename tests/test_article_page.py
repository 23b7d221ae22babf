"""The article page (issue 15): the row page of ``articles`` in any database of ours.

A database is written through the pipeline (a story on one site, its reprint on another a day
later, a revision, a government document's fields, an attached file) and served in-process by
Datasette under two names; a database that is not ours keeps Datasette's own row page.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3

import pytest
from datasette.app import Datasette

from pipeline.ingest import ingest_page
from pipeline.model import RawPage
from pipeline.store import Store

from .test_attachments import NOTICE_TEXT, chinese_pdf

PARAGRAPHS = [
    "3月5日，市直机关工委召开党建工作推进会，深入学习贯彻党的二十大精神，部署下一阶段重点任务。",
    "会议强调，要深刻领悟“两个确立”的决定性意义，严格落实“三会一课”制度，推动基层党组织全面进步、全面过硬。",
    "会议要求，各单位要以高质量党建引领机关工作高质量发展。",
]
ADDED = "会议还通报了2023年度机关党建考核结果。"


def page(title: str, paragraphs: list[str], published: str, extra: str = "") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta name='PubDate' content='{published}'><meta name='ContentSource' content='市直机关工委'>"
        f"</head><body><h1>{title}</h1><div id='zoom'>{extra}{body}"
        "<p>附件：<a href='/files/kh.pdf'>考核细则.pdf</a></p></div></body></html>"
    ).encode()


def raw(url: str, body: bytes, site: str, fetched: str, **kw) -> RawPage:
    return RawPage(
        url, url, 200, kw.pop("headers", {}), body, fetched, site_id=site, run_id="r", **kw
    )


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("page") / "party.db"
    store = Store(path)
    store.save_sites(
        [
            {
                "id": "a",
                "name": "宜昌机关党建",
                "level": "city",
                "province": "湖北省",
                "city": "宜昌市",
            },
            {"id": "b", "name": "湖北党建网", "level": "province", "province": "湖北省"},
        ]
    )
    title = "市直机关工委召开党建工作推进会"
    first = "http://127.0.0.1/a/art/2024/3/5/art_1_1.html"
    number = "<p style='text-align:center'>宜直工发〔2024〕3号</p>"
    ingest_page(
        store,
        raw(
            first, page(title, PARAGRAPHS, "2024-03-05 09:30", number), "a", "2024-03-05T02:00:00Z"
        ),
    )
    ingest_page(store, raw("http://127.0.0.1/b/content/2024-03/06/content_9.htm",
                           page(title, PARAGRAPHS, "2024-03-06 10:00"), "b", "2024-03-06T03:00:00Z"))  # fmt: skip
    ingest_page(
        store,
        raw(
            first,
            page(title, PARAGRAPHS + [ADDED], "2024-03-05 09:30", number),
            "a",
            "2024-03-08T02:00:00Z",
        ),
    )
    ingest_page(store, raw("http://127.0.0.1/a/files/kh.pdf", chinese_pdf(NOTICE_TEXT), "a",
                           "2024-03-08T02:00:01Z", kind="attachment", referrer=first,
                           link_text="考核细则.pdf", headers={"content-type": "application/pdf"}))  # fmt: skip
    store.close()
    # A database that is not ours, with a table called articles.
    other = path.with_name("other.db")
    conn = sqlite3.connect(other)
    conn.execute("create table articles (id integer primary key, name text)")
    conn.execute("insert into articles values (1, 'not news')")
    conn.commit()
    conn.close()
    return path


def fetch(db_path, *paths: str) -> list:
    async def run():
        ds = Datasette([str(db_path), str(db_path.with_name("other.db"))])
        await ds.invoke_startup()
        return [await ds.client.get(p) for p in paths]

    return asyncio.run(run())


def test_the_article_page_reads_like_an_article(db_path):
    (response,) = fetch(db_path, "/party/articles/1")
    assert response.status_code == 200
    html = response.text
    assert 'class="dangjian-article"' in html
    assert "<h1>市直机关工委召开党建工作推进会</h1>" in html
    # The body as paragraphs, the new one included.
    text = re.search(r'<div class="dangjian-text">(.*?)</div>', html, re.S).group(1)
    assert re.findall(r"<p>(.*?)</p>", text) == [
        "宜直工发〔2024〕3号",
        *PARAGRAPHS,
        ADDED,
        "附件：考核细则.pdf",
    ]
    assert "2024-03-05T09:30" in html and "市直机关工委" in html
    assert "宜昌机关党建" in html and "湖北省 · 宜昌市" in html and "(city)" in html
    assert 'href="http://127.0.0.1/a/art/2024/3/5/art_1_1.html"' in html
    # The document number, the reprint on the other site a day later, the revision's diff.
    assert "宜直工发〔2024〕3号" in html
    carried = re.search(r'<section class="dangjian-carried">(.*?)</section>', html, re.S).group(1)
    assert "湖北党建网" in carried and "2024-03-06T10:00" in carried and "+24 h" in carried
    revisions = re.search(r'<section class="dangjian-revisions">(.*?)</section>', html, re.S).group(
        1
    )
    assert "revision 2" in revisions and 'class="added">+ ' + ADDED in revisions
    # Terms and the attachment.
    assert "两个确立" in html and "三会一课" in html
    assert "考核细则.pdf" in html and "text: ok" in html


def test_the_reprint_names_its_original(db_path):
    (response,) = fetch(db_path, "/party/articles/2")
    carried = re.search(r'<section class="dangjian-carried">(.*?)</section>', response.text, re.S)
    assert "宜昌机关党建" in carried.group(1) and "original" in carried.group(1)
    assert "-24 h" in carried.group(1)


def test_the_json_of_the_same_url_is_datasettes(db_path):
    (response,) = fetch(db_path, "/party/articles/1.json")
    data = response.json()
    assert set(data) >= {"database", "table", "rows", "columns", "primary_keys"}
    conn = sqlite3.connect(db_path)
    cursor = conn.execute("select * from articles where id = 1")
    assert data["columns"] == [d[0] for d in cursor.description]
    assert [tuple(r) for r in data["rows"]] == cursor.fetchall()


def test_a_database_that_is_not_ours_keeps_datasettes_row_page(db_path):
    (response,) = fetch(db_path, "/other/articles/1")
    assert response.status_code == 200
    assert "dangjian-article" not in response.text and "not news" in response.text
