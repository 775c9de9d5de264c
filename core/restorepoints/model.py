"""Restore point records: the types the snapshot API returns, their rows in fabric.db, and
which of a VM's disks a restore point may capture (rules RP-5, RP-6: ``disk_problems`` in
``core.restorepoints.rules``, a pure function of disk descriptors that plans call too).

What always holds: the types are plain data (no I/O) except ``DiskImageReader``, which reads
a disk restore point's blocks through a block store and verifies every one it returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from core.blocks.packs import ID_BYTES, ZERO_ID
from core.blocks.store import BlockStore, Opener
from core.disks.fileio import BLOCK_SIZE
from core.disks.managed import Disks
from core.disks.records import Disk
from core.disks.rules import listed_once_problems
from core.errors import CoreError, IntegrityError
from core.problems import enforce
from core.restorepoints.rules import DiskFacts, disk_problems

MODES = ("ApplicationConsistent", "CrashConsistent")


@dataclass
class HookSpec:
    """Shell commands run on this machine as the guest's pre/post snapshot hooks."""

    pre: str | None
    post: str | None
    timeout_seconds: float = 60.0


@dataclass
class VmSource:
    vm_id: str
    name: str
    region: str
    subscription: str
    size: str
    os_type: str
    power_state: str
    os_disk_id: str
    data_disk_ids: list[str]
    hooks: HookSpec | None = None
    network: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)


@dataclass
class DiskRestorePoint:
    id: str
    restore_point_id: str
    disk_id: str
    disk_name: str
    size_bytes: int
    bytes_stored: int  # new bytes this one added to the store (compressed)
    bytes_changed: int  # logical bytes that differ from the previous restore point of the disk
    blocks_total: int  # non-zero blocks in the image
    blocks_new: int  # blocks this one added to the store
    manifest: str = ""


@dataclass
class RestorePoint:
    id: str
    name: str
    collection_id: str
    region: str
    subscription: str
    created_at: float
    consistency_mode: str
    consistency_achieved: str
    warnings: list[str]
    source_metadata: dict
    disk_restore_points: list[DiskRestorePoint]
    copied_from: str | None = None
    store: str | None = None  # the store its blocks are in (None: its region's own store)


@dataclass(frozen=True)
class Collection:
    """A restore point collection: one source VM, one region (rule RP-1)."""

    id: str
    name: str
    region: str
    subscription: str
    source_vm_id: str
    created_at: float
    restore_point_ids: list[str] = field(default_factory=list)  # oldest first


@contextmanager
def naming(drp_id: str) -> Iterator[None]:
    """Prefix an ``IntegrityError`` with the disk restore point it affects."""
    try:
        yield
    except IntegrityError as exc:
        raise IntegrityError(f"disk restore point {drp_id}: {exc}") from None


class DiskImageReader:
    """Random access to a disk restore point's bytes: ``read(offset, length)``; ``opener``
    opens the sealed blocks of an encrypted disk (``core/keystore/envelope.py``)."""

    def __init__(
        self,
        store: BlockStore,
        size_bytes: int,
        ids: bytes,
        name: str,
        opener: Opener | None = None,
    ) -> None:
        self.store, self.size_bytes, self.ids, self.name = store, size_bytes, ids, name
        self.opener = opener

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or offset > self.size_bytes:
            raise CoreError(f"{self.name}: range {offset}+{length} is outside the disk")
        end = min(offset + length, self.size_bytes)
        out = bytearray()
        for b in range(offset // BLOCK_SIZE, -(-end // BLOCK_SIZE)):
            d = self.ids[b * ID_BYTES : (b + 1) * ID_BYTES]
            start = b * BLOCK_SIZE
            blen = min(BLOCK_SIZE, self.size_bytes - start)
            if d == ZERO_ID:
                data = bytes(blen)
            else:
                with naming(self.name):
                    data = self.store.get_block(d, self.opener)
            out += data[max(offset - start, 0) : end - start]
        return bytes(out)

    def written_ranges(self, first: int, last: int) -> list[tuple[int, int]]:
        """The (first, last) byte ranges within ``first..last`` that are not all zero blocks:
        what Get Page Ranges reports of a page blob (zero blocks read as never written)."""
        out: list[tuple[int, int]] = []
        for b in range(first // BLOCK_SIZE, last // BLOCK_SIZE + 1):
            if self.ids[b * ID_BYTES : (b + 1) * ID_BYTES] == ZERO_ID:
                continue
            start = max(first, b * BLOCK_SIZE)
            end = min(last, (b + 1) * BLOCK_SIZE - 1, self.size_bytes - 1)
            if out and out[-1][1] + 1 == start:
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return out

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> DiskImageReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def included_disks(disks: Disks, vm: VmSource, exclude: tuple[str, ...] | list[str]) -> list[Disk]:
    """The VM's disks a restore point captures: OS disk first, exclusions and RP-5/RP-6 applied."""
    excluded = {e.lower() for e in exclude}
    if vm.os_disk_id.lower() in excluded:
        enforce(disk_problems(vm.os_disk_id, [], [vm.os_disk_id], {}), f"VM {vm.name}")
    ids = [vm.os_disk_id] + [d for d in vm.data_disk_ids if d.lower() not in excluded]
    found = [disks.get(i) for i in ids]
    enforce(listed_once_problems(found[0].id, [d.id for d in found[1:]]), f"VM {vm.name}")  # VM-2
    facts = {d.id.lower(): DiskFacts(d.id, d.name, d.sku, d.shared, d.ephemeral) for d in found}
    enforce(disk_problems(vm.os_disk_id, vm.data_disk_ids, exclude, facts), f"VM {vm.name}")
    return found


def drp_from_row(row) -> DiskRestorePoint:
    return DiskRestorePoint(
        id=row["id"],
        restore_point_id=row["restore_point_id"],
        disk_id=row["disk_id"],
        disk_name=row["disk_name"],
        size_bytes=row["size_bytes"],
        bytes_stored=row["bytes_stored"],
        bytes_changed=row["bytes_changed"],
        blocks_total=row["blocks_total"],
        blocks_new=row["blocks_new"],
        manifest=row["manifest"],
    )


def source_metadata(vm: VmSource, disks: list[Disk]) -> dict:
    """What a VM restore needs to rebuild the VM."""
    # rule RP-2: a restore point stores the VM's configuration (size, OS, disks, network)
    return {
        "vm_id": vm.vm_id,
        "name": vm.name,
        "region": vm.region,
        "size": vm.size,
        "os_type": vm.os_type,
        "power_state": vm.power_state,
        "os_disk": {"id": vm.os_disk_id},
        "disks": [
            {
                "id": d.id,
                "name": d.name,
                "size_bytes": d.size_bytes,
                "sku": d.sku,
                "os_disk": d.id.lower() == vm.os_disk_id.lower(),
                # the disk's encryption set, when it has one (KV/DES rules of restores)
                **({"disk_encryption_set_id": d.encryption_set_id} if d.encryption_set_id else {}),
            }
            for d in disks
        ],
        "network": vm.network,
        **({"metadata": vm.metadata} if vm.metadata else {}),
    }


def vm_source_from_row(row: dict) -> VmSource:
    """The capture's view of a VM from its inventory row (``Fabric.get_resource``: the
    ``Microsoft.Compute/virtualMachines`` row the platform provider writes)."""
    p = row["properties"]
    hooks = p.get("guest_hooks") or None
    spec = None
    if hooks and (hooks.get("pre_snapshot") or hooks.get("post_snapshot")):
        timeout = hooks.get("timeout_seconds")
        spec = HookSpec(
            hooks.get("pre_snapshot"),
            hooks.get("post_snapshot"),
            float(60 if timeout is None else timeout),
        )
    return VmSource(
        vm_id=row["id"],
        name=p["name"],
        region=row["region"],
        subscription=p["subscription"],
        size=p.get("size") or "Standard_D2s_v5",
        os_type=p.get("os_type") or "linux",
        power_state=p.get("power_state") or "running",
        os_disk_id=p["os_disk_id"],
        data_disk_ids=list(p.get("data_disk_ids") or []),
        hooks=spec,
        network=dict(p.get("network") or {}),
        metadata={
            k: p.get(k)
            for k in (
                "vm_guid",
                "os_distro",
                "resource_group",
                "ephemeral_os_disk",
                "boot_image_modules",
                "bitlocker_enabled",
                "encryption",
                "encryption_secret_id",
                "tags",
            )
            if p.get(k) is not None
        },
    )
