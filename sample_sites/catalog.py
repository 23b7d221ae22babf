"""Which articles each sample site carries, where, and when: the catalogue.

The catalogue holds metadata only (paths, titles, dates, columns); bodies are composed when a
page is requested, so a site of 5000 articles costs a few MB.  Sites are built in an order in
which every republication's original already exists.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .content import Story, make_story, make_title, title_context
from .seeds import load_seeds
from .text import inject_pinyin, to_simplified, to_traditional

ARTICLE, PDF, DEAD, MALFORMED, DISALLOWED = "article", "pdf", "dead", "malformed", "disallowed"
FIRST_DAY, LAST_DAY = datetime(2019, 1, 2), datetime(2024, 12, 28)


@dataclass(frozen=True)
class Column:
    key: str  # as used in the site's URLs: "tzyw", "45", "col12345"
    name: str  # 栏目 name
    parent: str  # breadcrumb level above it
    crawlable: bool = True  # False: robots.txt disallows it


@dataclass(frozen=True)
class SiteSpec:
    id: str
    name: str
    flavor: str  # phrase bank used for its own articles
    columns: tuple[Column, ...]
    seeds: tuple[tuple[str, str, str], ...] = ()  # (seed stem, column key, path)
    republishes: tuple[str, ...] = ()  # sites it copies articles from
    rep_share: float = 0.0  # share of its articles that are copies
    per_page: int = 20


@dataclass
class Entry:
    """One page in a site's lists: an article, or a deliberately broken or special one."""

    site: str
    path: str  # where it is served
    link: str  # how lists link it (differs when the old URL redirects)
    column: str
    published: datetime
    title: str  # as the page shows it
    title_s: str  # the simplified story title
    kind: str = ARTICLE
    seed: str | None = None
    republished_from: tuple[str, str] | None = None
    origin: tuple[str, int] | None = None  # (site, native index) of a generated story
    flavor: str = ""
    ctx: dict[str, str] = field(default_factory=dict)
    trim: bool = False  # a copy that dropped the original's last paragraph
    num: int = 0
    story_when: datetime | None = None  # the original's date, which seeds the story body
    source: str = ""  # 来源 of a copy: the name of the site it was copied from

    def story(self) -> Story:
        """Compose (or look up) the simplified story this entry shows."""
        if self.seed:
            return load_seeds()[self.seed].story
        site, index = self.origin or (self.site, self.num)
        when = self.story_when or self.published
        return make_story(f"{site}:{index}", self.flavor, self.title_s, when, self.ctx)


@dataclass
class Catalog:
    site: str
    entries: list[Entry]  # newest first
    columns: dict[str, list[Entry]]
    by_path: dict[str, Entry]
    name: str = ""
    _natives: list[Entry] | None = None

    def natives(self) -> list[Entry]:
        """The site's own generated articles (no seeds, no copies), newest first."""
        if self._natives is None:
            self._natives = [
                e
                for e in self.entries
                if e.kind == ARTICLE and not e.republished_from and not e.seed
            ]
        return self._natives


def _hex(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def article_path(site: str, column: str, when: datetime, num: int, key: str) -> str:
    """Return the URL path of an article in the style of the site's CMS."""
    from .cms_portal import PORTAL_ID_BASE, portal_article_path  # the twins keep their schemes

    if site in PORTAL_ID_BASE:
        return portal_article_path(site, column, when, num, key)
    if site == "wuchang-museum":
        return f"/index.php?m=content&c=index&a=show&catid={column}&id={num}"
    if site == "wuhan-tzb":
        return f"/xwzx/{column}/{when:%Y%m}/t{when:%Y%m%d}_{num}.html"
    if site == "qikan-aggregator":
        return f"/page/{when:%Y}/{when:%m%d}/{num}.shtml"
    if site == "gzdaily-dangjian":
        return f"/content/{when:%Y-%m}/{when:%d}/content_{num}.htm"
    if site == "xuzhou-jgdj":
        return f"/art/{when.year}/{when.month}/{when.day}/art_{column[3:]}_{num}.html"
    if site == "old-district":
        return f"/news_view.asp?id={num}"
    return f"/zh-hant/{column}/{_hex(key)}.html"


ID_BASE = {
    "wuchang-museum": (800, 3),
    "wuhan-tzb": (3800000, 173),
    "qikan-aggregator": (6100000, 911),
    "gzdaily-dangjian": (100000, 41),
    "xuzhou-jgdj": (2100, 7),
    "old-district": (200, 2),
    "mirror-hant": (0, 1),
}


def _spread(index: int, count: int, rng: random.Random) -> datetime:
    """Spread ``count`` dates evenly over 2019–2024, ``index`` 0 being the oldest."""
    span = (LAST_DAY - FIRST_DAY).days
    day = FIRST_DAY + timedelta(days=int((index + 0.5) * span / max(count, 1)))
    return day.replace(
        hour=rng.randint(8, 18), minute=rng.randint(0, 59), second=rng.randint(0, 59)
    )


def _mirror_title(title_s: str, salt: int) -> str:
    return inject_pinyin(to_traditional(title_s), salt)[0]


def build_catalog(spec: SiteSpec, size: int, built: dict[str, Catalog], used: set[str]) -> Catalog:
    """Build ``spec``'s catalogue of ``size`` articles; ``built`` holds the sites it copies from."""
    rng = random.Random(f"catalog:{spec.id}:{size}")
    seeds = load_seeds()
    entries: list[Entry] = []
    fixed_paths = {path for _stem, _col, path in spec.seeds}
    for stem, column, path in spec.seeds:
        seed = seeds[stem]
        title = seed.title if spec.id == "mirror-hant" else seed.story.title
        entry = Entry(
            spec.id, path, path, column, seed.story.published, title, seed.story.title, seed=stem
        )
        for other in built.values():  # the mirror's seed pages copy another site's original
            entry.republished_from = entry.republished_from or next(
                ((e.site, e.path) for e in other.entries if e.seed == stem), None
            )
        entries.append(entry)
    n_reps = round(size * spec.rep_share) if spec.id != "mirror-hant" else size - len(spec.seeds)
    n_natives = max(size - len(spec.seeds) - n_reps, 0)
    columns = [c.key for c in spec.columns if c.crawlable]
    for index in range(n_natives):
        when = _spread(index, n_natives, rng)
        title, ctx = make_title(rng, spec.flavor, when, used)
        column = columns[(index * 7 + 3) % len(columns)]
        entries.append(
            Entry(
                spec.id,
                "",
                "",
                column,
                when,
                title,
                title,
                origin=(spec.id, index),
                flavor=spec.flavor,
                ctx=ctx,
            )
        )
    copied: set[tuple[str, str]] = set()
    for k in range(n_reps):
        origin = built[spec.republishes[k % len(spec.republishes)]]
        pool = origin.natives() or origin.entries
        src = pool[(k // len(spec.republishes) * 7 + 3) % len(pool)]
        if (src.site, src.path) in copied:
            src = pool[k % len(pool)]
        copied.add((src.site, src.path))
        when = src.published + timedelta(hours=rng.choice([0, 0, 2, 20, 26]))
        title = _mirror_title(src.title_s, k) if spec.id == "mirror-hant" else src.title_s
        entries.append(
            Entry(
                spec.id,
                "",
                "",
                columns[k % len(columns)],
                when,
                title,
                src.title_s,
                seed=src.seed,
                republished_from=(src.site, src.path),
                origin=src.origin,
                flavor=src.flavor,
                ctx=src.ctx,
                trim=rng.random() < 0.4,
                story_when=src.story_when or src.published,
                source=origin.name,
            )
        )
    entries.extend(_specials(spec, rng))
    _assign_paths(spec, entries, fixed_paths)
    entries.sort(key=lambda e: (e.published, e.path), reverse=True)
    by_column: dict[str, list[Entry]] = {c.key: [] for c in spec.columns}
    for entry in entries:
        by_column[entry.column].append(entry)
    by_path = {e.path: e for e in entries}
    by_path.update({e.link: e for e in entries})
    return Catalog(spec.id, entries, by_column, by_path, spec.name)


def _assign_paths(spec: SiteSpec, entries: list[Entry], taken: set[str]) -> None:
    from .cms_portal import PORTAL_ID_BASE

    base, step = ID_BASE.get(spec.id) or PORTAL_ID_BASE[spec.id]
    pending = sorted((e for e in entries if not e.path), key=lambda e: (e.published, e.title))
    for rank, entry in enumerate(pending):
        entry.num = base + rank * step + rank % 3
        key = f"{spec.id}:{entry.republished_from or entry.origin or entry.title}"
        path = article_path(spec.id, entry.column, entry.published, entry.num, key)
        while path in taken:
            entry.num += 1
            path = article_path(spec.id, entry.column, entry.published, entry.num, key + "'")
        taken.add(path)
        entry.path = entry.link = path
    if spec.id == "gzdaily-dangjian" and pending:
        # An article moved from the old paper-edition URL; lists still link the old one (301).
        moved = pending[len(pending) // 3]
        moved.link = (
            f"/gzrb/html/{moved.published:%Y-%m}/{moved.published:%d}/content_{moved.num}.htm"
        )


def _special(spec: SiteSpec, column: str, when: datetime, title: str, kind: str) -> Entry:
    ctx = title_context(random.Random(title), spec.flavor or "news", when)
    return Entry(
        spec.id,
        "",
        "",
        column,
        when,
        title,
        to_simplified(title),
        kind=kind,
        flavor=spec.flavor or "news",
        ctx=ctx,
    )


def _specials(spec: SiteSpec, rng: random.Random) -> list[Entry]:
    """Pages that are not articles: robots-disallowed ones, a PDF notice, dead and broken links."""
    out: list[Entry] = []
    if spec.id == "wuhan-tzb":
        for i, title in enumerate(
            [
                "部机关2023年度干部教育培训计划（内部）",
                "关于报送统战信息的通知",
                "部机关值班安排表",
                "部机关党支部换届选举工作方案（征求意见稿）",
            ]
        ):
            out.append(_special(spec, "nbzl", datetime(2023, 3 + i, 7, 10, 0), title, DISALLOWED))
    elif spec.id == "xuzhou-jgdj":
        title = "关于印发《2023年市级机关党建工作要点》的通知"
        out.append(_special(spec, "col12346", datetime(2023, 2, 10, 16, 20), title, PDF))
    elif spec.id == "old-district":
        title = "区委组织部关于开展2022年度党员冬训工作的通知"
        out.append(_special(spec, "3", datetime(2022, 12, 5, 9, 8, 15), title, DEAD))
    elif spec.id == "qikan-aggregator":
        title = "党建引领基层治理的实践探索"
        out.append(_special(spec, "djdt", datetime(2022, 6, 20, 8, 0), title, MALFORMED))
    elif spec.id == "mirror-hant":
        title = _mirror_title("以高质量党建引领机关作风建设", 1)
        out.append(_special(spec, "news", datetime(2023, 6, 1, 10, 0), title, MALFORMED))
    for entry in out:
        entry.published += timedelta(seconds=rng.randint(0, 59))
    return out
