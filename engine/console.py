"""``bcdr console``: expressions evaluated against the configuration and the state.

As Terraform's console: each expression sees the variables (with their values from the
command line, files and environment), the locals, the functions and the resources as the
state holds them (a resource the state does not hold is ``(known after apply)``);
sensitive values print ``(sensitive value)``. An expression may span lines while a
bracket is open.

Always holds: nothing is written (the state is read as a copy); an error names the
expression's line and does not end an interactive session.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.config import parse_expression
from engine.evaluate import Evaluator
from engine.render.common import format_value
from sdk.addrs import InstanceAddr
from sdk.diagnostics import Diagnostics

if TYPE_CHECKING:
    from engine.configmodel import Config
    from state.records import InstanceRecord

SENSITIVE = "(sensitive value)"
_OPEN, _CLOSE = "([{", ")]}"


class Console:
    """An evaluator over the configuration and the state's records."""

    def __init__(
        self,
        config: Config,
        variables: dict[str, Any],
        records: Iterable[InstanceRecord],
        working_dir: Path,
    ) -> None:
        self.ev = Evaluator(config, variables, working_dir)
        for rec in records:
            inst = InstanceAddr.parse(rec.address)
            if inst.resource in config.resources:
                self.ev.set_instance(inst.resource, inst.key, rec.attributes, rec.sensitive)

    def evaluate(self, text: str, filename: str = "<console>") -> tuple[str | None, Diagnostics]:
        """The value of the expression ``text`` as the console prints it, or the problems."""
        expr, diags = parse_expression(text, filename)
        if expr is None or diags.has_errors:
            return None, diags
        value, marked, sub = self.ev.eval_expr(expr)
        diags.extend(sub)
        if diags.has_errors:
            return None, diags
        return (SENSITIVE if marked else format_value(value)), diags


def expressions(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Each expression of the input with its first line's number: lines are joined while a
    bracket is open (outside strings); blank lines are skipped."""
    held: list[str] = []
    first = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n")
        if not held:
            if not line.strip():
                continue
            first = number
        held.append(line)
        if _depth("\n".join(held)) <= 0:
            yield first, "\n".join(held)
            held = []
    if held:
        yield first, "\n".join(held)


def _depth(text: str) -> int:
    """Brackets opened minus closed, outside string literals."""
    depth, quoted, escaped = 0, False, False
    for ch in text:
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
    return depth
