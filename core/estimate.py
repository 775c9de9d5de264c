"""What a restore point or a cross-region copy will cost, estimated before it runs (for plans).

``snapshot_estimate`` says how many bytes a new restore point will read into the store for one
disk, and how it knows: from changed-block tracking when the disk has a previous restore point
in that store and its tracking is usable; the disk's allocated bytes for a first restore point;
the whole disk as an upper bound when the changes must be found by re-hashing it.
``copy_estimate`` says how many bytes of blocks a copy of a restore point must send: those the
target region's store lacks. What always holds: an estimate only reads (the disk's tracking
file, the source manifests, the target's block index); it never creates a store or writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.blockstore import BLOCK_SIZE, ID_BYTES, ZERO_ID
from core.snapshots import RestorePoints

CBT = "changed-block tracking"
FIRST = "first restore point: the disk's allocated bytes"
REHASH = "upper bound: the whole disk is re-hashed (no usable changed-block tracking)"
NEW_DISK = "first restore point of a disk not created yet: its size"


@dataclass(frozen=True)
class Estimate:
    bytes: int
    how: str  # one of CBT, FIRST, REHASH, NEW_DISK


def snapshot_estimate(
    points: RestorePoints, disk_id: str, region: str, subscription: str
) -> Estimate:
    """Bytes a restore point in (region, subscription) will snapshot of this existing disk."""
    disks = points.disks
    disk = disks.get(disk_id)
    base, cbt_covers = points._base(disk, region, subscription)
    if base is None:
        info = disks.file_info(disk.id)
        return Estimate(min(info.allocated_bytes, disk.size_bytes), FIRST)
    if cbt_covers and base["size_bytes"] == disk.size_bytes:
        changed = disks.changed_blocks(disk.id)
        if changed is not None:
            return Estimate(changed.bytes, CBT)
    return Estimate(disk.size_bytes, REHASH)


def new_disk_estimate(size_bytes: int) -> Estimate:
    """A disk that is only planned: at most its size."""
    return Estimate(size_bytes, NEW_DISK)


def copy_estimate(
    points: RestorePoints, source_restore_point_id: str, target_region: str, subscription: str
) -> int:
    """Bytes of the blocks of the restore point that the target store does not hold yet."""
    fabric = points.fabric
    src = points.get(source_restore_point_id)
    source = points.store(src.region, src.subscription)
    wanted: set[bytes] = set()
    for drp in src.disk_restore_points:
        _size, ids = source.get_manifest(drp.manifest)
        wanted.update(ids[i : i + ID_BYTES] for i in range(0, len(ids), ID_BYTES))
    wanted.discard(ZERO_ID)
    sub = fabric.check_subscription(subscription)
    index = fabric.region_dir(target_region) / sub / "store" / "index.db"
    if not wanted or not index.exists():  # no store there yet: every block is missing
        return len(wanted) * BLOCK_SIZE
    target = points.store(fabric.check_region(target_region), sub)
    return len(wanted - target.present(wanted)) * BLOCK_SIZE
