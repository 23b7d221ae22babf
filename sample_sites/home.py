"""Home pages of the sample sites: full navigation, as a real site's front page has it.

Each site's home page links its crawled columns among the usual distractors (政务公开, 办事服务,
互动交流, 图片新闻, 视频 …, most of which answer 404 here), with sub-menus where the CMS has
them, in JavaScript menu data where the CMS writes its menus that way (Hanweb), the marks its
CMS leaves (scripts, search paths, 技术支持 lines) and the 网站标识码 / ICP lines of its
footer. ``dangjian discover`` is tested end to end on them (tests/test_discover_sites.py):
``PARTY_COLUMNS`` names the columns a discovery must find on each.

The 江城日报 e-paper's ``/`` redirects to its edition's 版面导航 page, as e-papers do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    from .sites import SampleSite


@dataclass(frozen=True)
class Menu:
    """A navigation item: its label, link (a column key, a path, or "" for javascript:;)."""

    label: str
    href: str = ""
    children: tuple[Menu, ...] = ()
    title: str = ""


def col(key: str, label: str = "", title: str = "") -> Menu:
    """A menu item linking the site's column ``key`` (its first list page)."""
    return Menu(label, f"col:{key}", (), title)


@dataclass(frozen=True)
class HomeSpec:
    """What a sample site's home page shows besides its columns."""

    menus: tuple[Menu, ...]
    head: str = ""  # CMS marks in <head>
    charset: str = ""  # as the <meta> says (default: the site's encoding)
    script_menu: bool = False  # the menu is JavaScript data (Hanweb), rendered by a script
    site_id_code: str = ""
    icp: str = ""
    host: str = ""  # 主办单位
    address: str = ""
    support: str = ""  # 技术支持
    title: str = ""  # <title> (default: the site's name)
    blocks: tuple[tuple[str, str], ...] = field(default=())  # (block title, column key)


D = Menu  # a distractor or plain menu item
HOMES: dict[str, HomeSpec] = {
    "wuchang-museum": HomeSpec(
        (
            D("革博概况", "/index.php?m=content&c=index&a=lists&catid=2"),
            D("新闻动态", "/index.php?m=content&c=index&a=lists&catid=9"),
            D(
                "社会教育",
                "/index.php?m=content&c=index&a=lists&catid=44",
                (
                    col("45", "武昌周周讲", "习近平新时代中国特色社会主义思想武昌周周讲"),
                    D("志愿服务", "/index.php?m=content&c=index&a=lists&catid=46"),
                    D("研学活动", "/index.php?m=content&c=index&a=lists&catid=47"),
                ),
            ),
            D("陈列展览", "/index.php?m=content&c=index&a=lists&catid=12"),
            D("馆藏文物", "/index.php?m=content&c=index&a=lists&catid=16"),
            D("互动交流", "/index.php?m=content&c=index&a=lists&catid=30"),
            D("图片新闻", "/index.php?m=content&c=index&a=lists&catid=31"),
        ),
        head='<link href="/statics/css/reset.css" rel="stylesheet" type="text/css" />\n'
        '<script type="text/javascript" src="/statics/js/jquery.min.js"></script>',
        icp="鄂ICP备11008471号-1",
        host="武汉革命博物馆",
        address="湖北省武汉市武昌区红巷13号",
        blocks=(("武昌周周讲", "45"),),
    ),
    "wuhan-tzb": HomeSpec(
        (
            D(
                "新闻中心",
                "/xwzx/",
                (col("tzyw", "统战要闻"), col("jgdj", "机关党建"), col("nbzl", "内部资料")),
            ),
            D("政务公开", "/zwgk/", (D("政策文件", "/zwgk/zcwj/"), D("人事信息", "/zwgk/rsxx/"))),
            D("办事服务", "/bsfw/"),
            D("互动交流", "/hdjl/", (D("部长信箱", "/hdjl/bzxx/"), D("在线访谈", "/hdjl/zxft/"))),
            D("图片新闻", "/tpxw/"),
            D("视频统战", "/spxw/"),
        ),
        head='<meta name="SiteName" content="武汉统战">\n<meta name="SiteDomain" content="www.whtzb.gov.cn">',
        site_id_code="4201000012",
        icp="鄂ICP备05003253号-1",
        host="中共武汉市委统一战线工作部",
        address="武汉市江岸区沿江大道188号",
        blocks=(("统战要闻", "tzyw"), ("机关党建", "jgdj")),
    ),
    "qikan-aggregator": HomeSpec(
        (
            D(
                "期刊",
                "/qk/",
                (
                    col("djdt", "党建期刊"),
                    col("llyj", "理论研究"),
                    D("文学期刊", "/qk/wxqk/1.shtml"),
                    D("财经期刊", "/qk/cjqk/1.shtml"),
                ),
            ),
            D("图片新闻", "/tp/"),
            D("期刊导航", "/daohang/"),
            D("投稿服务", "/tougao/"),
        ),
        icp="京ICP备13023456号-2",
        host="期刊文摘网",
        address="北京市海淀区",
        blocks=(("党建期刊", "djdt"),),
    ),
    "gzdaily-dangjian": HomeSpec(
        (
            D(
                "党建频道",
                "/node_2100.htm",
                (col("2101", "党建要闻"), col("2102", "基层党建")),
            ),
            D("广州新闻", "/node_2001.htm"),
            D("图片新闻", "/node_2003.htm"),
            D("视频", "/node_2004.htm"),
            D("数字报", "/epaper/"),
        ),
        icp="粤ICP备05046368号",
        host="广州日报报业集团",
        address="广州市人民路1号",
        support="北大方正电子",
        title="广州日报·党建频道_大洋网",
        blocks=(("党建要闻", "2101"), ("基层党建", "2102")),
    ),
    "xuzhou-jgdj": HomeSpec(
        (
            D(
                "新闻动态",
                "/col/col12344/index.html",
                (col("col12345", "工作动态"), col("col12346", "基层党建")),
            ),
            D(
                "政务公开",
                "/col/col12350/index.html",
                (
                    D("通知公告", "/col/col12351/index.html"),
                    D("政策文件", "/col/col12352/index.html"),
                ),
            ),
            D("办事服务", "/col/col12360/index.html"),
            D("互动交流", "/col/col12370/index.html"),
            D("图片新闻", "/col/col12380/index.html"),
        ),
        head='<meta name="SiteName" content="徐州市级机关党建网" />\n'
        '<script type="text/javascript" src="/module/jslib/jquery/jquery.js"></script>\n'
        '<script type="text/javascript" src="/script/0/1501271456/script.js"></script>',
        script_menu=True,
        site_id_code="3203000033",
        icp="苏ICP备05006964号-1",
        host="中共徐州市委市级机关工作委员会",
        address="徐州市新城区行政中心",
        support="南京大汉网络有限公司",
        blocks=(("基层党建", "col12346"),),
    ),
    "old-district": HomeSpec(
        (
            col("3", "党建动态"),
            col("5", "基层风采"),
            D("组工信息"),
            D("党员教育"),
            D("人才工作"),
            D("下载中心", "/download.asp"),
        ),
        charset="gb2312",
        icp="苏ICP备06012345号",
        host="中共徐州市鼓楼区委组织部",
        address="徐州市鼓楼区中山北路",
        support="徐州天网网络科技有限公司",
        title="鼓楼区党建网--首页",
        blocks=(("党建动态", "3"),),
    ),
    "mirror-hant": HomeSpec(
        (
            col("news", "新聞"),
            col("dangjian", "黨建"),
            D("圖片", "/zh-hant/photo/"),
            D("視頻", "/zh-hant/video/"),
            D("關於我們", "/zh-hant/about/"),
        ),
        host="華文資訊網 香港特別行政區",
        address="香港特別行政區灣仔",
        title="華文資訊網",
        blocks=(("黨建", "dangjian"),),
    ),
    "renmin-dangjian": HomeSpec(
        (
            D("党建", "/GB/394442/", (col("394443", "中央精神"), col("219967", "各地动态"))),
            D("时政", "/GB/1024/"),
            D("图片", "/GB/1098/"),
            D("视频", "/GB/1099/"),
            D("访谈", "/GB/1100/"),
        ),
        icp="京ICP证000006号",
        host="党建频道",
        address="北京市朝阳区金台西路2号",
        blocks=(("中央精神", "394443"),),
    ),
    "xianfeng-dangyuan": HomeSpec(
        (
            col("zxfb", "最新发布"),
            D("专题", "/special/", (col("xxzd", "学习资料"), D("专题库", "/special/ztk/"))),
            D("党员教育", "/dyjy/"),
            D("图片", "/tp/"),
            D("视频", "/sp/"),
        ),
        icp="京ICP备12022341号",
        host="先锋党员网",
        address="北京市",
        blocks=(("最新发布", "zxfb"),),
    ),
    "jiangcheng-epaper": HomeSpec(
        (col("1", "第A1版：要闻"), col("2", "第A2版：党建")),
        head='<link rel="stylesheet" href="/pc/css/layout.css">',
        icp="鄂ICP备10001234号",
        host="江城日报社",
        address="武汉市江汉区",
        support="北大方正电子有限公司",
        title="江城日报数字报-版面导航",
    ),
    "zhongyuan-jgdj": HomeSpec(
        (
            D("新闻", "/xw/", (col("hnxw", "河南新闻"), col("jgdj", "机关党建"))),
            D("政务公开", "/zwgk/"),
            D("互动交流", "/hdjl/"),
            D("图片新闻", "/tpxw/"),
            D("视频", "/sp/"),
        ),
        head='<meta name="SiteName" content="中原机关党建">',
        site_id_code="4100000021",
        icp="豫ICP备11002233号",
        host="中共河南省委省直机关工作委员会",
        address="郑州市金水区",
        blocks=(("河南新闻", "hnxw"), ("机关党建", "jgdj")),
    ),
    "oujiang-jgdj": HomeSpec(
        (
            D(
                "新闻",
                "/col/col1229740925/index.html",
                (col("col1229740926", "工作动态"), col("col1229740927", "基层党建")),
            ),
            D("政务公开", "/col/col1229740930/index.html"),
            D("办事服务", "/col/col1229740931/index.html"),
            D("互动交流", "/col/col1229740932/index.html"),
            D("图片新闻", "/col/col1229740933/index.html"),
        ),
        head='<meta name="SiteName" content="瓯江机关党建">\n'
        '<script type="text/javascript" src="/module/jslib/jquery/jquery.js"></script>',
        site_id_code="3303000012",
        icp="浙ICP备05012345号",
        host="中共温州市委直属机关工作委员会",
        address="温州市鹿城区",
        support="大汉网络",
        blocks=(("工作动态", "col1229740926"),),
    ),
    "hongse-museum": HomeSpec(
        (
            D(
                "综合新闻",
                "/zhxw/",
                (col("zhxw/wbxw", "本馆新闻"), D("媒体报道", "/zhxw/mtbd/index.shtml")),
            ),
            D(
                "陈列展览",
                "/clzl/",
                (col("clzl/jbcl2", "基本陈列"), D("临时展览", "/clzl/lszl/index.shtml")),
            ),
            D("社会教育", "/shjy/"),
            D("互动交流", "/hdjl/"),
            D("图片新闻", "/tpxw/"),
        ),
        icp="鄂ICP备09012345号",
        host="红色纪念馆",
        address="湖北省武汉市武昌区",
        blocks=(("本馆新闻", "zhxw/wbxw"),),
    ),
}
# The columns a discovery from the home page must find (a party word in the name or the
# parent menu, or a news column of a party-building site); the rest of each nav is not.
PARTY_COLUMNS: dict[str, tuple[str, ...]] = {
    "wuchang-museum": ("45",),
    "wuhan-tzb": ("tzyw", "jgdj"),
    "qikan-aggregator": ("djdt", "llyj"),
    "gzdaily-dangjian": ("2101", "2102"),
    "xuzhou-jgdj": ("col12345", "col12346"),
    "old-district": ("3", "5"),
    "mirror-hant": ("dangjian",),
    "renmin-dangjian": ("394443", "219967"),
    "xianfeng-dangyuan": ("xxzd", "zxfb"),
    "jiangcheng-epaper": ("2",),
    "zhongyuan-jgdj": ("hnxw", "jgdj"),
    "oujiang-jgdj": ("col1229740926", "col1229740927"),
    "hongse-museum": ("zhxw/wbxw",),
}


def _href(site: SampleSite, href: str) -> str:
    if href.startswith("col:"):
        return site.list_path(href[4:], 1)
    return href or "javascript:;"


def _menu_data(site: SampleSite, menus: tuple[Menu, ...]) -> list[dict]:
    return [
        {
            "name": m.label,
            "url": _href(site, m.href),
            **({"title": m.title} if m.title else {}),
            "children": _menu_data(site, m.children),
        }
        for m in menus
    ]


def render_home(site: SampleSite) -> str:
    """Render the home page of a sample site (``HOMES``)."""
    from .sites import environment

    spec = HOMES[site.id]
    menus = [
        (
            _href(site, m.href),
            m.label,
            m.title,
            [(_href(site, c.href), c.label, c.title) for c in m.children],
        )
        for m in spec.menus
    ]
    blocks = [
        (title, site.list_path(key, 1), site.page_items(key, 1)[:6]) for title, key in spec.blocks
    ]
    menu_json = (
        Markup(json.dumps(_menu_data(site, spec.menus), ensure_ascii=False))
        if spec.script_menu
        else ""
    )
    return (
        environment()
        .get_template("home.html")
        .render(
            site=site,
            spec=spec,
            charset=spec.charset or site.encoding,
            head=Markup(spec.head),
            menus=menus,
            menu_json=menu_json,
            blocks=blocks,
            latest=site.latest(8),
        )
    )
