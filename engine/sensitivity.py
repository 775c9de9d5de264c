"""What the engine says about sensitive values, so that no diagnostic shows one (EXT-4).

Marks themselves live in ``sdk/values.py`` and are carried by the evaluator; here are
the checks and wordings built on them: an output computed from a sensitive value must say
``sensitive = true``, an error about a sensitive argument never quotes its value, and an
attribute the state holds unsealed but now sensitive is a change. Always holds: these
functions only read what they are given and return diagnostics or names; none prints.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sdk.diagnostics import Diagnostics, SourceRange, error


def secret_ranges(ranges: dict[str, SourceRange], names: list[str]) -> set[SourceRange]:
    """Where the arguments ``names`` are written (a body's per-argument ranges)."""
    return {ranges[n] for n in names if n in ranges}


def hide_values(diags: Diagnostics, secret: set[SourceRange]) -> Diagnostics:
    """Errors about a sensitive argument, with a detail that cannot quote its value
    (``diags`` itself when there is nothing to hide)."""
    if not diags or not secret:
        return diags
    return Diagnostics(
        [
            replace(
                d,
                detail=f"{d.range}: this argument is sensitive, so what is wrong with its "
                "value is not shown (it could quote it); check the value it is given",
            )
            if d.is_error and d.range in secret
            else d
            for d in diags
        ]
    )


def check_output_marks(name: str, output: Any, marked: bool) -> Diagnostics:
    """An output computed from a sensitive value must say so (EXT-4), as in Terraform."""
    if not marked or output.sensitive:
        return Diagnostics()
    return Diagnostics(
        [
            error(
                "Output refers to sensitive values",
                f'{output.range}: output "{name}" is computed from a sensitive value (a '
                "sensitive variable, or a value derived from one), and outputs are printed. "
                f'If it may be shown only on request, add sensitive = true to output "{name}"; '
                "otherwise output a value that is not secret",
                output.range,
                address=f"output.{name}",
            )
        ]
    )


def newly_sensitive(rec: Any, before: dict[str, Any], sensitive: list[str]) -> list[str]:
    """Attributes now sensitive that the state holds unsealed (stored before they were
    marked): like Terraform, a change of sensitivity is an update, so apply seals them."""
    if not sensitive:
        return []
    stored = {p.split(".")[0] for p in rec.sensitive}
    return [k for k in sensitive if k not in stored and before.get(k) is not None]
