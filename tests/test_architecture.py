"""The layout's promises (../shared/DESIGN.md §2), read from the import graph and the source.

Each folder of ``notifier/`` is one part. These arrows between parts must never exist, and
storage stays behind the ledger's interface: no database driver and no SQL text outside
``notifier/ledger/``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "notifier"

# (from part, to part): why the arrow must not exist
NEVER: dict[tuple[str, str], str] = {
    ("render", "transports"): "rendering is pure: it knows no wire",
    ("render", "ledger"): "rendering is pure: it knows no storage",
    ("render", "cli"): "rendering is pure: it knows no screen",
    ("transports", "ledger"): "a transport reports outcomes; the pipeline records them",
    ("transports", "pipeline"): "a transport reports outcomes; the pipeline drives it",
    ("checks", "ledger"): "checks report; they never record",
    ("ledger", "pipeline"): "storage knows no flow",
    ("ledger", "lists"): "storage knows no flow (its value types live in ledger/base.py or models.py)",
    ("ledger", "compliance"): "storage knows no flow",
    ("ledger", "cli"): "storage knows no screen",
    ("lists", "render"): "lists know no templates",
}
DRIVERS = {"sqlite3", "psycopg", "psycopg_pool"}
SQL = re.compile(
    r"^\s*(SELECT\s.+\sFROM\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|"
    r"CREATE\s+(TABLE|INDEX|TEMP)|DROP\s+(TABLE|DATABASE))",
    re.I | re.S,
)


def part_of(module: str) -> str:
    """``notifier.render.mime`` -> ``render``; a top-level module is its own part."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = path
    return out


def imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return found


GRAPH = {name: imports(name, path) for name, path in modules().items()}


def test_no_part_imports_across_a_forbidden_arrow() -> None:
    """Every import between parts goes the way the layout allows."""
    wrong = []
    for module, targets in GRAPH.items():
        here = part_of(module)
        for target in targets:
            if not target.startswith("notifier.") or target not in GRAPH:
                continue
            there = part_of(target)
            if here == there:
                continue
            why = NEVER.get((here, there))
            if there == "cli" and here != "cli" and module != "notifier.__main__":
                why = "only the command line may import the command line"
            if there == "web" and here not in ("cli", "web"):
                why = "only the command line starts the web servers"
            if why:
                wrong.append(f"{module} -> {target}: {why}")
    assert wrong == []


def test_no_database_driver_outside_the_ledger() -> None:
    """Only notifier/ledger/ talks to a database."""
    wrong = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if part_of(module) != "ledger"
        for target in targets
        if target.split(".")[0] in DRIVERS
    ]
    assert wrong == []


def test_no_sql_outside_the_ledger() -> None:
    """Every statement is a named ledger method: no SQL text in any other part."""
    wrong = []
    for module, path in modules().items():
        if part_of(module) == "ledger":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.value[:60]!r}")
    assert wrong == []


@pytest.mark.parametrize("arrow", sorted(NEVER))
def test_the_graph_reader_sees_imports_of_each_part(arrow: tuple[str, str]) -> None:
    """The check can fail: each part named in an arrow exists and is read."""
    for part in arrow:
        assert any(part_of(m) == part for m in GRAPH), part
