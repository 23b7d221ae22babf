"""Info lines, credit lines and bylines: who wrote, edited and published an article.

All functions expect Simplified text (run :func:`pipeline.extract.normalise.normalise_text` first), so
one set of labels covers Traditional mirrors too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.extract.dates import parse_date

# Labels of info and credit lines, longest first so that 责任编辑 wins over 编辑.
LABELS: dict[str, tuple[str, ...]] = {
    # The date a government document was signed; its publication date is 发布日期.
    "written": ("成文日期", "成文时间", "印发日期"),
    "published": (
        "发布时间",
        "发布日期",
        "发表时间",
        "发稿时间",
        "更新时间",
        "发布于",
        "时间",
        "日期",
    ),
    "source": ("本文来源", "信息来源", "文章来源", "新闻来源", "来源", "稿源", "出处"),
    "author": ("作者", "撰稿人", "撰稿", "撰文", "记者", "文字", "文"),
    "editor": ("责任编辑", "网络编辑", "值班编辑", "编辑", "责编", "选稿"),
    "other": (
        "审核",
        "审校",
        "校对",
        "初审",
        "复审",
        "终审",
        "签发",
        "摄影",
        "摄像",
        "图片",
        "通讯员",
        "浏览次数",
        "浏览量",
        "阅读数",
        "点击量",
        "访问次数",
        "访问量",
        "阅读量",
        "点击数",
        "点击率",
        "浏览",
        "阅读",
        "字号",
        "字体",
        "分享到",
        "分享",
        "图",
    ),
}
LABEL_KIND = {label: kind for kind, labels in LABELS.items() for label in labels}
LABEL_RE = re.compile(
    r"[【\[(（]?\s*(" + "|".join(sorted(LABEL_KIND, key=len, reverse=True)) + r")\s*[:：]\s*"
)
# A value ends at a wide gap or at a separator; names inside a value are split on these.
VALUE_END_RE = re.compile(
    r"\s{2,}|\u3000|[|｜【】\[\]]|(?<=\S)\s*(?=(?:19|20)\d{2}\s*[-/.年]\s*\d)"
)
# A source name holds no space: what follows one is an IP location, a counter or a widget
# ("央视新闻客户端 举报", "中国新闻网 1938人参与222评论", "鞭牛士 北京 举报").
SOURCE_END_RE = re.compile(r"\s")
NAME_SPLIT_RE = re.compile(r"[、,，;；/\s]+")
HAN_NAME_RE = re.compile(r"^[\u4e00-\u9fff·]{2,6}$")

# Reporter roles in bylines: 本报记者, 全媒体记者, 通讯员, 实习生, 特约撰稿人...
# The outlet may lead the role: 本报记者, 新华社记者, 总台央视记者, 中青报·中青网记者.
ROLE_RE = re.compile(
    r"(?:本报|本刊|本网|本台|新华社|新华日报|(?:[\u4e00-\u9fff]{0,6}(?:报|台|网|社|视|刊)·?)+)?"
    r"(?:全媒体|融媒体|见习|特约|首席|实习)?"
    r"(?:记者|通讯员|实习生|撰稿人|作者)|摄影记者|摄影"
)
# "广州日报讯 (全媒体记者邓潇丽 通讯员穗直宣)" and "新华社北京4月19日电（记者 张三）".
LEAD_BYLINE_RE = re.compile(
    r"^(?P<outlet>[\u4e00-\u9fff\d]{1,24}?(?:讯|电))\s*[（(](?P<inner>[^()（）]{2,60})[)）]"
)
# "文/张晓雯 图/刘洋" or "文/张三 摄影/李四": the writer, then photo credits that are not authors.
# Portals write the slash as "丨" or "|": "文丨政能亮特约评论员 韩涵".
SLASH_BYLINE_RE = re.compile(
    r"^(?:文|文字|撰文|作者)\s*[/／丨|｜]\s*"
    r"(?P<names>[\u4e00-\u9fff·]{2,12}(?:[、\s][\u4e00-\u9fff·]{2,12})*?)"
    r"(?:\s+(?:图|图片|摄影|摄|视频)\s*[/／丨|｜]\s*[\u4e00-\u9fff·、\s]{2,20})?$"
)
# A writer's title before the name: "特约评论员 韩涵", "研究员徐占忱", "政能亮特约评论员".
TITLE_BEFORE_NAME_RE = re.compile(
    r"^.*?(?:特约评论员|评论员|研究员|副教授|教授|部长|主任|书记|院长|博士|讲师|专家|主编|编辑)"
)
BRACKETED_WIDGET_RE = re.compile(r"[【\[]\s*(纠错|我要纠错|打印|关闭|收藏|分享)\s*[】\]]")
# "来源：《求是》2023/10", "《人民日报》（2023年05月06日 第04版）": the publication's name only.
PUBLICATION_RE = re.compile(r"^《(?P<name>[^《》]{1,30})》")
SOURCE_LABEL_RE = re.compile(r"^\s*(信息来源|文章来源|新闻来源|来源|稿源|出处)\s*[:：]\s*")
PAREN_BYLINE_RE = re.compile(r"^[（(](?P<inner>[^()（）]{2,60})[)）]$")


@dataclass
class Credits:
    """Fields found in an info line, a credit line or a byline."""

    published: str | None = None
    written: str | None = None
    """成文日期, the date a government document was signed."""
    source: str | None = None
    authors: list[str] = field(default_factory=list)
    editors: list[str] = field(default_factory=list)
    labels: int = 0
    """How many labels (来源, 编辑...) the line held."""
    leftover: str = ""
    """Text of the line that belongs to no label."""

    def merge(self, other: Credits) -> None:
        """Fill empty fields and extend name lists from ``other``."""
        self.published = self.published or other.published
        self.written = self.written or other.written
        self.source = self.source or other.source
        self.authors = merge_names(self.authors, other.authors)
        self.editors = merge_names(self.editors, other.editors)


def clean_source(value: str | None) -> str | None:
    """Reduce a 来源 value to the outlet's name.

    Meta tags sometimes repeat the label (``来源：人民网``) and magazines are cited with their
    issue (``《求是》2023/10``): both give the name alone.

    Args:
        value: The value as found in a meta tag or an info line.

    Returns:
        The outlet's name, or None when nothing is left.
    """
    if not value:
        return None
    value = SOURCE_LABEL_RE.sub("", value).strip()
    value = strip_unbalanced(SOURCE_END_RE.split(value, maxsplit=1)[0].strip(" :：,，;；|｜"))
    publication = PUBLICATION_RE.match(value)
    if publication:
        value = publication.group("name")
    return value.strip() or None


def merge_names(first: list[str], second: list[str]) -> list[str]:
    """Concatenate two name lists without duplicates, keeping order."""
    return list(dict.fromkeys([*first, *second]))


# CMS placeholders printed where an author should be ("作者:admin").
NOT_NAMES = frozenset(
    {
        "等",
        "和",
        "admin",
        "administrator",
        "system",
        "管理员",
        "系统管理员",
        "佚名",
        "未知",
        "本站",
        "本网",
    }
)


def split_names(value: str) -> list[str]:
    """Split a value such as ``徐雅维、吕重江`` or ``本报记者 岳旭`` into names.

    Two-character names are often padded to three columns with a space (``方　敏``): single
    Han characters in a row are joined back into one name.
    """
    value = ROLE_RE.sub(" ", value)
    names: list[str] = []
    single = False
    for name in NAME_SPLIT_RE.split(value):
        if len(name) > 4 and (titled := TITLE_BEFORE_NAME_RE.match(name)):
            name = name[titled.end() :]
        if not name or name.lower() in NOT_NAMES:
            continue
        is_single = len(name) == 1 and "\u4e00" <= name <= "\u9fff"
        if is_single and single:
            names[-1] += name
            single = False
        else:
            names.append(name)
            single = is_single
    return names


# Endings of organisation names: a news agency, a site, a department is no author.
ORG_SUFFIX_RE = re.compile(
    r"(网|社|报|台|局|部|委|厅|院|办|署|所|中心|集团|公司|财经|新闻|客户端|频道|杂志|周刊|号|站|"
    r"政府|大学|学院|协会|在线|科技|传媒|资讯|编辑部|工作室|媒体|官微|发布)$"
)
# Words of login boxes, share bars and comment widgets that sit in "author" blocks.
UI_WORD_RE = re.compile(
    r"账号|帐号|密码|登录|注册|退出|关注|粉丝|分享|收藏|举报|微博|微信|评论|手机版|字体|网友|"
    r"其他文章|更多|QQ|主页|私信|点赞|订阅|回复|首页"
)
# A job title alone is no name ("党组书记、局长" split into names).
JOB_TITLE_RE = re.compile(
    r"^(副|常务副|党组)?(局长|部长|书记|主任|院长|教授|研究员|记者|编辑|主编|社长|总编|处长|科长|"
    r"县长|市长|省长|区长|委员|常委|厅长|司长|校长|董事长|总经理|经理|秘书长|理事长|会长|组长|主席)$"
)
NOT_NAME_CHARS_RE = re.compile(r"[\d\[\]【】()（）<>《》|/@#_:：]")


def is_person_name(name: str, organisations: tuple[str, ...] = (), labelled: bool = False) -> bool:
    """Tell whether an author candidate names a person (or a writer's nickname).

    Organisations (``新华社``, ``中国科普网``, the page's own source or site name), widget words
    (``账号``, ``关注``), counters and editor codes (``PX209]``) are not authors.

    Args:
        name: One candidate, normalised.
        organisations: The page's source and site names.
        labelled: The page itself names it after a 作者 label or in a byline: an office
            (``作者：组织部``) is then the author, as party-building sites print it.

    Returns:
        True for a plausible person's name or nickname.
    """
    name = name.strip()
    if not name or len(name) > 20 or NOT_NAME_CHARS_RE.search(name) or UI_WORD_RE.search(name):
        return False
    if JOB_TITLE_RE.match(name):
        return False
    if any(org and (name in org or org in name) for org in organisations if len(org) >= 2):
        return False
    han = sum(1 for ch in name if "\u4e00" <= ch <= "\u9fff")
    if han == 1 and len(name) == 1:
        return False
    return labelled or not (han >= 3 and ORG_SUFFIX_RE.search(name))


def clean_authors(
    authors: list[str],
    editors: list[str],
    organisations: tuple[str, ...] = (),
    labelled: bool = False,
) -> list[str]:
    """Keep the author candidates that name people and are not the page's editors.

    Portals fill the Author meta with the 责编 (gmw.cn, youth.cn; ``青网新闻张毅`` beside
    ``责任编辑：张毅``): a name the page shows as an editor is no author. See
    :func:`is_person_name` for ``labelled``.
    """
    kept = [
        name
        for name in authors
        if not any(editor in name or name in editor for editor in editors if len(editor) >= 2)
        and is_person_name(name, organisations, labelled)
    ]
    people = [name for name in kept if is_person_name(name, organisations) and len(name) <= 6]
    # "作者：中国国际经济交流中心…部长、研究员徐占忱": the person, not the affiliation.
    return people if people and len(people) < len(kept) else kept


def _clean_value(value: str) -> str:
    value = VALUE_END_RE.split(value.strip(), maxsplit=1)[0]
    return strip_unbalanced(value.strip(" :：,，;；|｜【】[]"))


def strip_unbalanced(value: str) -> str:
    """Strip parentheses from the ends of a value unless they pair up (``21世纪经济报道(广州)``)."""
    while (
        value
        and value[-1] in ")）"
        and value.count("(") + value.count("（") < (value.count(")") + value.count("）"))
    ):
        value = value[:-1].rstrip()
    while (
        value
        and value[0] in "(（"
        and value.count("(") + value.count("（") > (value.count(")") + value.count("）"))
    ):
        value = value[1:].lstrip()
    return value


def parse_info_line(text: str) -> Credits:
    """Read the labelled fields of an info or credit line.

    Args:
        text: e.g. ``发布时间:2019-08-03 来源: 作者:张三`` or ``(责任编辑:王某 审核:李某)``.

    Returns:
        The fields found; empty values (an empty 来源) are left as None.
    """
    credits = Credits()
    matches = list(LABEL_RE.finditer(text))
    credits.labels = len(matches)
    leftover = [text[: matches[0].start()] if matches else text]
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        raw = text[match.end() : end]
        value = _clean_value(raw)
        kind = LABEL_KIND[match.group(1)]
        if kind == "published":
            credits.published = credits.published or parse_date(raw)
        elif kind == "written":
            credits.written = credits.written or parse_date(raw)
        elif kind == "source" and value:
            credits.source = credits.source or value
        elif kind == "author" and value and not parse_date(value):
            credits.authors = merge_names(credits.authors, split_names(value))
        elif kind == "editor" and value:
            credits.editors = merge_names(credits.editors, split_names(value))
        rest = raw.strip()[len(value) :] if raw.strip().startswith(value) else ""
        leftover.append(rest)
    if credits.published is None and credits.written is None:
        credits.published = parse_date(text)
    credits.leftover = " ".join(part.strip() for part in leftover if part.strip())
    # "2023-08-01 07:50 | 来源：浙江日报 | 记者 陈昊 通讯员 张彬": an unlabelled byline segment.
    for segment in re.split(r"[|｜]", credits.leftover):
        names = parse_byline(segment)
        if names:
            credits.authors = merge_names(credits.authors, names)
    return credits


def is_credit_line(text: str) -> bool:
    """Tell whether a paragraph is only credits (``编辑:张成付``, ``(责任编辑:王某 审核:李某)``).

    Args:
        text: One paragraph, in Simplified characters.

    Returns:
        True when every part of the line is a label and its short value.
    """
    if ":" not in text and "：" not in text:
        return False  # every label ends with a colon; most paragraphs have none
    # Xinhua prints "【纠错】 【责任编辑:刘阳 】": widget words beside the credits do not count.
    stripped = BRACKETED_WIDGET_RE.sub(" ", text).strip()
    if not stripped or len(stripped) > 80:
        return False
    matches = list(LABEL_RE.finditer(stripped))
    lead = stripped[: matches[0].start()].strip(" 【[(（") if matches else ""
    # "中青报·中青网记者 魏其濛 来源：中国青年报": a byline may lead the labels.
    if not matches or lead and parse_byline(lead) is None:
        return False
    # "时间:5月1日 地点:市民之家" is the content of a notice, not a credit.
    if any(LABEL_KIND[match.group(1)] in ("published", "written") for match in matches):
        return False
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(stripped)
        value = stripped[match.end() : end].strip(" )）】]")
        if len(value) > 30 or re.search(r"[。！？]", value):
            return False
    return True


def parse_byline(text: str) -> list[str] | None:
    """Return the names in a reporter byline, or None if the text is not one.

    Args:
        text: e.g. ``本报记者 岳旭 通讯员 孙文军 李耀`` or ``全媒体记者邓潇丽 通讯员穗直宣``.

    Returns:
        The names in order, or None when the text holds anything besides roles and names.
    """
    stripped = text.strip().strip("()（）")
    slashed = SLASH_BYLINE_RE.match(stripped)
    if slashed:
        return split_names(slashed.group("names")) or None
    if not stripped or len(stripped) > 60 or not ROLE_RE.match(stripped):
        return None
    names: list[str] = []
    roles = ROLE_RE.findall(stripped)
    for index, segment in enumerate(ROLE_RE.split(stripped)):
        for name in split_names(segment):
            if not HAN_NAME_RE.match(name):
                return None
            # Photographers are credited but did not write the text.
            if index == 0 or not roles[index - 1].startswith("摄影"):
                names.append(name)
    return names or None


def find_lead_byline(text: str) -> list[str] | None:
    """Return the names of a byline opening a paragraph (``广州日报讯 (记者…)``), if any.

    The paragraph itself is content and stays in the body.

    Args:
        text: The first paragraphs of an article, one at a time.

    Returns:
        The names, or None when the paragraph does not open with a byline.
    """
    lead = LEAD_BYLINE_RE.match(text.strip())
    match = lead or PAREN_BYLINE_RE.match(text.strip())
    if not match:
        return None
    names = parse_byline(match.group("inner"))
    if names is None and lead is not None:
        # A dateline with bare names: "新华社北京5月19日电（刘艺、杨吉）".
        names = parse_plain_names(match.group("inner"))
    return names


def parse_plain_names(text: str) -> list[str] | None:
    """Return the names of a bare list of Chinese names (``刘艺、杨吉``, ``钟才文``), else None."""
    names = [name for name in NAME_SPLIT_RE.split(text.strip()) if name]
    if not names or len(names) > 5 or not all(HAN_NAME_RE.match(name) for name in names):
        return None
    if any(len(name) > 4 or ORG_SUFFIX_RE.search(name) for name in names):
        return None
    return names
