"""What every HCL function shares: its error type and the checks of its arguments.

Always holds: a bad argument is a ``FunctionError`` whose message names the argument
and the type it needed (``engine/exprops.py`` adds the call's file:line); ``as_number`` and
``as_string`` convert as HCL does (``"3"`` is a number, ``3`` prints as ``"3"``) and
refuse anything else; ``graphemes`` splits a string into characters as Terraform counts
them.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from engine.numbers import format_number, parse_number
from engine.typeconv import type_name


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
        return format_number(value)
    need(value, str, "a string", arg)
    return value


def _joins_previous(ch: str) -> bool:
    """Whether ``ch`` belongs to the character before it (a combining mark, a variation
    selector, a skin-tone modifier, a keycap): Unicode's grapheme rules, the common part."""
    o = ord(ch)
    return (
        unicodedata.combining(ch) != 0
        or unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or 0xFE00 <= o <= 0xFE0F
        or 0x1F3FB <= o <= 0x1F3FF
        or 0xE0020 <= o <= 0xE007F
        or o == 0x200D
    )


def graphemes(text: str) -> list[str]:
    """The user-perceived characters of ``text``, as Terraform counts them: a character with
    its combining marks and modifiers, and emoji joined by zero-width joiners, are one."""
    out: list[str] = []
    for ch in text:
        if out and (_joins_previous(ch) or out[-1].endswith("\u200d")):
            out[-1] += ch
        else:
            out.append(ch)
    return out
