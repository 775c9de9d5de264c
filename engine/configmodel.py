"""The configuration model: what a directory of spec files declares, as plain dataclasses.

``Config`` holds providers, variables, locals, resources, outputs and check blocks by name
(resources by address) and the ``bcdr`` settings block's backend; ``FileParts`` is what one file
declares, and what the parse cache stores.
Built by ``engine/configdecode.py`` (a resource's ``dynamic`` blocks by
``engine/dynamic.py``) from the ``Body``/``Block``/``BodyAttribute`` tree that
``engine/hcltree.py`` makes. Always holds: every block, attribute and expression carries
its ``SourceRange`` (file:line); no parser type appears here; every class is picklable and
``NOTSET`` stays one object through pickling.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.exprnodes import Expr, Reference
from engine.typeconv import TypeConstraint
from sdk.addrs import ResourceAddr
from sdk.diagnostics import Diagnostic, SourceRange


class _NotSet:
    """The type of ``NOTSET``: a variable without a default."""

    _instance: _NotSet | None = None

    def __new__(cls) -> _NotSet:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOTSET"

    def __reduce__(self) -> str:
        return "NOTSET"


NOTSET = _NotSet()


class _ByFields:
    """Pickled as the class and its fields, in order (what its dataclass ``__init__``
    takes): the parse cache reads each declaration back with one call instead of building
    and filling an instance dict."""

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), tuple([getattr(self, f.name) for f in fields(self)])  # type: ignore[arg-type]


@dataclass
class BodyAttribute(_ByFields):
    name: str
    expr: Expr
    range: SourceRange


@dataclass
class Body(_ByFields):
    attributes: dict[str, BodyAttribute]
    blocks: list[Block | DynamicBlock]
    """Nested blocks as written; in a resource's body, each ``dynamic`` block decoded into
    a ``DynamicBlock`` (``engine/dynamic.py``)."""
    range: SourceRange


@dataclass
class Block(_ByFields):
    type: str
    labels: list[str]
    body: Body
    range: SourceRange


@dataclass
class DynamicBlock(_ByFields):
    """``dynamic "TYPE" { for_each = ..., iterator = NAME, labels = [...], content { ... } }``:
    one ``TYPE`` block per element of ``for_each``, each with ``content`` as its body and
    ``NAME.key``/``NAME.value`` bound in it (``iterator`` is TYPE when not given)."""

    type: str
    for_each: Expr
    iterator: str
    labels: Expr | None
    content: Body
    range: SourceRange


@dataclass
class Validation(_ByFields):
    condition: Expr
    error_message: Expr
    range: SourceRange


@dataclass
class Variable(_ByFields):
    name: str
    type: TypeConstraint | None
    default: Any
    description: str
    sensitive: bool
    nullable: bool
    validations: list[Validation]
    range: SourceRange

    @property
    def required(self) -> bool:
        return self.default is NOTSET


@dataclass
class Local(_ByFields):
    name: str
    expr: Expr
    range: SourceRange


@dataclass
class Condition(_ByFields):
    """A ``precondition``, ``postcondition`` or ``assert`` block (``engine/conditions.py``);
    ``range`` is the condition's own (where a failure is reported)."""

    kind: str  # "precondition" | "postcondition" | "assert"
    condition: Expr
    error_message: Expr
    range: SourceRange


@dataclass
class Trigger(_ByFields):
    """One ``replace_triggered_by`` entry: a resource (or one instance of it, ``key``) and
    the attribute path after it (empty: any change of the instance); ``engine/triggers.py``."""

    resource: ResourceAddr
    key: Expr | None
    path: list[str | int]
    expr: Expr
    range: SourceRange


@dataclass
class Lifecycle(_ByFields):
    prevent_destroy: bool = False
    create_before_destroy: bool = False
    ignore_changes: list[str] | str = field(default_factory=list)  # or "all"
    range: SourceRange | None = None
    preconditions: list[Condition] = field(default_factory=list)
    postconditions: list[Condition] = field(default_factory=list)
    replace_triggered_by: list[Trigger] = field(default_factory=list)

    def exprs(self) -> list[Expr]:
        """The expressions of its conditions and triggers (what they refer to is a
        dependency of the resource, as in Terraform)."""
        out: list[Expr] = []
        for c in (*self.preconditions, *self.postconditions):
            out += (c.condition, c.error_message)
        out.extend(t.expr for t in self.replace_triggered_by)
        return out


@dataclass
class Resource(_ByFields):
    addr: ResourceAddr
    body: Body
    count: Expr | None
    for_each: Expr | None
    depends_on: list[tuple[ResourceAddr, SourceRange]]
    lifecycle: Lifecycle
    range: SourceRange
    references: list[Reference] | None = field(default=None, repr=False, compare=False)
    """What the body, ``count`` and ``for_each`` refer to, in source order; made when the
    file is decoded, so the parse cache holds it and a warm command walks no expression
    tree to build the graph (None: made when first asked, ``graph.resource_references``)."""
    check_sites: list[Expr] | None = field(default=None, repr=False, compare=False)
    """The nodes the static checks judge (function calls, ``TYPE.NAME.ATTR`` traversals),
    depth first in source order; made with ``references`` (``schemacheck.check_sites``)."""
    provider: str | None = None
    """The ``provider = NAME.ALIAS`` meta-argument's address; None for the default one."""
    provider_range: SourceRange | None = None


@dataclass
class Output(_ByFields):
    name: str
    expr: Expr
    sensitive: bool
    description: str
    depends_on: list[tuple[ResourceAddr, SourceRange]]
    range: SourceRange
    preconditions: list[Condition] = field(default_factory=list)


@dataclass
class Moved(_ByFields):
    """``moved { from = ADDR  to = ADDR }`` (``engine/refactor.py``): addresses as text."""

    src: str
    dst: str
    range: SourceRange


@dataclass
class ImportBlock(_ByFields):
    """``import { to = ADDR  id = EXPR }`` (``engine/importblocks.py``)."""

    to: str
    id: Expr
    range: SourceRange


@dataclass
class Removed(_ByFields):
    """``removed { from = ADDR  lifecycle { destroy = BOOL } }`` (``engine/refactor.py``)."""

    src: str
    destroy: bool
    range: SourceRange


@dataclass
class Check(_ByFields):
    """``check "NAME" { assert { ... } ... }``: assertions judged at the end of a plan or
    an apply, whose failures are warnings (``engine/checks.py``)."""

    name: str
    asserts: list[Condition]
    range: SourceRange


@dataclass
class ProviderBlock(_ByFields):
    """``provider "NAME" { … }``; with ``alias = "west"`` a second configuration of it."""

    name: str
    body: Body
    range: SourceRange
    alias: str | None = None

    @property
    def address(self) -> str:
        """How resources name it: ``platform``, ``platform.west``."""
        return f"{self.name}.{self.alias}" if self.alias else self.name


@dataclass
class BackendBlock(_ByFields):
    """``bcdr { backend "TYPE" { ... } }``: where the state lives (literal strings only)."""

    type: str
    attributes: dict[str, str]
    range: SourceRange


@dataclass
class Config:
    dir: Path
    files: list[str]
    providers: dict[str, ProviderBlock]
    variables: dict[str, Variable]
    locals: dict[str, Local]
    resources: dict[ResourceAddr, Resource]
    outputs: dict[str, Output]
    var_files: list[str] = field(default_factory=list)  # *.auto.hcl(.json) files, sorted
    backend: BackendBlock | None = None
    backend_problems: list[Diagnostic] = field(default_factory=list)
    """The errors of the ``bcdr`` blocks (also in the load's diagnostics)."""
    backend_known: bool = True
    """False when a file could not be parsed: whether it declares a backend is unknown."""
    checks: dict[str, Check] = field(default_factory=dict)
    moved: list[Moved] = field(default_factory=list)
    removed: list[Removed] = field(default_factory=list)
    imports: list[ImportBlock] = field(default_factory=list)
    workspace: str = "default"
    """The selected workspace (``bcdr.workspace``), as the CLI says; not read from files."""


@dataclass
class FileParts(_ByFields):
    """What one file declares; this is what the parse cache stores."""

    providers: list[ProviderBlock] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    locals: list[Local] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    backends: list[BackendBlock] = field(default_factory=list)
    settings_problems: list[Diagnostic] = field(default_factory=list)
    """The errors of this file's ``bcdr`` blocks (also in ``diagnostics``)."""
    parsed: bool = True
    checks: list[Check] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)
    removed: list[Removed] = field(default_factory=list)
    imports: list[ImportBlock] = field(default_factory=list)
