"""Distributed crawling on Redis: the worker (scrapy-redis), the stream contract and the ingester."""
