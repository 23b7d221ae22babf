"""The column dictionary and navigation, CMS fingerprints and site identity
(crawler/discovery/columns.py, fingerprint.py, identity.py), on sample home pages and on
small documents written inline."""

from __future__ import annotations

import pytest

from crawler.discovery.columns import (
    DEFAULT_TERMS,
    NavLink,
    is_party_site,
    load_terms,
    navigation_links,
    party_candidates,
    score_link,
    script_menu_links,
)
from crawler.discovery.fingerprint import CMS_DEFAULTS, fingerprint
from crawler.discovery.identity import declared_encoding, identify, registry_id
from crawler.discovery.lists import parse
from pipeline.errors import SiteConfigError
from sample_sites import build_sites
from sample_sites.home import PARTY_COLUMNS


@pytest.fixture(scope="module")
def sites():
    return build_sites(30)


def home(site):
    status, headers, body = site.respond(site.home_path())
    if status == 301:
        status, headers, body = site.respond(headers["Location"])
    text = body.decode(site.encoding)
    return parse(text), text, headers


def link(text, url="http://x/a/", where="nav", parent=""):
    return NavLink(url, text, where, parent)


def test_party_words_win_and_distractors_lose():
    assert score_link(link("机关党建"), False).score == 1.1
    assert score_link(link("黨建"), False) is not None  # traditional script
    assert score_link(link("党风廉政"), False, DEFAULT_TERMS) is not None
    for distractor in ("政务公开", "办事服务", "互动交流", "图片新闻", "视频", "下载中心"):
        assert score_link(link(distractor), True) is None, distractor
    assert score_link(link("党务公开"), False) is not None  # a party word beats 公开


def test_news_columns_count_only_on_party_sites():
    assert score_link(link("工作动态"), party_site=False) is None
    assert score_link(link("工作动态"), party_site=True).score == 0.7
    assert score_link(link("工作动态", where="subnav", parent="党建工作"), False).score == 0.8
    assert is_party_site("徐州市级机关党建网") and not is_party_site("期刊文摘网")


def test_title_attribute_and_path_words():
    assert score_link(link("武昌周周讲 习近平新时代中国特色社会主义思想武昌周周讲"), False)
    assert score_link(link("专栏", url="http://x/dflz/"), False).score == 0.5  # dflz: 党风廉政
    assert score_link(link("专题", url="http://x/dflz/"), False) is None  # 专题 vetoes
    hint = score_link(link("本站栏目", url="http://x/jgdj/", where="page"), False)
    assert hint is not None and hint.score == 0.4


def test_article_links_are_not_columns():
    assert (
        score_link(link("党建工作会议召开", url="http://x/dj/202404/t20240408_1.html"), True)
        is None
    )
    section = score_link(link("第A2版：党建", url="http://x/pc/html/2024-12/31/node_2.htm"), False)
    assert section is not None  # an e-paper section is a list, though its folder is dated


def test_the_dictionary_extends_per_deployment(tmp_path):
    extra = tmp_path / "terms.yml"
    extra.write_text("party: [精神文明]\nexclude: [工作动态]\n", encoding="utf-8")
    terms = load_terms(extra)
    assert score_link(link("精神文明"), False, terms) is not None
    assert score_link(link("工作动态"), True, terms) is None
    (tmp_path / "bad.yml").write_text("partee: [x]\n", encoding="utf-8")
    with pytest.raises(SiteConfigError, match="unknown dictionary list"):
        load_terms(tmp_path / "bad.yml")


def test_script_menus_are_read_with_their_parents():
    script = (
        'var navData = [{"name": "党建工作", "url": "/djgz/", "children": '
        '[{"name": "工作动态", "url": "/djgz/gzdt/"}]}];'
    )
    links = script_menu_links(script, "http://x/")
    assert NavLink("http://x/djgz/gzdt/", "工作动态", "script", "党建工作") in links
    written = script_menu_links("document.write('<a href=\"/dflz/\">党风廉政</a>');", "http://x/")
    assert written == [NavLink("http://x/dflz/", "党风廉政", "script")]


@pytest.mark.parametrize("site_id", list(PARTY_COLUMNS))
def test_sample_home_pages_give_their_party_columns_as_candidates(site_id, sites):
    site = sites[site_id]
    tree, _text, _headers = home(site)
    links = navigation_links(tree, site.base_url + "/")
    name_says = bool(is_party_site(site.name))
    candidates = party_candidates(links, name_says, lambda u: u.startswith(site.base_url))
    urls = {c.url for c in candidates}
    for key in PARTY_COLUMNS[site_id]:
        assert site.base_url + site.list_path(key, 1) in urls, (site_id, key, urls)
    assert len(candidates) <= 12


def test_hanweb_menu_in_script_data_has_sub_menus(sites):
    site = sites["xuzhou-jgdj"]
    tree, _text, _headers = home(site)
    links = {n.url: n for n in navigation_links(tree, site.base_url + "/")}
    child = links[site.base_url + "/col/col12345/index.html"]
    assert (child.where, child.parent) == ("script", "新闻动态")


FAMILIES = {
    "wuchang-museum": "phpcms",
    "wuhan-tzb": "trs-wcm",
    "gzdaily-dangjian": "founder",
    "xuzhou-jgdj": "hanweb",
    "jiangcheng-epaper": "founder-epaper",
    "oujiang-jgdj": "hanweb-zj",
    "qikan-aggregator": "unknown",
    "old-district": "unknown",
}


@pytest.mark.parametrize(("site_id", "cms"), FAMILIES.items())
def test_fingerprints_of_sample_home_pages(site_id, cms, sites):
    tree, text, headers = home(sites[site_id])
    links = [a.get("href", "") for a in tree.iter("a")]
    assert fingerprint([(tree, text, "")], links, headers).cms == cms


@pytest.mark.parametrize(
    ("html", "cms"),
    [
        (
            '<meta name="generator" content="DedeCMS"><link href="/templets/default/style/dedecms.css">'
            '<a href="/plus/list.php?tid=3">党建</a>',
            "dedecms",
        ),
        (
            '<script src="/system/resource/js/counter.js"></script><!-- Visual SiteBuilder 9 -->'
            '<a href="/info/1012/3456.htm">x</a>',
            "boda",
        ),
        (
            '<meta name="generator" content="WordPress 6.4.2"><link href="/wp-content/themes/a.css">',
            "wordpress",
        ),
        ('<meta name="generator" content="PHPCMS v9">', "phpcms"),
        ("<p>nothing to tell</p>", "unknown"),
    ],
)
def test_fingerprints_of_other_cms_families(html, cms):
    text = f"<html><head>{html}</head><body><p>x</p></body></html>"
    tree = parse(text)
    links = [a.get("href", "") for a in tree.iter("a")]
    got = fingerprint([(tree, text, "")], links)
    assert got.cms == cms and (cms == "unknown" or got.evidence)


def test_cms_defaults_reuse_the_spiders_patterns():
    assert CMS_DEFAULTS["trs-wcm"].article_patterns
    assert CMS_DEFAULTS["hanweb"].article_patterns
    assert CMS_DEFAULTS["trs-wcm"].pagination == "index_N"


def test_identity_from_site_id_code(sites):
    tree, text, _headers = home(sites["wuhan-tzb"])
    ident = identify(tree, text, "http://www.whtzb.gov.cn/")
    assert (ident.name, ident.level, ident.province, ident.city) == (
        "武汉统战",
        "city",
        "湖北省",
        "武汉市",
    )
    assert ident.site_id_code == "4201000012" and ident.id == "whtzb"


def test_identity_without_code_from_icp_and_name(sites):
    tree, text, _headers = home(sites["old-district"])
    ident = identify(tree, text, "http://127.0.0.16/")
    assert (ident.level, ident.province, ident.city, ident.district) == (
        "district",
        "江苏省",
        "徐州市",
        "鼓楼区",
    )
    tree, text, _headers = home(sites["mirror-hant"])
    assert identify(tree, text, "http://127.0.0.17/").province == "香港特别行政区"


def test_registry_id_and_encoding():
    assert registry_id("武汉统战", "http://127.0.0.12:8780/") == "whtz"
    assert registry_id("x", "http://www.hnjgdj.gov.cn/") == "hnjgdj"
    tree = parse('<html><head><meta charset="gb2312"></head><body>x</body></html>')
    assert declared_encoding({}, tree) == "gb18030"
    assert declared_encoding({"content-type": "text/html; charset=utf-8"}, tree) is None


def test_docs_list_every_word_of_the_dictionary():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "discover.md").read_text(
        encoding="utf-8"
    )
    for name in ("party", "site", "news", "exclude", "url"):
        for word in getattr(DEFAULT_TERMS, name):
            assert word in docs, f"docs/discover.md does not list the {name} word {word!r}"
