"""List-page recognition, pagination and URL patterns (crawler/discovery/lists.py, patterns.py).

Real pages: ``../shared/realpages`` (never copied here); the gerapy folders carry the
source's own ``_page_type`` gold (list / detail). Target: ≥ 0.95 of them recognised.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from crawler.discovery.lists import (
    analyse_list,
    list_items,
    pagination,
    parse,
    shown_date,
    url_date,
)
from crawler.discovery.patterns import article_pattern, generalise_word, list_pattern
from sample_sites import build_sites

ROOT = Path(__file__).resolve().parents[1]
REALPAGES = ROOT.parent / "shared" / "realpages"
PAGES = ROOT / "tests" / "pages"
GOLD_FOLDERS = ("gerapy", "gerapy_gaoconghello")


def realpage_text(page: str) -> str:
    manifest = {}
    for line in (REALPAGES / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        cells = line.split("\t")
        manifest[f"{cells[0]}/{cells[1]}"] = cells
    charset = manifest[page][6].lower()
    charset = "gb18030" if charset in ("gbk", "gb2312", "gb18030") else charset
    return (REALPAGES / f"{page}.html").read_bytes().decode(charset, errors="replace")


def gold_pages() -> list[tuple[str, bool]]:
    pages = []
    for folder in GOLD_FOLDERS:
        for gold in sorted((REALPAGES / folder).glob("*.json")):
            kind = json.loads(gold.read_text(encoding="utf-8")).get("_page_type")
            if kind in ("list", "detail"):
                pages.append((f"{folder}/{gold.stem}", kind == "list"))
    return pages


@pytest.mark.skipif(not REALPAGES.is_dir(), reason=f"{REALPAGES} not found (shared real pages)")
def test_list_recognition_on_real_pages_with_gold():
    pages = gold_pages()
    assert len(pages) >= 30
    misses = []
    for page, is_list in pages:
        got = analyse_list(realpage_text(page), "http://example.com/")
        if got.is_list != is_list:
            misses.append(f"{page}: gold {'list' if is_list else 'detail'}, {got.reason}")
    accuracy = 1 - len(misses) / len(pages)
    print(f"list recognition on {len(pages)} gold pages: {accuracy:.3f}; misses: {misses}")
    assert accuracy >= 0.95, misses


@pytest.mark.skipif(not REALPAGES.is_dir(), reason=f"{REALPAGES} not found (shared real pages)")
def test_list_recognition_on_every_labelled_real_page():
    """All 96 pages with tests/realpages_labels.yml's is_article (measured, floor below)."""
    labels = yaml.safe_load((ROOT / "tests" / "realpages_labels.yml").read_text(encoding="utf-8"))
    right = sum(
        analyse_list(realpage_text(e["page"]), "http://example.com/").is_list
        == (not e["is_article"])
        for e in labels
    )
    print(f"list recognition on {len(labels)} labelled real pages: {right / len(labels):.3f}")
    assert right / len(labels) >= 0.9


@pytest.mark.parametrize(
    ("path", "is_list"),
    [
        ("trs_gov/tzb_wuhan_tzyw_index.html", True),
        ("gbk_table/news_list_classid_7.html", True),
        ("newspaper/gzdaily_dj_list_2101.html", True),
        ("sample_sites/xuzhou-jgdj_list.html", True),
        ("sample_sites/old-district_list.html", True),
        ("sample_sites/qikan-aggregator_list.html", True),
        ("trs_gov/tzb_wuhan_t20230419_2184312.html", False),
        ("hanweb_gov/art_2045_1234567.html", False),
        ("people/dangjian_n1_2023_0506_c117092.html", False),
        ("museum/wuchang_zhouzhoujiang_57.html", False),
        ("xinhua/politics_2023-09_12_c_1129860000.html", False),
    ],
)
def test_list_recognition_on_labelled_project_pages(path, is_list):
    raw = (PAGES / path).read_bytes()
    text = (
        raw.decode("gb18030")
        if b"charset=gb" in raw[:2000].lower()
        else raw.decode("utf-8", "replace")
    )
    assert analyse_list(text, "http://example.gov.cn/a/b/index.html").is_list is is_list


def test_sample_list_and_article_pages():
    sites = build_sites(30)
    for site in sites.values():
        for column in site.spec.columns:
            url = site.base_url + site.list_path(column.key, 1)
            text = site.respond(site.list_path(column.key, 1))[2].decode(site.encoding)
            got = analyse_list(text, url)
            assert got.is_list and got.dated >= 4, (site.id, column.key, got.reason)
        article = site.expected_articles()[3]
        text = site.respond(article.path)[2].decode(site.encoding)
        assert not analyse_list(text, site.base_url + article.path).is_list, (site.id, article.path)


def test_rows_read_datastore_script_arrays_and_image_maps():
    sites = build_sites(30)
    hanweb = sites["xuzhou-jgdj"]
    text = hanweb.respond("/col/col12345/index.html")[2].decode()
    items = list_items(parse(text), hanweb.base_url + "/col/col12345/index.html")
    assert any(i.source == "datastore" and i.date for i in items)
    xianfeng = sites["xianfeng-dangyuan"]
    text = xianfeng.respond("/special/xxzd/")[2].decode()
    got = analyse_list(text, xianfeng.base_url + "/special/xxzd/")
    assert got.is_list and {i.source for i in got.items} == {"script"}
    epaper = sites["jiangcheng-epaper"]
    path = epaper.list_path("1", 1)
    got = analyse_list(epaper.respond(path)[2].decode(), epaper.base_url + path)
    assert got.is_list and {i.source for i in got.items} == {"area"}
    assert got.pagination.scheme == "sections"


def test_dates_shown_and_in_urls():
    assert shown_date("[2024-6-19]") == "2024-6-19"
    assert shown_date("2024年6月19日 来源") == "2024年6月19日"
    assert shown_date("06-19") == "06-19"
    assert shown_date("3小时前") == "3小时前"
    assert shown_date("第3版 共12页") is None
    assert url_date("http://x/xwzx/202304/t20230419_1.html")
    assert url_date("http://x/2024/06/19/ARTI1.shtml")
    assert url_date("http://x/col/col12345/index.html") is None


@pytest.mark.parametrize(
    ("html", "url", "scheme", "next_url"),
    [
        (
            '<script>createPageHTML(5, 0, "index", "html");</script>',
            "http://x/xwzx/tzyw/index.html",
            "index_N",
            "http://x/xwzx/tzyw/index_1.html",
        ),
        (
            '<a href="?catid=4&page=2">下一页</a>',
            "http://x/list.php?catid=4",
            "query",
            "http://x/list.php?catid=4&page=2",
        ),
        (
            '<a href="index.html?uid=1&pageNum=2">下页</a>',
            "http://x/col/col1/index.html",
            "query",
            "http://x/col/col1/index.html?uid=1&pageNum=2",
        ),
        ('<a href="index2.html">下一页</a>', "http://x/GB/1/index.html", "indexN", None),
        ('<a href="list_2.html">下一頁 »</a>', "http://x/zh/news/", "path_N", None),
        ('<a href="1.htm">1</a><a href="2.htm">2</a>', "http://x/xwzx/tzgg.htm", "path_N", None),
        ('<a href="node_2.htm">下一版</a>', "http://x/pc/node_1.htm", "sections", None),
        ("<p>no pager</p>", "http://x/special/a/", "none", None),
    ],
)
def test_pagination_schemes(html, url, scheme, next_url):
    got = pagination(parse(f"<html><body>{html}</body></html>"), url)
    assert got.scheme == scheme, got
    if next_url:
        assert got.next_url == next_url


def test_article_patterns_generalise_dates_and_ids():
    assert (
        article_pattern(
            [
                "http://h/xwzx/tzyw/202304/t20230419_4589123.html",
                "http://h/xwzx/jgdj/202305/t20230502_7.html",
            ]
        )
        == r"/xwzx/\w+/\d{6}/t\d{8}_\d+\.html$"
    )
    gz = article_pattern(
        [
            "http://h/content/2023-05/06/content_123456.htm",
            "http://h/content/2023-05/08/content_1234.htm",
        ]
    )
    assert re.search(gz, "http://h/gzrb/html/2020-12/18/content_100369.htm")  # moved prefix
    php = article_pattern(["http://h/index.php?m=content&c=index&a=show&catid=45&id=1086"])
    assert php == r"/index\.php\?m=content&c=index&a=show&catid=\d+&id=\d+$"
    assert generalise_word(["2024", "2023"]) == r"\d{4}"
    assert generalise_word(["4567", "4568"]) == r"\d+"  # an id, not a year
    assert generalise_word(["3", "12"]) == r"\d{1,2}"


def test_list_patterns_keep_the_column_and_open_the_pages():
    cases = [
        ("http://h/xwzx/tzyw/index.html", "index_N", None, "http://h/xwzx/tzyw/index_3.html"),
        ("http://h/news_list.asp?classid=3", "query", "http://h/news_list.asp?classid=3&page=2", "http://h/news_list.asp?classid=3&page=9"),
        ("http://h/node_2101.htm", "path_N", "http://h/node_2101_2.htm", "http://h/node_2101_7.htm"),
        ("http://h/GB/394443/index.html", "indexN", "http://h/GB/394443/index2.html", "http://h/GB/394443/index5.html"),
    ]  # fmt: skip
    for start, scheme, nxt, later in cases:
        pattern = re.compile(list_pattern(start, scheme, nxt))
        assert pattern.search(start) and pattern.search(later), pattern.pattern
        other = start.replace("tzyw", "nbzl").replace("=3", "=5").replace("2101", "2102")
        other = other.replace("394443", "1024")
        assert not pattern.search(other), (pattern.pattern, other)
