"""The one writer: every SQL statement that changes ``data/news.db`` lives in this package.

- ``database``: ``Store``, the connection and the page/article/failure writes;
- ``migrations``: the frozen schema history (each migration holds the SQL it shipped with);
- ``runs``: the crawl-run lifecycle (start, count, finish, health alerts);
- ``clusters``: dedupe clusters and their band index;
- ``search``: the Chinese bigram tokeniser and query builder (also used by the Datasette plugin);
- ``terms`` and ``regions``: the term dictionary counts and the region lookup.
"""

from pipeline.store.database import Store, index_article, utc_now

__all__ = ["Store", "index_article", "utc_now"]
