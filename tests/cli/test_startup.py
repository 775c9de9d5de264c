"""``bcdr --help`` and ``bcdr version`` import only what they need (issue 9, start-up).

Not timed (the speed goal lives in bench/startup.py): it checks which modules a real
``bcdr`` process imported, since each heavy library left at a module's top is what made
start-up 8x the bare interpreter's. The entry points come from their kept answer
(``engine.entrypoints``), so each command runs once to keep it and is then checked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.probe import bcdr_modules

HEAVY = ("rich", "sqlite3", "sqlite_utils", "lark", "hcl2", "state", "core", "yaml", "bcrypt")
# importlib.metadata and what it imports (email, zipfile, csv): the kept entry points stand
# in for it; json, difflib and signal: imported by the code that uses them
START_UP = ("importlib.metadata", "email", "zipfile", "csv", "json", "difflib", "signal")


@pytest.fixture
def settled(tmp_path: Path) -> dict[str, object]:
    """A child's environment with a cache folder of its own, run from a folder nobody writes
    to (``python -c`` searches its current folder for distributions too)."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    return {"env": env, "cwd": Path(sys.prefix)}


def _top(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in names or m in names]


def test_help_imports_no_rendering_state_parser_or_provider_library(settled) -> None:
    bcdr_modules("--help", **settled)  # keeps the entry points
    out, code, modules = bcdr_modules("--help", **settled)
    assert code == 0 and "Usage: bcdr" in out and "\n  platform " in out
    assert _top(modules, HEAVY) == []
    assert _top(modules, START_UP) == []


def test_version_loads_no_provider_and_only_its_own_command_module(settled) -> None:
    bcdr_modules("version", **settled)
    out, code, modules = bcdr_modules("version", **settled)
    assert code == 0 and "+ provider platform v" in out
    assert [m for m in modules if m.startswith("engine.cli.")] == [
        "engine.cli.app",
        "engine.cli.tools",
    ]
    # the providers' versions are their distributions': no provider module, no schema
    assert _top(modules, ("providers", *HEAVY, *START_UP)) == []
    assert [m for m in modules if m in ("sdk.provider", "sdk.schema")] == []
