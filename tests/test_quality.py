"""The codebase keeps its promises: lint and types clean, docs true to the code."""

from __future__ import annotations

import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import notifier
from notifier.settings import SCHEMA

from .conftest import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff")
    assert ruff, "ruff is part of the test extra"
    result = subprocess.run(
        [ruff, "check", "notifier", "tests", "bench"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_documents_every_config_key() -> None:
    """Every key notify.toml accepts is in the README's configuration table."""
    for table, keys in SCHEMA.items():
        assert f"`[{table}]`" in README, table
        for key in keys:
            if key != "*":
                assert re.search(rf"`{re.escape(key)}`", README), f"[{table}] {key}"


def test_readme_first_commands_are_the_ci_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = "python -m pip install -e '.[test]' && python -m pytest"
    assert test_command in README and test_command in ci
    assert "notify send --segment affected --yes && notify status" in README


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_lists_each_command(command: str) -> None:
    assert f"`notify {command}" in README


def test_every_public_module_declares_a_sorted_all() -> None:
    for info in pkgutil.walk_packages(notifier.__path__, "notifier."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", None)
        assert names is not None, info.name
        assert list(names) == sorted(names), info.name
        for name in names:
            assert hasattr(module, name), f"{info.name}.{name}"
