"""Tests for pipeline.extract: inline documents per rule, then saved pages with hand-written gold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.extract import extract_page

PAGES = Path(__file__).parent / "pages"
EXPECTED = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
FIELDS = (
    "is_article",
    "title",
    "title_original",
    "published",
    "source",
    "author",
    "editor",
    "site_name",
    "column",
    "keywords",
    "script",
    "encoding",
)


def page(body: str, head: str = "", url: str | None = "http://example.gov.cn/a/t20230419_1.html"):
    """Build a small article page around ``body`` and extract it."""
    html = f"""<html><head><meta charset="utf-8"><title>机关党建工作会议召开 - 示例市政府</title>{head}</head>
    <body><h1>机关党建工作会议召开</h1>{body}</body></html>"""
    return extract_page(html.encode("utf-8"), url)


PROSE = "<p>4月18日,市直机关召开党建工作会议,认真总结2022年机关党建工作,部署2023年重点任务。会议强调,要永葆政治机关鲜明本色。</p>"


# --- saved pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_page(name: str) -> None:
    gold = EXPECTED[name]
    result = extract_page((PAGES / name).read_bytes(), gold.get("url"))
    assert result.error is None or not gold["is_article"], result.error
    for field in FIELDS:
        if field in gold:
            assert getattr(result, field) == gold[field], field
    if "expected_url" in gold:
        assert result.url == gold["expected_url"]
    if "reason_contains" in gold:
        assert gold["reason_contains"] in (result.reason or "")
    for flag in gold.get("flags", []):
        assert flag in result.flags
    text = result.text or ""
    for snippet in gold.get("with", []):
        assert snippet in text, snippet
    for snippet in gold.get("without", []):
        assert snippet not in text, snippet
    lines = text.split("\n")
    for line in gold.get("not_lines", []):
        assert line not in lines, line
    for snippet in gold.get("original_with", []):
        assert snippet in (result.text_original or ""), snippet
    if gold["is_article"]:
        assert "\n" in text, "one paragraph per line"


def test_every_page_has_gold() -> None:
    saved = {str(p.relative_to(PAGES)) for p in PAGES.rglob("*.html")}
    assert saved == set(EXPECTED)


# --- errors ---------------------------------------------------------------------------------


def test_pdf_bytes_give_decode_error() -> None:
    result = extract_page(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "http://x.gov.cn/a.pdf")
    assert result.error is not None and result.error.startswith("decode:")
    assert result.is_article is False


def test_empty_body_gives_decode_error() -> None:
    assert extract_page(b"", None).error.startswith("decode:")


def test_blank_document_gives_parse_error() -> None:
    assert extract_page(b"<html><body>   </body></html>", None).error == "parse: empty document"


def test_page_without_body_gives_extract_error() -> None:
    result = extract_page(
        "<html><head><title>空白页</title></head><body><div>首页</div></body></html>".encode()
    )
    assert result.error == "extract: no article body"
    assert result.is_article is False


# --- metadata rules ----------------------------------------------------------------------


def test_meta_tags_win() -> None:
    head = (
        '<meta name="ArticleTitle" content="机关党建工作会议召开">'
        '<meta name="PubDate" content="2023-04-19 16:15">'
        '<meta name="ContentSource" content="武汉统战">'
        '<meta name="SiteName" content="武汉统战"><meta name="ColumnName" content="统战要闻">'
    )
    result = page('<div class="info">发布时间:2020-01-01 来源:别处</div>' + PROSE, head)
    assert result.title == "机关党建工作会议召开"
    assert result.published == "2023-04-19T16:15"
    assert result.source == "武汉统战"
    assert (result.site_name, result.column) == ("武汉统战", "统战要闻")


def test_title_suffix_removed_without_heading() -> None:
    html = f"<html><head><title>机关党建工作会议召开 - 示例市人民政府门户网站</title></head><body>{PROSE}</body></html>"
    assert extract_page(html.encode()).title == "机关党建工作会议召开"


def test_title_with_bar_kept_when_heading_matches() -> None:
    html = (
        "<html><head><title>周周讲第57讲 | 政治体检进行时-武汉革命博物馆</title></head><body>"
        f"<h2>周周讲第57讲 | 政治体检进行时</h2>{PROSE}</body></html>"
    )
    assert extract_page(html.encode()).title == "周周讲第57讲 | 政治体检进行时"


def test_info_line_fields_and_empty_source() -> None:
    result = page(
        '<div class="info">发布时间:2019-08-03&nbsp;&nbsp;来源:&nbsp;&nbsp;作者:张三</div>' + PROSE,
        url=None,
    )
    assert result.published == "2019-08-03"
    assert result.source is None
    assert result.author == "张三"


def test_header_date_is_not_the_published_date() -> None:
    html = (
        '<html><head><title>机关党建工作会议召开</title></head><body><div class="top">今天是2024年3月5日 星期二</div>'
        f'<h1>机关党建工作会议召开</h1>{PROSE}<ul class="side"><li><a href="/1">另一篇新闻标题很长很长</a> 2023-01-02</li></ul>'
        "</body></html>"
    )
    assert extract_page(html.encode(), "http://x.gov.cn/news/123.html").published is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://www.wuhan.gov.cn/a/202304/t20230419_2184312.shtml", "2023-04-19"),
        ("http://www.xz.gov.cn/art/2023/4/19/art_1_2.html", "2023-04-19"),
        ("http://www.news.cn/politics/2023-05/06/c_1129590000.htm", "2023-05-06"),
    ],
)
def test_url_date_fallback(url: str, expected: str) -> None:
    assert page(PROSE, url=url).published == expected


def test_url_from_canonical_when_not_given() -> None:
    result = page(
        PROSE, '<link rel="canonical" href="http://x.gov.cn/c/t20230102_9.html">', url=None
    )
    assert result.url == "http://x.gov.cn/c/t20230102_9.html"
    assert result.published == "2023-01-02"


# --- body cleaning rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [
        "<p>您当前位置:首页 &gt; 工作动态</p>",
        "<p>发布时间:2023-04-19 来源:市委统战部</p>",
        "<p>【字号:大 中 小】</p>",
        "<p>【打印本页】【关闭窗口】</p>",
        "<p>扫一扫在手机打开当前页</p>",
        "<p>APP下载</p>",
        "<p>关键词:党建 机关</p>",
    ],
)
def test_widget_lines_dropped(junk: str) -> None:
    result = page(f'<div class="TRS_Editor">{junk}{PROSE}{PROSE}</div>')
    assert result.text is not None
    junk_text = junk.split(">", 1)[1].split("<", 1)[0][:4]
    assert junk_text not in result.text
    assert "4月18日" in result.text


@pytest.mark.parametrize(
    "heading",
    ["为你推荐", "猜你喜欢", "相关新闻", "热点推荐", "即时新闻"],
)
def test_everything_after_recommendation_heading_dropped(heading: str) -> None:
    result = page(f'<div id="zoom">{PROSE}<p>{heading}</p><p>另一篇文章的标题</p></div>')
    assert "4月18日" in result.text
    assert heading not in result.text
    assert "另一篇文章" not in result.text


@pytest.mark.parametrize(
    "footer",
    [
        "主办单位:中共示例市委",
        "鄂ICP备13015435号-1",
        "版权所有:示例市政府",
        "Copyright © 2023",
        "版权声明:凡注明来源的作品",
    ],
)
def test_footer_and_after_dropped(footer: str) -> None:
    result = page(f'<div id="zoom">{PROSE}<p>{footer}</p><p>南通市委:加快建设示范区</p></div>')
    assert footer[:4] not in result.text
    assert "南通市委" not in result.text


def test_word_chengban_inside_prose_is_kept() -> None:
    prose = (
        "<p>此次活动由区委巡察办、区退役军人事务局、区医疗保障局联合承办,共有80余名党员参加。</p>"
    )
    result = page(f'<div id="zoom">{PROSE}{prose}</div>')
    assert "联合承办" in result.text


def test_credit_lines_go_to_fields() -> None:
    result = page(f'<div id="zoom">{PROSE}<p>编辑:张成付</p><p>校对:徐雅维、吕重江</p></div>')
    assert result.editor == "张成付"
    assert "编辑" not in result.text and "校对" not in result.text


def test_parenthesised_credit_line() -> None:
    result = page(f'<div class="TRS_Editor">{PROSE}<p>(责任编辑:王敏 审核:李晓)</p></div>')
    assert result.editor == "王敏"
    assert "审核" not in result.text


def test_reporter_byline_dropped_and_parsed() -> None:
    result = page(f'<div id="zoom"><p>本报记者 岳旭 通讯员 孙文军 李耀</p>{PROSE}</div>')
    assert result.author == "岳旭、孙文军、李耀"
    assert "本报记者" not in result.text


def test_lead_paragraph_byline_kept_in_body() -> None:
    lead = "<p>广州日报讯 (全媒体记者邓潇丽 通讯员穗直宣)“观大势者明,顺大势者胜”。市直机关工委深刻领悟重要讲话精神。</p>"
    result = page(f'<div id="zoom">{lead}{PROSE}</div>')
    assert result.author == "邓潇丽、穗直宣"
    assert result.text.startswith("广州日报讯 (全媒体记者邓潇丽")


def test_image_caption_kept() -> None:
    body = f'<div id="zoom">{PROSE}<p><img src="a.jpg"></p><p>图为会议现场。</p>{PROSE}</div>'
    assert "图为会议现场。" in page(body).text


def test_traditional_page_is_normalised() -> None:
    body = '<div id="zoom"><p>為深入學習貫徹黨的二十大精神,市委統(tǒng)戰(zhàn)部機關(guān)召開黨建工作會議,認真總結(jié)2022年機關(guān)黨建工作。</p></div>'
    result = page(body)
    assert result.script == "hant"
    assert "市委统战部机关召开党建工作会议" in result.text
    assert "統(tǒng)" in result.text_original


# --- page kinds -------------------------------------------------------------------------


def test_list_page_is_not_an_article() -> None:
    items = "".join(
        f'<li><a href="/a/{i}.html">市直机关第{i}次党建工作会议召开</a><span>2023-04-{i:02d}</span></li>'
        for i in range(1, 16)
    )
    html = f'<html><head><title>工作动态</title></head><body><ul class="list">{items}</ul><div class="page">共5页 <a href="?p=2">下一页</a></div></body></html>'
    result = extract_page(html.encode(), "http://x.gov.cn/gzdt/index.html")
    assert result.is_article is False
    assert "list" in result.reason


def test_attachment_only_page_is_not_an_article() -> None:
    body = '<div id="zoom"><p>附件:<a href="/files/2023gzyd.pdf">2023年机关党建工作要点.pdf</a></p></div>'
    result = page(body)
    assert result.is_article is False
    assert result.reason == "attachment only"


def test_article_with_attachment_is_an_article() -> None:
    body = f'<div id="zoom">{PROSE}{PROSE}<p>附件:<a href="/files/a.pdf">名单.pdf</a></p></div>'
    assert page(body).is_article is True


def test_gbk_bytes_with_lying_header() -> None:
    html = f'<html><head><meta charset="gb2312"><title>机关党建工作会议召开</title></head><body><h1>机关党建工作会议召开</h1><div id="zoom">{PROSE}</div></body></html>'
    result = extract_page(
        html.encode("gbk"), "http://x.gov.cn/1.html", {"Content-Type": "text/html; charset=utf-8"}
    )
    assert result.encoding == "gb18030"
    assert "认真总结2022年机关党建工作" in result.text
    assert "lossy-decode" not in result.flags


def test_notice_time_and_place_lines_are_content() -> None:
    body = (
        '<div id="zoom"><p>各党支部:</p><p>时间:2023年5月10日上午9:00</p><p>地点:市民之家三楼会议室</p>'
        f"{PROSE}</div>"
    )
    result = page(body, '<meta name="PubDate" content="2023-05-04">')
    assert "时间:2023年5月10日上午9:00" in result.text
    assert "地点:市民之家三楼会议室" in result.text
    assert result.published == "2023-05-04"


def test_dates_in_the_text_are_not_the_published_date() -> None:
    # Some templates print the info line under the text: that one is the page's date.
    body = (
        f"<div><p>时间:2021年7月1日,庆祝大会隆重举行。</p>{PROSE}<p>发布时间:2020-01-01</p></div>"
    )
    result = page(body, url="http://x.gov.cn/news/5.html")
    assert result.published == "2020-01-01"
    assert "庆祝大会隆重举行" in result.text
    assert "发布时间" not in result.text


def test_info_line_time_refines_a_day_only_meta() -> None:
    head = '<meta name="publishdate" content="2024-11-20">'
    result = page(
        f'<div class="info"><span class="time">2024-11-20 09:14</span> 来源:广州日报</div>{PROSE}',
        head,
    )
    assert result.published == "2024-11-20T09:14"


def test_prev_next_links_dropped() -> None:
    body = f'<div id="zoom">{PROSE}<p>上一篇:民主北路社区党委:答好新时代“赶考”卷</p><p>下一篇:市市场监管局机关党委以“我为群众办实事”实践活动为抓手推进清廉机关建设走深走实</p></div>'
    result = page(body)
    assert "上一篇" not in result.text and "下一篇" not in result.text and "赶考" not in result.text


def test_source_link_line_dropped() -> None:
    result = page(
        f'<div id="zoom">{PROSE}<p>原文连结:http://www.example.cn/content/1.htm</p></div>'
    )
    assert "原文" not in result.text


def test_link_box_remnants_before_the_text_dropped() -> None:
    html = (
        "<html><head><title>机关党建工作会议召开_鼓楼区党建网</title></head><body><table><tr>"
        '<td><a href="http://www.xz.gov.cn/">中国徐州</a><br><a href="http://www.jsdj.gov.cn/">江苏党建网</a></td>'
        f"<td><font><b>机关党建工作会议召开</b></font>{PROSE}{PROSE}</td></tr></table></body></html>"
    )
    result = extract_page(html.encode(), "http://x.gov.cn/news_view.asp?id=1")
    assert "中国徐州" not in result.text and "江苏党建网" not in result.text
    assert result.title == "机关党建工作会议召开"
