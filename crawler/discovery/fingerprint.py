"""Which CMS made a site: markers in its markup, paths and meta tags, and that CMS's defaults.

Chinese government and party sites are built with a handful of CMSs, each of which leaves
marks: TRS WCM its ``createPageHTML`` pager and ``t20230419_1.html`` documents, Hanweb (大汉)
its ``<datastore>`` lists and ``/col/colN/`` columns, PHPCMS its ``index.php?m=content``
routes, DedeCMS ``/plus/`` and ``/templets/``, Founder (方正) ``node_N.htm`` and
``content_N.htm``, 博达 (VSB) ``/system/resource/`` and ``/info/N/N.htm``, WordPress
``/wp-content/``. ``MARKERS`` lists every mark with its weight; :func:`fingerprint` adds the
weights per family. ``CMS_DEFAULTS`` gives each family's usual article URLs (the spider's own
default patterns from ``crawler.links`` that match them) and pagination scheme.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lxml.html import HtmlElement

from crawler.links import DEFAULT_ARTICLE_PATTERNS

CMS_FAMILIES = (
    "trs-wcm",
    "hanweb",
    "hanweb-zj",
    "phpcms",
    "dedecms",
    "founder",
    "founder-epaper",
    "boda",
    "wordpress",
    "unknown",
)


@dataclass(frozen=True)
class Marker:
    """One mark a CMS leaves: where to look (``html``, ``links``, ``meta``, ``header``)."""

    cms: str
    where: str
    pattern: re.Pattern[str]
    weight: float
    label: str


def _m(cms: str, where: str, pattern: str, weight: float, label: str) -> Marker:
    return Marker(cms, where, re.compile(pattern, re.I), weight, label)


MARKERS: tuple[Marker, ...] = (
    # TRS WCM
    _m("trs-wcm", "html", r"createPageHTML\s*\(", 0.5, "TRS pager createPageHTML()"),
    _m("trs-wcm", "html", r"/was5/web/|trs_?sdk|TRS_Editor|trsapp|/trs[a-z]*/", 0.5, "TRS search/editor paths"),
    _m("trs-wcm", "links", r"/t\d{8}_\d+\.s?html?(\?|$)", 0.6, "TRS document URLs tYYYYMMDD_N.html"),
    _m("trs-wcm", "links", r"/\d{6}/t\d{6,}\.s?html?$", 0.4, "TRS document URLs /YYYYMM/tN.htm"),
    # Hanweb 大汉
    _m("hanweb", "html", r"<datastore>|/module/web/jpage/|jpage\.show|dataproxy\.jsp", 0.7, "Hanweb datastore/jpage"),
    _m("hanweb", "html", r"hanweb|大汉网络|/script/0/\d+/|/module/jslib/", 0.6, "Hanweb scripts"),
    _m("hanweb", "links", r"/col/col\d+/index\.html", 0.5, "Hanweb columns /col/colN/index.html"),
    _m("hanweb", "links", r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html", 0.6, "Hanweb articles art_C_N.html"),
    _m("hanweb-zj", "links", r"/col/col\d+/art/\d{4}/art_[0-9a-f]{32}\.html", 0.8, "Zhejiang Hanweb art_<hex32>.html"),
    # PHPCMS
    _m("phpcms", "meta", r"phpcms", 0.9, "generator PHPCMS"),
    _m("phpcms", "html", r"powered by phpcms|phpcms\.cn", 0.8, "Powered by PHPCMS"),
    _m("phpcms", "links", r"index\.php\?m=content&c=index&a=(lists|show)", 0.8, "PHPCMS routes index.php?m=content"),
    _m("phpcms", "html", r"/statics/(js|css|images)/", 0.3, "PHPCMS /statics/"),
    # DedeCMS
    _m("dedecms", "meta", r"dedecms", 0.9, "generator DedeCMS"),
    _m("dedecms", "html", r"power(ed)? by dedecms|dedecms|/templets/|/uploads/allimg/", 0.6, "DedeCMS templets/uploads"),
    _m("dedecms", "links", r"/plus/(list|view|search)\.php|/a/\w+/list_\d+_\d+\.html", 0.6, "DedeCMS /plus/ and list_T_N.html"),
    # Founder 方正 (翔宇 newspaper CMS, e-paper)
    _m("founder", "links", r"/node_\d+(_\d+)?\.htm$", 0.4, "Founder column pages node_N.htm"),
    _m("founder", "links", r"/content_\d+(_\d+)?\.htm$", 0.4, "Founder articles content_N.htm"),
    _m("founder", "html", r"founder|方正|FZ_|xy_cms", 0.5, "Founder markup"),
    _m("founder-epaper", "html", r"<area[^>]+content_\d+_\d+\.htm|/pc/(html|layout)/|版面导航|下一版", 0.6, "Founder e-paper sections"),
    # 博达 (Visual SiteBuilder)
    _m("boda", "html", r"/system/resource/|_sitegray|visual\s*sitebuilder|vsb_|博达软件", 0.8, "博达 VSB resources"),
    _m("boda", "links", r"/info/\d+/\d+\.htm$", 0.6, "博达 articles /info/N/N.htm"),
    # WordPress
    _m("wordpress", "meta", r"wordpress", 0.9, "generator WordPress"),
    _m("wordpress", "html", r"/wp-content/|/wp-includes/|wp-json", 0.8, "WordPress paths"),
)  # fmt: skip
# Below this a family is not named (``unknown``).
MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class CmsDefaults:
    """What a CMS family usually does: example article URLs and its pagination scheme."""

    examples: tuple[str, ...]
    pagination: str

    @property
    def article_patterns(self) -> tuple[str, ...]:
        """The spider's default article patterns (``crawler.links``) that fit this family."""
        return tuple(
            p.pattern for p in DEFAULT_ARTICLE_PATTERNS if any(p.search(u) for u in self.examples)
        )


CMS_DEFAULTS: Mapping[str, CmsDefaults] = {
    "trs-wcm": CmsDefaults(("/xwzx/202304/t20230419_4589123.html", "/sywh/202001/t3539167.htm"), "index_N"),
    "hanweb": CmsDefaults(("/art/2023/4/19/art_123_4567.html",), "query"),
    "hanweb-zj": CmsDefaults(("/col/col1229740926/art/2025/art_08c578065eff4beb90271fdf30a3467c.html",), "query"),
    "phpcms": CmsDefaults(("/index.php?m=content&c=index&a=show&catid=4&id=56",), "query"),
    "dedecms": CmsDefaults(("/a/xwzx/2023/0419/123.html", "/plus/view.php?aid=123"), "path_N"),
    "founder": CmsDefaults(("/content/2023-05/06/content_123456.htm",), "path_N"),
    "founder-epaper": CmsDefaults(("/pc/html/2025-04/09/content_743_883794.htm",), "sections"),
    "boda": CmsDefaults(("/info/1012/3456.htm",), "path_N"),
    "wordpress": CmsDefaults(("/2023/04/19/some-title/", "/?p=123"), "path_N"),
    "unknown": CmsDefaults((), "none"),
}  # fmt: skip


@dataclass(frozen=True)
class Fingerprint:
    """The CMS family a site was built with, how sure, and the marks that said so."""

    cms: str
    confidence: float
    evidence: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)

    @property
    def defaults(self) -> CmsDefaults:
        """This family's defaults (:data:`CMS_DEFAULTS`)."""
        return CMS_DEFAULTS[self.cms]


def fingerprint(
    pages: Iterable[tuple[HtmlElement, str, str]],
    links: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
) -> Fingerprint:
    """Name the CMS family of a site from its pages, their links and the HTTP headers.

    Args:
        pages: ``(tree, raw_html, url)`` of each page seen (the home page, list pages).
        links: every link URL of those pages.
        headers: the home page's response headers (``Server``, ``X-Powered-By``).

    Returns:
        The family with the highest total weight of its markers (each marker counted once),
        its weight capped at 1 as the confidence; ``unknown`` below ``MIN_CONFIDENCE``.
        Hanweb-zj and the Founder e-paper are refinements: they win ties with their parent.
    """
    html_parts, meta_parts = [], []
    for tree, raw, _url in pages:
        html_parts.append(raw)
        for meta in tree.iter("meta"):
            name = (meta.get("name") or meta.get("property") or "").lower()
            if name in ("generator", "author", "copyright", "keywords"):
                meta_parts.append(meta.get("content") or "")
    texts = {
        "html": "\n".join(html_parts),
        "meta": "\n".join(meta_parts),
        "links": "\n".join(links),
        "header": "\n".join(f"{k}: {v}" for k, v in (headers or {}).items()),
    }
    scores: dict[str, float] = defaultdict(float)
    evidence: dict[str, list[str]] = defaultdict(list)
    for marker in MARKERS:
        text = texts[marker.where]
        if marker.where == "links":
            hit = any(marker.pattern.search(line) for line in text.splitlines())
        else:
            hit = bool(marker.pattern.search(text))
        if hit:
            scores[marker.cms] += marker.weight
            evidence[marker.cms].append(marker.label)
    # Refinements inherit their parent family's marks.
    for child, parent in (("hanweb-zj", "hanweb"), ("founder-epaper", "founder")):
        if scores.get(child):
            scores[child] += scores.get(parent, 0)
            evidence[child] = evidence[parent] + evidence[child]
    if not scores:
        return Fingerprint("unknown", 0.0, ("no CMS marker found",))
    best = max(scores, key=lambda c: (scores[c], c in ("hanweb-zj", "founder-epaper")))
    confidence = min(1.0, round(scores[best], 2))
    if confidence < MIN_CONFIDENCE:
        return Fingerprint(
            "unknown", confidence, (f"weak marks of {best}: {', '.join(evidence[best])}",), scores
        )
    return Fingerprint(best, confidence, tuple(evidence[best]), dict(scores))
