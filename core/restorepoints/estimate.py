"""What a restore point or a cross-region copy will cost, estimated before it runs (for plans).

``snapshot_estimate`` says how many bytes a new restore point will read into the store for one
disk, and how it knows: from changed-block tracking when the disk has a previous restore point
in that store and its tracking is usable; the disk's allocated bytes for a first restore point;
the whole disk as an upper bound when the changes must be found by re-hashing it. A disk
whose next capture seals under another data key than its previous restore point's (it gained,
changed or lost a disk encryption set, or its set moved to another key) is captured in full,
so its estimate is its allocated bytes, said as such, whatever its tracking holds.
``copy_estimate`` says how many bytes of blocks a copy of a restore point must send: those the
target region's store lacks. What always holds: an estimate only reads (the disk's tracking
file, the source manifests, the target's block index); it never creates a store or writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.blocks.packs import ID_BYTES, ZERO_ID
from core.disks.fileio import BLOCK_SIZE
from core.disks.records import Disk
from core.errors import CoreError
from core.restorepoints.model import DiskRestorePoint
from core.restorepoints.service import RestorePoints

CBT = "changed-block tracking"
FIRST = "first restore point: the disk's allocated bytes"
REHASH = "upper bound: the whole disk is re-hashed (no usable changed-block tracking)"
NEW_DISK = "first restore point of a disk not created yet: its size"
REKEYED = (
    "full capture: the disk's encryption key changed since its last restore point "
    "(its allocated bytes)"
)


@dataclass(frozen=True)
class Estimate:
    bytes: int
    how: str  # one of CBT, FIRST, REHASH, NEW_DISK, REKEYED


def snapshot_estimate(
    points: RestorePoints, disk_id: str, region: str, subscription: str
) -> Estimate:
    """Bytes a restore point in (region, subscription) will snapshot of this existing disk."""
    disks = points.disks
    disk = disks.get(disk_id)
    base, cbt_covers = points.catalog.base(disk, region, subscription)
    if base is None or _rekeyed(points, disk, base):
        info = disks.file_info(disk.id)
        how = FIRST if base is None else REKEYED
        return Estimate(min(info.allocated_bytes, disk.size_bytes), how)
    if cbt_covers and base.size_bytes == disk.size_bytes:
        changed = disks.changed_blocks(disk.id)
        if changed is not None:
            return Estimate(changed.bytes, CBT)
    return Estimate(disk.size_bytes, REHASH)


def _rekeyed(points: RestorePoints, disk: Disk, base: DiskRestorePoint) -> bool:
    """Whether the next capture of ``disk`` seals under another data key than ``base`` (its
    previous disk restore point) used, so that it drops the base and is full.

    Mirrors what a capture does (``Envelopes.for_disk``: the disk's recorded data key is kept
    while its set and the set's key stay the same, otherwise a new one is made) by reading
    only: no data key is made or unwrapped.
    """
    env = points.envelopes
    had = env.of(base.id)
    des_id = disk.encryption_set_id
    if not des_id:
        return had is not None
    if had is None:
        return True
    try:
        key_id = env.keystore.encryption_sets.key_of(des_id)
    except CoreError:  # no such set: the capture itself refuses, naming it
        return True
    row = (
        points.fabric.db()
        .execute("SELECT * FROM envelope_keys WHERE disk_id = ?", (disk.id,))
        .fetchone()
    )
    if row is None:
        return True
    if (row["des_id"].lower(), row["key_id"].lower()) != (des_id.lower(), key_id.lower()):
        return True
    kept = (row["des_id"], row["key_id"], row["key_version"], bytes(row["wrapped"]))
    return kept != (had.des_id, had.key_id, had.key_version, had.wrapped)


def new_disk_estimate(size_bytes: int) -> Estimate:
    """A disk that is only planned: at most its size."""
    return Estimate(size_bytes, NEW_DISK)


def copy_estimate(
    points: RestorePoints, source_restore_point_id: str, target_region: str, subscription: str
) -> int:
    """Bytes of the blocks of the restore point that the target store does not hold yet."""
    fabric = points.fabric
    src = points.get(source_restore_point_id)
    source = points.stores.get(src.region, src.subscription, src.store)
    wanted: set[bytes] = set()
    for drp in src.disk_restore_points:
        _size, ids = source.get_manifest(drp.manifest)
        wanted.update(ids[i : i + ID_BYTES] for i in range(0, len(ids), ID_BYTES))
    wanted.discard(ZERO_ID)
    sub = fabric.check_subscription(subscription)
    index = fabric.region_dir(target_region) / sub / "store" / "index.db"
    if not wanted or not index.exists():  # no store there yet: every block is missing
        return len(wanted) * BLOCK_SIZE
    target = points.stores.get(fabric.check_region(target_region), sub)
    return len(wanted - target.present(wanted)) * BLOCK_SIZE
