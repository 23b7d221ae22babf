"""Which links of a home page are party-building (党建) columns: the dictionary and its rules.

The dictionary (documented in docs/discover.md) has four word lists:

* ``party`` — words that make a column a party-building column wherever they appear in its
  name (党建, 机关党建, 党风廉政, 统战, 巡察, 主题教育, 党史学习教育, 两学一做 …);
* ``site`` — words that make a whole site a party-building site (党建, 党员, 组工, 纪检 …);
  there, a column named like news (动态, 新闻, 要闻, 风采 …, the ``news`` list) is one too;
* ``news`` — those news-like column names;
* ``exclude`` — distractors that are never columns of news unless a ``party`` word is in the
  name as well (政务公开, 办事服务, 互动交流, 图片新闻, 视频 …).

URL path words (``url`` list: ``dj``, ``jgdj``, ``dflz`` …, the pinyin initials CMS editors
give column folders) add weight when the link text is silent. A deployment extends any list
with a YAML file (``dangjian discover --terms FILE``). Names are compared in simplified
script (OpenCC), so 黨建 matches 党建.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import yaml
from lxml.html import HtmlElement

from crawler.discovery.lists import url_date
from crawler.links import (
    DEFAULT_ARTICLE_PATTERNS,
    DEFAULT_LIST_PATTERNS,
    SCRIPT_HREF,
    SKIPPED_SCHEMES,
)
from pipeline.errors import SiteConfigError
from pipeline.extract.normalise import to_simplified

# -- the dictionary ----------------------------------------------------------------------------
PARTY_WORDS: tuple[str, ...] = (
    "党建", "党的建设", "机关党建", "基层党建", "党务", "党风", "廉政", "清廉", "反腐", "纪检",
    "监察", "纪律", "党纪", "巡察", "巡视", "组织工作", "组工", "统战", "统一战线", "主题教育",
    "党史", "党史学习教育", "两学一做", "不忘初心", "三会一课", "党课", "党员", "支部", "党委",
    "党组", "从严治党", "作风建设", "先锋", "红色", "理论", "习近平", "新时代", "思想",
)  # fmt: skip
SITE_WORDS: tuple[str, ...] = (
    "党建", "党员", "组工", "组织部", "统战", "纪检", "监察", "廉政", "党史", "党校", "先锋",
    "红色", "革命", "机关工委",
)  # fmt: skip
NEWS_WORDS: tuple[str, ...] = (
    "动态", "新闻", "要闻", "资讯", "快讯", "风采", "发布", "精神", "资料", "信息", "工作",
    "聚焦", "经验", "学习", "讲堂", "在线",
)  # fmt: skip
EXCLUDE_WORDS: tuple[str, ...] = (
    "公开", "办事", "服务", "互动", "交流", "信箱", "留言", "咨询", "投诉", "图片", "视频",
    "下载", "关于", "概况", "简介", "领导", "机构", "联系", "首页", "地图", "无障碍", "登录",
    "注册", "搜索", "English", "政策", "法规", "文件", "公告", "通知", "专题", "调查", "访谈",
    "直播", "数据", "更多", "客户端", "微信", "微博", "版权", "设为", "收藏", "招聘", "采购",
)  # fmt: skip
URL_WORDS: tuple[str, ...] = (
    "dj", "djgz", "djdt", "djyw", "jgdj", "jcdj", "dflz", "dfly", "lzjs", "jjjc", "xc", "xcgz",
    "ztjy", "dsxx", "dsxxjy", "lxyz", "tz", "tzgz", "tzyw", "zzgz", "zgxx", "dyjy", "llxx",
)  # fmt: skip
# Scores: a party word in the name, a party word in the parent menu's name, a news-like name
# on a party site, a party path word alone. Links of a navigation bar get NAV_BONUS.
PARTY_SCORE, PARENT_SCORE, SITE_NEWS_SCORE, URL_SCORE = 1.0, 0.7, 0.6, 0.4
NAV_BONUS = 0.1
MIN_SCORE = 0.4
MAX_CANDIDATES = 12
# Navigation containers by tag, id or class (nav, menu, 导航 in pinyin: daohang, dh).
NAV_HINT = re.compile(r"nav|menu|daohang|(^|[-_])dh([-_]|$)|channel|lanmu|(^|[-_])lm([-_]|$)", re.I)
MENU_TEXT_KEYS = ("name", "title", "text", "label", "chnlname", "channelname", "cname")
MENU_URL_KEYS = ("url", "href", "link", "chnlurl", "channelurl", "path")
# Column names are short: a longer link text is an article title.
MAX_NAME_CHARS = 14


@dataclass(frozen=True)
class Terms:
    """The dictionary: every word list (see the module docstring)."""

    party: tuple[str, ...] = PARTY_WORDS
    site: tuple[str, ...] = SITE_WORDS
    news: tuple[str, ...] = NEWS_WORDS
    exclude: tuple[str, ...] = EXCLUDE_WORDS
    url: tuple[str, ...] = URL_WORDS

    def extended(self, extra: Mapping[str, Iterable[str]]) -> Terms:
        """Return the dictionary with each list of ``extra`` added to the list of that name."""
        unknown = sorted(set(extra) - {"party", "site", "news", "exclude", "url"})
        if unknown:
            raise SiteConfigError(
                f"unknown dictionary list(s) {', '.join(unknown)}: use party, site, news, exclude, url"
            )
        return replace(
            self,
            **{
                key: tuple(getattr(self, key)) + tuple(str(w) for w in words)
                for key, words in extra.items()
            },
        )


DEFAULT_TERMS = Terms()


def load_terms(path: str | Path | None) -> Terms:
    """Return the default dictionary, extended by a YAML file of word lists when given.

    Example file: ``party: [精神文明]`` / ``exclude: [通知公告]``.

    Raises:
        SiteConfigError: the file is missing, not YAML, or names an unknown list.
    """
    if not path:
        return DEFAULT_TERMS
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SiteConfigError(f"cannot read the discovery dictionary {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise SiteConfigError(f"{path}: the dictionary is a mapping of list name to words")
    return DEFAULT_TERMS.extended(data)


# -- navigation -------------------------------------------------------------------------------
@dataclass(frozen=True)
class NavLink:
    """A link of a home page that could name a column.

    ``where`` is ``nav`` (a navigation bar), ``subnav`` (a menu under a navigation item),
    ``script`` (a menu written in JavaScript data) or ``page`` (anywhere else, e.g. the
    "更多" link of a home-page block); ``parent`` is the menu item it hangs under.
    """

    url: str
    text: str
    where: str
    parent: str = ""


def navigation_links(tree: HtmlElement, base_url: str) -> list[NavLink]:
    """Return the links of a home page that could be columns, navigation first.

    Reads navigation containers (``<nav>``, elements whose id or class says nav/menu), their
    sub-menus (a nested list under an item: the item's first link is the parent), menus
    written as JavaScript data (``var menu = [{"name":…,"url":…,"children":[…]}]``) and
    ``href`` strings in scripts, then every other link of the page. Each URL appears once,
    with its best placement.
    """
    base = tree.xpath("//base/@href")
    base_url = urljoin(base_url, base[0]) if base else base_url
    found: list[NavLink] = []
    in_nav: set[HtmlElement] = set()
    for container in _nav_containers(tree):
        for item in container.iter("li", "dd"):
            links = [a for a in item.iter("a") if a.get("href")]
            if not links:
                continue
            head = links[0]
            nested = item.find(".//ul") is not None or item.find(".//dl") is not None
            if head not in in_nav:
                found.extend(_nav_link(head, base_url, "nav", ""))
                in_nav.add(head)
            if nested or len(links) > 1:
                parent = _text(head)
                for a in links[1:]:
                    if a not in in_nav:
                        found.extend(_nav_link(a, base_url, "subnav", parent))
                        in_nav.add(a)
        for a in container.iter("a"):
            if a not in in_nav and a.get("href"):
                found.extend(_nav_link(a, base_url, "nav", ""))
                in_nav.add(a)
    for script in tree.iter("script"):
        found.extend(script_menu_links(script.text or "", base_url))
    for a in tree.iter("a", "area"):
        if a not in in_nav and a.get("href"):
            found.extend(_nav_link(a, base_url, "page", ""))
    rank = {"subnav": 0, "nav": 1, "script": 2, "page": 3}
    best: dict[str, NavLink] = {}
    for link in found:
        key = column_key(link.url)
        if key not in best or (rank[link.where], not link.parent) < (
            rank[best[key].where],
            not best[key].parent,
        ):
            best[key] = link
    return list(best.values())


def _nav_containers(tree: HtmlElement) -> Iterator[HtmlElement]:
    chosen: list[HtmlElement] = []
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in ("a", "li", "body", "html"):
            continue
        if element.tag == "nav" or NAV_HINT.search(
            f"{element.get('id') or ''} {element.get('class') or ''}"
        ):
            if any(element in c.iterdescendants() for c in chosen):
                continue  # inside a container already taken
            chosen.append(element)
            yield element


def _text(a: HtmlElement) -> str:
    text = " ".join(a.text_content().split()) or (a.get("alt") or "")
    title = " ".join((a.get("title") or "").split())
    return f"{text} {title}".strip() if title and title != text else text


def _nav_link(a: HtmlElement, base_url: str, where: str, parent: str) -> list[NavLink]:
    url = _absolute(a.get("href", ""), base_url)
    return [NavLink(url, _text(a), where, parent)] if url else []


def _absolute(href: str, base_url: str) -> str | None:
    href = (href or "").strip()
    if not href or href.lower().startswith(SKIPPED_SCHEMES):
        return None
    url = urldefrag(urljoin(base_url, href))[0]
    return url if urlsplit(url).scheme in ("http", "https") else None


def script_menu_links(script: str, base_url: str) -> list[NavLink]:
    """Return the menu items written in a script: JSON menu data, else ``href`` strings.

    JSON arrays or objects assigned in the script (``var navData = [...]``) are walked for
    objects with a name key (``name``, ``title``, ``text`` …) and a URL key (``url``,
    ``href``, ``link`` …); items of a ``children``-like list get their parent's name.
    """
    links: list[NavLink] = []
    for data in _json_values(script):
        links.extend(_walk_menu(data, base_url, ""))
    if not links and "href" in script.lower():
        for href, text in SCRIPT_HREF.findall(script):
            url = _absolute(href, base_url)
            if url and text.strip():
                links.append(NavLink(url, " ".join(text.split()), "script"))
    return links


def _json_values(script: str) -> Iterator[Any]:
    for match in re.finditer(r"=\s*([\[{])", script):
        start = match.start(1)
        end = _balanced_end(script, start)
        if end is None:
            continue
        try:
            yield json.loads(script[start : end + 1])
        except ValueError:
            continue


def _balanced_end(text: str, start: int) -> int | None:
    depth, quote, escaped = 0, "", False
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i
    return None


def _walk_menu(data: Any, base_url: str, parent: str) -> list[NavLink]:
    out: list[NavLink] = []
    if isinstance(data, list):
        for value in data:
            out.extend(_walk_menu(value, base_url, parent))
    elif isinstance(data, dict):
        lowered = {str(k).lower(): v for k, v in data.items()}
        name = next((lowered[k] for k in MENU_TEXT_KEYS if isinstance(lowered.get(k), str)), "")
        href = next((lowered[k] for k in MENU_URL_KEYS if isinstance(lowered.get(k), str)), "")
        url = _absolute(href, base_url) if href else None
        if url and name:
            out.append(NavLink(url, " ".join(name.split()), "script", parent))
        for value in data.values():
            if isinstance(value, (list, dict)):
                out.extend(_walk_menu(value, base_url, name or parent))
    return out


def column_key(url: str) -> str:
    """Return a column URL without its ``index.html``-like file name (one key per column)."""
    return re.sub(r"/(index|default)\.(s?html?|php|asp|aspx|jsp)$", "/", url.split("#")[0])


# -- scoring ----------------------------------------------------------------------------------
@dataclass
class Candidate:
    """A link proposed as a party-building column, with its score and why."""

    url: str
    name: str
    score: float
    evidence: list[str] = field(default_factory=list)
    where: str = "page"
    parent: str = ""


def matched(words: Iterable[str], text: str) -> list[str]:
    """Return the words of a list found in ``text`` (longest first, nested ones dropped)."""
    hits = sorted({w for w in words if w and w in text}, key=len, reverse=True)
    return [w for i, w in enumerate(hits) if not any(w in longer for longer in hits[:i])]


def path_words(url: str) -> list[str]:
    """Return the lower-case letter runs of a URL's path (``/xwzx/jgdj/`` → xwzx, jgdj)."""
    return re.findall(r"[a-z]+", urlsplit(url).path.lower())


def looks_like_article(url: str) -> bool:
    """Tell whether a URL is an article's: a default article pattern or a date in the path,
    unless it is named like a list page (an e-paper's ``/2024-12/31/node_2.htm``)."""
    if any(p.search(url) for p in DEFAULT_LIST_PATTERNS):
        return False
    return bool(url_date(url)) or any(p.search(url) for p in DEFAULT_ARTICLE_PATTERNS)


def is_party_site(name: str, terms: Terms = DEFAULT_TERMS) -> list[str]:
    """Return the site words in a site's name (a party-building site when not empty)."""
    return matched(terms.site, to_simplified(name))


def score_link(link: NavLink, party_site: bool, terms: Terms = DEFAULT_TERMS) -> Candidate | None:
    """Score one link as a party-building column; None when it is not one.

    Rules, strongest first: a ``party`` word in its name (or title attribute); a ``party``
    word in its parent menu's name; on a party site, a ``news`` word in its name; a ``url``
    word in its path. An ``exclude`` word in the name vetoes all but the first rule.
    """
    name = to_simplified(link.text)
    parent = to_simplified(link.parent)
    if not name or len(name.split(" ")[0]) > MAX_NAME_CHARS or looks_like_article(link.url):
        return None
    party = matched(terms.party, name)
    excluded = matched(terms.exclude, name)
    evidence: list[str] = []
    score = 0.0
    if party:
        score, evidence = PARTY_SCORE, [f"name has {'/'.join(party)}"]
    elif excluded:
        return None
    elif parent and (up := matched(terms.party, parent)):
        score, evidence = PARENT_SCORE, [f"under menu {link.parent!r} ({'/'.join(up)})"]
    elif party_site and (news := matched(terms.news, name)):
        score, evidence = SITE_NEWS_SCORE, [f"news column {'/'.join(news)} of a party site"]
    elif hints := [w for w in path_words(link.url) if w in terms.url]:
        score, evidence = URL_SCORE, [f"path word {'/'.join(hints)}"]
    else:
        return None
    if link.where in ("nav", "subnav", "script"):
        score += NAV_BONUS
        evidence.append(
            {
                "nav": "in the navigation bar",
                "subnav": f"in the sub-menu of {link.parent!r}",
                "script": "in a script menu",
            }[link.where]
        )
    return Candidate(
        link.url,
        link.text.split(" ")[0] if link.text else link.text,
        round(score, 2),
        evidence,
        link.where,
        link.parent,
    )


def party_candidates(
    links: Iterable[NavLink],
    party_site: bool,
    allowed: Any = None,
    terms: Terms = DEFAULT_TERMS,
    limit: int = MAX_CANDIDATES,
    articles: Iterable[str] = (),
) -> list[Candidate]:
    """Return the links that may be party-building columns, best first, at most ``limit``.

    Args:
        links: the home page's links (:func:`navigation_links`).
        party_site: whether the site itself is a party-building site (:func:`is_party_site`).
        allowed: a predicate on URLs (the site's hosts); others are dropped.
        terms: the dictionary.
        limit: the most candidates returned (each costs a request).
        articles: URLs known to be articles (the dated rows of the home page's news
            blocks, ``crawler.discovery.lists.list_items``); they are not columns.
    """
    out = []
    skip = {column_key(u) for u in articles}
    for link in links:
        if allowed is not None and not allowed(link.url):
            continue
        if column_key(link.url) in skip and link.where == "page":
            continue
        candidate = score_link(link, party_site, terms)
        if candidate and candidate.score >= MIN_SCORE:
            out.append(candidate)
    out.sort(key=lambda c: (-c.score, {"subnav": 0, "nav": 1, "script": 2}.get(c.where, 3)))
    return out[:limit]
