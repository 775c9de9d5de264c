"""The registry of the embedded platform's resource types, as ``bcdr platform`` sees them.

Each type states once, in a ``Declaration`` beside its resource type (in the type's own
module): its bcdr type name (``managed_disk``), its short names for ``--type``, its ARM
type (``Microsoft.Compute/disks``), from which its ids are built (``make_id``) and
recognised (``parse``), how its facts are loaded by id, how to find its core object by id,
how to list its core objects, the one-line summary ``bcdr platform list`` prints, what
``bcdr platform show`` adds, and what ``bcdr platform delete`` does. The modules that hold
them are listed once, in ``providers.platform.types``; ``providers.platform.inventory``
loops over the declarations and holds no per-type branch.

Always holds: ids are parsed once, into a ``TypedId`` (case-insensitive: ``key`` is the
lower-cased id, ``arm_type`` compares without case); a type is looked up by its ARM type
without case; every table derived from the declarations (``type_names``, ``by_arm_type``)
is computed when asked, so a type registered later (``registered``) is in it; registering
a type whose name or ARM type is taken is a bug (ValueError). The core is imported on
first use, not at module load.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sdk.progress import Progress

if TYPE_CHECKING:  # the core is imported on first use, not at module load
    from core.disks import Disks
    from core.fabric import Fabric, ResourceId
    from providers.platform.frame import PlatformSession

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

    @property
    def parent(self) -> TypedId | None:
        """The id of the resource this one is a child of (a restore point's collection), as
        this id spells it; None for a top-level resource or a group."""
        if self.rid is None or not self.rid.children:
            return None
        rid = replace(self.rid, children=self.rid.children[:-1])
        arm = self.arm_type.rsplit("/", 1)[0]
        return TypedId(self.text.rsplit("/", 2)[0], rid.subscription, rid.resource_group, arm, rid)

    @classmethod
    def of(cls, text: Any, arm_type: str) -> TypedId | None:
        """The typed id of ``text`` when it names a resource of ``arm_type``, else None: the
        one test of what an id names (never a substring of the lower-cased id)."""
        typed = cls.parse(text)
        return typed if typed is not None and typed.is_a(arm_type) else None

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
        from core.errors import CoreError  # noqa: PLC0415 - the core on first use
        from core.fabric import ResourceId  # noqa: PLC0415

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

    ``facts`` loads what other resources are checked against, by id (planned in this run,
    else on the platform; None when there is none); ``find`` returns the id as the core
    stores it (NotFound when there is none); ``listed`` yields the core's objects of the
    type; ``summary`` phrases the facts of an inventory row or of a listed object; ``show``
    returns the keys ``bcdr platform show`` adds; ``delete`` deletes the core object and
    returns (further inventory ids to drop, bytes freed) — a type without one cannot be
    deleted on its own. ``tag`` needs nothing per type: tags live in the inventory row.
    """

    type_name: str
    arm_type: str
    aliases: tuple[str, ...] = ()
    # False: ``--type`` does not take it (a disk restore point is listed with its restore point)
    selectable: bool = True
    facts: Callable[[PlatformSession, str], Any] | None = None  # typed facts, or None
    find: Callable[[Core, str], str] | None = None
    listed: Callable[[Core], Iterable[Listed]] | None = None
    summary: Callable[[dict[str, Any]], str] = field(default=lambda props: "")
    show: Callable[[Core, str], dict[str, Any]] | None = None
    delete: Callable[[Core, str, dict | None, Progress | None], tuple[list[str], int]] | None = None

    def make_id(self, parent: str, name: str) -> str:
        """The id of the object ``name`` of this type inside ``parent``: a subscription's id
        (``/subscriptions/S``) for a resource group, a resource group's id for a type of its
        own (a disk), the parent object's id for a child type (a restore point in its
        collection). The same text as the core's ``ResourceId``."""
        if self.arm_type == GROUP_ARM:
            return f"{parent}/resourceGroups/{name}"
        namespace, kind, *children = self.arm_type.split("/")
        if children:
            return f"{parent}/{children[-1]}/{name}"
        return f"{parent}/providers/{namespace}/{kind}/{name}"

    def parse(self, text: Any) -> TypedId | None:
        """The typed id of ``text`` when it is an id of this type, else None."""
        return TypedId.of(text, self.arm_type)


def group_id(subscription: str, name: str) -> str:
    """The id of resource group ``name`` in ``subscription``."""
    return f"/subscriptions/{subscription}/resourceGroups/{name}"


_REGISTERED: list[Declaration] = []  # registered besides the platform's own (``registered``)
_OWN: list[Declaration] = []  # the platform's own, from ``providers.platform.types``
_LOCK = threading.Lock()


def _check(decl: Declaration, known: Iterable[Declaration]) -> None:
    for other in known:
        if other.type_name == decl.type_name or other.arm_type.lower() == decl.arm_type.lower():
            raise ValueError(f"{decl.type_name} ({decl.arm_type}) is registered already")


def register(decl: Declaration) -> Declaration:
    """Add a type besides the platform's own (they come from ``providers.platform.types``)."""
    _check(decl, declarations())
    _REGISTERED.append(decl)
    return decl


@contextmanager
def registered(decl: Declaration) -> Iterator[Declaration]:
    """``decl`` registered for the duration of a ``with`` block (tests' throwaway types)."""
    register(decl)
    try:
        yield decl
    finally:
        _REGISTERED.remove(decl)


def declarations() -> list[Declaration]:
    """Every registered type, the platform's own first (their modules loaded on first use)."""
    with _LOCK:  # apply steps run in threads
        if not _OWN:
            from providers.platform import types  # noqa: PLC0415 - its modules load the core

            for decl in types.declarations():
                _check(decl, _OWN)
                _OWN.append(decl)
    return [*_OWN, *_REGISTERED]


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


def facts(s: PlatformSession, id: Any) -> Any:
    """The facts of the object called ``id``, loaded the way its type declares (planned in
    this run, else on the platform); None when its type declares none or nothing has it."""
    typed = TypedId.parse(id)
    decl = by_arm_type(typed.arm_type) if typed is not None else None
    if decl is None or decl.facts is None:
        return None
    return decl.facts(s, typed.text)
