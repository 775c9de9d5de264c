"""The Provider protocol: a schema plus CRUD per resource type, one request in, one response out.

Each call takes one request dataclass and returns one response dataclass, so fields can be
added without breaking callers. Providers report user mistakes as diagnostics, never as
exceptions. Always holds: a provider never writes engine state; it returns the new state
of the instance and the engine saves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from engine.diagnostics import Diagnostics, SourceRange

Validator = Callable[[Any], str | None]
"""Returns ``None`` when the value is fine, else a message that says what to do."""

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Attribute:
    """One argument or computed attribute of a resource type.

    ``type`` is an HCL type constraint string: ``string``, ``number``, ``bool``, ``any``,
    ``list(string)``, ``map(string)``, ``set(string)``, ``list(number)``... A nested block
    (``network { ... }``) has ``block`` set to its schema and ``nesting`` to ``single``
    (value: a dict or None) or ``list`` (value: a list of dicts). ``derived_from`` names
    the arguments a computed attribute's value is made from: it is sensitive whenever one
    of them is (``bcdr_data``'s ``output`` from ``input``).

    ``allowed`` lists the only values a string argument (or each element of a list of
    strings) takes, an enum such as a region or a SKU: the engine refuses any other value at
    ``validate`` with the closest allowed one as did-you-mean. ``normalize`` maps a value to
    the form it is compared in (Azure's region names ignore case and spaces: ``"East US"``
    is ``eastus``).
    """

    type: str = "string"
    required: bool = False
    optional: bool = False
    computed: bool = False
    force_new: bool = False
    sensitive: bool = False
    default: Any = None
    description: str = ""
    validators: tuple[Validator, ...] = ()
    allowed: tuple[str, ...] = ()
    normalize: Callable[[str], str] | None = None
    block: Schema | None = None
    nesting: Literal["single", "list"] | None = None
    derived_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    attributes: dict[str, Attribute]
    version: int = 0
    description: str = ""

    def sensitive_attributes(self, marked: Iterable[str] = ()) -> list[str]:
        """Top-level attributes that are sensitive: by the schema, those ``marked`` (set
        from a sensitive value) and those derived from a marked one."""
        given = set(marked)
        return sorted(
            k
            for k, a in self.attributes.items()
            if a.sensitive or k in given or given.intersection(a.derived_from)
        )


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
