"""The CLI: --help is the manual, errors are one clear line."""

from click.testing import CliRunner

from dangjian.cli import cli

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
