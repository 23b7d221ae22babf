"""``dangjian extract``: one JSON object per PATH, in order; bad pages give an error line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dangjian.cli import cli

PAGES = Path(__file__).parent / "pages"
FIELDS = {
    "path",
    "url",
    "is_article",
    "reason",
    "title",
    "published",
    "source",
    "author",
    "editor",
    "text",
    "title_original",
    "text_original",
    "encoding",
    "script",
    "site_name",
    "column",
    "keywords",
    "error",
}


def test_one_line_per_path_in_order(tmp_path: Path) -> None:
    pdf = tmp_path / "notice.html"
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj")
    paths = [
        str(PAGES / "trs_gov/tzb_wuhan_t20230419_2184312.html"),
        str(pdf),
        str(PAGES / "trs_gov/tzb_wuhan_tzyw_index.html"),
    ]
    result = CliRunner().invoke(cli, ["extract", *paths])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["path"] for row in rows] == paths
    assert all(FIELDS <= set(row) for row in rows)
    article, bad, listing = rows
    assert article["is_article"] and article["error"] is None
    assert article["url"] == "http://tzb.wuhan.gov.cn/tzyw/202304/t20230419_2184312.shtml"
    assert article["published"] == "2023-04-19T16:15"
    assert bad["error"].startswith("decode:") and bad["is_article"] is False
    assert listing["is_article"] is False and "list" in listing["reason"]


def test_url_option_overrides_the_page(tmp_path: Path) -> None:
    page = PAGES / "trs_gov/tzb_wuhan_t20230419_2184312.html"
    result = CliRunner().invoke(cli, ["extract", str(page), "--url", "http://x.gov.cn/a.html"])
    assert json.loads(result.output)["url"] == "http://x.gov.cn/a.html"


def test_usage_errors_exit_non_zero(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["extract"]).exit_code == 2
    assert CliRunner().invoke(cli, ["extract", str(tmp_path / "missing.html")]).exit_code == 2
    assert CliRunner().invoke(cli, ["extract", str(tmp_path)]).exit_code == 2
