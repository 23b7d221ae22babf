"""Options shared by several ``dangjian`` commands, written once as decorators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = "data/news.db"
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


def db_option(fn: F) -> F:
    """``--db PATH`` (env ``DANGJIAN_DB``), passed as ``db_path``."""
    return click.option(
        "--db",
        "db_path",
        default=DEFAULT_DB,
        show_default=True,
        envvar="DANGJIAN_DB",
        type=click.Path(dir_okay=False),
        help="SQLite database file (env DANGJIAN_DB).",
    )(fn)


def sites_option(fn: F) -> F:
    """``--sites PATH`` (env ``DANGJIAN_SITES``), passed as ``sites_path``."""
    return click.option(
        "--sites",
        "sites_path",
        default=None,
        envvar="DANGJIAN_SITES",
        type=click.Path(dir_okay=False, exists=True),
        help="Site registry YAML (env DANGJIAN_SITES); the bundled crawler/sites.yml by default.",
    )(fn)


def parse_settings(
    ctx: click.Context | None, param: click.Parameter | None, values: tuple[str, ...]
) -> dict[str, str]:
    """Turn repeated ``-s NAME=VALUE`` into a dict (a later NAME wins).

    Raises:
        click.BadParameter: a value has no ``=`` or no name (exit code 2).
    """
    settings: dict[str, str] = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep:
            raise click.BadParameter(
                f"{value!r} has no '=': write NAME=VALUE, as in -s {value}=VALUE",
                ctx=ctx,
                param=param,
            )
        if not name.strip():
            raise click.BadParameter(
                f"{value!r} has no setting name: write NAME=VALUE", ctx=ctx, param=param
            )
        settings[name] = setting
    return settings


def settings_option(help: str) -> Callable[[F], F]:
    """``-s/--set NAME=VALUE``, repeatable, passed as a dict ``settings``.

    Args:
        help: the option's help, with an example setting for the command.
    """

    def decorator(fn: F) -> F:
        return click.option(
            "-s",
            "--set",
            "settings",
            multiple=True,
            metavar="NAME=VALUE",
            callback=parse_settings,
            help=help,
        )(fn)

    return decorator


def log_level_option(fn: F) -> F:
    """``--log-level`` for Scrapy, INFO by default."""
    return click.option(
        "--log-level",
        default="INFO",
        show_default=True,
        type=click.Choice(LOG_LEVELS),
        help="Scrapy log level.",
    )(fn)


def redis_option(fn: F) -> F:
    """``--redis URL`` (env ``REDIS_URL``, required), passed as ``redis_url``."""
    return click.option(
        "--redis",
        "redis_url",
        envvar="REDIS_URL",
        required=True,
        metavar="URL",
        help="Redis of the distributed crawl, e.g. redis://10.0.0.5:6379/0 (env REDIS_URL).",
    )(fn)


def redis_prefix_option(fn: F) -> F:
    """``--prefix`` of the distributed crawl's Redis keys (env ``DANGJIAN_REDIS_PREFIX``)."""
    return click.option(
        "--prefix",
        default="dangjian",
        show_default=True,
        envvar="DANGJIAN_REDIS_PREFIX",
        help="Prefix of every Redis key, to run several crawls on one Redis.",
    )(fn)
