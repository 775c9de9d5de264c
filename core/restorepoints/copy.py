"""Cross-region copy of a restore point (rule RP-10), and moves between the stores of one
region (``move_restore_point``: a vault's tiering): send only the blocks the target lacks.

Both stores belong to one subscription, so they key block ids with the same seed and ids
compare directly. What always holds: the copy's blocks (packs and index rows) and manifests are
durable in the target store before its restore point row is committed, so a copy cut short
is invisible and its leftovers are reclaimed by ``gc``; every block sent is re-hashed on the
way (a corrupted source block stops the copy with ``IntegrityError``). An encrypted disk's
blocks travel sealed, with its key record (``core/keystore/envelope.py``): the copy unwraps the data
key only to check each block on the way, so an unusable key stops it with ``KeyUnavailable``
naming the key, before anything is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from core.blocks.store import BlockStore
from core.disks.fileio import BLOCK_SIZE
from core.errors import AlreadyExists
from core.fabric.home import Fabric, check_name
from core.problems import enforce
from core.progress import Progress, no_progress
from core.restorepoints.model import DiskRestorePoint, RestorePoint
from core.restorepoints.rules import CopyFacts, copy_problems
from core.restorepoints.service import RestorePoints


@dataclass
class CopyResult:
    restore_point: RestorePoint
    blocks_sent: int
    bytes_sent: int  # compressed bytes written to the target store
    blocks_skipped: int  # blocks the target held already


def copy_restore_point(
    fabric: Fabric,
    restore_points: RestorePoints,
    source_restore_point_id: str,
    target_collection_id: str,
    name: str,
    progress: Progress | None = None,
) -> CopyResult:
    """Copy a restore point into ``target_collection_id`` (another region) as ``name``."""
    progress = progress or no_progress
    src = restore_points.get(source_restore_point_id)
    coll = restore_points.collections.get(target_collection_id)
    check_name(name, "restore point")
    rp_id = f"{coll.id}/restorePoints/{name}"
    if restore_points.catalog.exists(rp_id):
        raise AlreadyExists(f"restore point {rp_id} exists already: choose another name")
    facts = CopyFacts(src.id, src.region, src.subscription, coll.id, coll.region, coll.subscription)
    enforce(copy_problems(facts))  # RP-10, the function plans call too
    # encrypted disks: their wrapped keys, copied as they are
    wrapped = restore_points.envelopes.of_many(d.id for d in src.disk_restore_points)
    source = restore_points.stores.get(src.region, src.subscription, src.store)
    target = restore_points.stores.get(coll.region, coll.subscription)
    with source.lock(exclusive=False), target.lock(exclusive=False):
        new_drps, sent, sent_bytes, skipped = _send(
            restore_points, src, source, target, rp_id, progress
        )
        restore_points.fault("manifests")
        restore_points.catalog.commit(
            rp_id,
            coll,
            name,
            src.consistency_mode,
            src.consistency_achieved,
            src.warnings,
            src.source_metadata,
            new_drps,
            copied_from=src.id,
            keys=[
                (new.id, new.disk_id, wrapped[old.id])
                for old, new in zip(src.disk_restore_points, new_drps, strict=True)
                if old.id in wrapped
            ],
        )
    return CopyResult(restore_points.get(rp_id), sent, sent_bytes, skipped)


def _send(
    restore_points: RestorePoints,
    src: RestorePoint,
    source: BlockStore,
    target: BlockStore,
    rp_id: str,
    progress: Progress,
) -> tuple[list[DiskRestorePoint], int, int, int]:
    """Write the blocks of ``src`` that ``target`` lacks, and its manifests, into ``target``
    (both locked by the caller); returns the disk restore points as ``rp_id``'s there, the
    blocks and bytes sent and the blocks skipped."""
    skipped = 0
    drps = []
    # encrypted disks: their openers, checked before anything is written
    wrapped = restore_points.envelopes.of_many(d.id for d in src.disk_restore_points)
    openers = {
        drp_id: restore_points.envelopes.unwrap(
            wk, f"disk restore point {drp_id} cannot be copied"
        ).open_payload
        for drp_id, wk in wrapped.items()
    }
    manifests = [source.get_manifest(d.manifest, d.size_bytes) for d in src.disk_restore_points]
    with target.writer() as writer:
        for drp, (size, ids) in zip(src.disk_restore_points, manifests, strict=True):
            lacking, wanted = target.lacking(ids)  # joined in the index, not in Python
            before = (writer.blocks_new, writer.bytes_stored)
            missing = [d for d in lacking if d not in writer.seen]
            del lacking
            skipped += wanted - len(missing)
            opener = openers.get(drp.id)
            label, total = f"copy {drp.disk_name}", len(missing) * BLOCK_SIZE
            for k, (d, payload, raw) in enumerate(source.read_payloads(missing, opener)):
                writer.add_payload(d, payload, raw)
                progress(label, (k + 1) * BLOCK_SIZE, total)  # the blocks' logical bytes
            progress(label, total, total)
            manifest = f"manifests/{uuid.uuid4().hex}.manifest"
            drps.append(
                (drp, manifest, size, ids, before, (writer.blocks_new, writer.bytes_stored))
            )
        writer.flush()
        sent, sent_bytes = writer.blocks_new, writer.bytes_stored
    new_drps = []
    for drp, manifest, size, ids, before, after in drps:
        target.put_manifest(manifest, size, ids)
        new_drps.append(
            replace(
                drp,
                id=f"{rp_id}/diskRestorePoints/{drp.disk_name}",
                restore_point_id=rp_id,
                manifest=manifest,
                blocks_new=after[0] - before[0],
                bytes_stored=after[1] - before[1],
            )
        )
    return new_drps, sent, sent_bytes, skipped


@dataclass
class MoveResult:
    restore_point: RestorePoint
    blocks_sent: int
    bytes_sent: int  # compressed bytes written to the target store
    blocks_skipped: int  # blocks the target held already
    bytes_freed: int  # freed in the store it left (blocks no other restore point uses)


def move_restore_point(
    restore_points: RestorePoints,
    restore_point_id: str,
    store: str | None,
    progress: Progress | None = None,
) -> MoveResult:
    """Move a restore point's blocks into another store of its region and subscription
    (``store``: "vaults/rg/name", None for the region's own), sending only the blocks that
    store lacks; the restore point keeps its id and is read from there afterwards, and the
    blocks it alone used in the store it left are freed. Moving it where it is does nothing.

    The blocks and manifests are durable in the target before the row is repointed, and the
    old store is collected only after: a move cut short leaves the point where it was."""
    src = restore_points.get(restore_point_id)
    if src.store == store:
        return MoveResult(src, 0, 0, 0, 0)
    source = restore_points.stores.get(src.region, src.subscription, src.store)
    target = restore_points.stores.get(src.region, src.subscription, store)
    with source.lock(exclusive=False), target.lock(exclusive=False):
        new_drps, sent, sent_bytes, skipped = _send(
            restore_points, src, source, target, src.id, progress or no_progress
        )
        restore_points.fault("manifests")
        restore_points.catalog.move(src.id, store, {d.id: d.manifest for d in new_drps})
    freed = restore_points.maintenance.gc_store(src.region, src.subscription, progress, src.store)
    return MoveResult(restore_points.get(src.id), sent, sent_bytes, skipped, freed.bytes_freed)
