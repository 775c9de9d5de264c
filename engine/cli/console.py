"""``bcdr console``: evaluate expressions against the configuration and the state.

Always holds: the state is read as a copy and nothing is written; from a terminal each
line is read after a ``> `` prompt and an error is printed and the session goes on
(``exit`` or end of input ends it); from a pipe the first error ends the run with exit 1,
as Terraform's console does.
"""

from __future__ import annotations

import contextlib
import sys

import click

from engine.cli.app import (
    PlanArgs,
    flush_warnings,
    load,
    lock_state,
    lock_timeout_option,
    main,
    open_state,
    registry_of,
    session_of,
    var_options,
)
from sdk.cli import no_color_option
from sdk.diagnostics import DiagnosticsError


@main.command()
@no_color_option
@var_options
@lock_timeout_option
@click.pass_context
def console(
    ctx: click.Context,
    no_color: bool,
    var: tuple[str, ...],
    var_file: tuple[str, ...],
    lock_timeout: float,
) -> None:
    """Evaluate expressions (variables, locals, functions, resources as the state holds
    them), one per line from a terminal or a pipe; `exit` ends the session."""
    from engine import render
    from engine.console import Console, expressions

    s = session_of(ctx)
    ui = s.use_ui(no_color)
    exists = s.state.exists()
    with lock_state(s, "console", lock_timeout) if exists else contextlib.nullcontext():
        registry = registry_of(s)
        config, values, _ = load(s, PlanArgs(var=var, var_file=var_file), registry)
        records = open_state(s, read_only=True).instances() if exists else []
        session = Console(config, values, records, s.workdir)
    flush_warnings(s)
    interactive = sys.stdin.isatty()
    for _, text in expressions(_lines(interactive)):
        if text.strip() == "exit":
            return
        shown, diags = session.evaluate(text)
        if diags.has_errors:
            if not interactive:
                raise DiagnosticsError(diags.errors())
            for d in diags.errors():
                ui.print(render.diagnostic_text(d, {"<console>": text.splitlines()}), err=True)
            continue
        ui.print(shown)


def _lines(interactive: bool):
    if not interactive:
        yield from sys.stdin
        return
    while True:
        try:
            yield input("> ")
        except (EOFError, KeyboardInterrupt):
            return
