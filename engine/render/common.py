"""What every renderer shares: wording constants, colours, value and size formatting.

Always holds: ``format_value`` never shows a sensitive value (callers mask before) and
renders ``UNKNOWN`` as ``(known after apply)``; sizes are binary units (KiB, MiB...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from rich.text import Text

from engine.numbers import format_number
from engine.plan import Action
from sdk.units import cost_words
from sdk.values import UNKNOWN

KNOWN_AFTER = "(known after apply)"
SENSITIVE = "(sensitive value)"
PRODUCT = "bcdr"

STYLE = {"+": "green", "-": "red", "~": "yellow", "-/+": "magenta", "+/-": "magenta"}
LEGEND = {
    Action.CREATE: "create",
    Action.UPDATE: "update in-place",
    Action.DELETE_THEN_CREATE: "destroy and then create replacement",
    Action.CREATE_THEN_DELETE: "create replacement and then destroy",
    Action.DELETE: "destroy",
    Action.READ: "read (data resources)",
}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
SHOWN_UNCHANGED = ("id", "name")


# ------------------------------------------------------------------------- values
def format_value(value: Any, indent: int = 0) -> str:
    """HCL-like text of a value; nested lines are indented from column ``indent``."""
    if value is UNKNOWN:
        return KNOWN_AFTER
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    pad = " " * (indent + 4)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [f"{pad}{format_value(v, indent + 4)}," for v in value]
        return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        keys = {k: (k if _IDENT.match(str(k)) else json.dumps(str(k))) for k in value}
        width = max(len(k) for k in keys.values())
        items = [
            f"{pad}{keys[k]:<{width}} = {format_value(v, indent + 4)}" for k, v in value.items()
        ]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    return json.dumps(str(value))


def format_elapsed(seconds: float) -> str:
    """Terraform's ``0s``, ``12s``, ``1m5s``."""
    s = int(seconds)
    return f"{s // 60}m{s % 60}s" if s >= 60 else f"{s}s"


def cost_phrase(cost: Mapping[str, int | float], words: Mapping[str, str]) -> str:
    """Each non-zero cost item in its provider's words (``2.0 KiB to snapshot``); a key the
    provider gave no words for reads ``key: amount``."""
    return ", ".join(
        cost_words(words[key], n) if key in words else f"{key.replace('_', ' ')}: {n}"
        for key, n in cost.items()
        if n
    )


def line(text: Text, s: str, style: str | None = None) -> None:
    """Append ``s`` and a newline to ``text``."""
    text.append(s, style=style)
    text.append("\n")
