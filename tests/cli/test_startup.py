"""``bcdr --help`` imports only what listing the commands needs (issue 9, start-up).

Not timed (the speed goal lives in bench/startup.py): it checks which modules a real
``bcdr --help`` process imported, since each heavy library left at a module's top is what
made start-up 8x the bare interpreter's.
"""

from __future__ import annotations

from tests.probe import bcdr_modules

# importlib.metadata is not on the list: -help lists the commands providers bring, which
# only their entry points name
HEAVY = ("rich", "sqlite3", "sqlite_utils", "lark", "hcl2", "state", "core", "yaml", "bcrypt")


def test_help_imports_no_rendering_state_parser_or_provider_library() -> None:
    out, code, modules = bcdr_modules("--help")
    assert code == 0 and "Usage: bcdr" in out
    assert [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY] == []


def test_a_command_loads_only_its_own_module() -> None:
    _, code, modules = bcdr_modules("version")
    assert code == 0
    assert [m for m in modules if m.startswith("engine.cli.")] == [
        "engine.cli.app",
        "engine.cli.tools",
    ]
