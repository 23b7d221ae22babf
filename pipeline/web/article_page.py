"""An article page to read (issue 15): the row page of ``articles`` in our databases.

Datasette renders a row with the first of ``row-<database>-<table>.html`` and ``row.html`` it
finds. Our databases may be served under any name (``_is_ours`` recognises the schema), so a
template file for one name would not do: :class:`ArticleRowLoader`, added after Datasette's
own loaders, answers ``row-<any database>-articles.html`` with a two-line template that
extends ``dangjian/article.html`` when :func:`extra_template_vars` has put the article in the
context (a database of ours) and Datasette's own ``row.html`` otherwise. A template of that
name in ``--template-dir`` still wins, and the JSON of the same URL is untouched (templates
only render HTML).

The page: title, date, source, author and editor; the site with its region and level; a link
to the original; the body as paragraphs at a readable width; the government-document fields;
"also carried by" (the story's cluster: site, date, lag, link); the revisions with their
diffs; the dictionary terms it mentions; its attachments; and every column, folded.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.utils import tilde_decode
from jinja2 import BaseLoader, ChoiceLoader, TemplateNotFound

from pipeline.web.plugin import _is_ours

TEMPLATES = Path(__file__).with_name("templates")
ARTICLE_ROW_TEMPLATE = re.compile(r"^row-.+-articles\.html$")
ROW_SOURCE = '{% extends "dangjian/article.html" if dangjian_article else "default:row.html" %}'
MAX_CARRIED = 100

_ARTICLE_SQL = """
select a.*, s.name as site_label, s.level as site_level, s.province as site_province,
  s.city as site_city, s.district as site_district, s.home_url as site_home
from articles a left join sites s on s.id = a.site_id where a.id = :id
"""
_CARRIED_SQL = f"""
select r.id, r.site_id, s.name as site_label, r.published, r.url, r.title,
  r.id = c.original_id as is_original
from articles r left join sites s on s.id = r.site_id
left join clusters c on c.id = r.cluster_id
where r.cluster_id = :cluster and r.id != :id
order by r.published, r.id limit {MAX_CARRIED}
"""
_REVISIONS_SQL = """
select revision, seen_at, title, changed, diff, chars_added, chars_removed
from article_revisions where article_id = :id order by revision
"""
_TERMS_SQL = (
    "select term, count from article_terms where article_id = :id order by count desc, term"
)
_ATTACHMENTS_SQL = """
select id, name, url, format, size, text_status, substr(text, 1, 400) as excerpt,
  length(text) as text_chars
from attachments where article_id = :id order by id
"""
DOCUMENT_FIELDS = (
    ("doc_number", "文号 (document number)"),
    ("written_date", "成文日期 (date of issue)"),
    ("issuer", "发文机关 (issuing organ)"),
    ("index_number", "索引号 (index number)"),
    ("subject", "主题分类 (subject)"),
    ("validity", "有效性 (validity)"),
)


class ArticleRowLoader(BaseLoader):
    """Templates of this plugin: ``dangjian/*.html`` from ``templates/``, and the row template
    of any database's ``articles`` table (see the module docstring)."""

    def get_source(self, environment: Any, template: str) -> tuple[str, str | None, Any]:
        if ARTICLE_ROW_TEMPLATE.match(template):
            return ROW_SOURCE, None, lambda: True
        if template.startswith("dangjian/"):
            path = TEMPLATES / template.removeprefix("dangjian/")
            if path.is_file():
                mtime = path.stat().st_mtime
                return (
                    path.read_text(encoding="utf-8"),
                    str(path),
                    lambda: path.stat().st_mtime == mtime,
                )
        raise TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        # The row template answers any database's name, so only our files are listed.
        return sorted(f"dangjian/{path.name}" for path in TEMPLATES.glob("*.html"))


@hookimpl
def prepare_jinja2_environment(env: Any) -> None:
    env.loader = ChoiceLoader([env.loader, ArticleRowLoader()])


def lag(published: str | None, other: str | None) -> str | None:
    """How long after ``published`` the ``other`` date is: ``+3 h``, ``+2 d`` or ``−1 d``."""
    if not published or not other:
        return None
    try:
        if len(published) > 10 and len(other) > 10:
            hours = (
                datetime.fromisoformat(other) - datetime.fromisoformat(published)
            ).total_seconds() / 3600
            if abs(hours) < 48:
                return f"{hours:+.0f} h"
            return f"{hours / 24:+.0f} d"
        days = (datetime.fromisoformat(other[:10]) - datetime.fromisoformat(published[:10])).days
    except ValueError:
        return None
    return f"{days:+d} d" if days else "same day"


def diff_lines(diff: str | None) -> list[tuple[str, str]]:
    """``(kind, text)`` per line of a revision's diff: ``added`` or ``removed``."""
    return [
        ("added" if line.startswith("+") else "removed", line[1:])
        for line in (diff or "").splitlines()
        if line[:1] in "+-"
    ]


def _changed(value: str | None) -> str:
    try:
        return ", ".join(json.loads(value or "[]"))
    except (ValueError, TypeError):
        return value or ""


async def article_context(db: Any, article_id: int) -> dict[str, Any] | None:
    """Read what the article page shows (each a small indexed query); None when not found."""
    params = {"id": article_id}
    row = (await db.execute(_ARTICLE_SQL, params)).first()
    if row is None:
        return None
    article = dict(row)
    carried: list[dict[str, Any]] = []
    if article.get("cluster_id") is not None:
        rows = await db.execute(_CARRIED_SQL, {**params, "cluster": article["cluster_id"]})
        carried = [{**dict(r), "lag": lag(article["published"], r["published"])} for r in rows]
    revisions = [
        {**dict(r), "changed": _changed(r["changed"]), "lines": diff_lines(r["diff"])}
        for r in await db.execute(_REVISIONS_SQL, params)
    ]
    terms = [dict(r) for r in await db.execute(_TERMS_SQL, params)]
    try:
        attachments = [dict(r) for r in await db.execute(_ATTACHMENTS_SQL, params)]
    except Exception:  # noqa: BLE001 - a database from before 0007_documents has none
        attachments = []
    flags = json.loads(article.get("flags") or "[]") if article.get("flags") else []
    return {
        "article": article,
        "paragraphs": [p for p in (article.get("text") or "").splitlines() if p.strip()],
        "document": [
            (label, article.get(name)) for name, label in DOCUMENT_FIELDS if article.get(name)
        ],
        "carried": carried,
        "revisions": revisions,
        "terms": terms,
        "attachments": attachments,
        "flags": flags,
        "attachment_only": "attachment-only" in flags,
    }


@hookimpl
def extra_template_vars(
    template: str, database: str | None, table: str | None, request: Any, datasette: Any
) -> Any:
    """The article page's data, on the row page of ``articles`` in a database of ours."""
    if table != "articles" or not ARTICLE_ROW_TEMPLATE.match(template or ""):
        return {}
    if request is None or not _is_ours(datasette, database):
        return {}

    async def inner() -> dict[str, Any]:
        try:
            article_id = int(tilde_decode(request.url_vars["pks"]))
        except (KeyError, ValueError):
            return {}
        context = await article_context(datasette.get_database(database), article_id)
        return {"dangjian_article": context} if context else {}

    return inner
