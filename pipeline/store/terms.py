"""A curated dictionary of party-building (党建) terms, counted per article.

Each term has a canonical name (what analysts facet and chart on) and the variants counted
as the same term: abbreviations, full forms and common alternative wordings. Counting is
exact substring counting on the cleaned, simplified title and body, the same semantics as
search, so ``SELECT ... FROM article_terms`` agrees with ``?_search=``. Overlapping variants
of one term are not double-counted: matches are taken longest-first, left to right.

The dictionary is documented for analysts in ``docs/terms.md``; a test keeps the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Term:
    """One dictionary entry: canonical name, category, variants and a one-line gloss."""

    name: str
    category: str
    gloss: str
    variants: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        """The canonical name and its variants, longest first."""
        return tuple(sorted({self.name, *self.variants}, key=len, reverse=True))


TERMS: tuple[Term, ...] = (
    # Political loyalty formulas (Xi era).
    Term(
        "两个确立",
        "political loyalty",
        "Xi as core; Xi Thought as guide (2021 resolution)",
        ("确立习近平同志党中央的核心、全党的核心地位",),
    ),
    Term(
        "两个维护",
        "political loyalty",
        "uphold Xi's core status and central authority",
        ("坚决维护习近平总书记党中央的核心、全党的核心地位",),
    ),
    Term(
        "四个意识",
        "political loyalty",
        "political, big-picture, core and alignment awareness",
        ("政治意识、大局意识、核心意识、看齐意识",),
    ),
    Term(
        "四个自信",
        "political loyalty",
        "confidence in path, theory, system and culture",
        ("道路自信、理论自信、制度自信、文化自信",),
    ),
    Term("习近平新时代中国特色社会主义思想", "theory", "Xi Jinping Thought", ("习近平思想",)),
    # Organisational life of party branches.
    Term("三会一课", "organisational life", "branch meetings and party lectures", ("“三会一课”",)),
    Term("主题党日", "organisational life", "monthly themed party day", ("主题党日活动",)),
    Term("组织生活会", "organisational life", "criticism and self-criticism meeting", ()),
    Term("民主生活会", "organisational life", "leadership criticism meeting", ()),
    Term(
        "第一议题",
        "organisational life",
        "studying Xi's latest speech as first agenda item",
        ("第一议题制度",),
    ),
    Term(
        "党支部标准化规范化建设",
        "organisational life",
        "standardised branch building",
        ("支部标准化规范化建设", "党支部标准化建设"),
    ),
    # Education campaigns.
    Term(
        "主题教育",
        "campaign",
        "2019 and 2023 thematic education campaigns",
        ("不忘初心、牢记使命主题教育", "学习贯彻习近平新时代中国特色社会主义思想主题教育"),
    ),
    Term("党史学习教育", "campaign", "2021 party-history study campaign", ("党史教育",)),
    Term("党纪学习教育", "campaign", "2024 party-discipline study campaign", ()),
    Term(
        "两学一做",
        "campaign",
        "study the constitution and speeches, be qualified members",
        ("“两学一做”学习教育",),
    ),
    Term(
        "不忘初心、牢记使命",
        "campaign",
        "stay true to the original aspiration",
        ("不忘初心牢记使命", "初心使命"),
    ),
    # Discipline and supervision.
    Term(
        "全面从严治党", "discipline", "comprehensive strict governance of the party", ("从严治党",)
    ),
    Term("政治巡察", "discipline", "political inspection tours below provincial level", ("巡察",)),
    Term(
        "中央八项规定",
        "discipline",
        "the eight-point frugality rules",
        ("八项规定", "八项规定精神"),
    ),
    Term("党风廉政建设", "discipline", "clean-government work", ("廉政建设",)),
    Term(
        "形式主义、官僚主义",
        "discipline",
        "formalism and bureaucratism",
        ("形式主义官僚主义", "四风"),
    ),
    # Model organs and grass-roots party building.
    Term(
        "模范机关", "grass roots", "model party organs", ("让党中央放心、让人民群众满意的模范机关",)
    ),
    Term("基层党建", "grass roots", "grass-roots party building", ("基层党组织建设",)),
    Term("党建引领", "grass roots", "party building leads (governance, development)", ()),
    Term("党员干部", "grass roots", "party members and cadres", ()),
    Term("先锋模范作用", "grass roots", "vanguard role of members", ("先锋模范",)),
    Term("战斗堡垒作用", "grass roots", "branches as fighting fortresses", ("战斗堡垒",)),
    Term("党建", "general", "party building, the umbrella term", ("党的建设",)),
)


_TERM_FORMS = [(term, term.forms) for term in TERMS]


def count_terms(*texts: str | None) -> dict[str, int]:
    """Count the dictionary's terms in the given texts (e.g. title and body).

    Args:
        *texts: strings to scan; ``None`` is skipped.

    Returns:
        ``{canonical term: occurrences}`` for the terms that occur at least once. A shorter
        term nested inside a longer one (党建 inside 基层党建) is counted under both, because
        analysts look for each independently; variants of the same term count once.
    """
    counts: dict[str, int] = {}
    for text in texts:
        if not text:
            continue
        for term, forms in _TERM_FORMS:
            # Most terms are absent: a substring test (in C) skips the regex for them.
            if not any(form in text for form in forms):
                continue
            n = _count_term(text, term)
            if n:
                counts[term.name] = counts.get(term.name, 0) + n
    return counts


def _count_term(text: str, term: Term) -> int:
    return sum(1 for _ in _term_regex(term).finditer(text))


@cache
def _term_regex(term: Term) -> re.Pattern[str]:
    # Longest forms first, so a variant that contains the name counts once, not twice.
    return re.compile("|".join(map(re.escape, term.forms)))
