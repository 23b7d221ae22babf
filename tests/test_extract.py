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


# --- never raise, never lose a page silently (issue #11) ---------------------------------


def test_an_exception_in_a_stage_becomes_the_page_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.extract import page as stages

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("<Element div at 0x7f>")

    monkeypatch.setattr(stages, "find_info_credits", broken)
    result = page(f'<div id="zoom">{PROSE}</div>')
    assert result.is_article is False
    assert result.error is not None
    assert result.error.startswith("body: KeyError:")
    assert "(at test_extract.py:" in result.error and "in broken)" in result.error
    assert result.reason and "report it" in result.reason


def test_no_body_rejection_says_what_to_check() -> None:
    result = extract_page(
        b"<html><head><title>x</title></head><body><div>Loading...</div></body></html>"
    )
    assert result.error == "extract: no article body"
    assert "JavaScript" in (result.reason or "")


def test_mostly_replacement_characters_are_garbage() -> None:
    text = "会议召开\ufffd\ufffd\ufffd强调" * 40
    result = page(f'<div id="zoom"><p>{text}</p></div>')
    assert result.is_article is False
    assert result.error is not None and "U+FFFD" in result.error


def test_random_han_characters_are_garbage() -> None:
    import random

    generator = random.Random(3)
    text = "".join(chr(generator.randint(0x4E00, 0x9FA5)) for _ in range(400))
    result = page(f'<div id="zoom"><p>{text}。</p></div>')
    assert result.is_article is False
    assert "garbage" in (result.error or "")


def test_second_opinion_keeps_an_article_our_rules_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.extract import page as stages

    real_read_body = stages.read_body

    def lost(*args: object, **kwargs: object) -> stages.Body:
        found = real_read_body(*args, **kwargs)
        found.paragraphs = []  # our rules find nothing; the page plainly holds an article
        return found

    monkeypatch.setattr(stages, "read_body", lost)
    result = page(f"<div class='text'>{PROSE * 4}</div>")
    assert result.is_article is True
    assert "body:trafilatura-fallback" in result.flags
    assert "认真总结2022年机关党建工作" in result.text


def test_text_core_in_a_left_column_survives_pruning() -> None:
    html = (
        "<html><head><title>机关党建工作会议召开</title></head><body>"
        "<div class='left main'><h1>机关党建工作会议召开</h1>"
        f"<div class='body-text'>{PROSE * 3}</div>"
        + "".join(f"<a href='/{i}.html'>其他新闻标题第{i}条消息</a>" for i in range(30))
        + "</div><div class='right'><a href='/x.html'>热门文章</a></div></body></html>"
    )
    result = extract_page(html.encode(), "http://x.example.cn/a/1.html")
    assert result.is_article is True
    assert result.text.count("认真总结2022年机关党建工作") == 3


# --- titles ------------------------------------------------------------------------------


def _title(head: str, body: str = "") -> str | None:
    html = f"<html><head><meta charset='utf-8'>{head}</head><body>{body}<div id='zoom'>{PROSE}</div></body></html>"
    return extract_page(html.encode(), "http://x.gov.cn/a/1.html").title


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "凯里市人民政府- 凯里市教育系统2024年公开招聘实施方案",
            "凯里市教育系统2024年公开招聘实施方案",
        ),
        (
            "习近平主持召开深入推进长三角一体化发展座谈会-中国科普网",
            "习近平主持召开深入推进长三角一体化发展座谈会",
        ),
        ("静夜思•夜-中国诗歌网", "静夜思•夜"),
        ("2023-2024学年党建工作要点", "2023-2024学年党建工作要点"),
        ("市委召开常委会会议 | 新闻频道 | 示例日报", "市委召开常委会会议"),
        (
            "奋进新征程 凝聚新力量<div>——热烈祝贺大会胜利召开</div>",
            "奋进新征程 凝聚新力量——热烈祝贺大会胜利召开",
        ),
    ],
)
def test_title_without_site_names_or_markup(title: str, expected: str) -> None:
    assert _title(f"<title>{title}</title>") == expected


def test_title_from_a_heading_with_a_counter_after_it() -> None:
    head = "<title>第二章 失乡号的船长 _《深海余烬》小说在线阅读 - 起点中文网</title>"
    assert _title(head, "<h1>第二章 失乡号的船长<span>241</span></h1>") == "第二章 失乡号的船长"
    head = "<title>雄安新区 - 维基百科，自由的百科全书</title>"
    assert _title(head, "<h1>雄安新区<span>[编辑]</span></h1>") == "雄安新区"


def test_visible_headline_wins_over_a_stale_title() -> None:
    head = "<title>家庭暴力：警方算法判定莉娜仅面临中等风险 - BBC News 中文</title>"
    body = "<h1>在被AI警察判定为仅面临中等风险后，西班牙女孩莉娜遇害了</h1><h2>热门内容</h2>"
    assert _title(head, body) == "在被AI警察判定为仅面临中等风险后，西班牙女孩莉娜遇害了"


def test_title_naming_only_site_and_column_yields_to_the_page_heading() -> None:
    body = "<div class='rumor-title'>徒手抓子弹真的存在吗？</div><div class='tj-box-title'>相关推荐</div>"
    assert _title("<title>科普中国-辟谣文章</title>", body) == "徒手抓子弹真的存在吗？"


def test_title_agreeing_with_heading_keeps_its_quotes() -> None:
    head = '<title>微软开源"原生1bit"三进制LLM | 量子位</title>'
    assert _title(head, "<h1>微软开源“原生1bit”三进制LLM</h1>") == "微软开源“原生1bit”三进制LLM"


# --- government notices ------------------------------------------------------------------

NOTICE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>吉林省人民政府关于加强森林草原防火工作的通告_吉林省人民政府</title></head><body>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/xxgk/">政府信息公开</a> &gt; 通知公告</div>
<div class="{box}">
<table class="xxgk_table">
<tr><td>索 引 号：</td><td>11220000013544357T/2023-00123</td><td>主题分类：</td><td>综合政务\\通知</td></tr>
<tr><td>发文机关：</td><td>吉林省人民政府</td><td>成文日期：</td><td>2023年03月10日</td></tr>
<tr><td>标　　题：</td><td colspan="3">吉林省人民政府关于加强森林草原防火工作的通告</td></tr>
<tr><td>文　　号：</td><td>吉政明电〔2023〕5号</td><td>发布日期：</td><td>2023年03月15日</td></tr>
</table>
<h1 class="bt">吉林省人民政府关于加强森林草原防火工作的通告</h1>
<div class="{content}">
<p>为切实做好全省森林草原防火工作，有效预防和扑救森林草原火灾，保障人民群众生命财产安全，根据《中华人民共和国森林法》等法律法规，现就有关事项通告如下：</p>
<p>一、每年3月15日至6月15日、9月15日至11月15日为全省森林草原防火期。</p>
<p>二、防火期内，禁止在森林草原防火区野外用火。</p>
<p>（一）禁止烧荒、烧秸秆、烧灰积肥；</p>
<p>（二）禁止上坟烧纸、燃放烟花爆竹；</p>
<p>三、进入森林草原防火区的人员，应当自觉接受检查，不得携带火种。</p>
<p>联系电话：0431-88904200，举报电话：12119。</p>
<p>地址：长春市人民大街11号。</p>
<p>四、对违反本通告规定的，由有关部门依法予以处罚；构成犯罪的，依法追究刑事责任。</p>
<p>五、本通告自发布之日起施行。</p>
<p style="text-align:right">吉林省人民政府</p>
<p style="text-align:right">2023年3月10日</p>
<p>（此件公开发布）</p>
</div></div>
<div class="footer">主办：吉林省人民政府办公厅　吉ICP备05002909号</div>
</body></html>"""


@pytest.mark.parametrize(
    ("box", "content"),
    [("zlyxxgk", "zlyxxgk_content"), ("main", "TRS_UEDITOR")],
    ids=["trafilatura-path", "container-path"],
)
def test_notice_keeps_its_whole_body_and_both_dates(box: str, content: str) -> None:
    html = NOTICE.format(box=box, content=content)
    url = "http://www.jl.gov.cn/zw/xxgk/tzgg/202303/t20230315_8690000.html"
    result = extract_page(html.encode(), url)
    assert result.is_article is True
    assert result.published == "2023-03-15"  # 发布日期
    assert result.written_date == "2023-03-10"  # 成文日期
    lines = result.text.split("\n")
    for clause in (
        "一、每年3月15日",
        "（二）禁止上坟烧纸",
        "联系电话：0431-88904200",
        "地址：长春市人民大街11号",
        "四、对违反本通告规定",
        "五、本通告自发布之日起施行。",
    ):
        assert any(line.startswith(clause) for line in lines), clause
    assert lines[-3:] == ["吉林省人民政府", "2023年3月10日", "（此件公开发布）"]
    for label in (
        "索引号",
        "索 引 号",
        "发文机关",
        "文号",
        "文　　号",
        "主题分类",
        "成文日期",
        "吉ICP备",
    ):
        assert label not in result.text, label


def test_written_date_from_an_info_line() -> None:
    line = '<div class="info">成文日期：2024-01-02　发布日期：2024-01-05　来源：市政府办公室</div>'
    result = page(f"{line}<div id='zoom'>{PROSE}</div>")
    assert (result.published, result.written_date) == ("2024-01-05", "2024-01-02")
    assert result.source == "市政府办公室"


# --- bylines and sources -----------------------------------------------------------------


def test_author_meta_holding_the_editor_is_no_author() -> None:
    head = '<meta name="author" content="青网新闻张毅">'
    result = page(f"<div id='zoom'>{PROSE}<p>责任编辑：张毅</p></div>", head)
    assert result.author is None and result.editor == "张毅"


def test_organisation_in_the_author_meta_is_no_author() -> None:
    assert (
        page(f"<div id='zoom'>{PROSE}</div>", '<meta name="author" content="中国科普网">').author
        is None
    )


@pytest.mark.parametrize(
    ("paragraph", "authors"),
    [
        ("新华社北京5月19日电（刘艺、杨吉）", "刘艺、杨吉"),
        ("文丨政能亮特约评论员 韩涵", "韩涵"),
    ],
)
def test_lead_bylines(paragraph: str, authors: str) -> None:
    assert page(f"<div id='zoom'><p>{paragraph}</p>{PROSE}</div>").author == authors


@pytest.mark.parametrize(
    ("closing", "authors"),
    [
        ("（总台央视记者 奚丹霓 张赛）", "奚丹霓、张赛"),
        ("（钟才文）", "钟才文"),
        ("（作者系贵州省直机关工委党组书记、局长）", None),
    ],
)
def test_closing_signatures(closing: str, authors: str | None) -> None:
    assert (
        page(f"<div id='zoom'>{PROSE}<p>会议要求，各单位抓好落实。{closing}</p></div>").author
        == authors
    )


def test_padded_two_character_names_are_joined() -> None:
    assert (
        page(f"<div id='zoom'><p>本报记者 王乐文 方 敏</p>{PROSE}</div>").author == "王乐文、方敏"
    )


@pytest.mark.parametrize(
    ("line", "source"),
    [
        ("来源：央视新闻客户端 举报", "央视新闻客户端"),
        ("来源：21世纪经济报道(广州)", "21世纪经济报道(广州)"),
        ("来源：人民日报2024-05-13 08:49", "人民日报"),
    ],
)
def test_source_values_end_at_widgets_and_dates(line: str, source: str) -> None:
    assert page(f"<div class='info'>{line}</div><div id='zoom'>{PROSE}</div>").source == source


# --- list pages and trailing lists -------------------------------------------------------


def test_short_news_under_a_pagination_bar_is_an_article() -> None:
    links = "".join(f"<li><a href='/{i}.html'>其他新闻标题第{i}条消息</a></li>" for i in range(12))
    body = (
        f"<div class='TRS_Editor'>{PROSE}{PROSE}</div><ul class='rdwz'>{links}</ul>"
        "<div class='page'>共3页 <a href='?p=2'>下一页</a></div>"
    )
    assert page(body).is_article is True


def test_trailing_list_of_other_articles_dropped() -> None:
    items = "".join(
        f"<li><a href='/r/{i}.html'>2021-01-19 相关健康资讯第{i}条标题很长</a></li>"
        for i in range(6)
    )
    body = f"<div class='art'><div class='content'>{PROSE}{PROSE}</div><h3>健康资讯推荐</h3><ul>{items}</ul></div>"
    result = page(body)
    assert "健康资讯推荐" not in result.text and "相关健康资讯" not in result.text


@pytest.mark.parametrize(
    "line",
    [
        "平台声明：该文观点仅代表作者本人，搜狐号系信息发布平台，搜狐仅提供信息存储空间服务。",
        "特别声明：以上内容为自媒体平台“网易号”用户上传并发布，本平台仅提供信息存储服务。",
        "评论13",
    ],
)
def test_platform_disclaimers_end_the_body(line: str) -> None:
    result = page(f"<div id='zoom'>{PROSE}<p>{line}</p><p>网友留言：说得好。</p></div>")
    assert line not in result.text and "网友留言" not in result.text
