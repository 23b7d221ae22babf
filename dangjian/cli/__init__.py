"""The ``dangjian`` command: the composition root wiring crawler, pipeline and Datasette.

Each command parses its options, calls the library and echoes; no logic lives here. Commands
live one module per group and are registered below; options shared by several commands are
the decorators in ``dangjian.cli.options``. docs/cli.md is every command's ``--help``
(regenerate it with ``cog -r docs/cli.md``).
"""

from __future__ import annotations

from typing import Any

import click

from dangjian import __version__
from dangjian.cli.crawl import crawl, import_
from dangjian.cli.discover import discover
from dangjian.cli.distributed import enqueue, ingest, worker
from dangjian.cli.extract import extract, reindex, reprocess
from dangjian.cli.operations import schedule, status
from dangjian.cli.sample_sites import demo, sample_sites
from dangjian.cli.serve import serve
from pipeline.errors import DangjianError

__all__ = ["cli"]


class DangjianGroup(click.Group):
    """Turns DangjianError into a one-line message (tracebacks only with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DangjianError as exc:
            if ctx.params.get("debug"):
                raise
            raise click.ClickException(str(exc)) from exc


@click.group(cls=DangjianGroup)
@click.version_option(__version__, prog_name="dangjian")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def cli(debug: bool) -> None:
    """Crawl, clean, dedupe and publish Chinese party-building (党建) news.

    \b
    Quick start:
        dangjian demo                 # sample sites → crawl → Datasette on :8001
        dangjian crawl wuhan-tzb      # crawl one site of the registry
        dangjian serve                # browse data/news.db in Datasette
    """


# Crawl and browse (crawl.py, serve.py, sample_sites.py).
cli.add_command(crawl)
cli.add_command(serve)
cli.add_command(sample_sites)
cli.add_command(demo)
cli.add_command(import_)
cli.add_command(discover)  # propose a registry entry from a home page (discover.py)
# Offline processing of stored pages (extract.py).
cli.add_command(extract)
cli.add_command(reprocess)
cli.add_command(reindex)
# Operations (operations.py) and the distributed crawl on Redis (distributed.py).
cli.add_command(schedule)
cli.add_command(status)
cli.add_command(worker)
cli.add_command(ingest)
cli.add_command(enqueue)
