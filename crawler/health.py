"""Site health: anti-bot challenge detection, per-run alerts, the webhook and the status view.

A site that answers with an anti-bot challenge is *blocked*: its remaining requests are
dropped, the other sites go on, and we never try to get around the challenge (no JavaScript,
no cookie replay, no retries). After each run, ``evaluate_run`` compares the run with the
site's history and raises alerts: ``blocked``, ``layout`` (list pages without a single article
link), ``stale`` (no new articles for N runs in a row) and ``failure-rate`` (a jump).
Alerts go to the log and, when ``DANGJIAN_ALERT_WEBHOOK`` is set, to that URL as JSON.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

logger = logging.getLogger(__name__)

BLOCKED_STAT = "dangjian/blocked/{}"
# Titles of interstitial captcha pages seen on gov CMS front ends (云锁, 安全狗, 创宇盾 ...).
CAPTCHA_TITLE = re.compile(
    rb"<title>[^<]{0,40}(\xe5\xae\x89\xe5\x85\xa8\xe9\xaa\x8c\xe8\xaf\x81"  # 安全验证
    rb"|\xe4\xba\xba\xe6\x9c\xba\xe9\xaa\x8c\xe8\xaf\x81"  # 人机验证
    rb"|\xe8\xae\xbf\xe9\x97\xae\xe9\xaa\x8c\xe8\xaf\x81"  # 访问验证
    rb"|\xe6\xbb\x91\xe5\x8a\xa8\xe9\xaa\x8c\xe8\xaf\x81"  # 滑动验证
    rb"|\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81"  # 验证码
    rb"|captcha)",
    re.IGNORECASE,
)


def detect_challenge(
    status: int, set_cookies: list[str], body: bytes, location: str = ""
) -> str | None:
    """Return why a response is an anti-bot challenge, or None for an ordinary response.

    Args:
        status: the HTTP status.
        set_cookies: the ``Set-Cookie`` header values.
        body: the raw body.
        location: the ``Location`` header of a redirect.

    Returns:
        A short reason such as ``"HTTP 412 with an inline $_ts script"``.
    """
    cookies = " ".join(set_cookies)
    head = body[:20000]
    if status == 412 and b"$_ts" in head:
        # Ruishu (瑞数) answers 412 with a script that computes a cookie; e.g. many 12371 sites.
        return "HTTP 412 with an inline $_ts script (Ruishu challenge)"
    if "wzws_cid" in cookies or "wzwschallenge" in location.lower() or b"wzwschallenge" in head:
        # WZWS (网站卫士) sets wzws_cid and redirects to ?wzwschallenge=... to run its script.
        return "wzws_cid cookie redirect (WZWS challenge)"
    if "__jsluid" in cookies and (status >= 400 or b"__jsl_clearance" in head):
        # Jiasule (加速乐) sets __jsluid on every response; only its 521/JS page is a challenge.
        return f"__jsluid cookie with a challenge page (HTTP {status})"
    if len(body) < 30000 and CAPTCHA_TITLE.search(head):
        return "captcha page"
    return None


def site_for(request: Request, crawler: Crawler) -> str | None:
    """Return the site id of a request: its ``site_id`` meta, or the site owning its host."""
    site_id = request.meta.get("site_id")
    if site_id:
        return site_id
    for site in getattr(crawler.spider, "sites", None) or ():
        if site.allows(request.url):
            return site.id
    return None


class AntiBotMiddleware:
    """Mark a site blocked on its first anti-bot challenge and drop its later requests.

    Sits next to the downloader (order 950) so it sees a challenge redirect before
    RedirectMiddleware follows it, and a challenge status before RetryMiddleware retries it.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AntiBotMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        site_id = site_for(request, self.crawler)
        reason = site_id and self.stats.get_value(BLOCKED_STAT.format(site_id))
        if reason:
            self.stats.inc_value("dangjian/blocked/dropped")
            raise IgnoreRequest(f"site {site_id} is blocked ({reason})")

    def process_response(self, request: Request, response: Response) -> Response:
        cookies = [v.decode("latin-1") for v in response.headers.getlist("Set-Cookie")]
        location = (response.headers.get("Location") or b"").decode("latin-1")
        reason = detect_challenge(response.status, cookies, response.body, location)
        if reason is None:
            return response
        site_id = site_for(request, self.crawler) or "?"
        if not self.stats.get_value(BLOCKED_STAT.format(site_id)):
            self.stats.set_value(BLOCKED_STAT.format(site_id), f"{reason} at {request.url}")
            logger.error(
                "ALERT site %s blocked: %s at %s; its crawl stops here",
                site_id,
                reason,
                request.url,
            )
        self.stats.inc_value("dangjian/blocked/challenges")
        raise IgnoreRequest(f"anti-bot challenge from {request.url}: {reason}")


@dataclass(frozen=True)
class Alert:
    """Something an operator must look at."""

    site_id: str
    run_id: str
    kind: str  # blocked | layout | stale | failure-rate
    message: str


@dataclass(frozen=True)
class HealthOptions:
    """Thresholds of ``evaluate_run`` (``DANGJIAN_HEALTH_*`` settings)."""

    stale_runs: int = 5
    failure_rate: float = 0.3
    failure_jump: float = 0.2
    history: int = 5
    # An incremental run fetches few pages; one dead link must not read as a jump.
    min_failures: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> HealthOptions:
        return cls(
            stale_runs=settings.getint("DANGJIAN_HEALTH_STALE_RUNS", cls.stale_runs),
            failure_rate=settings.getfloat("DANGJIAN_HEALTH_FAILURE_RATE", cls.failure_rate),
            failure_jump=settings.getfloat("DANGJIAN_HEALTH_FAILURE_JUMP", cls.failure_jump),
        )


def failure_rate(row: Mapping[str, Any]) -> float:
    """Failures per fetched or failed page of one crawl_runs row."""
    failures = row.get("failures") or 0
    return failures / max(row.get("pages") or 0, failures, 1)


def evaluate_run(
    db: sqlite_utils.Database,
    run_id: str,
    site_id: str,
    article_links: int | None,
    options: HealthOptions,
) -> list[Alert]:
    """Compare a finished run with the site's history and return its alerts.

    Args:
        db: the news database.
        run_id: the run, already finished in ``crawl_runs``.
        site_id: the site.
        article_links: article links found on the run's list pages (None: unknown).
        options: thresholds.
    """
    row = db["crawl_runs"].get((run_id, site_id))
    alerts: list[Alert] = []

    def alert(kind: str, message: str) -> None:
        alerts.append(Alert(site_id, run_id, kind, message))

    if row["status"] == "blocked":
        alert("blocked", row["reason"] or "anti-bot challenge")
        return alerts
    if row["status"] == "failed":
        return alerts  # nothing fetched: the failure itself is the news
    list_pages = db.execute(
        "select count(*) from pages where run_id = ? and site_id = ? and kind = 'list' "
        "and status < 400",
        [run_id, site_id],
    ).fetchone()[0]
    if article_links == 0 and list_pages:
        alert(
            "layout",
            f"{list_pages} list page(s) but no article link on any: "
            "has the layout or the URL scheme changed?",
        )
    earlier = list(
        db.query(
            "select * from crawl_runs where site_id = ? and run_id != ? and finished_at is not null "
            "and status in ('ok', 'partial') order by started_at desc limit ?",
            [site_id, run_id, max(options.stale_runs, options.history)],
        )
    )
    streak = [row, *earlier][: options.stale_runs]
    if len(streak) >= options.stale_runs and not any(
        (r["articles_new"] or 0) + (r["duplicates"] or 0) for r in streak
    ):
        alert(
            "stale",
            f"no new articles in the last {options.stale_runs} runs: has the layout changed?",
        )
    rate = failure_rate(row)
    history = [failure_rate(r) for r in earlier[: options.history]]
    baseline = sum(history) / len(history) if history else 0.0
    if (
        (row["failures"] or 0) >= options.min_failures
        and rate >= options.failure_rate
        and rate - baseline >= options.failure_jump
    ):
        alert("failure-rate", f"failure rate {rate:.0%} (previous runs {baseline:.0%})")
    return alerts


def send_alerts(alerts: list[Alert], webhook: str | None, timeout: float = 5.0) -> None:
    """Log each alert at ERROR and POST it as JSON to ``webhook`` when one is set.

    A webhook that cannot be reached is logged, never raised: alerts must not break a crawl.
    """
    for item in alerts:
        logger.error("ALERT %s %s (run %s): %s", item.site_id, item.kind, item.run_id, item.message)
        if not webhook:
            continue
        data = json.dumps(asdict(item), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            webhook, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                answer.read()
        except (urllib.error.URLError, OSError) as exc:
            logger.error("alert webhook %s failed: %s", webhook, exc)


# The per-site health view: `dangjian status` and the `site_health` canned query in
# metadata.yml run this same SQL (tests/test_health.py checks they agree).
STATUS_SQL = """select s.id as site_id, s.name, r.started_at as last_run, r.status,
  coalesce(w.new_7d, 0) as new_7d, coalesce(w.runs_7d, 0) as runs_7d,
  round(1.0 * coalesce(w.failures_7d, 0)
        / max(coalesce(w.pages_7d, 0), coalesce(w.failures_7d, 0), 1), 3) as failure_rate,
  r.alerts, r.reason
from sites s
left join crawl_runs r on r.site_id = s.id and r.started_at = (
  select max(started_at) from crawl_runs where site_id = s.id)
left join (
  select site_id, sum(articles_new) as new_7d, count(*) as runs_7d,
         sum(failures) as failures_7d, sum(pages) as pages_7d
  from crawl_runs
  where started_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')
  group by site_id) w on w.site_id = s.id
where r.run_id is not null
order by s.id"""


def site_status(db_path: str) -> list[dict[str, Any]]:
    """Return one row per crawled site: last run, status, new articles and failure rate (7 days)."""
    db = sqlite_utils.Database(db_path)
    try:
        if "crawl_runs" not in db.table_names():
            return []
        return [dict(r) for r in db.query(STATUS_SQL)]
    finally:
        db.close()
