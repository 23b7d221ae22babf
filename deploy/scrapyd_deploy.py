"""Build the crawler's egg and deploy it to Scrapyd (the job scrapyd-deploy does).

scrapyd-deploy packages the folder holding scrapy.cfg; ours sits inside the ``crawler``
package, so its egg would miss ``crawler`` itself and ``pipeline``. This script packages both,
unchanged, with the ``scrapy.settings`` entry point Scrapyd reads, and uploads the egg with
Scrapyd's HTTP API (``addversion.json``).

Example:
    python deploy/scrapyd_deploy.py                       # target from scrapy.cfg
    python deploy/scrapyd_deploy.py --url http://127.0.0.1:6800/ --version r42
    curl http://127.0.0.1:6800/schedule.json -d project=dangjian -d spider=news \\
         -d setting=DANGJIAN_DB=/srv/dangjian/news.db
"""

from __future__ import annotations

import argparse
import configparser
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SETUP_PY = """from setuptools import find_packages, setup

setup(
    name="dangjian",
    version="{version}",
    packages=find_packages(include=["crawler", "crawler.*", "pipeline", "pipeline.*"]),
    package_data={{"crawler": ["*.yml", "*.cfg"],
                  "sample_sites": ["content/*", "templates/*"],
                  "pipeline": ["static/*"]}},
    entry_points={{"scrapy": ["settings = crawler.settings"]}},
    zip_safe=False,
)
"""


def build_egg(out_dir: Path, version: str) -> Path:
    """Build ``dangjian-<version>.egg`` from this checkout into ``out_dir``; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for package in ("crawler", "pipeline"):
            shutil.copytree(
                ROOT / package,
                Path(tmp) / package,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        (Path(tmp) / "setup.py").write_text(SETUP_PY.format(version=version))
        subprocess.run(
            [sys.executable, "setup.py", "-q", "bdist_egg", "-d", str(out_dir)],
            cwd=tmp,
            check=True,
            capture_output=True,
        )
    return next(out_dir.glob(f"dangjian-{version}-*.egg"))


def deploy(url: str, project: str, version: str, egg: Path) -> dict:
    """Upload ``egg`` as ``project`` ``version`` to the Scrapyd at ``url``; return its answer."""
    answer = httpx.post(
        url.rstrip("/") + "/addversion.json",
        data={"project": project, "version": version},
        files={"egg": (egg.name, egg.read_bytes())},
        timeout=60,
    )
    answer.raise_for_status()
    result = answer.json()
    if result.get("status") != "ok":
        raise SystemExit(f"Scrapyd refused the egg: {result}")
    return result


def main() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "crawler" / "scrapy.cfg")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--url",
        default=config.get("deploy", "url", fallback=None),
        help="Scrapyd URL (default: scrapy.cfg [deploy] url)",
    )
    parser.add_argument("--project", default=config.get("deploy", "project", fallback="dangjian"))
    parser.add_argument("--version", default=time.strftime("r%Y%m%d%H%M%S"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        egg = build_egg(Path(tmp), args.version)
        print(deploy(args.url, args.project, args.version, egg))


if __name__ == "__main__":
    main()
