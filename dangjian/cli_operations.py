"""``dangjian schedule`` and ``status``: running crawls on schedule and reading their health.

See docs/operations.md. Registered on the ``dangjian`` group by ``dangjian.cli``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from dangjian.cli import cli, db_option, sites_option


@cli.command()
@click.argument("site_ids", nargs=-1, metavar="[SITE]...")
@db_option
@sites_option
@click.option("--sample", is_flag=True, help="Schedule the enabled sample sites.")
@click.option(
    "--workers", default=4, show_default=True, type=int, help="Most crawls running at once."
)
@click.option(
    "-s",
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="Scrapy setting passed to every crawl, e.g. -s DANGJIAN_ALERT_WEBHOOK=URL.",
)
def schedule(
    site_ids: tuple[str, ...],
    db_path: str,
    sites_path: str | None,
    sample: bool,
    workers: int,
    overrides: tuple[str, ...],
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
    from datetime import UTC, datetime

    from crawler.registry import load_registry, select_sites
    from ops.schedule import Scheduler, last_starts, next_due

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    sites = select_sites(load_registry(sites_path), site_ids, sample)
    args = (["--sites", sites_path] if sites_path else []) + [
        arg for o in overrides for arg in ("-s", o)
    ]
    scheduler = Scheduler(sites, db_path, args, workers)
    now = datetime.now(UTC)
    starts = last_starts(db_path, [s.id for s in sites])
    for site in sites:
        when = next_due(site.schedule, starts.get(site.id), now)
        click.echo(
            f"{site.id:<22} every {site.schedule or '1d':<14} next "
            f"{'now' if when <= now else when.strftime('%Y-%m-%d %H:%M UTC')}"
        )
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
    from ops.health import site_status

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
        click.echo(
            f"{r['site_id']:<22} {r['last_run'] or '-':<21} {r['status'] or '-':<8} "
            f"{r['new_7d']:>6} {100 * (r['failure_rate'] or 0):>5.0f}%  {alerts}"
        )
