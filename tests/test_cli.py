"""The CLI: --help is the manual, errors are one clear line; Scrapy's own CLI works from the root."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dangjian.cli import cli
from dangjian.cli.options import parse_settings

ROOT = Path(__file__).resolve().parents[1]
SCRAPY = str(Path(sys.executable).with_name("scrapy"))

COMMANDS = [
    "crawl",
    "serve",
    "sample-sites",
    "extract",
    "demo",
    "import",
    "reprocess",
    "reindex",
    "schedule",
    "status",
    "worker",
    "ingest",
    "enqueue",
    "discover",
]


def test_help_lists_every_command_and_each_has_an_example():
    runner = CliRunner()
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert sorted(cli.commands) == sorted(COMMANDS)
    for name in COMMANDS:
        assert name in result.output
        sub = runner.invoke(cli, [name, "--help"])
        assert sub.exit_code == 0 and "Example" in sub.output, name


def test_unknown_site_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["crawl", "no-such-site", "--db", str(tmp_path / "n.db")])
    assert result.exit_code == 1
    assert "unknown site id(s): no-such-site" in result.output
    assert "Traceback" not in result.output


def test_serve_without_database_explains(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "run `dangjian crawl` first" in result.output


# Every command with -s/--set, and the arguments it needs besides.
SET_COMMANDS = [
    ["crawl", "--db", "unused.db"],
    ["schedule", "--db", "unused.db"],
    ["worker", "--redis", "redis://127.0.0.1:1/0"],
]


@pytest.mark.parametrize("command", SET_COMMANDS, ids=lambda c: c[0])
def test_set_without_equals_is_a_usage_error(command):
    result = CliRunner().invoke(cli, [*command, "-s", "CLOSESPIDER_PAGECOUNT=5", "-s", "FOO"])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '-s' / '--set'" in result.output
    assert "'FOO' has no '=': write NAME=VALUE, as in -s FOO=VALUE" in result.output
    assert "Traceback" not in result.output


def test_set_without_a_name_is_a_usage_error():
    result = CliRunner().invoke(cli, ["crawl", "-s", "=5"])
    assert result.exit_code == 2
    assert "'=5' has no setting name: write NAME=VALUE" in result.output


def test_set_values_keep_their_equals_signs_and_the_last_name_wins():
    assert parse_settings(None, None, ("A=1", "B=x=y", "C=", "A=2")) == {
        "A": "2",
        "B": "x=y",
        "C": "",
    }


def test_scrapy_list_from_the_repository_root():
    result = subprocess.run([SCRAPY, "list"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "news" in result.stdout.split()


@pytest.mark.e2e
def test_scrapy_crawl_news_from_the_repository_root(sample_sites, tmp_path):
    db = tmp_path / "scrapy.db"
    result = subprocess.run(
        [
            SCRAPY,
            "crawl",
            "news",
            "-a",
            "sites=wuhan-tzb",
            "-s",
            f"DANGJIAN_DB={db}",
            "-s",
            f"DANGJIAN_SITES={sample_sites.registry}",
            "-s",
            "DANGJIAN_PROGRESS=off",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    conn = sqlite3.connect(db)
    assert {r[0] for r in conn.execute("select distinct site_id from articles")} == {"wuhan-tzb"}
    assert conn.execute("select count(*) from articles").fetchone()[0] == sample_sites.size
