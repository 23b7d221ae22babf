"""Paragraph-level cleaning around the article body.

Tree pruning (pipeline/extract/selectors.py) removes most widgets, but the same furniture also comes as
plain paragraphs inside CMS containers or in trafilatura's output: breadcrumbs, info lines,
font-size and print widgets, QR-code blurbs, "上一篇/下一篇", recommended lists, footers and
credit lines. Each rule is a predicate over one paragraph in Simplified characters; the text
that is kept is the original paragraph, so the rules never alter content.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field

from pipeline.extract.bylines import (
    LABEL_RE,
    Credits,
    find_lead_byline,
    is_credit_line,
    merge_names,
    parse_byline,
    parse_info_line,
    parse_plain_names,
)
from pipeline.extract.dates import DATE_RE

# Lines dropped wherever they appear.
BREADCRUMB_RE = re.compile(
    r"^\s*(您?当前的?位置|您现在的位置|现在的位置|所在位置|当前位置)\s*[:：]?"
)
WIDGET_RE = re.compile(
    r"^[【\[]?\s*(字号|字体|文字)\s*[:：]?\s*[【\[]?\s*[大中小]\s*[大中小\s|｜\]】【\[]*$"
    r"|^[【\[]?\s*[大中小]\s*[|｜]?\s*[中]\s*[|｜]?\s*[小][\]】]?"
    r"|^[【\[(（]?\s*(打印(本页|文章|此页)?|关闭(窗口|本页)?|返回顶部|收藏|纠错|我要纠错|分享(到)?)\s*[\]】)）]?"
    r"|扫一扫|扫码|二维码|用微信扫描|微信扫描"
    r"|^(APP|客户端)下载|^下载.{0,8}(APP|客户端)|^打开.{0,6}(APP|客户端)"
    r"|^(语音)?播报文章|^(阅读剩余全文|阅读全文|展开全文|点击展开全文)"
    r"|^(浏览次数|点击数|阅读数|访问量|浏览量)\s*[:：]"
    r"|^\[?\s*(打印|关闭)\s*\]?\s*\[?\s*(打印|关闭)\s*\]?$",
)
# "上一篇:<title>" / "下一篇:<title>": links to neighbouring articles, of any length.
PREV_NEXT_RE = re.compile(r"^[【\[]?\s*(上一篇|下一篇|上一条|下一条|上篇|下篇)\s*[】\]]?\s*[:：]?")
# "原文链接:http://…" under republished articles.
SOURCE_LINK_RE = re.compile(r"^\s*(原文链接|原文连结|原文地址|本文链接|原文网址|文章链接)\s*[:：]")
KEYWORD_RE = re.compile(r"^\s*[【\[]?\s*(关键词|关键字|标签)\s*[】\]]?\s*[:：]\s*(?P<value>.*)$")
# Headings after which only other articles follow: drop them and everything after.
STOP_HEADING_RE = re.compile(
    r"^[•·●\-\s]*(为你推荐|猜你喜欢|相关新闻|相关阅读|相关文章|相关链接|相关稿件|热点推荐|热门推荐|"
    r"即时新闻|推荐阅读|精彩推荐|热门文章|热点新闻|延伸阅读|更多新闻|最新新闻|最新文章|"
    r"往期回顾|图片新闻|专题推荐|公益播报)\s*[:：>》]*\s*$"
    # The comment thread under the article: "评论13", "网友评论", "全部评论(25)".
    r"|^(网友评论|全部评论|热门评论|最新评论|评论)\s*[(（]?\s*\d*\s*[)）]?\s*(条)?$"
)
# Footers: drop them and everything after.
FOOTER_RE = re.compile(
    r"^\s*(主办单位|主办|承办单位|承办|协办单位|技术支持|版权所有|版权声明|网站声明|免责声明|"
    r"平台声明|特别声明|联系电话|网站标识码|地址|馆址)\s*[:：]"
    r"|ICP备|ICP证|公网安备|网站标识码|版权所有|Copyright|\(c\)\s*\d{4}|©"
    r"|(关于我们|联系我们|网站地图|网站声明|使用帮助)\s*[|｜]"
    r"|未经.{0,12}(许可|授权|同意).{0,12}(转载|使用|复制|摘编)"
    r"|^Notice: The content above"
    # Self-media platforms (网易号, 搜狐号, 快传号): "本平台仅提供信息存储服务".
    r"|仅提供信息存储(空间)?服务",
    re.I,
)
# Footer lines that a government notice also carries as content ("联系电话：0431-…" in a
# clause, "地址：…" of the office to apply to): they end the body only when no prose follows.
CONTACT_RE = re.compile(r"^\s*(联系电话|地址)\s*[:：]")
# Lines of a list of other articles: a date or time alone, or a teaser cut with "...".
DATE_ONLY_RE = re.compile(
    r"^[\d\s:：\-/.年月日时分]{8,25}$"
    r"|^\d{1,2}:\d{2}(:\d{2})?$"
    r"|^\d+\s*(秒|分钟|小时|天|周|个月)前$|^(刚刚|昨天|前天|今天)(\s*\d{1,2}:\d{2})?$"
)
TEASER_END = ("...", "…", "……")
LIST_MARKS = "-•·●▪◆■□○◇>》 "
# A magazine issue line on aggregator sites: "紫光阁 2021年10期" names the source.
ISSUE_LINE_RE = re.compile(
    r"^(?P<source>[^\s\d]{2,16})\s*(?:19|20)\d{2}\s*年\s*(?:第\s*)?\d{1,2}\s*期$"
)
# Rows of the 政府信息公开 index table above a government document, as table text or as
# trafilatura's "| 索 引 号： | … |" rows; its 标题 row only right after the others.
DISCLOSURE_ROW_RE = re.compile(
    r"^[|｜]?(索引号|主题分类|信息分类|体裁分类|组配分类|发文机关|发布机构|发布单位|发文单位|"
    r"文号|发文字号|成文日期|成文时间|发布日期|公开日期|有效性|主题词|公开方式|公开范围|"
    r"公开时限|生成日期|责任部门|公开责任部门)[:：|｜]"
)
TABLE_TITLE_ROW_RE = re.compile(r"^[|｜]?(标题|名称|文件名称)[:：|｜]")
HAN_RE = re.compile(r"[\u4e00-\u9fff]")
HAN_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
# Remnants of widgets whose links were removed: "】【", ">>", "|".
PUNCTUATION_ONLY_RE = re.compile(r"^[\s【】\[\]()（）<>《》>|｜/\\·•\-—_:：,，.。]*$")
SENTENCE_END_RE = re.compile(r"[。！？；]")
AFFILIATION_RE = re.compile(r"^(作者|笔者)?(系|为|是)")
# A parenthesis closing a paragraph (or all of it), with at most a widget link after it.
CLOSING_PAREN_RE = re.compile(r"(?:^|[。！？”])\s*[（(]([^()（）]{2,80})[)）][^。！？]{0,12}$")


@dataclass
class Cleaned:
    """The kept paragraphs and what was learnt from the dropped ones."""

    paragraphs: list[str] = field(default_factory=list)
    simplified: list[str] = field(default_factory=list)
    """The kept paragraphs normalised (as passed in ``simplified``, stripped)."""
    credits: Credits = field(default_factory=Credits)
    keywords: str | None = None
    dropped: list[str] = field(default_factory=list)


def han_count(text: str) -> int:
    """Return the number of Han characters in a text."""
    # Runs, not single characters: a few matches per paragraph instead of one per character
    # (3-4x faster; this is called for every element and paragraph the extractor looks at).
    return sum(map(len, HAN_RUN_RE.findall(text)))


def is_prose(text: str) -> bool:
    """Tell whether a paragraph reads as running text (a sentence of some length)."""
    return len(text) >= 30 and han_count(text) >= 30 and bool(SENTENCE_END_RE.search(text))


def is_info_line(text: str) -> bool:
    """Tell whether a short paragraph is the date/source line under a title.

    A bare ``时间:`` label is not enough (a notice lists ``时间:… 地点:…`` as content); an
    unlabelled line counts when it is a date with at most a name beside it (``2021-12-08龚凤祥``).
    """
    if len(text) > 160 or "。" in text:
        return False
    credits = parse_info_line(text)
    if credits.labels:
        has_info_label = bool(INFO_LABEL_RE.search(text))
        return has_info_label and bool(credits.published or LABEL_ONLY_RE.match(text))
    match = DATE_RE.search(text)
    if match is None or TODAY_RE.search(text):
        # "今天是2023年05月15日 星期一" in the header is the day of the visit.
        return False
    rest = (text[: match.start()] + text[match.end() :]).strip()
    return han_count(rest) <= 6 and len(rest) <= 16 and not SENTENCE_END_RE.search(rest)


TODAY_RE = re.compile(r"今天是|今日是|今天|当前时间|现在时间")
PUBLISHED_LABEL_RE = re.compile(r"^\s*[【\[(（]?\s*(发布时间|发布日期|发表时间)\s*[:：]")
# Labels that only info lines carry; a bare "时间:" may open a notice's own content.
INFO_LABEL_RE = re.compile(r"发布|来源|作者|编辑|责编|浏览|点击|字号|稿源|阅读")
LABEL_ONLY_RE = re.compile(r"^\s*(发布时间|发布日期|来源|作者)\s*[:：]")


def is_stop_line(text: str) -> bool:
    """Tell whether a paragraph starts the recommended lists, the prev/next links or the footer."""
    if STOP_HEADING_RE.match(text) or (len(text) <= 120 and PREV_NEXT_RE.match(text)):
        return True
    return len(text) <= 200 and bool(FOOTER_RE.search(text))


def parse_keywords(value: str) -> str | None:
    """Normalise a keyword list (``党建 机关``, ``党建,机关``) to a comma-separated string."""
    words = [w for w in re.split(r"[,，;；、\s]+", value) if w]
    return ",".join(dict.fromkeys(words)) or None


def clean_paragraphs(
    originals: list[str],
    simplified: list[str],
    title: str | None = None,
    known_authors: list[str] | None = None,
    link_texts: Container[str] = frozenset(),
) -> Cleaned:
    """Drop boilerplate paragraphs and collect the credits they carry.

    Args:
        originals: Paragraphs as extracted (kept verbatim when they survive).
        simplified: The same paragraphs normalised, used for matching.
        title: The article title (normalised), dropped when repeated at the top.
        known_authors: Authors found outside the body; a paragraph holding only one of these
            names at the top of the body is a byline and is dropped.
        link_texts: Texts of the page's links (normalised); a paragraph that is only a link
            before the text begins is navigation left over ("中国徐州" in a links box).

    Returns:
        The kept paragraphs, the credits found (bylines, editors, info lines) and keywords.
    """
    result = Cleaned()
    seen_prose = False
    in_table = False
    for index, (original, text) in enumerate(zip(originals, simplified, strict=True)):
        text = text.strip()
        if not text:
            continue
        head = not seen_prose
        stop = is_stop_line(text)
        if stop and CONTACT_RE.match(text) and any(map(is_prose, simplified[index + 1 :])):
            stop = False  # a notice's contact clause: the text goes on
        if seen_prose and stop:
            result.dropped.append(text)
            break
        drop = False
        if PUNCTUATION_ONLY_RE.match(text):
            drop = True
        elif BREADCRUMB_RE.match(text) or WIDGET_RE.search(text) and len(text) <= 40:
            drop = True
        elif stop:
            drop = True
        elif head and DISCLOSURE_ROW_RE.match(text.replace(" ", "")):
            drop = True  # the 政府信息公开 index table (索引号, 发文机关, 成文日期…)
        elif head and in_table and TABLE_TITLE_ROW_RE.match(text.replace(" ", "")):
            drop = True
        elif keyword := KEYWORD_RE.match(text):
            result.keywords = result.keywords or parse_keywords(keyword.group("value"))
            drop = True
        elif title and text == title:
            drop = True
        elif head and han_count(text) == 0 and len(text) <= 12:
            # Counters and separators left from info lines ("1024", ">>").
            drop = True
        elif (head or PUBLISHED_LABEL_RE.match(text)) and is_info_line(text):
            result.credits.merge(parse_info_line(text))
            drop = True
        elif is_credit_line(text):
            result.credits.merge(parse_info_line(text))
            drop = True
        elif (names := parse_byline(text)) is not None:
            result.credits.authors = merge_names(result.credits.authors, names)
            drop = True
        elif head and text.strip("文/作者:： ") in [
            *(known_authors or []),
            *result.credits.authors,
        ]:
            drop = True
        elif head and text in link_texts:
            drop = True
        elif SOURCE_LINK_RE.match(text):
            drop = True
        elif head and (issue := ISSUE_LINE_RE.match(text)):
            result.credits.source = result.credits.source or issue.group("source")
            drop = True
        in_table = drop and (in_table or bool(DISCLOSURE_ROW_RE.match(text.replace(" ", ""))))
        if drop:
            result.dropped.append(text)
            continue
        if head and (names := find_lead_byline(text)):
            result.credits.authors = merge_names(result.credits.authors, names)
        result.paragraphs.append(original)
        result.simplified.append(text)
        seen_prose = seen_prose or is_prose(text)
    trim_trailing_list(result, link_texts)
    for text in result.simplified[-2:]:
        read_closing_credits(text, result.credits)
    return result


def read_closing_credits(text: str, credits: Credits) -> None:
    """Read the signature closing an article into ``credits``; the paragraph stays in the body.

    A commentary signed ``……。（钟才文）``, a report ``（总台央视记者 奚丹霓 张赛）``, a
    republished piece ``（本文来源：经济日报 作者：…研究员徐占忱）返回搜狐``.
    """
    signed = CLOSING_PAREN_RE.search(text)
    if signed is None:
        return
    inner = signed.group(1).strip()
    if AFFILIATION_RE.match(inner):
        return  # "（作者系贵州省直机关工委党组书记、局长）" says who the author is, not the name
    if LABEL_RE.search(inner):
        found = parse_info_line(inner)
        credits.authors = merge_names(credits.authors, found.authors)
        credits.source = credits.source or found.source
    elif names := parse_byline(inner) or parse_plain_names(inner):
        credits.authors = merge_names(credits.authors, names)


def is_stamp_line(text: str) -> bool:
    """Tell whether a paragraph is only a date or time (``2024-04-03 15:11``, ``2 小时前``)."""
    return bool(DATE_ONLY_RE.match(text.strip(LIST_MARKS)))


def is_list_line(text: str, link_texts: Container[str]) -> bool:
    """Tell whether a paragraph reads as an entry of a list of other articles.

    That is a link's whole text (after list bullets and a date), a linked headline of 8
    characters or more followed by its summary, a date alone, or a teaser cut short with
    "..." (``…将于...``).
    """
    stripped = text.strip(LIST_MARKS)
    if is_stamp_line(stripped) or stripped.endswith(TEASER_END) and len(stripped) <= 200:
        return True
    undated = DATE_RE.sub("", stripped, count=1).strip(LIST_MARKS)
    if not undated:
        return False
    if stripped in link_texts or undated in link_texts:
        return True
    # A linked headline followed by its summary, run together ("- 标题 摘要…").
    return any(undated[:size] in link_texts for size in range(min(len(undated), 60), 7, -1))


def trim_trailing_list(cleaned: Cleaned, link_texts: Container[str]) -> None:
    """Drop a list of other articles that ends the body, with its heading.

    Walking back from the last paragraph, list lines (:func:`is_list_line`) and short lines
    without a sentence (a heading such as 健康资讯推荐, a 举报 widget) are taken off until a
    paragraph of the text is met (a line over a date alone is an entry of a dated list, however
    long); they are dropped when three or more of them are list lines. A signature and its
    date ending a notice are short lines too, but only one of them is a list line.
    """
    cut, listed = len(cleaned.simplified), 0
    for index in range(len(cleaned.simplified) - 1, -1, -1):
        text = cleaned.simplified[index]
        if is_list_line(text, link_texts):
            listed += 1
        elif cut == index + 1 < len(cleaned.simplified) and is_stamp_line(cleaned.simplified[cut]):
            pass  # a summary over its date: one entry of a dated list
        elif len(text) > 20 or SENTENCE_END_RE.search(text):
            break
        cut = index
    if listed >= 3 and cut > 0:
        cleaned.dropped.extend(cleaned.simplified[cut:])
        del cleaned.paragraphs[cut:], cleaned.simplified[cut:]
