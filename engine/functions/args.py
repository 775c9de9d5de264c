"""What every HCL function shares: its error type and the checks of its arguments.

Always holds: a bad argument is a ``FunctionError`` whose message names the argument
and the type it needed (``engine/exprops.py`` adds the call's file:line); ``as_number`` and
``as_string`` convert as HCL does (``"3"`` is a number, ``3`` prints as ``"3"``) and
refuse anything else.
"""

from __future__ import annotations

from typing import Any

from engine.typeconv import number_str, parse_number, type_name


class FunctionError(ValueError):
    """A user mistake in a function call (bad argument)."""

    def __init__(self, summary: str, detail: str = ""):
        super().__init__(summary)
        self.detail = detail


def need(value: Any, kind: type | tuple[type, ...], what: str, arg: str = "argument") -> None:
    """Refuse ``value`` unless it is a ``kind`` (a bool is never a number)."""
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise FunctionError(f"the {arg} must be {what}, not a bool")
    if not isinstance(value, kind):
        raise FunctionError(f"the {arg} must be {what}, not a {type_name(value)}")


def as_number(value: Any, arg: str = "argument") -> int | float:
    """A number, or a string that holds one."""
    if isinstance(value, str):
        try:
            return parse_number(value)
        except ValueError:
            raise FunctionError(f'the {arg} must be a number, not "{value}"') from None
    need(value, (int, float), "a number", arg)
    return value


def as_string(value: Any, arg: str = "argument") -> str:
    """A string, or a number or bool printed as HCL does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_str(value)
    need(value, str, "a string", arg)
    return value
