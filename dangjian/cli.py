"""The ``dangjian`` command: the composition root wiring crawler, pipeline and Datasette.

Each command parses its options, calls the library and echoes; no logic lives here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dangjian import __version__
from pipeline.errors import DangjianError

DEFAULT_DB = "data/news.db"


def db_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        "db_path",
        default=DEFAULT_DB,
        show_default=True,
        envvar="DANGJIAN_DB",
        type=click.Path(dir_okay=False),
        help="SQLite database file (env DANGJIAN_DB).",
    )(fn)


def sites_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--sites",
        "sites_path",
        default=None,
        envvar="DANGJIAN_SITES",
        type=click.Path(dir_okay=False, exists=True),
        help="Site registry YAML (env DANGJIAN_SITES); the bundled crawler/sites.yml by default.",
    )(fn)


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


@cli.command()
@click.argument("site_ids", nargs=-1, metavar="[SITE]...")
@db_option
@sites_option
@click.option(
    "--sample",
    is_flag=True,
    help="Crawl the enabled sample sites (served by `dangjian sample-sites`).",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress line (default: only on a terminal)."
)
@click.option(
    "-s",
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy setting, e.g. -s CLOSESPIDER_PAGECOUNT=50.",
)
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
    help="Scrapy log level.",
)
@click.option(
    "--due", is_flag=True, help="Only the sites whose schedule makes them due now (for cron)."
)
def crawl(
    site_ids: tuple[str, ...],
    db_path: str,
    sites_path: str | None,
    sample: bool,
    progress: bool | None,
    overrides: tuple[str, ...],
    log_level: str,
    due: bool,
) -> None:
    """Crawl sites of the registry into the database.

    With no SITE, crawls every enabled real site (or, with --sample, every enabled
    sample site). Prints a summary per site; exits 1 when a site's run failed.

    \b
    Example:
        dangjian crawl                          # all enabled real sites
        dangjian crawl wuhan-tzb xuzhou-jgdj    # two sites
        dangjian crawl --sample --db /tmp/news.db
        dangjian crawl --due                    # from cron: only the sites that are due
    """
    from ops.crawl import crawl_sites, run_summary

    settings = dict(o.split("=", 1) for o in overrides if "=" in o)
    if progress is not None:
        settings["DANGJIAN_PROGRESS"] = "on" if progress else "off"
    settings["LOG_LEVEL"] = log_level
    run_id = crawl_sites(
        db_path, site_ids, sample=sample, sites_path=sites_path, settings=settings, due=due
    )
    if run_id is None:
        click.echo(
            "nothing to crawl: no selected site is due, or each is being crawled by another process"
        )
        return
    rows = run_summary(db_path, run_id)
    click.echo(f"\nrun {run_id} → {db_path}")
    click.echo(
        f"{'site':<22} {'status':<8} {'pages':>6} {'new':>5} {'dupes':>6} {'fail':>5} {'304':>5}"
    )
    for r in rows:
        click.echo(
            f"{r['site_id']:<22} {r['status']:<8} {r['pages'] or 0:>6} "
            f"{r['articles_new'] or 0:>5} {r['duplicates'] or 0:>6} {r['failures'] or 0:>5} "
            f"{r.get('not_modified') or 0:>5}"
        )
    if any(r["status"] == "failed" for r in rows):
        sys.exit(1)


@cli.command()
@db_option
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "-p",
    "--port",
    default=8001,
    show_default=True,
    type=int,
    envvar="PORT",
    help="Port to listen on (env PORT).",
)
@click.option(
    "--metadata",
    "metadata_path",
    type=click.Path(dir_okay=False, exists=True),
    help="Datasette metadata YAML (default: the project's metadata.yml).",
)
def serve(db_path: str, host: str, port: int, metadata_path: str | None) -> None:
    """Serve the database in Datasette, as /news.

    \b
    Example:
        dangjian serve --port 8001
        curl 'http://127.0.0.1:8001/news/articles.json?_shape=array&_size=5'
    """
    import uvicorn
    from datasette.cli import run_sync

    from dangjian.serve import make_datasette

    ds = make_datasette(db_path, metadata_path)
    run_sync(ds.invoke_startup)
    click.echo(f"Datasette: http://{host}:{port}/news/articles", err=True)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")


@cli.command("sample-sites")
@click.option(
    "-p",
    "--port",
    default=None,
    type=int,
    help="Port for every site (each site has its own 127.0.0.x address); "
    "0 picks free ports. Default 8780.",
)
@click.option(
    "--size",
    default=30,
    show_default=True,
    type=int,
    help="Articles per site (benchmarks use thousands).",
)
@click.option(
    "--registry-out",
    type=click.Path(dir_okay=False),
    help="Write a site registry for the addresses actually served.",
)
@click.option(
    "--behaviour",
    "behaviours",
    multiple=True,
    metavar="SITE=NAME[:VALUE]",
    help="Make a site misbehave for tests: slow:SECONDS, 5xx_burst:N, 5xx_rate:SHARE, "
    "challenge412, wzws, captcha, layout_changed, changed:N, removed:N, "
    "no_validators (see sample_sites/behaviours.py).",
)
def sample_sites(
    port: int | None, size: int, registry_out: str | None, behaviours: tuple[str, ...] = ()
) -> None:
    """Serve the bundled sample sites on loopback until interrupted.

    Prints one line per site (id and base URL), then "ready".

    \b
    Example:
        dangjian sample-sites --port 0 --registry-out /tmp/sites.yml
        dangjian crawl --sample --sites /tmp/sites.yml --db /tmp/news.db
        dangjian sample-sites --behaviour old-district=challenge412
    """
    from sample_sites import DEFAULT_PORT, start_sample_sites
    from sample_sites.behaviours import parse_behaviour_flags

    try:
        chosen = parse_behaviour_flags(list(behaviours))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--behaviour") from exc
    handle = start_sample_sites(
        port=DEFAULT_PORT if port is None else port, size=size, behaviours=chosen
    )
    if registry_out:
        write_sample_registry(handle.addresses, registry_out, size)
    for site_id, url in handle.addresses.items():
        click.echo(f"{site_id} {url}")
    click.echo("ready", nl=True)
    sys.stdout.flush()
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        handle.stop()


def write_sample_registry(addresses: dict[str, str], path: str, size: int) -> None:
    import yaml

    from sample_sites import registry_entries

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(
        yaml.safe_dump(
            {"sites": registry_entries(addresses, size)}, allow_unicode=True, sort_keys=False
        ),
        encoding="utf-8",
    )


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", help="The page's URL (otherwise taken from the page's meta tags).")
def extract(paths: tuple[str, ...], url: str | None) -> None:
    """Extract and normalise saved pages; print one JSON object per PATH.

    \b
    Example:
        dangjian extract page.html --url http://example.gov.cn/t20230419_1.html
    """
    from pipeline.extract import extract_page
    from pipeline.model import ExtractedPage

    for path in paths:
        try:
            body = Path(path).read_bytes()
        except OSError as exc:  # unreadable file: a JSON line with the error, not a crash
            page = ExtractedPage(url=url, error=f"read: {exc.strerror or exc}")
        else:
            page = extract_page(body, url)
        click.echo(json.dumps({"path": path, **page.to_dict()}, ensure_ascii=False))


@cli.command()
@db_option
@click.option(
    "-p",
    "--port",
    default=8001,
    show_default=True,
    type=int,
    envvar="PORT",
    help="Datasette port (env PORT).",
)
@click.option("--size", default=30, show_default=True, type=int, help="Articles per sample site.")
def demo(db_path: str, port: int, size: int) -> None:
    """Serve the sample sites, crawl them all, then browse the result in Datasette.

    Ctrl-C stops everything it started.

    \b
    Example:
        dangjian demo --port 8001
    """
    from sample_sites import DEFAULT_PORT, start_sample_sites

    try:
        handle = start_sample_sites(port=DEFAULT_PORT, size=size)
    except OSError:
        handle = start_sample_sites(port=0, size=size)
    click.echo(f"serving {len(handle.addresses)} sample sites:")
    for site_id, url in handle.addresses.items():
        click.echo(f"  {site_id:<20} {url}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            registry = os.path.join(tmp, "sites.yml")
            write_sample_registry(handle.addresses, registry, size)
            cmd = [
                sys.executable,
                "-m",
                "dangjian",
                "crawl",
                "--sample",
                "--sites",
                registry,
                "--db",
                db_path,
                "--log-level",
                "WARNING",
            ]
            proc = subprocess.Popen(cmd)
            try:
                proc.wait()
            except KeyboardInterrupt:
                proc.terminate()
                proc.wait(timeout=30)
                raise
        # The sample sites keep serving so the articles' original URLs open in a browser.
        ctx = click.get_current_context()
        ctx.invoke(serve, db_path=db_path, host="127.0.0.1", port=port, metadata_path=None)
    finally:
        handle.stop()


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@db_option
@click.option(
    "--site",
    "site_id",
    default=None,
    help="Registry site id every page belongs to (default: matched on the URL's host).",
)
def import_(paths: tuple[str, ...], db_path: str, site_id: str | None) -> None:
    """Import saved HTML files, folders of them and WARC files, like a crawl.

    Each record keeps its URL: the WARC-Target-URI, or the URL the page states
    (Url meta, canonical link, og:url). Importing the same files again adds nothing.

    \b
    Example:
        dangjian import saved/ crawl-2023.warc.gz --db data/news.db
        dangjian import page.html --site wuhan-tzb
    """
    from pipeline.importer import import_paths
    from pipeline.store import Store

    store = Store(db_path)
    try:
        counts = import_paths(store, paths, site_id)
    finally:
        store.close()
    summary = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "nothing"
    click.echo(f"imported into {db_path}: {summary}")


@cli.command()
@db_option
@click.option("--site", "site_id", default=None, help="Only this site's pages (a registry id).")
def reprocess(db_path: str, site_id: str | None) -> None:
    """Re-run extraction over the stored raw pages and update articles in place.

    Run it after an extraction fix: no page is fetched again, and each canonical URL keeps
    its article row. Prints how many articles were updated, unchanged, new or failed.

    \b
    Example:
        dangjian reprocess --db data/news.db
        dangjian reprocess --site wuhan-tzb
    """
    from pipeline.reprocess import reprocess_pages
    from pipeline.store import Store

    if not Path(db_path).exists():
        raise click.UsageError(f"no database at {db_path}: crawl first or pass --db")
    store = Store(db_path)
    try:
        counts = reprocess_pages(store, site_id)
    finally:
        store.close()
    click.echo(" ".join(f"{name}={counts[name]}" for name in counts))


@cli.command()
@db_option
def reindex(db_path: str) -> None:
    """Rebuild the Chinese search index and the term counts of every article.

    Run it after changing the search tokeniser (pipeline/store/search.py) or the term dictionary
    (pipeline/store/terms.py, docs/terms.md); articles are indexed as they are stored otherwise.

    \b
    Example:
        dangjian reindex --db data/news.db
    """
    from pipeline.store import Store

    if not Path(db_path).exists():
        raise click.UsageError(f"no database at {db_path}: crawl first or pass --db")
    store = Store(db_path)
    try:
        count = store.rebuild_search_index()
    finally:
        store.close()
    click.echo(f"reindexed {count} articles")


# Commands kept in their own modules register themselves on `cli` when imported.
from dangjian import cli_distributed, cli_operations  # noqa: E402, F401
