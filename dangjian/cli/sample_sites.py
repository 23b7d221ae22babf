"""``dangjian sample-sites`` and ``demo``: the bundled sample sites on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile

import click

from dangjian.cli.options import db_option
from dangjian.cli.serve import serve


@click.command("sample-sites")
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
    from sample_sites import DEFAULT_PORT, start_sample_sites, write_registry
    from sample_sites.behaviours import parse_behaviour_flags

    try:
        chosen = parse_behaviour_flags(list(behaviours))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--behaviour") from exc
    handle = start_sample_sites(
        port=DEFAULT_PORT if port is None else port, size=size, behaviours=chosen
    )
    if registry_out:
        write_registry(handle.addresses, registry_out, size)
    for site_id, url in handle.addresses.items():
        click.echo(f"{site_id} {url}")
    click.echo("ready", nl=True)
    sys.stdout.flush()
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        handle.stop()


# Logic that belongs in sample_sites/ (a registry file for the addresses served); kept here
# because the CLI only moves logic into ops/, and bench/ imports it from dangjian.cli.
@click.command()
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
    from sample_sites import DEFAULT_PORT, start_sample_sites, write_registry

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
            write_registry(handle.addresses, registry, size)
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
