"""Items the spider yields: a fetched page, or a request that failed before any response."""

from dataclasses import dataclass

from pipeline.model import RawPage


@dataclass
class PageItem:
    """A fetched page, handed unchanged to the pipeline."""

    page: RawPage


@dataclass
class FetchFailureItem:
    """A request that got no response (DNS, refused, timeout...)."""

    url: str
    site_id: str
    run_id: str
    reason: str


@dataclass
class SiteBlockedItem:
    """A site answered with an anti-bot challenge: its run stops and finishes ``blocked``.

    Yielded once per site and run, for the first request the challenge cost
    (``crawler.antibot.AntiBotMiddleware`` drops the rest).
    """

    url: str
    site_id: str
    run_id: str
    reason: str
