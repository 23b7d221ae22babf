"""Link discovery on list pages: CMS URL styles, pagination, Hanweb datastore scripts."""

from crawler.links import classify_link, column_scope, extract_links, resolve_link
from crawler.registry import parse_site

SITE = parse_site(
    {
        "id": "s",
        "name": "s",
        "level": "city",
        "start_urls": ["http://www.example.gov.cn/xwzx/tzyw/index.html"],
    }
)
SCOPE = column_scope("http://www.example.gov.cn/xwzx/tzyw/index.html")


def kind(url, anchor=""):
    return classify_link(url, anchor, SITE, SCOPE)


def test_cms_article_styles_are_articles():
    assert kind("http://www.example.gov.cn/xwzx/tzyw/202304/t20230419_4589123.html") == "article"
    assert kind("http://www.example.gov.cn/art/2023/4/19/art_123_4567.html") == "article"
    assert kind("http://www.example.gov.cn/content/2023-05/06/content_123456.htm") == "article"
    assert kind("http://www.example.gov.cn/news_view.asp?id=123") == "article"


def test_pagination_inside_column_is_followed_other_columns_are_not():
    assert kind("http://www.example.gov.cn/xwzx/tzyw/index_1.html", "下一页") == "list"
    assert kind("http://www.example.gov.cn/other/index.html", "其他栏目") is None
    assert kind("http://www.example.gov.cn/xwzx/tzyw/about.html", "关于我们") is None


def test_extract_links_resolves_and_reads_hanweb_datastore():
    html = """<html><body>
    <a href="202304/t20230419_1.html">一</a><a href="#top">顶部</a>
    <a href="javascript:void(0)">打印</a><a href="202304/t20230419_1.html#x">重复</a>
    <script type="text/xml"><datastore><recordset>
    <record><![CDATA[<li><a href="/art/2023/4/19/art_1_2.html" title="t">标题</a></li>]]></record>
    </recordset></datastore></script></body></html>"""
    links = list(extract_links(html, "http://www.example.gov.cn/xwzx/tzyw/index.html"))
    assert links == [
        ("http://www.example.gov.cn/xwzx/tzyw/202304/t20230419_1.html", "一"),
        ("http://www.example.gov.cn/art/2023/4/19/art_1_2.html", "标题"),
    ]


def test_script_arrays_and_image_maps_are_read():
    # 共产党员网 lists items in a script array; e-paper sections link articles through <area>.
    html = """<html><body>
    <script language="javascript">var item=[{'title':'党建要闻一','brief':'2022-10-15 10:00:00',
    'link_add':'https://www.12371.cn/2022/10/15/ARTI1665820365723761.shtml'},
    {'title':'要闻二','link_add':'/2022/10/14/ARTI1665730000000001.shtml'}];
    $.ajax({url: 'getData', type: 'post'});</script>
    <map name="pagepicmap"><area shape="rect" coords="1,2,3,4" href="content_743_883794.htm"
    alt="佛山高校首款人形机器人"><area href="javascript:void(0)"></map>
    <a href="node_2.htm">第A2版</a></body></html>"""
    links = list(extract_links(html, "https://www.12371.cn/pc/html/2025-04/09/node_1.htm"))
    assert links == [
        (
            "https://www.12371.cn/pc/html/2025-04/09/content_743_883794.htm",
            "佛山高校首款人形机器人",
        ),
        ("https://www.12371.cn/pc/html/2025-04/09/node_2.htm", "第A2版"),
        ("https://www.12371.cn/2022/10/15/ARTI1665820365723761.shtml", "党建要闻一"),
        ("https://www.12371.cn/2022/10/14/ARTI1665730000000001.shtml", "要闻二"),
    ]


def test_query_strings_and_letter_case_do_not_hide_a_link():
    site = parse_site(
        {
            "id": "t",
            "name": "t",
            "level": "city",
            "start_urls": ["http://news.example.cn/sywh/"],
            "article_patterns": [r"/sywh/\d{6}/t\d+\.htm$"],
            "list_patterns": [r"/sywh/(index(_\d+)?\.htm)?$"],
        }
    )
    scope = column_scope("http://news.example.cn/sywh/")
    # A tracking query is dropped from what is fetched; the article is the bare path.
    assert resolve_link(
        "http://news.example.cn/sywh/201912/t3429617.htm?spm=1.2", "", site, scope
    ) == ("article", "http://news.example.cn/sywh/201912/t3429617.htm")
    assert classify_link("http://news.example.cn/sywh/index_1.htm?v=2", "", site, scope) == "list"
    # Case-blind defaults and scope: /cn/Instant/ and /cn/instant/ are one column.
    instant = column_scope("http://www.example.gov.cn/cn/Instant/index.html")
    assert kind("http://www.example.gov.cn/cn/instant/202603/t20260325_1.html") == "article"
    assert classify_link("http://www.example.gov.cn/cn/instant/index_1.html", "", SITE, instant)
    # A query that is part of the identity stays: PHP front controllers.
    assert resolve_link("https://x.gov.cn/index.php?c=show&id=5", "", SITE, SCOPE) == (
        "article",
        "https://x.gov.cn/index.php?c=show&id=5",
    )


def test_navigation_attachments_and_other_columns_stay_out():
    people = column_scope("http://dangjian.people.com.cn/GB/394443/index.html")
    bare = parse_site({"id": "p", "name": "p", "level": "city", "start_urls": ["http://p.cn/"]})
    assert classify_link("http://dangjian.people.com.cn/GB/394443/index2.html", "", bare, people)
    assert (
        classify_link("http://dangjian.people.com.cn/GB/219967/index.html", "", bare, people)
        is None
    )
    assert (
        classify_link("http://dangjian.people.com.cn/GB/394443/W020.pdf", "", bare, people) is None
    )
    assert classify_link("http://dangjian.people.com.cn/", "首页", bare, people) is None
    # A site's own list patterns describe its scheme; the column scope still applies to them.
    site = parse_site(
        {
            "id": "w",
            "name": "w",
            "level": "city",
            "start_urls": ["http://www.whgmbwg.com/zhxw/wbxw/index.shtml"],
            "list_patterns": [r"whgmbwg\.com/\w+/\w+/(index(_\d+)?\.shtml)?$"],
        }
    )
    scope = column_scope(site.start_urls[0])
    assert classify_link("http://www.whgmbwg.com/zhxw/wbxw/index_2.shtml", "", site, scope)
    assert classify_link("http://www.whgmbwg.com/shjy/wczzj/index.shtml", "", site, scope) is None
