"""Government documents as data: 文号, 成文日期, 发文机关, 索引号, 主题分类 and 有效性.

A notice published by a party or government organ says what it is in three places, and a
page may use any of them:

* ``<meta>`` tags some CMSs fill for their 政务公开 module (names in ``META_NAMES``);
* the 政府信息公开 index table above the text, label and value in one cell
  (``<td>文号：湘组发〔2023〕5号</td>``), in neighbouring cells (``<th>文号</th><td>…``),
  in ``<li><span>索引号：</span>…</li>`` rows, in ``<dt>``/``<dd>`` pairs, or with the label
  in brackets (``<li>[发文字号] 京政发〔2023〕1号</li>``); ``fields.read_disclosure_table``
  reads the common forms, :func:`read_index_rows` the rest;
* the document itself: its number on a line of its own under the title (or in brackets at
  the end of the title), and its signature, the issuing organ(s) then the date of issue on the
  last lines (``中共宜昌市委组织部`` / ``2023年3月1日``, or ``二〇二三年三月一日``).

The document number is normalised so the same number written three ways is one value: the
year in 〔〕 whatever brackets the page used (``[]``, ``【】``, ``（）``, ``［］``, ``﹝﹞``; the
national standard for 文件编号 in disclosure catalogues even asks for ``[]``), ASCII digits, no
spaces. A number quoted inside a sentence (``根据《…》（中组发〔2019〕11号）``) is another
document's and is never taken. The signature is read only on pages that are documents (a
number, an index table, or a title such as ``关于…的通知``), so a news story's closing date
line is not mistaken for one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from lxml.html import HtmlElement

from pipeline.extract.dates import parse_date
from pipeline.model import ExtractedPage

# --- the document number ------------------------------------------------------------------

OPEN_BRACKETS = "〔[【（(﹝［〈<"
CLOSE_BRACKETS = "〕]】）)﹞］〉>"
_NUMBER_CORE = (
    r"(?P<prefix>[\u4e00-\u9fff]{1,16}?)\s*"
    rf"[{re.escape(OPEN_BRACKETS)}]\s*(?P<year>(?:19|20)\d{{2}})\s*[{re.escape(CLOSE_BRACKETS)}]"
    r"\s*(?P<seq>第?\s*\d{1,5}\s*号)"
)
DOC_NUMBER_RE = re.compile(_NUMBER_CORE)
# A paragraph that is only a document number (the line under a document's title).
NUMBER_LINE_RE = re.compile(rf"^\s*{_NUMBER_CORE}\s*$")
# A title that ends with its number in brackets: 关于…的通知（湘组发〔2023〕5号）.
TITLE_NUMBER_RE = re.compile(rf"[（(【\[]\s*{_NUMBER_CORE}\s*[）)】\]]\s*$")
# Prefixes that are not a document's issuer code (a "第2023年5号" list item, say).
BAD_PREFIXES = ("第", "年", "月", "日", "号")


def normalise_doc_number(value: str | None) -> str | None:
    """Return a document number in one spelling: 〔year〕, ASCII digits, no spaces.

    Args:
        value: a number as printed, e.g. ``湘组发[2023] 5号`` or ``湘组发【２０２３】５号``.

    Returns:
        ``湘组发〔2023〕5号``; the value itself (stripped) when it is not of that shape (an
        index table may hold ``无``, or a number such as ``JX-2023-001``); None when empty.
    """
    if not value:
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    match = DOC_NUMBER_RE.search(text)
    if match is None or match.group("prefix").startswith(BAD_PREFIXES):
        text = "".join(text.split())
        return text if text and text not in NO_VALUE else None
    seq = "".join(match.group("seq").split())
    return f"{match.group('prefix')}〔{match.group('year')}〕{seq}"


def find_number_line(paragraphs: list[str], limit: int = 6) -> str | None:
    """Return the document number printed on a line of its own near the top of the text."""
    for text in paragraphs[:limit]:
        match = NUMBER_LINE_RE.match(unicodedata.normalize("NFKC", text))
        if match and not match.group("prefix").startswith(BAD_PREFIXES):
            return normalise_doc_number(match.group(0))
    return None


def find_title_number(title: str | None) -> str | None:
    """Return the number a title carries in brackets at its end, if any."""
    if not title:
        return None
    match = TITLE_NUMBER_RE.search(unicodedata.normalize("NFKC", title))
    if match is None or match.group("prefix").startswith(BAD_PREFIXES):
        return None
    return normalise_doc_number(match.group(0).strip("（(【[]】)） "))


# --- dates of issue -------------------------------------------------------------------------

HAN_DIGITS = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "Ｏ": 0,
    "O": 0,
    "0": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
HAN_DATE_RE = re.compile(
    r"^(?P<y>[〇○零Ｏ0O一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,2})月"
    r"(?P<d>[一二三四五六七八九十]{1,3})日$"
)
# A signature's date line: a date and nothing else (a bracketed note may follow).
DATE_LINE_RE = re.compile(
    r"^(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*(?:[（(][^）)]{0,20}[）)])?$"
)


def _han_number(text: str) -> int:
    """``十二`` → 12, ``二十一`` → 21, ``三十`` → 30 (a month or a day)."""
    if "十" not in text:
        return HAN_DIGITS[text]
    tens, _, ones = text.partition("十")
    return (HAN_DIGITS[tens] if tens else 1) * 10 + (HAN_DIGITS[ones] if ones else 0)


def parse_issue_date(text: str | None) -> str | None:
    """Return ``YYYY-MM-DD`` for a date of issue in figures or in Chinese numerals.

    Args:
        text: ``2023年3月1日``, ``2023-03-01`` or ``二〇二三年三月一日``.
    """
    if not text:
        return None
    text = "".join(unicodedata.normalize("NFKC", text).split())
    match = HAN_DATE_RE.match(text)
    if match:
        year = int("".join(str(HAN_DIGITS[c]) for c in match.group("y")))
        try:
            month, day = _han_number(match.group("m")), _han_number(match.group("d"))
        except KeyError:
            return None
        return parse_date(f"{year}-{month:02d}-{day:02d}")
    value = parse_date(text)
    return value[:10] if value else None


def is_date_line(text: str) -> bool:
    """Tell whether a paragraph is only a date (the last line of a signature)."""
    flat = "".join(unicodedata.normalize("NFKC", text).split())
    return bool(DATE_LINE_RE.match(flat) or HAN_DATE_RE.match(flat))


# --- issuers ---------------------------------------------------------------------------------

# How the names of party and government organs end (中共…委员会, …组织部, …人民政府办公室).
ORGAN_END_RE = re.compile(
    r"(委员会|委|部|局|厅|办公室|办|政府|党组|工委|纪委|监委|总支|支部|党委|院|会|中心|所|署|处|"
    r"团|联|社|校|站|集团|公司)$"
)
ORGAN_RE = re.compile(r"^[\u4e00-\u9fff（）()]{4,40}$")
NOT_ORGAN_RE = re.compile(r"(通知|意见|决定|办法|方案|附件|抄送|印发|联系人|电话|如下|特此|报告)")


def is_organ(text: str) -> bool:
    """Tell whether a line reads as the name of an organ (a signature line)."""
    flat = "".join(text.split())
    return bool(
        ORGAN_RE.match(flat) and ORGAN_END_RE.search(flat) and not NOT_ORGAN_RE.search(flat)
    )


def read_signature(paragraphs: list[str]) -> tuple[str | None, str | None]:
    """Return the issuing organ(s) and the date of a document's signature, if it has one.

    The signature is the last date line within the final lines of the text, with the organ
    names on the lines just above it; several organs (a joint document) are joined with ``、``.

    Returns:
        ``(issuer, written_date)``; either may be None.
    """
    lines = [p.strip() for p in paragraphs if p.strip()]
    tail = lines[-8:]
    for index in range(len(tail) - 1, -1, -1):
        if not is_date_line(tail[index]):
            continue
        organs: list[str] = []
        back = index - 1
        while back >= 0 and len(organs) < 4:
            names = [n for n in re.split(r"[\s　]+", tail[back]) if n]
            if names and all(is_organ(n) for n in names):
                organs[:0] = names
                back -= 1
            else:
                break
        return ("、".join(organs) or None), parse_issue_date(tail[index])
    return None, None


# --- index tables ---------------------------------------------------------------------------

LABELS: dict[str, tuple[str, ...]] = {
    "index_number": ("索引号", "信息索引号"),
    "subject": ("主题分类", "信息分类", "主题类别"),
    "issuer": ("发文机关", "发文机构", "发布机构", "发文单位", "发布单位", "制发机关", "成文机关"),
    "doc_number": ("发文字号", "文号", "文件编号", "发文文号", "文件字号"),
    "written_date": ("成文日期", "成文时间", "印发日期", "签发日期", "产生日期", "生成日期"),
    "validity": ("有效性", "时效性", "效力状态", "有效状态"),
}
LABEL_KIND = {label: kind for kind, labels in LABELS.items() for label in labels}
LABEL_RE = re.compile(
    r"^\s*[\[【(（]?\s*(?P<label>"
    + "|".join(r"\s*".join(label) for label in sorted(LABEL_KIND, key=len, reverse=True))
    + r")\s*[\]】)）]?\s*[:：]?\s*(?P<value>.*)$",
    re.S,
)
ROW_TAGS = ("td", "th", "li", "span", "p", "div", "dt", "dd", "b", "strong", "label", "em", "font")
# What read_disclosure_table names each field.
TABLE_KEYS = {
    "index_no": "index_number",
    "subject": "subject",
    "issuer": "issuer",
    "doc_no": "doc_number",
    "written": "written_date",
    "validity": "validity",
}
NO_VALUE = {"无", "暂无", "-", "--", "—", "/", "空"}
MAX_VALUE = 60


def _value_after(element: HtmlElement) -> str:
    """The value of a label cell with nothing after its label: the next cell, or the tail."""
    tail = " ".join((element.tail or "").split()).strip(" :：")
    if tail:
        return tail
    sibling = element.getnext()
    return " ".join(sibling.text_content().split()) if sibling is not None else ""


def read_index_rows(tree: HtmlElement) -> dict[str, str]:
    """Read the index rows of a 政府信息公开 page in every layout (see the module docstring).

    Unlike ``fields.read_disclosure_table``, one row is enough: a page that labels a value
    发文字号 or 索引号 says what it is. A label must start its element, so the words in a
    sentence never count.

    Returns:
        Field → value as printed (``doc_number``, ``issuer``, ``written_date``, ...).
    """
    found: dict[str, str] = {}
    for element in tree.iter(*ROW_TAGS):
        text = element.text_content()
        if len(text) > 90:
            continue
        match = LABEL_RE.match(text)
        if match is None:
            continue
        kind = LABEL_KIND["".join(match.group("label").split())]
        value = " ".join(match.group("value").split()).strip(" :：")
        if not value:
            value = _value_after(element)
        if LABEL_RE.match(value):  # an empty cell followed by the next label
            continue
        if value and kind not in found and len(value) <= MAX_VALUE:
            found[kind] = value
    return found


META_NAMES: dict[str, tuple[str, ...]] = {
    "doc_number": ("wh", "wenhao", "fwzh", "docno", "document_number"),
    "issuer": ("fwjg", "fbjg", "issuer", "publisher_org"),
    "written_date": ("cwrq", "written_date"),
    "index_number": ("syh", "indexno", "index_number"),
    "subject": ("ztfl", "subject"),
}


def read_meta(tree: HtmlElement) -> dict[str, str]:
    """Read document fields from ``<meta name=… content=…>`` tags (names in META_NAMES)."""
    names = {name: kind for kind, keys in META_NAMES.items() for name in keys}
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        kind = names.get((meta.get("name") or "").strip().lower())
        value = " ".join((meta.get("content") or "").split())
        if kind and value and kind not in found:
            found[kind] = value
    return found


# --- the document ---------------------------------------------------------------------------

DOCUMENT_TITLE_RE = re.compile(
    r"(关于|印发|转发).{0,60}(通知|通报|决定|意见|办法|方案|规定|规划|细则|批复|报告|函|公告|"
    r"通告|决议|纪要|要点|计划)(（[^）]*）)?$"
)


@dataclass(frozen=True)
class Document:
    """The fields of a government document; every field may be None."""

    doc_number: str | None = None
    written_date: str | None = None
    issuer: str | None = None
    index_number: str | None = None
    subject: str | None = None
    validity: str | None = None

    @property
    def year(self) -> str | None:
        """The document's year: of its date of issue, else the one in its number."""
        if self.written_date:
            return self.written_date[:4]
        match = DOC_NUMBER_RE.search(self.doc_number or "")
        return match.group("year") if match else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "doc_year": self.year}

    def __bool__(self) -> bool:
        return any(asdict(self).values())


def _clean(kind: str, value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(unicodedata.normalize("NFKC", value).split()).strip(" :：;；,，")
    if not value or value in NO_VALUE:
        return None
    if kind == "doc_number":
        return normalise_doc_number(value)
    if kind == "written_date":
        return parse_issue_date(value)
    if kind == "issuer":
        return "、".join(value.replace("；", " ").replace(";", " ").replace("，", " ").split())
    if kind == "index_number":
        return "".join(value.split())
    return value


def read_document(
    tree: HtmlElement,
    paragraphs: list[str] | None = None,
    title: str | None = None,
    disclosure: dict[str, str] | None = None,
) -> Document:
    """Return the document fields of a page (see the module docstring for the sources).

    Args:
        tree: the parsed page.
        paragraphs: the cleaned body, one paragraph per item (its number line and signature).
        title: the page's title (a number in brackets at its end).
        disclosure: what ``fields.read_disclosure_table`` found, if it was called already.

    Returns:
        The fields found; a falsy ``Document`` for a page that is no document.
    """
    paragraphs = paragraphs or []
    values: dict[str, str | None] = {}
    for source in (
        read_meta(tree),
        {TABLE_KEYS[k]: v for k, v in (disclosure or {}).items() if k in TABLE_KEYS},
        read_index_rows(tree),
    ):
        for kind, value in source.items():
            if values.get(kind) is None:
                values[kind] = _clean(kind, value)
    if values.get("doc_number") is None:
        values["doc_number"] = find_number_line(paragraphs) or find_title_number(title)
    is_document = bool(any(values.values()) or (title and DOCUMENT_TITLE_RE.search(title)))
    if is_document and (values.get("issuer") is None or values.get("written_date") is None):
        issuer, written = read_signature(paragraphs)
        values["issuer"] = values.get("issuer") or issuer
        values["written_date"] = values.get("written_date") or written
    return Document(**{k: values.get(k) for k in Document.__dataclass_fields__})


def fill_document(page: ExtractedPage, tree: HtmlElement, disclosure: dict[str, str]) -> None:
    """Write a page's document fields to ``page`` (after the other fields are filled)."""
    document = read_document(tree, (page.text or "").splitlines(), page.title, disclosure)
    page.doc_number = document.doc_number
    page.written_date = page.written_date or document.written_date
    page.issuer = document.issuer
    page.index_number = document.index_number
    page.subject = document.subject
    page.validity = document.validity
    page.doc_year = page.written_date[:4] if page.written_date else document.year
