"""Documentation stays in step with the code."""

import re
from pathlib import Path

import crawler.settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_dangjian_setting_is_documented():
    documented = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    names = {n for n in dir(crawler.settings) if n.startswith("DANGJIAN_")}
    used = set(
        re.findall(
            r'"(DANGJIAN_[A-Z_]+)"',
            "".join(p.read_text() for p in (ROOT / "crawler").rglob("*.py")),
        )
    )
    missing = sorted(n for n in names | used if f"`{n}`" not in documented)
    assert not missing, f"add to docs/settings.md: {missing}"


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block


def test_metadata_describes_every_table_and_column(tmp_path):
    import yaml

    from pipeline.store import Store

    store = Store(tmp_path / "news.db")
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    tables = metadata["databases"]["news"]["tables"]
    for name in ("articles", "sites", "pages", "crawl_runs", "failures"):
        described = tables[name]["columns"]
        columns = [c.name for c in store.db[name].columns]
        missing = [c for c in columns if c not in described and c != "id"]
        assert not missing, f"metadata.yml: describe {name}.{missing}"
