"""Plans, diagnostics, apply events and state → terminal text (rich ``Text``) and JSON.

Pure formatting: no I/O, no decisions about what to do. Wording and symbols follow
Terraform where they mean the same (``+ create``, ``~ update in-place``, ``-/+``...).
``common`` holds wording and value formatting, ``plans`` the plan text, ``messages``
diagnostics, apply lines, outputs and state. Always holds: a sensitive value is never put
into text (it reads ``(sensitive value)``), a value known only after apply reads
``(known after apply)``, and the plain text of every result (``Text.plain``) is what
``-no-color`` prints.

The names below are this package's API, imported on first use (PEP 562): a command that
prints nothing of these (``bcdr --help``, ``bcdr version``) never imports rich.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.text import Text

    from engine.render.common import (
        KNOWN_AFTER,
        PRODUCT,
        SENSITIVE,
        cost_phrase,
        format_elapsed,
        format_value,
    )
    from engine.render.messages import (
        apply_summary_text,
        diagnostic_json,
        diagnostic_text,
        diagnostics_json,
        diagnostics_text,
        event_text,
        outputs_text,
        state_instance_text,
        state_json,
    )
    from engine.render.plans import (
        change_text,
        drift_text,
        outputs_changes_text,
        plan_json,
        plan_text,
        plan_totals,
    )

_WHERE = {
    "Text": "rich.text",
    **dict.fromkeys(
        ("KNOWN_AFTER", "PRODUCT", "SENSITIVE", "cost_phrase", "format_elapsed", "format_value"),
        "engine.render.common",
    ),
    **dict.fromkeys(
        (
            "apply_summary_text",
            "diagnostic_json",
            "diagnostic_text",
            "diagnostics_json",
            "diagnostics_text",
            "event_text",
            "outputs_text",
            "state_instance_text",
            "state_json",
        ),
        "engine.render.messages",
    ),
    **dict.fromkeys(
        (
            "change_text",
            "drift_text",
            "outputs_changes_text",
            "plan_json",
            "plan_text",
            "plan_totals",
        ),
        "engine.render.plans",
    ),
}


def __getattr__(name: str) -> Any:
    """The API's names, from their modules on first use (then cached in this module)."""
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


__all__ = [
    "KNOWN_AFTER",
    "PRODUCT",
    "SENSITIVE",
    "Text",
    "apply_summary_text",
    "change_text",
    "cost_phrase",
    "diagnostic_json",
    "diagnostic_text",
    "diagnostics_json",
    "diagnostics_text",
    "drift_text",
    "event_text",
    "format_elapsed",
    "format_value",
    "outputs_changes_text",
    "outputs_text",
    "plan_json",
    "plan_text",
    "plan_totals",
    "state_instance_text",
    "state_json",
]
