"""Link discovery on list pages: CMS URL styles, pagination, Hanweb datastore scripts."""

from crawler.links import classify_link, column_scope, extract_links
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
