"""Commands that providers bring, mounted on ``bcdr`` lazily; and what the engine gives them.

A provider package registers top-level commands under the entry-point group
``bcdr.commands`` (``sdk.cli`` is the contract). Always holds: a built-in command's name
wins over a mounted one; a mounted command's module is imported only when that command
runs or ``-help`` lists the commands; one that cannot be loaded becomes a command that
says why and what to do, so ``bcdr -help`` and every other command keep working.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from sdk.cli import Setting
from sdk.diagnostics import DiagnosticsError
from sdk.progress import Progress

GROUP = "bcdr.commands"


def _entry_points() -> dict[str, Any]:
    from engine.entrypoints import entry_points

    return {ep.name: ep for ep in entry_points(GROUP)}


def mounted_names() -> list[str]:
    """The names of the installed providers' commands."""
    return sorted(_entry_points())


def load_mounted(name: str) -> click.Command | None:
    """The mounted command ``name``, or None when no provider brings one."""
    ep = _entry_points().get(name)
    if ep is None:
        return None
    try:
        command = ep.load()
    except Exception as exc:  # noqa: BLE001 - any failure to load becomes a clear error
        return _unloadable(name, f"{type(exc).__name__}: {exc}")
    if not isinstance(command, click.Command):
        return _unloadable(name, f"{ep.value} is not a click command")
    return command


def _unloadable(name: str, why: str) -> click.Command:
    def fail() -> None:
        from engine.cli.app import CliError

        raise CliError(
            f"The command {name!r} could not be loaded",
            f"{why}. Reinstall bcdr with its providers (make test, or pip install -e .).",
        )

    return click.Command(  # takes any arguments: whatever was given, the answer is this
        name,
        callback=fail,
        help=f"(not available: {why})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


class CommandOutput:
    """``sdk.cli.Output`` on the engine's UI."""

    def __init__(self, ui: Any) -> None:
        self.ui = ui

    def print(self, text: str = "", *, err: bool = False, style: str | None = None) -> None:
        if style:
            from engine import render

            self.ui.print(render.Text(text, style=style), err=err)
        else:
            self.ui.print(text, err=err)

    def write(self, raw: str) -> None:
        self.ui.write(raw)

    def json(self, data: Any) -> None:
        from engine.cli.app import print_json

        print_json(self.ui, data)

    @contextmanager
    def progress(self) -> Iterator[Progress]:
        from engine.ui import ProgressBars

        with ProgressBars(self.ui) as bars:
            yield bars.report


def provider_setting(workdir: Path, provider: str, attribute: str) -> Setting | None:
    """``sdk.cli.CommandContext.provider_setting`` for the specs in ``workdir``."""
    if not any(workdir.glob("*.hcl")):
        return None
    from engine.config import load_config
    from engine.evaluate import Evaluator
    from engine.varvalues import collect_variable_values
    from sdk.values import UNKNOWN

    config, diags = load_config(workdir)
    block = config.providers.get(provider)
    if block is None or attribute not in block.body.attributes:
        return None
    if diags.has_errors:
        raise DiagnosticsError(diags.errors())
    values, vdiags = collect_variable_values(config, cli_vars=[], var_files=[], environ=os.environ)
    if vdiags.has_errors:
        raise DiagnosticsError(vdiags.errors())
    ev = Evaluator(config, {n: values.get(n, UNKNOWN) for n in config.variables}, workdir)
    body, _, bdiags = ev.eval_body(block.body, None, ev.context(), f"provider.{provider}")
    if bdiags.has_errors:
        raise DiagnosticsError(bdiags.errors())
    return Setting(body.get(attribute), str(block.range))
