"""URL classification against real party-building sites, row by row.

Every row of ``../shared/real-urls/urls.tsv`` (real URLs found in public material) and of our own
``tests/real_urls_extra.tsv`` is classified by the spider's own link logic: the defaults, plus the
registry entry of the row's site where there is one. A row the crawl would misread fails.
"""

from __future__ import annotations

import csv
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.links import classify_link, column_scope
from crawler.registry import DEFAULT_REGISTRY, Site, load_registry, parse_site

SHARED_TABLE = Path(__file__).resolve().parents[1] / ".." / "shared" / "real-urls" / "urls.tsv"
EXTRA_TABLE = Path(__file__).with_name("real_urls_extra.tsv")
# What the crawl must make of each kind of row: home pages, attachments and videos are
# neither articles nor lists to follow.
EXPECTED = {"article": "article", "list": "list", "home": None, "other": None}


def read_table(path: Path) -> list[tuple[str, str, str]]:
    """Return ``(site, kind, url)`` for every row of a tab-separated table with a header."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    return [(row["site"], row["kind"], row["url"]) for row in csv.DictReader(lines, delimiter="\t")]


def site_for(url: str, registry: list[Site]) -> Site:
    """Return the real registry entry serving ``url``, or a bare entry that uses the defaults."""
    for site in registry:
        if not site.sample and site.allows(url):
            return site
    host = urlsplit(url).hostname or ""
    return parse_site({"id": "unregistered", "name": host, "level": "city", "start_urls": [url]})


def classify(url: str, kind: str, registry: list[Site]) -> str | None:
    """Classify ``url`` as the spider would on a list page of its own column."""
    # A list row is reached from its own column (its pagination or the column folder itself);
    # articles are followed wherever they are linked from.
    scope = column_scope(url) if kind == "list" else ""
    return classify_link(url, "", site_for(url, registry), scope)


@pytest.fixture(scope="module")
def registry() -> list[Site]:
    return load_registry(DEFAULT_REGISTRY)


def shared_rows() -> list[tuple[str, str, str]]:
    if not SHARED_TABLE.parent.is_dir():
        return []
    return read_table(SHARED_TABLE)


@pytest.mark.skipif(
    not SHARED_TABLE.parent.is_dir(),
    reason=f"the shared real-URL table is not checked out at {SHARED_TABLE.parent}",
)
@pytest.mark.parametrize(("site", "kind", "url"), shared_rows())
def test_shared_real_urls_are_classified_right(site, kind, url, registry):
    assert classify(url, kind, registry) == EXPECTED[kind], f"{site}: {url}"


@pytest.mark.parametrize(("site", "kind", "url"), read_table(EXTRA_TABLE))
def test_our_real_urls_are_classified_right(site, kind, url, registry):
    assert classify(url, kind, registry) == EXPECTED[kind], f"{site}: {url}"


def test_extra_rows_name_their_source():
    lines = [x for x in EXTRA_TABLE.read_text(encoding="utf-8").splitlines() if x[:1] != "#"]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    assert rows and all(row["source"].strip() for row in rows)
    assert {row["kind"] for row in rows} <= set(EXPECTED)


def test_defaults_alone_cover_the_new_schemes():
    """Without a registry entry, the default patterns still know the real schemes."""
    bare = parse_site({"id": "x", "name": "x", "level": "city", "start_urls": ["http://a.cn/"]})
    articles = [
        "https://www.12371.cn/2022/10/15/ARTI1665820365723761.shtml",
        "http://dangjian.people.com.cn/n1/2019/0211/c117092-30617896.html",
        "https://www.news.cn/politics/20250620/79eddf5bff894c6282600fc4445eac83/c.html",
        "https://wzjgdj.wenzhou.gov.cn/col/col1229740926/art/2025/art_08c578065eff4beb90271fdf30a3467c.html",
        "http://www.hnjgdj.gov.cn/2026/03-12/449546.html",
        "https://fzjgdj.gov.cn/index.php?c=show&id=51523",
        "http://www.whgmbwg.com/doc/2019/10/01/35244.shtml",
        "http://news.cjn.cn/sywh/201912/t3429617.htm?spm=zm1066-001.0.0.1.abc",
        "https://gzdaily.dayoo.com/pc/html/2025-04/09/content_743_883794.htm",
        "http://m1.tibet.cn/cn/Instant/news/202603/t20260302_7937950.html",
    ]
    for url in articles:
        assert classify_link(url, "", bare) == "article", url
    lists = [
        "http://dangjian.people.com.cn/GB/394443/index2.html",
        "https://gzdaily.dayoo.com/pc/html/2025-04/09/node_867.htm",
        "https://gzdaily.dayoo.com/pc/html/2025-04/09/node_1.htm?v=1",
    ]
    for url in lists:
        assert classify_link(url, "", bare, column_scope(url)) == "list", url
    others = [
        "https://www.12371.cn/2020/10/02/VIDE1601629276047510.shtml",  # a video page
        "http://www.hnjgdj.gov.cn/2026/03-12/449546.pdf",  # an attachment
        "https://fzjgdj.gov.cn/index.php?c=category&id=12",  # a list of another column
        "http://www.whgmbwg.com/doc/2019/10/01/index.shtml",
    ]
    for url in others:
        assert classify_link(url, "", bare, "http://elsewhere.cn/col/") is None, url
