"""Extraction: raw page bytes → one normalised article (or a reason it is not one).

The stages, in the order ``extract_page`` runs them:

- ``decode``: bytes → text (BOM, HTTP header, meta charset, detection, decoder-damage repair);
  binary and undecodable bytes stop here;
- ``selectors``: the CMS rules (XPath/class names as data) the other stages ask;
- ``fields``: page meta tags, title, info line (dates, source, bylines), keywords, column, the
  政府信息公开 index table;
- ``body``: the body block (CMS container, else trafilatura on the pruned page; the text core
  is never pruned) and the second opinion of trafilatura's full cascade;
- ``dates`` and ``bylines``: parsing the dates, sources and names found by ``fields``;
- ``boilerplate``: what is not body text (breadcrumbs, "为你推荐" lists, ICP and copyright lines);
- ``pagekind``: article, list page, attachment-only notice or garbage;
- ``normalise``: traditional → simplified (OpenCC) and injected pinyin removed;
- ``documents``: 文号, 发文机关 and the other fields of a government document;
- ``page``: ``extract_page``, which runs the stages above top to bottom and never raises.

``evaluate`` scores it all on real pages and on ``tests/pages`` (``make eval``).
"""

from pipeline.extract.page import extract_page, parse_html

__all__ = ["extract_page", "parse_html"]
