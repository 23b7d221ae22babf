"""Realistic copies of the kinds of sites dangjian-news crawls, served on loopback.

Seven sites, each in the style of a real CMS family (PHPCMS, TRS WCM, Hanweb, a magazine
aggregator, a newspaper channel, an old GBK ASP site, a traditional-Chinese mirror).  Everything is
generated deterministically from the templates in ``templates/`` and the texts in ``content/``;
article bodies are composed only when requested, so large sizes stay cheap.

Example:
    >>> sites = build_sites(30)
    >>> status, headers, body = sites["wuhan-tzb"].respond("/xwzx/tzyw/index.html")
    >>> handle = start_sample_sites(port=0)   # doctest: +SKIP
    >>> handle.addresses["wuhan-tzb"]         # doctest: +SKIP
    'http://127.0.0.12:40123'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .behaviours import Behaviour
from .catalog import Catalog, Column, SiteSpec, build_catalog
from .cms_gov import WuchangMuseum, WuhanTzb, XuzhouHanweb
from .cms_portal import (
    HongseMuseum,
    JiangchengEpaper,
    OujiangJgdj,
    RenminDangjian,
    XianfengDangyuan,
    ZhongyuanJgdj,
)
from .cms_press import GzDaily, MirrorHant, OldDistrict, QikanAggregator
from .seeds import SEED_STEMS
from .server import SiteServer
from .sites import DEFAULT_PORT, ExpectedArticle, SampleSite

__all__ = [
    "DEFAULT_PORT",
    "SAMPLE_SITE_IDS",
    "ExpectedArticle",
    "SampleSite",
    "SampleSitesHandle",
    "build_sites",
    "registry_entries",
    "start_sample_sites",
]

S0, S1, S2, S3, S4 = SEED_STEMS
SPECS: tuple[tuple[type[SampleSite], SiteSpec], ...] = (
    (
        WuchangMuseum,
        SiteSpec(
            "wuchang-museum",
            "武汉革命博物馆",
            "lecture",
            (Column("45", "武昌周周讲", "社会教育"),),
            seeds=((S0, "45", "/index.php?m=content&c=index&a=show&catid=45&id=1086"),),
            per_page=12,
        ),
    ),
    (
        WuhanTzb,
        SiteSpec(
            "wuhan-tzb",
            "武汉统战",
            "ufwd",
            (
                Column("tzyw", "统战要闻", "新闻中心"),
                Column("jgdj", "机关党建", "新闻中心"),
                Column("nbzl", "内部资料", "新闻中心", crawlable=False),
            ),
            seeds=((S1, "tzyw", "/xwzx/tzyw/202304/t20230419_4589123.html"),),
            republishes=("wuchang-museum",),
            rep_share=0.1,
            per_page=10,
        ),
    ),
    (
        QikanAggregator,
        SiteSpec(
            "qikan-aggregator",
            "期刊文摘网",
            "essay",
            (Column("djdt", "党建期刊", "期刊"), Column("llyj", "理论研究", "期刊")),
            seeds=((S2, "djdt", "/page/2021/1208/8934521.shtml"),),
            per_page=10,
        ),
    ),
    (
        GzDaily,
        SiteSpec(
            "gzdaily-dangjian",
            "广州日报·党建频道",
            "news",
            (Column("2101", "党建要闻", "党建频道"), Column("2102", "基层党建", "党建频道")),
            seeds=((S3, "2101", "/content/2023-05/06/content_123456.htm"),),
            per_page=8,
        ),
    ),
    (
        XuzhouHanweb,
        SiteSpec(
            "xuzhou-jgdj",
            "徐州市级机关党建网",
            "organs",
            (
                Column("col12345", "工作动态", "新闻动态"),
                Column("col12346", "基层党建", "新闻动态"),
            ),
            seeds=((S4, "col12345", "/art/2022/1/12/art_12345_4567.html"),),
            republishes=("qikan-aggregator",),
            rep_share=0.1,
            per_page=8,
        ),
    ),
    (
        OldDistrict,
        SiteSpec(
            "old-district",
            "鼓楼区党建网",
            "district",
            (Column("3", "党建动态", "首页"), Column("5", "基层风采", "首页")),
            republishes=("xuzhou-jgdj",),
            rep_share=0.15,
            per_page=10,
        ),
    ),
    (
        MirrorHant,
        SiteSpec(
            "mirror-hant",
            "華文資訊網",
            "",
            (Column("news", "新聞", "首頁"), Column("dangjian", "黨建", "首頁")),
            seeds=(
                (S1, "news", "/zh-hant/news/c380cd92fa50ab78.html"),
                (S3, "news", "/zh-hant/news/a6ef6f9829540272.html"),
                (S4, "dangjian", "/zh-hant/dangjian/79a4e3b6f9a36950.html"),
            ),
            republishes=(
                "wuhan-tzb",
                "gzdaily-dangjian",
                "xuzhou-jgdj",
                "wuchang-museum",
                "qikan-aggregator",
                "old-district",
            ),
            per_page=10,
        ),
    ),
    # Twins of the real sites' newer CMS families (cms_portal.py), after the seven above so
    # that their pages and addresses stay as they were.
    (
        RenminDangjian,
        SiteSpec(
            "renmin-dangjian",
            "党建频道",
            "organs",
            (Column("394443", "中央精神", "党建"), Column("219967", "各地动态", "党建")),
            per_page=10,
        ),
    ),
    (
        XianfengDangyuan,
        SiteSpec(
            "xianfeng-dangyuan",
            "先锋党员网",
            "organs",
            (Column("xxzd", "学习资料", "专题"), Column("zxfb", "最新发布", "首页")),
        ),
    ),
    (
        JiangchengEpaper,
        SiteSpec(
            "jiangcheng-epaper",
            "江城日报数字报",
            "news",
            (Column("1", "第A1版：要闻", "数字报"), Column("2", "第A2版：党建", "数字报")),
        ),
    ),
    (
        ZhongyuanJgdj,
        SiteSpec(
            "zhongyuan-jgdj",
            "中原机关党建",
            "organs",
            (Column("hnxw", "河南新闻", "新闻"), Column("jgdj", "机关党建", "新闻")),
            per_page=10,
        ),
    ),
    (
        OujiangJgdj,
        SiteSpec(
            "oujiang-jgdj",
            "瓯江机关党建",
            "organs",
            (
                Column("col1229740926", "工作动态", "新闻"),
                Column("col1229740927", "基层党建", "新闻"),
            ),
            per_page=8,
        ),
    ),
    (
        HongseMuseum,
        SiteSpec(
            "hongse-museum",
            "红色纪念馆",
            "district",
            (
                Column("zhxw/wbxw", "本馆新闻", "综合新闻"),
                Column("clzl/jbcl2", "基本陈列", "陈列展览"),
            ),
            per_page=10,
        ),
    ),
)
SAMPLE_SITE_IDS: list[str] = [spec.id for _cls, spec in SPECS]


def build_sites(size: int = 30) -> dict[str, SampleSite]:
    """Build every sample site with ``size`` articles each (deterministic: same size, same bytes).

    Args:
        size: articles per site, seeds and republications included (at least 10).

    Returns:
        The sites by id, in ``SAMPLE_SITE_IDS`` order.
    """
    size = max(size, 10)
    catalogs: dict[str, Catalog] = {}
    used: set[str] = set()
    sites: dict[str, SampleSite] = {}
    for index, (cls, spec) in enumerate(SPECS):
        catalogs[spec.id] = build_catalog(spec, size, catalogs, used)
        sites[spec.id] = cls(spec, catalogs[spec.id], index, {})
    peers = {site_id: site.base_url for site_id, site in sites.items()}
    for site in sites.values():
        site.peer_urls = peers
    return sites


@dataclass
class SampleSitesHandle:
    """Running sample sites; ``addresses`` maps site id to base URL."""

    addresses: dict[str, str]
    sites: dict[str, SampleSite] = field(repr=False)
    servers: list[SiteServer] = field(repr=False)
    behaviours: dict[str, Behaviour] = field(default_factory=dict, repr=False)

    def stop(self) -> None:
        """Shut every server down and close its socket."""
        for server in self.servers:
            server.stop()
        self.servers.clear()

    def __enter__(self) -> SampleSitesHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sample_sites(
    port: int = DEFAULT_PORT,
    size: int = 30,
    host: str | None = None,
    verbose: bool = False,
    behaviours: Mapping[str, Mapping[str, Any]] | None = None,
) -> SampleSitesHandle:
    """Serve every sample site on loopback, each in daemon threads.

    Args:
        port: the port all sites share, one loopback IP each (127.0.0.11, .12, …); 0 gives each
            site an ephemeral port.
        size: articles per site.
        host: ``"127.0.0.1"`` puts every site on that one address with distinct ports (then
            ``port`` must be 0).
        verbose: log each request at INFO.
        behaviours: per site id, behaviours to switch on (see ``behaviours.py``), e.g.
            ``{"wuhan-tzb": {"slow": 0.5}, "old-district": {"challenge412": True}}``.

    Returns:
        A handle whose ``addresses`` give each site's base URL; call ``stop()`` when done.
    """
    if host is not None and port != 0:
        raise ValueError("sites sharing one host need distinct ports: pass port=0 with host")
    sites = build_sites(size)
    unknown = sorted(set(behaviours or {}) - set(sites))
    if unknown:
        raise ValueError(f"behaviours for unknown sample site(s): {', '.join(unknown)}")
    chosen = {
        sid: Behaviour.from_options(site, (behaviours or {}).get(sid, {}))
        for sid, site in sites.items()
    }
    servers: list[SiteServer] = []
    try:
        for site in sites.values():
            servers.append(
                SiteServer(site, host or site.default_host, port, verbose, chosen[site.id])
            )
    except OSError:
        for server in servers:
            server.httpd.server_close()
        raise
    addresses = {s.site.id: s.base_url for s in servers}
    for server in servers:
        server.site.base_url = server.base_url
        server.site.peer_urls = addresses
        server.start()
    return SampleSitesHandle(addresses, sites, servers, chosen)


def registry_entries(addresses: dict[str, str], size: int = 30) -> list[dict]:
    """Return the site-registry entries of every sample site served at ``addresses``."""
    sites = build_sites(size)
    return [
        sites[site_id].registry_entry(addresses[site_id])
        for site_id in SAMPLE_SITE_IDS
        if site_id in addresses
    ]


def write_registry(addresses: dict[str, str], path: str, size: int = 30) -> None:
    """Write the registry (``sites.yml``) of the sample sites served at ``addresses`` to ``path``."""
    import yaml

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(
        yaml.safe_dump(
            {"sites": registry_entries(addresses, size)}, allow_unicode=True, sort_keys=False
        ),
        encoding="utf-8",
    )
