"""Extraction: raw page bytes → one normalised article (or a reason it is not one).

The stages, in the order ``extract_page`` runs them:

- ``decode``: bytes → text (BOM, HTTP header, meta charset, detection, decoder-damage repair);
- ``selectors``: the CMS rules (XPath/class names as data) the other stages ask;
- ``fields``: page meta tags, title, info line (dates, source, bylines), keywords, column;
- ``dates`` and ``bylines``: parsing the dates, sources and names found by ``fields``;
- ``boilerplate``: what is not body text (breadcrumbs, "为你推荐" lists, ICP and copyright lines);
- ``pagekind``: article, list page or attachment-only notice;
- ``normalise``: traditional → simplified (OpenCC) and injected pinyin removed;
- ``page``: ``extract_page``, which runs the stages above top to bottom.
"""

from pipeline.extract.page import extract_page, parse_html

__all__ = ["extract_page", "parse_html"]
