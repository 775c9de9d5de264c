"""Commands a provider brings are mounted from the ``bcdr.commands`` entry points (issue 9).

The engine knows none of them by name: ``platform``, ``serve``, ``verify`` and ``gc`` reach
``bcdr`` only through the installed package's entry points, and a command whose module
cannot be loaded says so instead of breaking every other command.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import pytest

from engine.cli import mounting
from tests.probe import fresh_modules


def test_the_platform_commands_come_from_entry_points() -> None:
    names = {ep.name: ep.value for ep in entry_points(group=mounting.GROUP)}
    assert set(names) == {"platform", "serve", "verify", "gc", "schedule", "backup"}
    assert all(value.startswith("providers.platform.cli.") for value in names.values())
    assert mounting.mounted_names() == ["backup", "gc", "platform", "schedule", "serve", "verify"]


def test_help_lists_them_and_init_names_them(bcdr) -> None:
    listed = bcdr("-help")
    for name in ("platform", "serve", "verify", "gc", "schedule", "backup"):
        assert f"\n  {name} " in listed.output
    init = bcdr("init", "-no-color")
    assert init.exit_code == 0, init.output
    assert "- commands they bring: backup, gc, platform, schedule, serve, verify" in init.output


def test_a_mounted_group_reads_options_the_terraform_way(bcdr, tmp_path) -> None:
    # -home=DIR and -home DIR, as every built-in command takes them
    result = bcdr("platform", "list", f"-home={tmp_path / 'none'}")
    assert result.exit_code == 1
    assert "no embedded platform at" in result.output
    unknown = bcdr("platform", "list", "-hme", "x")
    assert unknown.exit_code == 2
    assert "No such option '-hme'" in unknown.output and "'-home'" in unknown.output


def test_a_command_that_cannot_be_loaded_says_why(bcdr, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = EntryPoint("rescue", "bcdr_no_such_module.cli:rescue", mounting.GROUP)
    monkeypatch.setattr(mounting, "_entry_points", lambda: {"rescue": broken})
    listed = bcdr("-help")
    assert listed.exit_code == 0, listed.output  # -help still works
    assert "rescue" in listed.output and "not available" in listed.output
    result = bcdr("rescue", "-now")
    assert result.exit_code == 1
    assert "Error: The command 'rescue' could not be loaded" in result.output
    assert "No module named 'bcdr_no_such_module'" in result.output
    assert "Traceback" not in result.output
    assert bcdr("version").exit_code == 0  # the other commands are untouched


def test_loading_the_platform_commands_imports_no_core() -> None:
    """Listing commands loads their modules; the core is imported only when one runs."""
    _, modules = fresh_modules(
        "import providers.platform.cli.group, providers.platform.cli.serve\n"
        "import providers.platform.cli.store"
    )
    assert [m for m in modules if m.split(".")[0] == "core"] == []
