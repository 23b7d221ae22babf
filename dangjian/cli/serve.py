"""``dangjian serve``: the database in Datasette (wiring in dangjian/serve.py)."""

from __future__ import annotations

import click

from dangjian.cli.options import db_option


@click.command()
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
@click.option(
    "--public",
    is_flag=True,
    help="Public profile (datasette-public.yaml): no arbitrary SQL, no download, tighter limits.",
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Datasette processes on the one address (SO_REUSEPORT): one per core for many users.",
)
def serve(
    db_path: str, host: str, port: int, metadata_path: str | None, public: bool, processes: int
) -> None:
    """Serve the database in Datasette, as /news.

    With --public, for a server anyone can reach: canned queries and table pages only (no
    arbitrary SQL), no database download, smaller pages and tighter time limits; see
    docs/operations.md ("A public Datasette"). With --processes N, N processes share the
    address and the kernel spreads connections over them ("Several processes behind one
    address"); Ctrl-C or SIGTERM stops them all.

    \b
    Example:
        dangjian serve --port 8001
        curl 'http://127.0.0.1:8001/news/articles.json?_shape=array&_size=5'
        dangjian serve --public --host 0.0.0.0 --port 8001 --processes 2
    """
    import uvicorn
    from datasette.cli import run_sync

    from dangjian.serve import make_datasette, serve_processes

    if processes > 1:
        click.echo(
            f"Datasette ({processes} processes): http://{host}:{port}/news/articles", err=True
        )
        serve_processes(db_path, host, port, processes, metadata_path, public)
        return

    ds = make_datasette(db_path, metadata_path, public=public)
    run_sync(ds.invoke_startup)
    click.echo(f"Datasette: http://{host}:{port}/news/articles", err=True)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
