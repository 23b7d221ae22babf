"""``dangjian schedule`` and ``status``: running crawls on schedule and reading their health.

See docs/operations.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from dangjian.cli.options import db_option, redis_prefix_option, settings_option, sites_option


@click.command()
@click.argument("site_ids", nargs=-1, metavar="[SITE]...")
@db_option
@sites_option
@click.option("--sample", is_flag=True, help="Schedule the enabled sample sites.")
@click.option(
    "--workers", default=4, show_default=True, type=int, help="Most crawls running at once."
)
@settings_option("Scrapy setting passed to every crawl, e.g. -s DANGJIAN_ALERT_WEBHOOK=URL.")
def schedule(
    site_ids: tuple[str, ...],
    db_path: str,
    sites_path: str | None,
    sample: bool,
    workers: int,
    settings: dict[str, str],
) -> None:
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

    from crawler.registry import load_registry, select_sites
    from ops.schedule import Scheduler, schedule_table

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    sites = select_sites(load_registry(sites_path), site_ids, sample)
    crawl_args = (["--sites", sites_path] if sites_path else []) + [
        arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")
    ]
    scheduler = Scheduler(sites, db_path, crawl_args, workers)
    if sites:
        click.echo(schedule_table(db_path, sites))
    sys.stdout.flush()
    scheduler.run()


@click.command()
@db_option
@click.option(
    "--redis",
    "redis_url",
    default=None,
    metavar="URL",
    help="Show instead the running distributed crawl at this Redis: per host, requests in "
    "flight (all workers) and the delay between starts; blocked sites; live workers.",
)
@redis_prefix_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per site (host) instead.")
def status(db_path: str, redis_url: str | None, prefix: str, as_json: bool) -> None:
    """Show each site's health: last run, status, new articles and failure rate (7 days).

    The same view is the `site_health` query in Datasette. With --redis, the per-host
    budget the workers share (docs/distributed.md) instead.

    \b
    Example:
        dangjian status --db data/news.db
        dangjian status --redis redis://10.0.0.5:6379/0
    """
    from ops.health import site_status, status_table

    if redis_url:
        _cluster_status(redis_url, prefix, as_json)
        return
    if not Path(db_path).exists():
        raise click.ClickException(f"no database at {db_path}; crawl first or pass --db")
    rows = site_status(db_path)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    click.echo(status_table(rows))


def _cluster_status(redis_url: str, prefix: str, as_json: bool) -> None:
    from dataclasses import asdict

    from distributed.politeness import cluster_host_status, host_status_table

    cluster = cluster_host_status(redis_url, prefix)
    if not as_json:
        click.echo(host_status_table(cluster))
        return
    for host in cluster.hosts:
        click.echo(json.dumps(asdict(host), ensure_ascii=False))
    for run_id, site_id, reason in cluster.blocked:
        click.echo(
            json.dumps({"blocked": site_id, "run_id": run_id, "reason": reason}, ensure_ascii=False)
        )
