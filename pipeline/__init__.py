"""The processing pipeline: decode → extract → normalise → dedupe → store.

Plain Python with no Scrapy and no click, so that a crawl, ``dangjian extract`` and
``dangjian import`` all run the very same code.
"""
