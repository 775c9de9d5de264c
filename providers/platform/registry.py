"""The registry of the embedded platform's resource types, as ``bcdr platform`` sees them.

Each type states once, in a ``Declaration``: its bcdr type name (``managed_disk``), its
short names for ``--type``, its ARM type (``Microsoft.Compute/disks``), how to find its
core object by id, how to list its core objects, the one-line summary ``bcdr platform
list`` prints, what ``bcdr platform show`` adds, and what ``bcdr platform delete`` does.
``providers.platform.inventory`` loops over the declarations; it holds no per-type branch.
Always holds: ids are parsed once, into a ``TypedId`` (case-insensitive: ``key`` is the
lower-cased id, ``arm_type`` compares without case); a type is looked up by its ARM type
without case; registering a type whose name or ARM type is taken is a bug (ValueError).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core.disks import Disks
from core.fabric import Fabric, ResourceId
from sdk.progress import Progress

GROUP_ARM = "Microsoft.Resources/resourceGroups"


@dataclass(frozen=True)
class TypedId:
    """A resource id parsed once: its ARM type and a case-insensitive key.

    A resource group's id (``/subscriptions/S/resourceGroups/G``) has no provider part, so it
    is not a core ``ResourceId``; every other id is one (``rid``).
    """

    text: str
    subscription: str
    resource_group: str
    arm_type: str
    rid: ResourceId | None = None

    @property
    def key(self) -> str:
        """The id as a dictionary key: ids compare without case."""
        return self.text.lower()

    def is_a(self, arm_type: str) -> bool:
        return self.arm_type.lower() == arm_type.lower()

    @classmethod
    def parse(cls, text: Any) -> TypedId | None:
        """The typed id of ``text``, or None when it is not a resource id."""
        if not isinstance(text, str):
            return None
        parts = text.split("/")
        if (
            len(parts) == 5
            and parts[0] == ""
            and parts[1].lower() == "subscriptions"
            and parts[3].lower() == "resourcegroups"
            and all(parts[1:])
        ):
            return cls(text, parts[2], parts[4], GROUP_ARM)
        from core.errors import CoreError  # noqa: PLC0415 - only parse failures need it

        try:
            rid = ResourceId.parse(text)
        except CoreError:
            return None
        arm = "/".join((rid.provider, rid.type, *(t for t, _ in rid.children)))
        return cls(text, rid.subscription, rid.resource_group, arm, rid)


@dataclass
class Core:
    """What a declaration reads and changes: the fabric, its disks and its restore points."""

    fabric: Fabric
    disks: Disks
    points: Any


# (id as stored, region, facts for the summary) of one core object
Listed = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True)
class Declaration:
    """One resource type as ``bcdr platform list/show/tag/delete`` treat it.

    ``find`` returns the id as the core stores it (NotFound when there is none); ``listed``
    yields the core's objects of the type; ``summary`` phrases the facts of an inventory row
    or of a listed object; ``show`` returns the keys ``bcdr platform show`` adds; ``delete``
    deletes the core object and returns (further inventory ids to drop, bytes freed) — a
    type without one cannot be deleted on its own.
    """

    type_name: str
    arm_type: str
    aliases: tuple[str, ...] = ()
    # False: ``--type`` does not take it (a disk restore point is listed with its restore point)
    selectable: bool = True
    find: Callable[[Core, str], str] | None = None
    listed: Callable[[Core], Iterable[Listed]] | None = None
    summary: Callable[[dict[str, Any]], str] = field(default=lambda props: "")
    show: Callable[[Core, str], dict[str, Any]] | None = None
    delete: Callable[[Core, str, dict | None, Progress | None], tuple[list[str], int]] | None = None


_DECLARATIONS: list[Declaration] = []


def register(decl: Declaration) -> Declaration:
    """Add a type to the registry (each type's module registers its declaration once)."""
    for known in _DECLARATIONS:
        if known.type_name == decl.type_name or known.arm_type.lower() == decl.arm_type.lower():
            raise ValueError(f"{decl.type_name} ({decl.arm_type}) is registered already")
    _DECLARATIONS.append(decl)
    return decl


@contextmanager
def registered(decl: Declaration) -> Iterator[Declaration]:
    """``decl`` registered for the duration of a ``with`` block (tests' throwaway types)."""
    declarations()
    register(decl)
    try:
        yield decl
    finally:
        _DECLARATIONS.remove(decl)


# the modules that declare types: a new type is a module calling ``register`` and a line here
MODULES: tuple[str, ...] = ("providers.platform.inventory_types",)
_LOADED: list[str] = []


def declarations() -> list[Declaration]:
    """Every registered type, the platform's own first (their modules loaded on first use)."""
    for module in MODULES:
        if module not in _LOADED:
            _LOADED.append(module)
            importlib.import_module(module)
    return list(_DECLARATIONS)


def by_arm_type(arm: str) -> Declaration | None:
    """The declaration of an ARM type (compared without case), None for a type bcdr lacks."""
    for decl in declarations():
        if decl.arm_type.lower() == arm.lower():
            return decl
    return None


def type_names() -> dict[str, str]:
    """Every name ``--type`` accepts (bcdr's type names and their short names) → ARM type."""
    out: dict[str, str] = {}
    for decl in declarations():
        if not decl.selectable:
            continue
        out[decl.type_name] = decl.arm_type
        out.update(dict.fromkeys(decl.aliases, decl.arm_type))
    return out
