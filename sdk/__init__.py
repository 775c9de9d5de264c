"""bcdr's provider SDK: everything the engine and every provider agree on, and nothing else.

The Provider protocol with its request/response dataclasses (``sdk.provider``), resource
schemas (``sdk.schema``), diagnostics and source ranges (``sdk.diagnostics``), resource
addresses (``sdk.addrs``), values that are unknown or sensitive (``sdk.values``) and the
progress callback (``sdk.progress``). Always holds: ``sdk`` imports nothing of bcdr — the
engine, the state store and the providers import it, never the other way round.
The names below are imported from their modules on first use (PEP 562), so importing one
module of the SDK (``sdk.units``) does not import them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sdk.diagnostics import Diagnostic, Diagnostics, Severity, SourceRange, error, warning
    from sdk.progress import Progress
    from sdk.provider import (
        ApplyRequest,
        ApplyResponse,
        DeleteRequest,
        DeleteResponse,
        ImportRequest,
        ImportResponse,
        PlanRequest,
        PlanResponse,
        Provider,
        ProviderContext,
        ReadRequest,
        ReadResponse,
        ValidateRequest,
        ValidateResponse,
    )
    from sdk.schema import Attribute, Schema, Validator

_WHERE = {
    "ApplyRequest": "sdk.provider",
    "ApplyResponse": "sdk.provider",
    "Attribute": "sdk.schema",
    "DeleteRequest": "sdk.provider",
    "DeleteResponse": "sdk.provider",
    "Diagnostic": "sdk.diagnostics",
    "Diagnostics": "sdk.diagnostics",
    "ImportRequest": "sdk.provider",
    "ImportResponse": "sdk.provider",
    "PlanRequest": "sdk.provider",
    "PlanResponse": "sdk.provider",
    "Progress": "sdk.progress",
    "Provider": "sdk.provider",
    "ProviderContext": "sdk.provider",
    "ReadRequest": "sdk.provider",
    "ReadResponse": "sdk.provider",
    "Schema": "sdk.schema",
    "Severity": "sdk.diagnostics",
    "SourceRange": "sdk.diagnostics",
    "ValidateRequest": "sdk.provider",
    "ValidateResponse": "sdk.provider",
    "Validator": "sdk.schema",
    "error": "sdk.diagnostics",
    "warning": "sdk.diagnostics",
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
    "ApplyRequest",
    "ApplyResponse",
    "Attribute",
    "DeleteRequest",
    "DeleteResponse",
    "Diagnostic",
    "Diagnostics",
    "ImportRequest",
    "ImportResponse",
    "PlanRequest",
    "PlanResponse",
    "Progress",
    "Provider",
    "ProviderContext",
    "ReadRequest",
    "ReadResponse",
    "Schema",
    "Severity",
    "SourceRange",
    "ValidateRequest",
    "ValidateResponse",
    "Validator",
    "error",
    "warning",
]
