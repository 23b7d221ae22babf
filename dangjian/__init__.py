"""dangjian-news: crawl, clean, dedupe and publish Chinese party-building news."""

__version__ = "0.1.0"
