"""``dangjian discover``: propose a registry entry from a site's home page."""

from __future__ import annotations

import sys

import click

from dangjian.cli.options import log_level_option, settings_option


@click.command()
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option(
    "--out",
    "out_path",
    default=None,
    type=click.Path(dir_okay=False, writable=True),
    help="Write the proposed entries to this YAML file instead of stdout.",
)
@click.option(
    "--id",
    "site_ids",
    multiple=True,
    metavar="ID",
    help="Registry id for the site of the same position (default: from its host or name).",
)
@click.option(
    "--terms",
    "terms_path",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help="YAML file of words added to the column dictionary (docs/discover.md).",
)
@click.option(
    "--max-requests",
    default=30,
    show_default=True,
    type=click.IntRange(3, 200),
    help="Most requests per site (home page, candidate columns, second pages).",
)
@settings_option("Override a Scrapy setting, e.g. -s DOWNLOAD_DELAY=2.")
@log_level_option
def discover(
    urls: tuple[str, ...],
    out_path: str | None,
    site_ids: tuple[str, ...],
    terms_path: str | None,
    max_requests: int,
    settings: dict[str, str],
    log_level: str,
) -> None:
    """Propose registry entries from sites' home pages.

    Reads each home page (following its redirects) as politely as a crawl, names
    its CMS, finds its party-building columns in the navigation by the dictionary
    of docs/discover.md, keeps those that are lists of dated articles, and writes
    an entry with start URLs, patterns, encoding and schedule, its confidence and
    the evidence per column. Exits 1 when no column was found for some site.

    \b
    Example:
        dangjian discover http://www.example.gov.cn/
        dangjian discover http://a.gov.cn/ http://b.gov.cn/ --out new-sites.yml
        dangjian crawl NEW-ID --sites new-sites.yml --try
    """
    from ops.discover import discover_sites, propose, render_yaml

    settings = dict(settings)
    settings["LOG_LEVEL"] = log_level
    found = discover_sites(
        urls, terms_path=terms_path, max_requests=max_requests, settings=settings
    )
    proposals = [
        propose(site, site_ids[n] if n < len(site_ids) else None) for n, site in enumerate(found)
    ]
    text = render_yaml(proposals)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as out:
            out.write(text)
        click.echo(f"wrote {len(proposals)} proposal(s) to {out_path}", err=True)
    else:
        click.echo(text, nl=False)
    if len(found) < len(urls) or any(not p.columns for p in proposals):
        sys.exit(1)
