"""Region from a government site's SiteIDCode (网站标识码) meta tag.

The code's first six digits are the administrative-division code of the site's owner, e.g.
``4201000012`` → 420100 → 湖北省 武汉市 (from the tzb sample template). Ministries use letters
(``bm04000001``) and give no region. Provinces are complete; cities cover the provincial
capitals, the separately planned cities and the cities of sites in ``crawler/sites.yml``.
"""

from __future__ import annotations

import re

PROVINCES = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}
MUNICIPALITIES = {"11", "12", "31", "50"}
CITIES = {
    "1301": "石家庄市",
    "1401": "太原市",
    "1501": "呼和浩特市",
    "2101": "沈阳市",
    "2102": "大连市",
    "2201": "长春市",
    "2301": "哈尔滨市",
    "3201": "南京市",
    "3202": "无锡市",
    "3203": "徐州市",
    "3205": "苏州市",
    "3301": "杭州市",
    "3302": "宁波市",
    "3401": "合肥市",
    "3501": "福州市",
    "3502": "厦门市",
    "3601": "南昌市",
    "3701": "济南市",
    "3702": "青岛市",
    "4101": "郑州市",
    "4201": "武汉市",
    "4301": "长沙市",
    "4401": "广州市",
    "4403": "深圳市",
    "4501": "南宁市",
    "4601": "海口市",
    "5101": "成都市",
    "5201": "贵阳市",
    "5301": "昆明市",
    "5401": "拉萨市",
    "6101": "西安市",
    "6201": "兰州市",
    "6301": "西宁市",
    "6401": "银川市",
    "6501": "乌鲁木齐市",
}
_CODE_RE = re.compile(r"^\s*(\d{6})\d*\s*$")


def region_from_site_code(code: str | None) -> dict[str, str | None]:
    """Return ``{"province", "city", "level"}`` for a SiteIDCode; values are None when unknown.

    Args:
        code: the SiteIDCode meta content, e.g. ``3203000033``.
    """
    region: dict[str, str | None] = {"province": None, "city": None, "level": None}
    m = _CODE_RE.match(code or "")
    if not m or m.group(1)[:2] not in PROVINCES:
        return region
    division = m.group(1)
    region["province"] = PROVINCES[division[:2]]
    if division[:2] in MUNICIPALITIES:
        region["city"] = region["province"]
        region["level"] = "district" if division[4:] != "00" else "city"
    elif division[2:4] == "00":
        region["level"] = "province"
    else:
        region["city"] = CITIES.get(division[:4])
        region["level"] = "district" if division[4:] != "00" else "city"
    return region
