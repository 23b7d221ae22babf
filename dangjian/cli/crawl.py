"""``dangjian crawl`` and ``import``: pages into the database, fetched or saved."""

from __future__ import annotations

import sys

import click

from dangjian.cli.options import db_option, log_level_option, settings_option, sites_option


@click.command()
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
@settings_option("Override a Scrapy setting, e.g. -s CLOSESPIDER_PAGECOUNT=50.")
@log_level_option
@click.option(
    "--due", is_flag=True, help="Only the sites whose schedule makes them due now (for cron)."
)
@click.option(
    "--try",
    "try_",
    is_flag=True,
    help="Fetch one list page and three articles per start URL, print them, store nothing.",
)
def crawl(
    site_ids: tuple[str, ...],
    db_path: str,
    sites_path: str | None,
    sample: bool,
    progress: bool | None,
    settings: dict[str, str],
    log_level: str,
    due: bool,
    try_: bool,
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
        dangjian crawl NEW-ID --sites new.yml --try   # check a new entry, store nothing
    """
    settings = dict(settings)
    if try_:
        from ops.discover import describe_tried, try_sites

        if not site_ids:
            raise click.UsageError("--try needs the SITE ids to try")
        settings["LOG_LEVEL"] = log_level
        pages = try_sites(site_ids, sites_path=sites_path, settings=settings)
        click.echo(describe_tried(pages))
        if not any(p.kind == "article" and p.status == 200 for p in pages):
            sys.exit(1)
        return
    from ops.crawl import crawl_sites, run_failed, run_summary, summary_table

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
    click.echo(summary_table(rows))
    if run_failed(rows):
        sys.exit(1)


@click.command("import")
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
