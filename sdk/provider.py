"""The Provider protocol: a schema plus CRUD per resource type, one request in, one response out.

Each call takes one request dataclass and returns one response dataclass, so fields can be
added without breaking callers. Providers report user mistakes as diagnostics, never as
exceptions. Always holds: a provider never writes engine state; it returns the new state
of the instance and the engine saves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sdk.diagnostics import Diagnostics, SourceRange
from sdk.progress import Progress
from sdk.schema import Schema


@dataclass
class ProviderContext:
    """What a provider is configured with: where it works and its provider block's values."""

    working_dir: Path
    data_dir: Path
    config: dict[str, Any] = field(default_factory=dict)
    config_range: SourceRange | None = None


@dataclass
class ValidateRequest:
    type_name: str
    address: str
    config: dict[str, Any]
    ranges: dict[str, SourceRange] = field(default_factory=dict)
    range: SourceRange | None = None


@dataclass
class ValidateResponse:
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    # computed values the configuration alone determines (an id made of names): validate
    # passes them to the resources that refer to this one, so that they can be checked
    # against it before any plan
    known: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReadRequest:
    type_name: str
    address: str
    id: str | None
    prior_state: dict[str, Any]


@dataclass
class ReadResponse:
    new_state: dict[str, Any] | None
    """None: the object is gone from the platform."""
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    gone: str | None = None
    """Why it is gone when that is not a deletion: ``"expired"`` or ``"revoked"``."""


@dataclass
class PlanRequest:
    type_name: str
    address: str
    prior_state: dict[str, Any] | None
    proposed: dict[str, Any] | None
    """The configuration's values (``UNKNOWN`` where not known yet); None for a delete."""
    ranges: dict[str, SourceRange] = field(default_factory=dict)
    range: SourceRange | None = None
    prior_private: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlanResponse:
    planned_state: dict[str, Any] | None
    requires_replace: list[str] = field(default_factory=list)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    notes: list[str] = field(default_factory=list)
    cost: dict[str, int] = field(default_factory=dict)
    """What the change costs the platform, by the provider's own keys."""
    cost_words: dict[str, str] = field(default_factory=dict)
    """How each cost key reads: a phrase with ``{bytes}`` or ``{count}`` for the amount
    (``{"bytes_to_snapshot": "{bytes} to snapshot"}``); the engine renders only these."""
    private: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApplyRequest:
    type_name: str
    address: str
    prior_state: dict[str, Any] | None
    planned_state: dict[str, Any]
    config: dict[str, Any]
    private: dict[str, Any] = field(default_factory=dict)
    progress: Progress | None = None


@dataclass
class ApplyResponse:
    new_state: dict[str, Any] | None
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    private: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeleteRequest:
    type_name: str
    address: str
    prior_state: dict[str, Any]
    progress: Progress | None = None


@dataclass
class DeleteResponse:
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


@dataclass
class ImportRequest:
    type_name: str
    address: str
    id: str


@dataclass
class ImportResponse:
    state: dict[str, Any] | None
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


@runtime_checkable
class Provider(Protocol):
    """A set of resource types. ``name`` is what a ``provider "NAME" { }`` block configures."""

    name: str

    def schemas(self) -> dict[str, Schema]: ...

    def configure(self, ctx: ProviderContext) -> Diagnostics: ...

    def validate(self, req: ValidateRequest) -> ValidateResponse: ...

    def read(self, req: ReadRequest) -> ReadResponse: ...

    def plan(self, req: PlanRequest) -> PlanResponse: ...

    def apply(self, req: ApplyRequest) -> ApplyResponse: ...

    def delete(self, req: DeleteRequest) -> DeleteResponse: ...

    def import_resource(self, req: ImportRequest) -> ImportResponse: ...

    def close(self) -> None: ...
