"""Attachments (issue 15): read PDF/DOCX/XLSX text, store the files, search them, and an
attachment-only notice becomes an article whose body is its file's text.

The files are made here: DOCX and XLSX with python-docx and openpyxl, and a PDF whose
text is Chinese (a Type 0 font with a ToUnicode map, as government PDFs carry). A small
site on loopback serves them for a real crawl.
"""

from __future__ import annotations

import http.server
import io
import json
import sqlite3
import subprocess
import threading
import zlib

import pytest
import yaml

from crawler.links import attachment_links
from pipeline.extract.attachments import join_lines, read_attachment, sniff_format
from pipeline.ingest import ingest_page
from pipeline.model import RawPage
from pipeline.store import Store, search
from sample_sites.pdf import tiny_pdf

from .conftest import dangjian

NOTICE_TEXT = [
    "各基层党组织：",
    "现将《2024年机关党建工作要点》印发给你们，请结合实际认真贯彻落实。",
    "一、深入学习贯彻党的二十大精神，推进“三会一课”制度化规范化。",
]


def chinese_pdf(lines: list[str]) -> bytes:
    """A PDF whose text layer is ``lines`` (CIDs are the code points; ToUnicode maps them)."""
    content = (
        b"BT /F1 12 Tf 72 760 Td 14 TL "
        + b"".join(b"<" + line.encode("utf-16-be").hex().encode() + b"> Tj T* " for line in lines)
        + b"ET"
    )
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def "
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange "
        b"1 beginbfrange <0000> <FFFF> <0000> endbfrange endcmap "
        b"CMapName currentdict /CMap defineresource pop end end"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def docx_file(lines: list[str], table: list[list[str]]) -> bytes:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_file(rows: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reading files -------------------------------------------------------------------------


def test_a_chinese_pdf_is_read_as_paragraphs():
    read = read_attachment(chinese_pdf(NOTICE_TEXT), "http://h/a/notice.pdf", "application/pdf")
    assert (read.format, read.status) == ("pdf", "ok")
    assert read.text.splitlines() == NOTICE_TEXT


def test_pdf_lines_broken_for_layout_are_joined():
    lines = [
        "为深入学习贯彻党的二十大精神，进一步加强",
        "机关党支部建设，现将有关事项通知如下。",
        "一、目标",
        "二、要求",
    ]
    assert join_lines(lines)[0] == lines[0] + lines[1]


def test_docx_and_xlsx_are_read():
    docx = docx_file(NOTICE_TEXT, [["姓名", "党支部"], ["张三", "第一党支部"]])
    read = read_attachment(docx, "http://h/a/notice.docx")
    assert read.format == "docx" and read.status == "ok"
    assert read.text.splitlines() == [*NOTICE_TEXT, "姓名 党支部", "张三 第一党支部"]
    xlsx = xlsx_file([["单位", "党员人数"], ["市委组织部", 52]])
    read = read_attachment(xlsx, "http://h/a/list.xlsx")
    assert (read.format, read.text) == ("xlsx", "单位 党员人数\n市委组织部 52")


def test_files_that_are_not_read_say_why():
    assert read_attachment(b"PK\x03\x04junk", "http://h/a/files.zip").status.startswith(
        ("skipped", "failed")
    )
    assert (
        read_attachment(b"\x89PNG....", "http://h/a/x.png").status
        == "skipped: png files are not read"
    )
    assert read_attachment(b"%PDF-1.4 broken", "http://h/a/x.pdf").status.startswith("failed")
    blank = tiny_pdf(" ")
    assert read_attachment(blank, "http://h/a/scan.pdf").status == "empty"
    assert read_attachment(b"%PDF-" + b"x" * 100, "http://h/a/big.pdf", max_bytes=10).status == (
        "skipped: larger than 10 bytes"
    )
    # Word 97-2003 and WPS files go to catdoc when it is installed.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
    assert sniff_format(ole, "http://h/a/x.wps") == "wps"
    assert sniff_format(ole, "http://h/a/x.doc") == "doc"


def test_attachment_links_of_an_article_not_of_the_site():
    html = (
        "<div class='header'><a href='/app.apk'>客户端</a></div>"
        "<div class='footer'><a href='/guide.pdf'>公开指南.pdf</a></div>"
        "<div id='zoom'><p>附件：<a href='/files/a.docx'>报名表.docx</a></p>"
        "<a href='/art/2.html'>下一篇</a><a href='/files/b.PDF#page=2'>方案</a></div>"
    )
    assert attachment_links(html, "http://h/art/1.html") == [
        ("http://h/files/a.docx", "报名表.docx"),
        ("http://h/files/b.PDF", "方案"),
    ]


# --- storing them --------------------------------------------------------------------------

NOTICE_URL = "http://127.0.0.1/art/2024/1/5/art_1_9.html"
NOTICE_PAGE = (
    "<html><head><meta charset='utf-8'><title>关于印发《2024年机关党建工作要点》的通知</title>"
    "<meta name='PubDate' content='2024-01-05 10:00'></head><body>"
    "<div class='nav'><a href='/'>首页</a> <a href='/col/1/'>通知公告</a> <a href='/col/2/'>工作动态</a>"
    " <a href='/col/3/'>基层党建</a> <a href='/col/4/'>理论学习</a></div>"
    "<div class='article'><h1>关于印发《2024年机关党建工作要点》的通知</h1>"
    "<div id='zoom'><p>附件：<a href='/files/2024gzyd.pdf'>2024年机关党建工作要点.pdf</a></p></div>"
    "</div></body></html>"
).encode()


def raw(url: str, body: bytes, kind: str = "article", **extra: str) -> RawPage:
    return RawPage(url, url, 200, extra.pop("headers", {}), body, "2024-01-06T00:00:00Z",
                   site_id="s", run_id="r1", kind=kind, **extra)  # fmt: skip


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "news.db")
    store.save_sites([{"id": "s", "name": "测试机关党建网", "level": "city"}])
    yield store
    store.close()


@pytest.mark.parametrize("notice_first", [True, False])
def test_an_attachment_only_notice_becomes_an_article_with_its_files_text(store, notice_first):
    pdf = raw(
        "http://127.0.0.1/files/2024gzyd.pdf",
        chinese_pdf(NOTICE_TEXT),
        "attachment",
        headers={"content-type": "application/pdf"},
        referrer=NOTICE_URL,
        link_text="2024年机关党建工作要点.pdf",
    )
    pages = [raw(NOTICE_URL, NOTICE_PAGE), pdf]
    outcomes = [ingest_page(store, p) for p in (pages if notice_first else pages[::-1])]
    assert {o.kind for o in outcomes} == {"new", "attachment"}
    (article,) = store.db.query("select * from articles")
    assert json.loads(article["flags"]) == ["attachment-only"]
    assert article["text"] == "\n".join(NOTICE_TEXT)
    assert article["title"] == "关于印发《2024年机关党建工作要点》的通知"
    (file,) = store.db.query("select * from attachments")
    assert (file["article_id"], file["format"], file["text_status"]) == (article["id"], "pdf", "ok")
    assert zlib.decompress(file["body"]) == pdf.body and file["size"] == len(pdf.body)
    assert file["name"] == "2024年机关党建工作要点.pdf"
    # Searchable: the article (its body) and the file (the attachments' index).
    assert search.search_ids(store.db.conn, "三会一课") == [article["id"]]
    for query in ("三会一课", "党建", "要点 -一二三四"):
        assert store.db.execute(search.attachment_matches("q"), {"q": query}).fetchall() == [
            (article["id"],)
        ], query
    assert store.db.execute(search.attachment_matches("q"), {"q": "三会二课"}).fetchall() == []
    # Fetched again unchanged: nothing new; the index stays whole.
    ingest_page(store, pdf)
    assert store.db.execute("select count(*) from attachments").fetchone()[0] == 1
    store.db.execute(
        "insert into attachments_fts(attachments_fts, rank) values ('integrity-check', 0)"
    )


def test_an_article_keeps_its_own_text_beside_its_files(store):
    page = NOTICE_PAGE.replace(
        "<p>附件：".encode(),
        (
            "<p>"
            + "市直机关工委召开会议，部署2024年机关党建重点任务，要求各单位认真抓好落实。" * 2
            + "</p><p>附件："
        ).encode(),
    )
    ingest_page(store, raw(NOTICE_URL, page))
    docx = docx_file(["报名表"], [["姓名", "单位"]])
    ingest_page(
        store, raw("http://127.0.0.1/files/form.docx", docx, "attachment", referrer=NOTICE_URL)
    )
    (article,) = store.db.query("select text, flags from articles")
    assert "部署2024年机关党建重点任务" in article["text"] and article["flags"] is None
    assert [r[0] for r in store.db.execute("select text from attachments")] == ["报名表\n姓名 单位"]


# --- a real crawl --------------------------------------------------------------------------


class Site(http.server.BaseHTTPRequestHandler):
    """A column, a notice that is only its PDF, an article with a DOCX, and a missing file."""

    files: dict[str, tuple[str, bytes]] = {}

    def do_GET(self):  # noqa: N802 - http.server's name
        found = self.files.get(self.path)
        if found is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", found[0])
        self.send_header("Content-Length", str(len(found[1])))
        self.end_headers()
        self.wfile.write(found[1])

    def log_message(self, *args):
        pass


@pytest.fixture
def attachment_site():
    html = "text/html; charset=utf-8"
    article = (
        NOTICE_PAGE.replace(b"2024gzyd.pdf'", b"2024gzyd.pdf'")
        .replace(
            "<p>附件：".encode(),
            (
                "<p>"
                + "市直机关工委召开会议，部署2024年机关党建重点任务，要求各单位认真抓好落实。" * 2
                + "</p><p>附件：<a href='/files/form.docx'>报名表.docx</a> <a href='/files/gone.xlsx'>名单.xlsx</a></p><p>"
            ).encode(),  # fmt: skip
        )
        .replace(b"/files/2024gzyd.pdf", b"/files/other.pdf")
    )
    Site.files = {
        "/robots.txt": ("text/plain", b"User-agent: *\nAllow: /\n"),
        "/col/1/index.html": (
            html,
            (
                "<html><head><meta charset='utf-8'><title>通知公告</title></head><body><ul>"
                "<li><a href='/art/2024/1/5/art_1_9.html'>关于印发《2024年机关党建工作要点》的通知</a></li>"
                "<li><a href='/art/2024/1/8/art_1_10.html'>市直机关工委召开会议部署2024年工作</a></li>"
                "</ul></body></html>"
            ).encode(),
        ),  # fmt: skip
        "/art/2024/1/5/art_1_9.html": (html, NOTICE_PAGE),
        "/art/2024/1/8/art_1_10.html": (html, article),
        "/files/2024gzyd.pdf": ("application/pdf", chinese_pdf(NOTICE_TEXT)),
        "/files/other.pdf": ("application/pdf", chinese_pdf(["第二份文件的正文"])),
        "/files/form.docx": ("application/octet-stream", docx_file(["报名表"], [["姓名", "单位"]])),
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.e2e
def test_a_crawl_follows_an_articles_files_on_its_hosts(attachment_site, tmp_path):
    host = attachment_site.split("//")[1]
    registry = tmp_path / "sites.yml"
    registry.write_text(
        yaml.safe_dump(
            {
                "sites": [
                    {
                        "id": "files",
                        "name": "测试机关党建网",
                        "level": "city",
                        "province": "江苏省",
                        "start_urls": [attachment_site + "/col/1/index.html"],
                        "allowed_hosts": [host],
                        "sample": True,
                        "enabled": True,
                        "delay": 0,
                    }
                ]
            },  # fmt: skip
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    db = tmp_path / "news.db"
    result = subprocess.run(
        dangjian("crawl", "--sample", "--sites", str(registry), "--db", str(db), "--no-progress"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    conn = sqlite3.connect(db)
    files = {
        url.split("/files/")[1]: (status, article_url.rsplit("/", 1)[1])
        for url, status, article_url in conn.execute(
            "select url, text_status, article_url from attachments"
        )
    }
    assert files == {
        "2024gzyd.pdf": ("ok", "art_1_9.html"),
        "form.docx": ("ok", "art_1_10.html"),
        "other.pdf": ("ok", "art_1_10.html"),
    }
    notice = conn.execute(
        "select text, flags from articles where url like '%art_1_9.html'"
    ).fetchone()
    assert notice == ("\n".join(NOTICE_TEXT), '["attachment-only"]')
    failures = [r[0] for r in conn.execute("select url from failures")]
    assert any(u.endswith("/files/gone.xlsx") for u in failures), failures
