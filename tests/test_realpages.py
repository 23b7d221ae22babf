"""Real third-party pages (``../shared/realpages``, never copied here): the cases of issue #11.

The aggregate scores are gated in tests/test_eval_gate.py; these are the failures the issue
names, one page each, so that a regression says which. Skipped when the folder is absent.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from pipeline.extract import extract_page
from pipeline.extract.evaluate import REALPAGES, load_real_gold
from pipeline.model import ExtractedPage

pytestmark = pytest.mark.skipif(
    not (REALPAGES / "MANIFEST.tsv").exists(),
    reason=f"real pages not found at {REALPAGES} (third-party pages, kept outside the repo)",
)
CRASH_RE = re.compile(r"\(at [\w.]+:\d+ in \w+\)")


@cache
def extracted(name: str) -> ExtractedPage:
    return extract_page((REALPAGES / f"{name}.html").read_bytes())


def test_no_real_page_crashes_or_is_lost_silently() -> None:
    for gold in load_real_gold():
        page = extracted(gold.path.removesuffix(".html"))
        assert not CRASH_RE.search(page.error or ""), (gold.path, page.error)
        assert page.is_article or page.reason, gold.path


@pytest.mark.parametrize(
    "name",
    [
        "gerapy_gaoconghello/bbc_zh_simp",  # was "no article body"
        "gerapy_gaoconghello/sina_news_ineuawwe3545250",
        "magic_html/news.sina.com.cn_1b929fec",  # its text sits in div.article-content-left
        "magic_html/news.youth.cn_39dd62c5",  # a short item under a pagination bar
        "magic_html/finance.sina.com.cn_42076fe0",
    ],
)
def test_real_articles_are_kept(name: str) -> None:
    page = extracted(name)
    assert page.is_article, page.reason


@pytest.mark.parametrize(
    "name",
    [
        "gerapy_gaoconghello/list_aibase",  # a news stream with teasers and timestamps
        "gerapy_gaoconghello/list_ifeng_finance",
        "gerapy_gaoconghello/list_36kr",  # a front page: headlines, no sentence
        "gerapy/tencent_important_news",
        "magic_html/www.theorychina.org.cn_aa1432d8",  # a journal's table of contents
    ],
)
def test_real_list_pages_are_not_articles(name: str) -> None:
    page = extracted(name)
    assert not page.is_article and page.reason and "list page" in page.reason


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("gerapy_mic1on/kaili_gov_news", "凯里市教育系统2024年公开招聘事业单位工作人员实施方案"),
        ("magic_html/www.kepu.gov.cn_4e55eac4", "习近平主持召开深入推进长三角一体化发展座谈会"),
        ("magic_html/www.zgshige.com_777ddd63", "静夜思•夜"),
        ("magic_html/zh.wikipedia.org_06586406", "雄安新区"),
    ],
)
def test_site_names_are_stripped_from_real_titles(name: str, title: str) -> None:
    assert extracted(name).title == title


def test_gbk_pages_decode_and_keep_their_body() -> None:
    page = extracted("cx163/163_money_3")
    assert page.encoding == "gb18030" and page.is_article
    assert "lossy-decode" not in page.flags
    assert page.author == "王利阳"
