"""The house plan holds: layer contracts (import-linter) and one writer of SQL (pipeline/store)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dangjian", "ops", "distributed", "crawler", "pipeline", "sample_sites")
WRITE_SQL = re.compile(
    r"^\s*(insert\s+(or\s+\w+\s+)?into|replace\s+into|update\s+\S+\s+set|delete\s+from"
    r"|create\s+(unique\s+|virtual\s+)?(table|index|view|trigger)|drop\s+(table|index|view)"
    r"|alter\s+table)\b",
    re.I,
)
# sqlite-utils Table methods that write.
WRITE_METHODS = {
    "insert",
    "insert_all",
    "upsert",
    "upsert_all",
    "update",
    "delete",
    "delete_where",
    "create",
    "add_column",
    "create_index",
    "enable_fts",
    "transform",
    "drop",
}


def test_import_contracts_hold():
    """`lint-imports` (the contracts in .importlinter) passes: CLI → ops/distributed → crawler → pipeline."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def sql_writes_outside_the_store() -> list[str]:
    """Return ``path:line what`` for every SQL write found outside pipeline/store."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("pipeline/store/"):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and WRITE_SQL.match(node.value)
                ):
                    found.append(f"{rel}:{node.lineno} SQL {node.value[:40]!r}")
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in WRITE_METHODS
                    and isinstance(node.func.value, ast.Subscript)  # db["table"].insert(...)
                ):
                    found.append(f"{rel}:{node.lineno} .{node.func.attr}() on a table")
    return found


def test_only_the_store_writes_sql():
    """No module outside pipeline/store holds a writing SQL statement or a sqlite-utils write."""
    assert sql_writes_outside_the_store() == []


def test_the_scan_finds_a_write(tmp_path, monkeypatch):
    """The scan is not vacuous: a write placed outside the store is reported."""
    fake = tmp_path / "pipeline"
    fake.mkdir()
    (fake / "rogue.py").write_text(
        'def f(db):\n    db.execute("UPDATE articles SET title = 1")\n'
        '    db["pages"].update(1, {"outcome": "x"})\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGES", ("pipeline",))
    assert len(sql_writes_outside_the_store()) == 2


def test_readme_names_every_room():
    """The README's folder table and the tree agree: every package listed, every listed folder real."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z_/]+)/`", readme, re.M))
    assert listed, "no folder table in the README"
    for folder in listed:
        assert (ROOT / folder).is_dir(), f"README lists {folder}/, which does not exist"
    rooms = {p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob("*/__init__.py")}
    rooms |= {p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob("pipeline/*/__init__.py")}
    rooms -= {"tests", "bench"}
    assert rooms <= listed, f"not in the README's folder table: {sorted(rooms - listed)}"
