"""Charts in view (issue 15): the landing dashboard and the charts above chart-able queries.

Every chart's data is a canned query of ``metadata.yml`` (so it is also JSON:
``/<database>/<query>.json?_shape=array``); the browser draws it with Chart.js, vendored in
``static/chart.umd.min.js`` (MIT, see ``static/chart.js.LICENSE.md``) and served from this
server, so nothing is loaded from elsewhere (the Content-Security-Policy allows only this
origin) and nothing needs a click: ``static/dangjian-charts.js`` draws every chart on load.

* ``/-/dashboard`` (the first database of ours) and ``/<database>/-/dashboard``: articles
  per month, per province and level, top terms of the latest month, the most republished
  stories and the sites by freshness;
* the canned query pages in ``QUERY_CHARTS`` (the term trends, top terms) draw their own
  result above the table.

datasette-vega, which drew charts behind "Show charting options", is no longer maintained and
is not used.
"""

from __future__ import annotations

import json
from typing import Any

from datasette import hookimpl
from datasette.utils import tilde_decode
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup

from pipeline.web.plugin import STATIC_URL, _is_ours

CHART_JS = [STATIC_URL + "chart.umd.min.js", STATIC_URL + "dangjian-charts.js"]

# How to draw a query's rows: x column, y columns, an optional series column (one line or
# bar group per value), the chart type and its orientation.
QUERY_CHARTS: dict[str, dict[str, Any]] = {
    "term_trend": {"type": "line", "x": "month", "y": ["articles", "mentions"]},
    "term_trend_by_province": {"type": "line", "x": "month", "y": ["articles"], "series": "province"},
    "top_terms_for_site": {"type": "bar", "x": "term", "y": ["articles"], "horizontal": True, "limit": 20},
    "top_terms_for_month": {"type": "bar", "x": "term", "y": ["articles"], "horizontal": True, "limit": 20},
    "articles_per_month": {"type": "bar", "x": "month", "y": ["articles", "reprints"]},
    "articles_by_province_level": {"type": "bar", "x": "province", "y": ["articles"], "series": "level", "stacked": True},
    "top_terms_latest_month": {"type": "bar", "x": "term", "y": ["articles"], "horizontal": True},
    "most_republished_stories": {"type": "bar", "x": "title", "y": ["sites", "articles"], "horizontal": True, "link": "original_id"},
    "sites_by_freshness": {"type": "bar", "x": "name", "y": ["days_since"], "horizontal": True},
}  # fmt: skip
DASHBOARD = (
    ("articles_per_month", "Articles per month", "wide"),
    ("articles_by_province_level", "Articles per province and level", ""),
    ("top_terms_latest_month", "Top terms this month", ""),
    ("most_republished_stories", "Most republished stories (sites carrying them)", ""),
    ("sites_by_freshness", "Sites by freshness (days since their newest article)", ""),
)


def chart_spec(database: str, query: str, base_url: str = "/") -> dict[str, Any]:
    """Return what the browser needs to draw one query: its JSON URL and how to plot it."""
    return {
        **QUERY_CHARTS[query],
        "query": query,
        "json": f"{base_url}{database}/{query}.json",
        "page": f"{base_url}{database}/{query}",
        "database": database,
    }


def _our_databases(datasette: Any) -> list[str]:
    return [name for name in datasette.databases if _is_ours(datasette, name)]


async def dashboard(request: Any, datasette: Any) -> Response:
    """The landing dashboard of one of our databases (the first when none is named)."""
    database = request.url_vars.get("database")
    if database is None:
        ours = _our_databases(datasette)
        if not ours:
            raise NotFound("No news database is served here")
        database = ours[0]
    else:
        database = tilde_decode(database)
    if not _is_ours(datasette, database):
        raise NotFound(f"{database} is not a news database")
    base = datasette.setting("base_url") or "/"
    charts = [
        {**chart_spec(database, query, base), "title": title, "size": size}
        for query, title, size in DASHBOARD
    ]
    db = datasette.get_database(database)
    total = (await db.execute("select count from _counts where \"table\" = 'articles'")).first()
    html = await datasette.render_template(
        "dangjian/dashboard.html",
        {
            "database": database,
            "charts": charts,
            "charts_json": Markup(json.dumps(charts, ensure_ascii=False).replace("</", "<\\/")),
            "articles": total[0] if total else None,
        },
        request=request,
        view_name="dashboard",
    )
    return Response.html(html)


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/-/dashboard$", dashboard),
        (r"^/(?P<database>[^/]+)/-/dashboard$", dashboard),
    ]


def _query_name(request: Any) -> str | None:
    if request is None:
        return None
    table = request.url_vars.get("table") if request.url_vars else None
    return tilde_decode(table) if table else None


@hookimpl
def extra_js_urls(template: str, database: str | None, request: Any, datasette: Any) -> list[str]:
    """Chart.js and our drawing script on the chart-able canned query pages."""
    if template.startswith("query") and _query_name(request) in QUERY_CHARTS:
        if _is_ours(datasette, database):
            return CHART_JS
    return []


@hookimpl
def extra_body_script(template: str, database: str | None, request: Any, datasette: Any) -> str:
    """The chart of a canned query page: drawn above its table from the same query's JSON."""
    query = _query_name(request)
    if not template.startswith("query") or query not in QUERY_CHARTS:
        return ""
    if not _is_ours(datasette, database):
        return ""
    spec = chart_spec(database, query, datasette.setting("base_url") or "/")
    return (
        "window.dangjianQueryChart = "
        + json.dumps(spec, ensure_ascii=False).replace("</", "<\\/")
        + ";"
    )


@hookimpl
def menu_links(datasette: Any) -> list[dict[str, str]]:
    if not _our_databases(datasette):
        return []
    return [{"href": (datasette.setting("base_url") or "/") + "-/dashboard", "label": "Dashboard"}]
