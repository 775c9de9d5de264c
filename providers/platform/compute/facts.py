"""The facts the compute types' plans check one another against, one loader per type: a managed
disk, a VM, a restore point collection, a restore point.

A resource planned in this run (``PlatformSession.lookup``) or on the platform; None when
neither. Always holds: facts are frozen dataclasses of plain values; a value not known at plan
time is None, never ``UNKNOWN``; an id is tested by its ``TypedId``, never by a substring; a
loader writes nothing. The rule functions (``core/<package>/rules.py``) are given these facts,
or values taken from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from providers.platform.compute.groups import DISK_TYPE, VM_TYPE
from providers.platform.frame import PlatformSession, known

if TYPE_CHECKING:
    from core.restorepoints import RestorePoint


def _known(value: Any) -> Any:
    """The value, or None when it is not known yet."""
    return value if known(value) else None


def _last_name(id: str) -> str:
    return id.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ManagedDiskFacts:
    """A managed disk as the VM and restore point plans see it."""

    id: str
    name: str
    location: str | None
    subscription: str | None
    sku: str
    shared: bool
    ephemeral: bool  # the core's flag (a VM's ephemeral_os_disk is the VM's)
    exists: bool  # on the platform (else planned in this run)
    size_bytes: int | None


def disk_facts(
    s: PlatformSession, disk_id: str, planned: Literal["first", "fallback", "never"]
) -> ManagedDiskFacts | None:
    """A disk's facts: planned in this run first (the VM's plan: what the disk will be),
    planned as a ``fallback`` to the platform (a snapshot's plan: what is there to capture),
    or ``never`` (apply: the platform only)."""
    from core.errors import NotFound
    from providers.platform.registry import TypedId

    typed = TypedId.of(disk_id, DISK_TYPE)
    attrs = s.lookup(disk_id) if planned != "never" and typed is not None else None
    if attrs is not None and typed is not None and planned == "first":
        return _planned_disk(disk_id, typed.subscription, attrs)
    try:
        disk = s.disks.get(disk_id)
    except NotFound:
        if attrs is None or typed is None:
            return None
        return _planned_disk(disk_id, typed.subscription, attrs)
    row = s.fabric.get_resource(disk.id)
    location = (row["properties"].get("location") if row else None) or disk.region
    return ManagedDiskFacts(
        disk.id,
        disk.name,
        location,
        disk.subscription,
        disk.sku,
        disk.shared,
        disk.ephemeral,
        True,
        disk.size_bytes,
    )


def _planned_disk(disk_id: str, id_subscription: str, p: dict[str, Any]) -> ManagedDiskFacts:
    return ManagedDiskFacts(
        disk_id,
        _known(p.get("name")) or _last_name(disk_id),
        _known(p.get("location")),
        _known(p.get("subscription")) or id_subscription,
        _known(p.get("sku")) or "Standard_LRS",
        p.get("shared") is True,
        False,
        False,
        _known(p.get("size_bytes")),
    )


@dataclass(frozen=True)
class VmFacts:
    """A VM as the collection and restore point plans see it."""

    id: str
    name: str | None
    location: str | None
    subscription: str | None
    os_disk_id: str | None
    data_disk_ids: tuple[str, ...] | None  # the known ones; None: the list is not known yet
    ephemeral_os_disk: bool
    power_state: str | None


def vm_facts(s: PlatformSession, vm_id: str) -> VmFacts | None:
    """A VM's facts: planned in this run, else its inventory row."""
    from providers.platform.registry import TypedId

    p = s.lookup(vm_id) if TypedId.of(vm_id, VM_TYPE) is not None else None
    if p is None:
        row = s.fabric.get_resource(vm_id)
        if row is None or row["type"] != VM_TYPE:
            return None
        vm_id, p = row["id"], row["properties"]
    data = p.get("data_disk_ids")
    return VmFacts(
        vm_id,
        _known(p.get("name")),
        _known(p.get("location")),
        _known(p.get("subscription")),
        _known(p.get("os_disk_id")),
        None if not known(data) else tuple(d for d in data or () if known(d)),
        p.get("ephemeral_os_disk") is True,
        _known(p.get("power_state")),
    )


@dataclass(frozen=True)
class CollectionFacts:
    """A restore point collection as the restore point plans see it."""

    id: str
    location: str | None
    subscription: str | None
    source_vm_id: str | None


def collection_facts(s: PlatformSession, coll_id: str) -> CollectionFacts | None:
    """A collection's facts: planned in this run, else on the platform."""
    from core.errors import NotFound
    from providers.platform.compute.collections import COLLECTION_TYPE
    from providers.platform.registry import TypedId

    p = s.lookup(coll_id) if TypedId.of(coll_id, COLLECTION_TYPE) is not None else None
    if p is not None:
        return CollectionFacts(
            _known(p.get("id")) or coll_id,
            _known(p.get("location")),
            _known(p.get("subscription")),
            _known(p.get("source_vm_id")),
        )
    try:
        coll = s.points.collections.get(coll_id)
    except NotFound:
        return None
    return CollectionFacts(coll.id, coll.region, coll.subscription, coll.source_vm_id)


@dataclass(frozen=True)
class RestorePointFacts:
    """A restore point as a copy or a VM restore plans it: on the platform (``record``), or
    planned in this run in its collection."""

    id: str
    location: str | None
    subscription: str | None
    record: RestorePoint | None  # the core's, when it exists
    collection_id: str | None = None  # planned: its collection
    exclude_disk_ids: tuple[str, ...] = ()  # planned: the known ones

    @property
    def exists(self) -> bool:
        return self.record is not None


def restore_point_facts(s: PlatformSession, rp_id: str) -> RestorePointFacts | None:
    """A restore point's facts: on the platform, else planned in this run."""
    from core.errors import NotFound
    from providers.platform.compute.collections import RP_TYPE
    from providers.platform.registry import TypedId

    try:
        rp = s.points.get(rp_id)
    except NotFound:
        p = s.lookup(rp_id) if TypedId.of(rp_id, RP_TYPE) is not None else None
        if p is None:
            return None
        cid = _known(p.get("collection_id"))
        coll = collection_facts(s, cid) if cid is not None else None
        return RestorePointFacts(
            rp_id,
            coll.location if coll else None,
            coll.subscription if coll else None,
            None,
            cid,
            tuple(x for x in _known(p.get("exclude_disk_ids")) or () if known(x)),
        )
    return RestorePointFacts(rp.id, rp.region, rp.subscription, rp)
