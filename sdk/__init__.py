"""bcdr's provider SDK: everything the engine and every provider agree on, and nothing else.

The Provider protocol with its request/response dataclasses (``sdk.provider``), resource
schemas (``sdk.schema``), diagnostics and source ranges (``sdk.diagnostics``), resource
addresses (``sdk.addrs``), values that are unknown or sensitive (``sdk.values``) and the
progress callback (``sdk.progress``). Always holds: ``sdk`` imports nothing of bcdr — the
engine, the state store and the providers import it, never the other way round.
"""

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
