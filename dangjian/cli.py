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
        "--db", "db_path", default=DEFAULT_DB, show_default=True, envvar="DANGJIAN_DB",
        type=click.Path(dir_okay=False), help="SQLite database file (env DANGJIAN_DB).",
    )(fn)


def sites_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--sites", "sites_path", default=None, envvar="DANGJIAN_SITES",
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
@click.option("--sample", is_flag=True,
              help="Crawl the enabled sample sites (served by `dangjian sample-sites`).")
@click.option("--progress/--no-progress", default=None,
              help="Progress line (default: only on a terminal).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy setting, e.g. -s CLOSESPIDER_PAGECOUNT=50.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="Scrapy log level.")
@click.option("--due", is_flag=True,
              help="Only the sites whose schedule makes them due now (for cron).")
def crawl(site_ids: tuple[str, ...], db_path: str, sites_path: str | None, sample: bool,
          progress: bool | None, overrides: tuple[str, ...], log_level: str,
          due: bool) -> None:
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
    from crawler.run import crawl_sites, run_summary

    settings = dict(o.split("=", 1) for o in overrides if "=" in o)
    if progress is not None:
        settings["DANGJIAN_PROGRESS"] = "on" if progress else "off"
    settings["LOG_LEVEL"] = log_level
    run_id = crawl_sites(db_path, site_ids, sample=sample, sites_path=sites_path,
                         settings=settings, due=due)
    if run_id is None:
        click.echo("nothing to crawl: no selected site is due, or each is being crawled "
                   "by another process")
        return
    rows = run_summary(db_path, run_id)
    click.echo(f"\nrun {run_id} → {db_path}")
    click.echo(f"{'site':<22} {'status':<8} {'pages':>6} {'new':>5} {'dupes':>6} {'fail':>5} "
               f"{'304':>5}")
    for r in rows:
        click.echo(f"{r['site_id']:<22} {r['status']:<8} {r['pages'] or 0:>6} "
                   f"{r['articles_new'] or 0:>5} {r['duplicates'] or 0:>6} {r['failures'] or 0:>5} "
                   f"{r.get('not_modified') or 0:>5}")
    if any(r["status"] == "failed" for r in rows):
        sys.exit(1)


@cli.command()
@db_option
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("-p", "--port", default=8001, show_default=True, type=int, envvar="PORT",
              help="Port to listen on (env PORT).")
@click.option("--metadata", "metadata_path", type=click.Path(dir_okay=False, exists=True),
              help="Datasette metadata YAML (default: the project's metadata.yml).")
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
@click.option("-p", "--port", default=None, type=int,
              help="Port for every site (each site has its own 127.0.0.x address); "
                   "0 picks free ports. Default 8780.")
@click.option("--size", default=30, show_default=True, type=int,
              help="Articles per site (benchmarks use thousands).")
@click.option("--registry-out", type=click.Path(dir_okay=False),
              help="Write a site registry for the addresses actually served.")
@click.option("--behaviour", "behaviours", multiple=True, metavar="SITE=NAME[:VALUE]",
              help="Make a site misbehave for tests: slow:SECONDS, 5xx_burst:N, 5xx_rate:SHARE, "
                   "challenge412, wzws, captcha, layout_changed, changed:N, removed:N, "
                   "no_validators (see crawler/sample_sites/behaviours.py).")
def sample_sites(port: int | None, size: int, registry_out: str | None,
                 behaviours: tuple[str, ...] = ()) -> None:
    """Serve the bundled sample sites on loopback until interrupted.

    Prints one line per site (id and base URL), then "ready".

    \b
    Example:
        dangjian sample-sites --port 0 --registry-out /tmp/sites.yml
        dangjian crawl --sample --sites /tmp/sites.yml --db /tmp/news.db
        dangjian sample-sites --behaviour old-district=challenge412
    """
    from crawler.sample_sites import DEFAULT_PORT, start_sample_sites
    from crawler.sample_sites.behaviours import parse_behaviour_flags

    try:
        chosen = parse_behaviour_flags(list(behaviours))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--behaviour") from exc
    handle = start_sample_sites(port=DEFAULT_PORT if port is None else port, size=size,
                                behaviours=chosen)
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

    from crawler.sample_sites import registry_entries

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(
        yaml.safe_dump({"sites": registry_entries(addresses, size)}, allow_unicode=True,
                       sort_keys=False), encoding="utf-8")


@cli.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False))
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
@click.option("-p", "--port", default=8001, show_default=True, type=int, envvar="PORT",
              help="Datasette port (env PORT).")
@click.option("--size", default=30, show_default=True, type=int, help="Articles per sample site.")
def demo(db_path: str, port: int, size: int) -> None:
    """Serve the sample sites, crawl them all, then browse the result in Datasette.

    Ctrl-C stops everything it started.

    \b
    Example:
        dangjian demo --port 8001
    """
    from crawler.sample_sites import DEFAULT_PORT, start_sample_sites

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
            cmd = [sys.executable, "-m", "dangjian", "crawl", "--sample", "--sites", registry,
                   "--db", db_path, "--log-level", "WARNING"]
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
@click.option("--site", "site_id", default=None,
              help="Registry site id every page belongs to (default: matched on the URL's host).")
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


# -- distributed crawling (docs/distributed.md) ----------------------------------------------


def redis_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--redis", "redis_url", envvar="REDIS_URL", required=True, metavar="URL",
        help="Redis of the distributed crawl, e.g. redis://10.0.0.5:6379/0 (env REDIS_URL).",
    )(fn)


def redis_prefix_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--prefix", default="dangjian", show_default=True, envvar="DANGJIAN_REDIS_PREFIX",
        help="Prefix of every Redis key, to run several crawls on one Redis.",
    )(fn)


@cli.command()
@redis_option
@redis_prefix_option
@sites_option
@click.option("--idle-close", default=None, type=int, metavar="SECONDS",
              help="Stop after the shared queue has been empty this long (default 30; 0 never).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy setting, e.g. -s CONCURRENT_REQUESTS=32.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="Scrapy log level.")
def worker(redis_url: str, prefix: str, sites_path: str | None, idle_close: int | None,
           overrides: tuple[str, ...], log_level: str) -> None:
    """Crawl from the shared Redis queue and hand raw pages to `dangjian ingest`.

    Run any number, on any machines, all with the same registry. A worker stops when no
    worker has had anything to do for --idle-close seconds.

    \b
    Example:
        dangjian worker --redis redis://10.0.0.5:6379/0
        REDIS_URL=redis://10.0.0.5:6379/0 dangjian worker --idle-close 120
    """
    from crawler.distributed import run_worker

    settings: dict[str, Any] = dict(o.split("=", 1) for o in overrides if "=" in o)
    settings["DANGJIAN_REDIS_PREFIX"] = prefix
    settings["LOG_LEVEL"] = log_level
    settings.setdefault("DANGJIAN_PROGRESS", "off")
    if idle_close is not None:
        settings["MAX_IDLE_TIME_BEFORE_CLOSE"] = idle_close
    run_worker(redis_url, sites_path, settings)


@cli.command()
@redis_option
@redis_prefix_option
@db_option
@click.option("--exit-when-done", is_flag=True,
              help="Exit once all runs are finished (no worker alive, queue empty, all stored).")
@click.option("--batch", default=100, show_default=True, type=int,
              help="Stream entries read and acknowledged at a time.")
@click.option("--consumer", default="ingester", show_default=True,
              help="Consumer name in the group; keep it fixed so a restart resumes its entries.")
def ingest(redis_url: str, prefix: str, db_path: str, exit_when_done: bool, batch: int,
           consumer: str) -> None:
    """Store the pages workers hand to Redis: the one writer of the database.

    Acknowledges each page only after it is committed, so a crash loses nothing; run one.

    \b
    Example:
        dangjian ingest --redis redis://10.0.0.5:6379/0 --db data/news.db
    """
    from pipeline.ingest_stream import IngestOptions, run_ingester

    stats = run_ingester(redis_url, db_path, prefix=prefix, options=IngestOptions(
        consumer=consumer, batch=batch, exit_when_done=exit_when_done))
    summary = ", ".join(f"{k} {n}" for k, n in sorted(stats.outcomes.items())) or "nothing"
    click.echo(f"ingested {stats.entries} entries into {db_path} in {stats.seconds:.1f} s: "
               f"{summary}; {stats.redelivered} already stored; "
               f"runs finished: {' '.join(stats.runs_finished) or 'none'}")


@cli.command()
@click.argument("site_ids", nargs=-1, metavar="[SITE]...")
@redis_option
@redis_prefix_option
@sites_option
@click.option("--sample", is_flag=True, help="Enqueue the enabled sample sites.")
def enqueue(site_ids: tuple[str, ...], redis_url: str, prefix: str, sites_path: str | None,
            sample: bool) -> None:
    """Start a run: push the start URLs of sites onto the shared Redis queue.

    With no SITE, every enabled real site (or, with --sample, every enabled sample site).
    Prints the run id.

    \b
    Example:
        dangjian enqueue --redis redis://10.0.0.5:6379/0 wuhan-tzb xuzhou-jgdj
    """
    from crawler.distributed import enqueue_sites

    run_id, count = enqueue_sites(redis_url, site_ids, sample=sample, sites_path=sites_path,
                                  prefix=prefix)
    click.echo(f"run {run_id}: {count} start URL(s) queued")


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
@click.argument("site_ids", nargs=-1, metavar="[SITE]...")
@db_option
@sites_option
@click.option("--sample", is_flag=True, help="Schedule the enabled sample sites.")
@click.option("--workers", default=4, show_default=True, type=int,
              help="Most crawls running at once.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Scrapy setting passed to every crawl, e.g. -s DANGJIAN_ALERT_WEBHOOK=URL.")
def schedule(site_ids: tuple[str, ...], db_path: str, sites_path: str | None, sample: bool,
             workers: int, overrides: tuple[str, ...]) -> None:
    """Keep sites crawled on their registry schedule, until stopped (SIGTERM or Ctrl-C).

    Each site's `schedule` (6h, 1d, or cron such as '0 7 * * *' in China time) and its last
    run in crawl_runs decide when it is due, so a restart neither repeats nor loses a run.
    Each crawl is a `dangjian crawl SITE` child process; a site never runs twice at once.

    \b
    Example:
        dangjian schedule --db data/news.db
        dangjian schedule --sample --sites /tmp/sites.yml --workers 2
    """
    import logging
    from datetime import UTC, datetime

    from crawler.registry import load_registry, select_sites
    from crawler.scheduler import Scheduler, last_starts, next_due

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: "
                        "%(message)s")
    sites = select_sites(load_registry(sites_path), site_ids, sample)
    args = (["--sites", sites_path] if sites_path else []) + [
        arg for o in overrides for arg in ("-s", o)]
    scheduler = Scheduler(sites, db_path, args, workers)
    now = datetime.now(UTC)
    starts = last_starts(db_path, [s.id for s in sites])
    for site in sites:
        when = next_due(site.schedule, starts.get(site.id), now)
        click.echo(f"{site.id:<22} every {site.schedule or '1d':<14} next "
                   f"{'now' if when <= now else when.strftime('%Y-%m-%d %H:%M UTC')}")
    sys.stdout.flush()
    scheduler.run()


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per site instead.")
def status(db_path: str, as_json: bool) -> None:
    """Show each site's health: last run, status, new articles and failure rate (7 days).

    The same view is the `site_health` query in Datasette.

    \b
    Example:
        dangjian status --db data/news.db
    """
    from crawler.health import site_status

    if not Path(db_path).exists():
        raise click.ClickException(f"no database at {db_path}; crawl first or pass --db")
    rows = site_status(db_path)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    click.echo(f"{'site':<22} {'last run':<21} {'status':<8} {'new 7d':>6} {'fail%':>6}  alerts")
    for r in rows:
        alerts = ", ".join(a["kind"] for a in json.loads(r["alerts"] or "[]"))
        click.echo(f"{r['site_id']:<22} {r['last_run'] or '-':<21} {r['status'] or '-':<8} "
                   f"{r['new_7d']:>6} {100 * (r['failure_rate'] or 0):>5.0f}%  {alerts}")


@cli.command()
@db_option
def reindex(db_path: str) -> None:
    """Rebuild the Chinese search index and the term counts of every article.

    Run it after changing the search tokeniser (pipeline/search.py) or the term dictionary
    (pipeline/terms.py, docs/terms.md); articles are indexed as they are stored otherwise.

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
