"""Who a site is: its name, registry id, level and region, and the encoding it declares.

Government sites carry a ``SiteIDCode`` (网站标识码, ``<meta name="SiteIDCode">`` and the
footer): ten digits whose first six are the administrative division of the body that runs
the site (``420100`` 武汉市), or ``bm`` and digits for central departments. The first two
digits name the province (``PROVINCES``); ``XX0000`` is a province, ``XXYY00`` a city,
anything else a district. City and district names come from the page (the site name, the
title and the 主办单位 line). Without a code, the ICP licence prefix (``鄂ICP备``) names the
province and the site name the level.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.html import HtmlElement
from pypinyin import Style, lazy_pinyin

from pipeline.extract.normalise import to_simplified

PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip
MUNICIPALITIES = ("11", "12", "31", "50")
# Without a SiteIDCode, a site of these is taken for a province-level one.
PROVINCE_LEVEL_CITIES = ("北京市", "天津市", "上海市", "重庆市", "香港特别行政区", "澳门特别行政区")
# The one-character province names of ICP licences (京ICP备…号).
ICP_PROVINCES = {
    "京": "11", "津": "12", "冀": "13", "晋": "14", "蒙": "15", "辽": "21", "吉": "22",
    "黑": "23", "沪": "31", "苏": "32", "浙": "33", "皖": "34", "闽": "35", "赣": "36",
    "鲁": "37", "豫": "41", "鄂": "42", "湘": "43", "粤": "44", "桂": "45", "琼": "46",
    "渝": "50", "川": "51", "蜀": "51", "贵": "52", "黔": "52", "云": "53", "滇": "53",
    "藏": "54", "陕": "61", "甘": "62", "陇": "62", "青": "63", "宁": "64", "新": "65",
    "港": "81", "澳": "82",
}  # fmt: skip
SITE_ID_CODE = re.compile(r"(?:网站标识码|SiteIDCode)[\s:：]*((?:bm)?\d{8,10})", re.I)
ICP = re.compile(r"([\u4e00-\u9fff])ICP[备証证]")
CITY = re.compile(r"([\u4e00-\u9fff]{2,3}(?:市|自治州|州|盟|地区))")
DISTRICT = re.compile(r"([\u4e00-\u9fff]{1,3}(?:区|县|旗))")
NOT_PLACES = re.compile(
    r"^(中共|全|本|我|城|都|省|各|新|老|社|园|景|小|市|特|自治|行政|辖)|(社区|小区|园区|景区|城区|辖区|街区|校区|库区|山区)$"
)
TITLE_SPLIT = re.compile(r"\s*[-_|—–:：]+\s*|\s{2,}")
GENERIC_TITLE = re.compile(r"^(首页|主页|网站首页|欢迎.*|index|home)$", re.I)
GENERIC_HOST_LABELS = {"www", "web", "portal", "gov", "cn", "com", "net", "org", "localhost"}


@dataclass(frozen=True)
class Identity:
    """A site's name, proposed id, level, region and declared encoding, with evidence."""

    name: str
    id: str
    level: str
    province: str | None
    city: str | None
    district: str | None
    site_id_code: str | None
    evidence: tuple[str, ...]


def site_name(tree: HtmlElement) -> str:
    """Return the site's name: ``<meta name="SiteName">``, else the home page title's most
    specific part, else the logo's ``alt``."""
    for meta in tree.iter("meta"):
        if (meta.get("name") or "").lower() == "sitename" and (meta.get("content") or "").strip():
            return meta.get("content", "").strip()
    title = " ".join((tree.findtext(".//title") or "").split())
    parts = [p for p in TITLE_SPLIT.split(title) if p and not GENERIC_TITLE.match(p)]
    if parts:
        return parts[0]  # home pages name the site first ("江城日报数字报-版面导航")
    logo = tree.xpath("//img[contains(@src,'logo')]/@alt | //a[contains(@class,'logo')]//text()")
    return " ".join(str(logo[0]).split()) if logo else ""


def site_id_code(tree: HtmlElement, text: str) -> str | None:
    """Return the ``SiteIDCode`` of a government site (meta tag or 网站标识码 in the text)."""
    for meta in tree.iter("meta"):
        if (meta.get("name") or "").lower() == "siteidcode":
            code = (meta.get("content") or "").strip()
            if re.fullmatch(r"(bm)?\d{8,10}", code, re.I):
                return code
    match = SITE_ID_CODE.search(text)
    return match.group(1) if match else None


def _places(pattern: re.Pattern[str], texts: list[str], exclude: tuple[str, ...]) -> str | None:
    """The place a page names most; the site name first (it is the most specific)."""
    for n, text in enumerate(texts):
        counts: Counter[str] = Counter()
        for word in ("中国共产党", "中共", *PROVINCES.values(), *exclude):
            if word:
                text = text.replace(word, " ")
        for match in pattern.findall(text):
            if not NOT_PLACES.search(match):
                counts[match] += 1
        if counts and (n == 0 or n == len(texts) - 1 or len(counts) == 1):
            return counts.most_common(1)[0][0]
    return None


def province_named(texts: list[str]) -> str | None:
    """The province a page names in full (香港特别行政区, 湖北省), the most often named."""
    counts: Counter[str] = Counter()
    for text in texts:
        for name in PROVINCES.values():
            counts[name] += text.count(name)
    best = counts.most_common(1)
    return best[0][0] if best and best[0][1] else None


def footer_text(tree: HtmlElement) -> str:
    """The text of the page's footer (主办单位, address, ICP and 网站标识码 lines)."""
    parts = tree.xpath(
        "//*[contains(@class,'foot') or contains(@id,'foot') or contains(@class,'bottom')"
        " or contains(@id,'bottom') or contains(@class,'copyright')]//text()"
    )
    if not parts:
        parts = tree.xpath("//body//text()")[-40:]
    return " ".join(" ".join(parts).split())


def registry_id(name: str, url: str) -> str:
    """Propose a registry id: the host's distinctive label, else the name's pinyin initials.

    ``www.whtzb.gov.cn`` → ``whtzb``; a host without one (an IP address) → 武汉统战 → ``whtz``.
    """
    host = (urlsplit(url).hostname or "").lower()
    labels = [x for x in host.split(".") if x not in GENERIC_HOST_LABELS and not x.isdigit()]
    if labels and re.fullmatch(r"[a-z][a-z0-9-]*", labels[0]):
        return labels[0]
    initials = "".join(lazy_pinyin(to_simplified(name), style=Style.FIRST_LETTER))
    initials = re.sub(r"[^a-z0-9]", "", initials.lower())
    return initials or "new-site"


def identify(tree: HtmlElement, text: str, url: str) -> Identity:
    """Return the site's identity from its home page (tree and decoded text) and URL."""
    name = site_name(tree)
    code = site_id_code(tree, text)
    footer = footer_text(tree)
    texts = [
        to_simplified(name),
        to_simplified(" ".join((tree.findtext(".//title") or "").split())),
        to_simplified(footer),
    ]
    evidence = []
    province = city = district = None
    level = "city"
    if code and code.lower().startswith("bm"):
        level = "national"
        evidence.append(f"SiteIDCode {code}: a central department")
    elif code and code[:2] in PROVINCES:
        province = PROVINCES[code[:2]]
        division = code[:6]
        if division[2:] == "0000":
            level = "province"
        elif code[:2] in MUNICIPALITIES:
            level, city = "district", province  # 1101xx: a district of 北京市
        elif division[4:] == "00":
            level = "city"
        else:
            level = "district"
        evidence.append(f"SiteIDCode {code}: division {division} → {province}, {level} level")
    else:
        icp = ICP.search(text)
        if icp and icp.group(1) in ICP_PROVINCES:
            province = PROVINCES[ICP_PROVINCES[icp.group(1)]]
            evidence.append(f"ICP licence {icp.group(1)}ICP备 → {province}")
        if province is None and (named := province_named(texts)):
            province = named
            evidence.append(f"province named on the page: {province}")
        simple = to_simplified(name)
        if re.search(r"(省|自治区)", simple) or province in PROVINCE_LEVEL_CITIES:
            level = "province"
        elif DISTRICT.search(simple):
            level = "district"
        evidence.append(f"no SiteIDCode: level {level} from the name {name!r}")
    if level in ("city", "district") and city is None:
        city = _places(CITY, texts, (province or "",))
    if level == "district":
        district = _places(DISTRICT, texts, (province or "", city or ""))
    if city or district:
        evidence.append(f"region from the page: {' '.join(p for p in (city, district) if p)}")
    return Identity(
        name, registry_id(name, url), level, province, city, district, code, tuple(evidence)
    )


def declared_encoding(headers: dict[str, str], tree: HtmlElement) -> str | None:
    """Return the charset a page declares (HTTP header, else ``<meta>``), GB* as ``gb18030``.

    None when it declares UTF-8 in the header (nothing to hint) or nothing at all.
    """
    header = headers.get("content-type", "")
    match = re.search(r"charset=([\w-]+)", header, re.I)
    if match:
        charset = match.group(1).lower()
        return None if charset in ("utf-8", "utf8") else _normal(charset)
    for meta in tree.iter("meta"):
        declared = meta.get("charset") or ""
        if not declared:
            found = re.search(r"charset=([\w-]+)", meta.get("content") or "", re.I)
            declared = found.group(1) if found else ""
        if declared:
            return _normal(declared.lower())
    return None


def _normal(charset: str) -> str:
    return "gb18030" if charset in ("gb2312", "gbk", "gb18030", "x-gbk") else charset
