"""``dangjian worker``, ``ingest`` and ``enqueue``: crawling on several machines via Redis.

See docs/distributed.md.
"""

from __future__ import annotations

from typing import Any

import click

from dangjian.cli.options import (
    db_option,
    log_level_option,
    redis_option,
    redis_prefix_option,
    settings_option,
    sites_option,
)


@click.command()
@redis_option
@redis_prefix_option
@sites_option
@click.option(
    "--idle-close",
    default=None,
    type=int,
    metavar="SECONDS",
    help="Stop after the shared queue has been empty this long (default 30; 0 never).",
)
@settings_option("Override a Scrapy setting, e.g. -s CONCURRENT_REQUESTS=32.")
@log_level_option
def worker(
    redis_url: str,
    prefix: str,
    sites_path: str | None,
    idle_close: int | None,
    settings: dict[str, str],
    log_level: str,
) -> None:
    """Crawl from the shared Redis queue and hand raw pages to `dangjian ingest`.

    Run any number, on any machines, all with the same registry. A worker stops when no
    worker has had anything to do for --idle-close seconds.

    \b
    Example:
        dangjian worker --redis redis://10.0.0.5:6379/0
        REDIS_URL=redis://10.0.0.5:6379/0 dangjian worker --idle-close 120
    """
    from distributed.worker import run_worker

    overrides: dict[str, Any] = dict(settings)
    overrides["DANGJIAN_REDIS_PREFIX"] = prefix
    overrides["LOG_LEVEL"] = log_level
    overrides.setdefault("DANGJIAN_PROGRESS", "off")
    if idle_close is not None:
        overrides["MAX_IDLE_TIME_BEFORE_CLOSE"] = idle_close
    run_worker(redis_url, sites_path, overrides)


@click.command()
@redis_option
@redis_prefix_option
@db_option
@click.option(
    "--exit-when-done",
    is_flag=True,
    help="Exit once all runs are finished (no worker alive, queue empty, all stored).",
)
@click.option(
    "--batch",
    default=100,
    show_default=True,
    type=int,
    help="Stream entries read and acknowledged at a time.",
)
@click.option(
    "--consumer",
    default="ingester",
    show_default=True,
    help="Consumer name in the group; keep it fixed so a restart resumes its entries.",
)
def ingest(
    redis_url: str, prefix: str, db_path: str, exit_when_done: bool, batch: int, consumer: str
) -> None:
    """Store the pages workers hand to Redis: the one writer of the database.

    Acknowledges each page only after it is committed, so a crash loses nothing; run one.

    \b
    Example:
        dangjian ingest --redis redis://10.0.0.5:6379/0 --db data/news.db
    """
    from distributed.ingester import IngestOptions, run_ingester

    stats = run_ingester(
        redis_url,
        db_path,
        prefix=prefix,
        options=IngestOptions(consumer=consumer, batch=batch, exit_when_done=exit_when_done),
    )
    summary = ", ".join(f"{k} {n}" for k, n in sorted(stats.outcomes.items())) or "nothing"
    click.echo(
        f"ingested {stats.entries} entries into {db_path} in {stats.seconds:.1f} s: "
        f"{summary}; {stats.redelivered} already stored; "
        f"runs finished: {' '.join(stats.runs_finished) or 'none'}"
    )


@click.command()
@click.argument("site_ids", nargs=-1, metavar="[SITE]...")
@redis_option
@redis_prefix_option
@sites_option
@click.option("--sample", is_flag=True, help="Enqueue the enabled sample sites.")
def enqueue(
    site_ids: tuple[str, ...], redis_url: str, prefix: str, sites_path: str | None, sample: bool
) -> None:
    """Start a run: push the start URLs of sites onto the shared Redis queue.

    With no SITE, every enabled real site (or, with --sample, every enabled sample site).
    Prints the run id.

    \b
    Example:
        dangjian enqueue --redis redis://10.0.0.5:6379/0 wuhan-tzb xuzhou-jgdj
    """
    from distributed.worker import enqueue_sites

    run_id, count = enqueue_sites(
        redis_url, site_ids, sample=sample, sites_path=sites_path, prefix=prefix
    )
    click.echo(f"run {run_id}: {count} start URL(s) queued")
