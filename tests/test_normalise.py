"""Tests for pipeline.extract.normalise, pipeline.extract.dates and pipeline.extract.bylines (the text-level rules)."""

from __future__ import annotations

import pytest

from pipeline.extract.bylines import find_lead_byline, is_credit_line, parse_byline, parse_info_line
from pipeline.extract.dates import find_date_in_url, parse_date
from pipeline.extract.normalise import (
    collapse_whitespace,
    detect_decoder_damage,
    detect_script,
    normalise_text,
    remove_zero_width,
    repair_decoder_damage,
    strip_pinyin_annotations,
    to_simplified,
)

# --- pinyin annotations ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("統(tǒng)戰(zhàn)部", "統戰部"),
        ("機關(guān)黨建", "機關黨建"),  # heteronym: 關 also reads wān
        ("統(tong3)", "統"),  # tone number
        ("的(de)", "的"),  # neutral tone
        ("綠(lǜ)色", "綠色"),  # ü with tone mark
        ("律(lv4)", "律"),  # ü written v
        ("統（tǒng）", "統"),  # full-width parentheses
        ("統(t&#466;ng)戰", "統戰"),  # character reference escaped twice
        ("統(t&#x1d2;ng)", "統"),
        (
            "乘勢而上強(qiáng)化黨建督查(加強(qiáng)黨建督導(dǎo))",
            "乘勢而上強化黨建督查(加強黨建督導)",
        ),
    ],
)
def test_pinyin_removed(text: str, expected: str) -> None:
    assert strip_pinyin_annotations(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "下载(APP)",
        "生产总值(GDP)增长",
        "武昌区始终将(全面从严治党)使命和责任",
        "区委第一轮村(居)巡察组",
        "高原(北京)文化传播有限公司",
        "统(zhan)战",  # letters that are not a reading of 统
        "南湖街(Nanhu)",
        "党组(党委)",
        "表(1)",
    ],
)
def test_legitimate_parentheses_kept(text: str) -> None:
    assert strip_pinyin_annotations(text) == text


def test_normalise_text_order_and_result() -> None:
    text = "乘勢而上強(qiáng)化黨建督查(加強(qiáng)黨建督導(dǎo))\n來源: 武漢統(tǒng)戰(zhàn)"
    assert normalise_text(text) == "乘势而上强化党建督查(加强党建督导)\n来源: 武汉统战"


def test_to_simplified() -> None:
    assert to_simplified("廣州日報訊 全媒體記者鄧瀟麗") == "广州日报讯 全媒体记者邓潇丽"
    assert to_simplified("") == ""


def test_zero_width_and_whitespace() -> None:
    assert remove_zero_width("党\u200b建\ufeff") == "党建"
    assert (
        collapse_whitespace("  第一段\u3000\u3000内容 \n\n \n第二段\xa0\xa0内容")
        == "第一段 内容\n第二段 内容"
    )
    assert normalise_text("党\u200d建  工作\n\n\n会议") == "党建 工作\n会议"


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("市委統戰部機關黨的工作暨黨支部書記抓黨建述職評議大會召開", "hant"),
        ("市委统战部机关党的工作暨党支部书记抓党建述职评议大会召开", "hans"),
        ("著名党建专家和知名学者以全景式、互动式教学模式开展教学", "hans"),
        ("APP 2023", None),
    ],
)
def test_detect_script(text: str, script: str | None) -> None:
    assert detect_script(text) == script


# --- decoder damage ---------------------------------------------------------------------

DAMAGED = "感到特別激動和自豪?!毙熘菔嗅t(yī)療保障局機關(guān)黨委副書記閆桂姝說"


def test_seed_004_damage_detected_and_repaired() -> None:
    assert detect_decoder_damage(DAMAGED)
    repaired, found = repair_decoder_damage(DAMAGED)
    assert found
    assert repaired == "感到特別激動和自豪。”徐州市醫(yī)療保障局機關(guān)黨委副書記閆桂姝說"
    assert "自豪。”徐州市医疗保障局" in normalise_text(DAMAGED)


@pytest.mark.parametrize(
    "text",
    [
        "江蘇沛縣和新疆庫爾勒兩地政府為何互致感謝信?",
        "這是真的?他說不是,我們再看看。",
        "信仰的力量?是政党的“灵魂”,也是每名党员思想和行动的“总开关”",
        "7个警种89项服务236种业务“一窗办”|“盐之e警”",
    ],
)
def test_no_damage_in_clean_text(text: str) -> None:
    assert not detect_decoder_damage(text)
    assert repair_decoder_damage(text) == (text, False)


def test_unrepairable_damage_is_only_flagged() -> None:
    text = "会议指出?熘菔嗅毙熘菔熘菔嗅"
    assert detect_decoder_damage(text)
    assert repair_decoder_damage(text)[0] == text


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("发布时间:2019-08-03    来源:", "2019-08-03"),
        ("2023-04-19 16:15:00 来源: 武汉统战", "2023-04-19T16:15"),
        ("2023年04月19日 16:15", "2023-04-19T16:15"),
        ("2023年4月9日", "2023-04-09"),
        ("时间:2023-5-12 9:08:25", "2023-05-12T09:08"),
        ("2023/04/19", "2023-04-19"),
        ("2021-12-08龚凤祥", "2021-12-08"),
        ("2023-04-19 00:00:00", "2023-04-19"),
        ("20230419", "2023-04-19"),
        ("2023-02-30", None),
        ("浏览次数:1024", None),
    ],
)
def test_parse_date(text: str, expected: str | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://www.wuhan.gov.cn/sy/whyw/202304/t20230419_2184312.shtml", "2023-04-19"),
        ("http://www.xz.gov.cn/art/2023/4/19/art_1_2.html", "2023-04-19"),
        ("http://www.news.cn/2023-05/06/c_1129590000.htm", "2023-05-06"),
        ("http://dangjian.people.com.cn/n1/2023/0506/c117092-32680000.html", "2023-05-06"),
        ("http://www.gov.cn/xinwen/2023-05/06/content_5754000.htm", "2023-05-06"),
        ("http://x.gov.cn/news/show.asp?id=3872", None),
        ("http://x.gov.cn/art/2023/13/45/art_1.html", None),
    ],
)
def test_find_date_in_url(url: str, expected: str | None) -> None:
    assert find_date_in_url(url) == expected


# --- info lines, credits, bylines --------------------------------------------------------


def test_info_line_with_empty_source() -> None:
    credits = parse_info_line("发布时间:2019-08-03    来源:      ")
    assert (credits.published, credits.source, credits.authors) == ("2019-08-03", None, [])


def test_info_line_all_fields() -> None:
    credits = parse_info_line(
        "作者:邓潇丽  来源:广州日报  时间:2023-5-12 9:08:25  点击数:1024  责任编辑:王敏"
    )
    assert credits.published == "2023-05-12T09:08"
    assert credits.source == "广州日报"
    assert credits.authors == ["邓潇丽"]
    assert credits.editors == ["王敏"]


@pytest.mark.parametrize(
    "line",
    [
        "编辑:张成付",
        "校对:徐雅维、吕重江",
        "(责任编辑:李晓 审核:王敏)",
        "【责任编辑:陈家馨】",
        "编辑:张成付 校对:徐雅维、吕重江",
    ],
)
def test_credit_lines(line: str) -> None:
    assert is_credit_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "编辑部认真组织学习。",
        "时间:就是生命,效率就是金钱,这是当年深圳蛇口工业区提出的口号,影响深远。",
        "来源于人民群众的实践",
    ],
)
def test_prose_is_not_a_credit_line(line: str) -> None:
    assert not is_credit_line(line)


def test_bylines() -> None:
    assert parse_byline("本报记者 岳旭 通讯员 孙文军 李耀") == ["岳旭", "孙文军", "李耀"]
    assert parse_byline("(全媒体记者邓潇丽 通讯员穗直宣)") == ["邓潇丽", "穗直宣"]
    assert parse_byline("(通讯员 穗直宣 摄影 陈堃)") == ["穗直宣"]
    assert parse_byline("记者走进锤炼中心,只见序厅中矗立着庄严的雕塑墙") is None
    assert find_lead_byline("广州日报讯 (全媒体记者邓潇丽 通讯员穗直宣)“观大势者明") == [
        "邓潇丽",
        "穗直宣",
    ]
    assert find_lead_byline("新华社北京4月19日电(记者 张三 李四)会议指出") == ["张三", "李四"]
    assert find_lead_byline("本次活动(区委主办)很成功") is None


def test_cms_placeholder_author_ignored() -> None:
    assert parse_info_line("发布时间:2021-12-30 作者:admin 来源:区纪委").authors == []
