"""Restore points: consistent, incremental block snapshots of a VM's disks, and restores.

What always holds:
- A restore point is created in its collection's region's store (rule RP-11). Blocks go in
  first (packs durable, index committed), then each disk's manifest, and the restore point
  row last, in one ``fabric.db`` transaction: a crash never leaves a visible restore point that
  points at missing blocks; the orphans it leaves are reclaimed by ``gc``.
- Writes through the core are held on all included disks from the capture until the row is
  committed and their change tracking reset, so every disk of one restore point is captured
  at the same instant (rule RP-3) and the tracking never misses a write.
- Every block read back is re-hashed against its id (``IntegrityError`` otherwise).
- A disk under a disk encryption set is captured with its data key (``core/keystore/envelope.py``):
  keyed ids, sealed blocks. Its disk restore point's key record is committed with the row;
  restores, reads and verify unwrap that key anew (``KeyUnavailable`` names an unusable key).

Usage::

    fabric = Fabric.open(home)
    disks = Disks(fabric)
    rps = RestorePoints(fabric, disks)
    coll = "/subscriptions/<sub>/resourceGroups/rg/providers/Microsoft.Compute/" \\
           "restorePointCollections/daily"
    rps.collections.create(coll, region="eastus", source_vm_id=vm_id)
    vm = VmSource(vm_id=vm_id, name="web", region="eastus", subscription=sub,
                  size="Standard_D2s_v5", os_type="linux", power_state="running",
                  os_disk_id=os_disk.id, data_disk_ids=[], hooks=HookSpec("sync", None, 30))
    rp = rps.create(coll, "rp1", vm)                 # full the first time, incremental later
    drp = rp.disk_restore_points[0]
    disk = rps.restore_disk(drp.id, subscription=sub, resource_group="rg",
                            region="eastus", name="web-restored")
    with rps.open_disk_restore_point(drp.id) as reader:  # random access, verified
        first_sector = reader.read(0, 512)
    res = copy_restore_point(fabric, rps, rp.id, dr_coll, "rp1")  # RP-10
    report = rps.maintenance.verify(sample_percent=10)  # problems name rps and disks
    freed = rps.delete(rp.id)                        # frees the blocks only it used (RP-13)
    rps.maintenance.gc()                             # reclaims what a crash left behind
    rps.close()
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from core.disks.managed import Disks
from core.disks.records import Disk
from core.errors import AlreadyExists, CoreError
from core.fabric.home import Fabric, check_name
from core.keystore.envelope import BlockKey, Envelopes, WrappedKey
from core.problems import enforce
from core.progress import Progress, no_progress
from core.restorepoints.capture import capture_disk, restore_into
from core.restorepoints.catalog import Catalog
from core.restorepoints.collections import Collections
from core.restorepoints.hooks import run_hook
from core.restorepoints.maintenance import Maintenance
from core.restorepoints.model import (
    MODES,
    DiskImageReader,
    DiskRestorePoint,
    RestorePoint,
    VmSource,
    included_disks,
    naming,
    source_metadata,
)
from core.restorepoints.rules import RestoreRegionFacts, restore_region_problems
from core.restorepoints.stores import Stores, store_lock


class RestorePoints:
    """Restore point collections and restore points of one fabric.

    Made of explicit collaborators, each usable on its own: ``stores`` (the block store
    handles), ``catalog`` (the rows in ``fabric.db``), ``maintenance`` (gc, verify, index
    rebuilds), ``collections`` (create, get, delete) and ``envelopes`` (the data keys of
    encrypted disks). This class captures, restores, reads and deletes restore points."""

    def __init__(self, fabric: Fabric, disks: Disks) -> None:
        self.fabric = fabric
        self.disks = disks
        # Test seam: called with a step name ("blocks", "manifests") between the steps of create.
        self.fault_hook: Callable[[str], None] | None = None
        self.stores = Stores(fabric)
        self.catalog = Catalog(fabric)
        # disks under a disk encryption set: data keys and per-restore-point key records
        self.envelopes = Envelopes(fabric)
        self.maintenance = Maintenance(fabric, self.catalog, self.stores, self.envelopes)
        self.collections = Collections(fabric, self.catalog, self.maintenance)

    def close(self) -> None:
        """Close the block store handles this object opened (safe to call twice)."""
        self.stores.close()

    # -- restore points (read) ------------------------------------------------------------
    def get(self, restore_point_id: str) -> RestorePoint:
        return self.catalog.get(restore_point_id)

    def list(self, collection_id: str | None = None) -> list[RestorePoint]:
        return self.catalog.list(collection_id)

    def get_disk_restore_point(self, disk_restore_point_id: str) -> DiskRestorePoint:
        return self.catalog.disk_restore_point(disk_restore_point_id)

    def create(
        self,
        collection_id: str,
        name: str,
        vm: VmSource,
        *,
        consistency_mode: str = "ApplicationConsistent",
        exclude_disk_ids: tuple[str, ...] | list[str] = (),
        progress: Progress | None = None,
    ) -> RestorePoint:
        """Capture the VM's included disks into a new restore point of the collection."""
        progress = progress or no_progress
        coll = self.collections.get(collection_id)
        check_name(name, "restore point")
        rp_id = f"{coll.id}/restorePoints/{name}"
        if self.catalog.exists(rp_id):
            raise AlreadyExists(f"restore point {rp_id} exists already: choose another name")
        if consistency_mode not in MODES:
            raise CoreError(f"restore point {name}: consistency_mode must be one of {MODES}")
        disks = included_disks(self.disks, vm, exclude_disk_ids)
        # rule RP-11: the blocks go to the collection's region, which may differ from the VM's
        region, sub = coll.region, coll.subscription
        if sub.lower() != vm.subscription.lower():
            raise CoreError(
                f"restore point {rp_id}: the collection's subscription differs from VM "
                f"{vm.name}'s; create the collection in subscription {vm.subscription}"
            )
        bases = {d.id: self.catalog.base(d, region, sub) for d in disks}
        sealed = self._data_keys(disks, bases)
        warnings: list[str] = []
        running = vm.power_state.lower() in ("running", "on", "started")
        app = consistency_mode == "ApplicationConsistent" and running  # rule RP-3, EXT-1
        if consistency_mode == "ApplicationConsistent" and not running:
            warnings.append(
                f"VM {vm.name} is {vm.power_state}: the restore point is crash-consistent"
            )
        env = {"BCDR_VM_NAME": vm.name, "BCDR_RESTORE_POINT": name}
        hooks = vm.hooks
        if app and hooks and hooks.pre:
            warn = run_hook("pre", hooks.pre, hooks.timeout_seconds, env)
            if warn:
                warnings.append(warn)
                app = False

        # Writes stay held from the capture until the change tracking is reset, after the
        # row is committed: a crash before the commit leaves the tracking covering the old
        # base, and one after it leaves a superset of the changes since the new base.
        drps: list[DiskRestorePoint] = []
        with (
            store_lock(self.stores.get(region, sub), exclusive=False) as store,
            self.disks.hold_writes([d.id for d in disks]),
        ):
            with store.writer() as writer:
                captured = []
                for disk in disks:
                    base_drp, use_cbt = bases[disk.id]
                    base_ids = None
                    if base_drp is not None:
                        base_size, base_ids = store.get_manifest(
                            base_drp.manifest, base_drp.size_bytes
                        )
                        use_cbt = use_cbt and base_size == disk.size_bytes
                    changed = self.disks.changed_blocks(disk.id) if use_cbt else None
                    before = (writer.blocks_new, writer.bytes_stored)
                    ids, stats = capture_disk(
                        store,
                        writer,
                        disk,
                        base_ids,
                        changed,
                        progress,
                        base_drp.blocks_total if base_drp else None,
                        key=sealed[disk.id][1] if disk.id in sealed else None,
                    )
                    captured.append((disk, ids, stats, before))
                writer.drain()
                blocks_after = (writer.blocks_new, writer.bytes_stored)
                # Manifests are written while the last packs are (their fsyncs overlap); the
                # row below waits for both.
                names = [f"manifests/{uuid.uuid4().hex}.manifest" for _ in captured]
                puts = [
                    writer.io.submit(store.put_manifest, m, disk.size_bytes, ids)
                    for m, (disk, ids, _, _) in zip(names, captured, strict=True)
                ]
                writer.flush()
                for put in puts:
                    put.result()
            self.fault("blocks")
            for i, (disk, _ids, stats, before) in enumerate(captured):
                after = captured[i + 1][3] if i + 1 < len(captured) else blocks_after
                manifest = names[i]
                drps.append(
                    DiskRestorePoint(
                        id=f"{rp_id}/diskRestorePoints/{disk.name}",
                        restore_point_id=rp_id,
                        disk_id=disk.id,
                        disk_name=disk.name,
                        size_bytes=disk.size_bytes,
                        bytes_stored=after[1] - before[1],
                        bytes_changed=stats.bytes_changed,
                        blocks_total=stats.blocks_total,
                        blocks_new=after[0] - before[0],
                        manifest=manifest,
                    )
                )
            self.fault("manifests")
            achieved = "ApplicationConsistent" if app else "CrashConsistent"
            metadata = source_metadata(vm, disks)
            keys = [(d.id, d.disk_id, sealed[d.disk_id][0]) for d in drps if d.disk_id in sealed]
            self.catalog.commit(
                rp_id,
                coll,
                name,
                consistency_mode,
                achieved,
                warnings,
                metadata,
                drps,
                cbt=True,
                keys=keys,
            )
            for disk in disks:
                self.disks.reset_changed_blocks(disk.id)
        if app and hooks and hooks.post:
            warn = run_hook("post", hooks.post, hooks.timeout_seconds, env)
            if warn:
                self.catalog.mark_crash_consistent(rp_id, [*warnings, warn])
        return self.get(rp_id)

    def fault(self, step: str) -> None:
        """Call the test seam ``fault_hook`` (if set) at a step of a capture or copy."""
        if self.fault_hook is not None:
            self.fault_hook(step)

    def delete(self, restore_point_id: str, progress: Progress | None = None) -> int:
        """Delete a restore point and free the blocks no other uses; returns bytes freed."""
        # rule RP-13: the rows go first, then gc frees what no other restore point uses
        rp = self.catalog.get(restore_point_id)
        self.catalog.delete_rows([rp.id])
        return self.maintenance.gc_store(rp.region, rp.subscription, progress, rp.store).bytes_freed

    # -- encrypted disks (core/keystore/envelope.py) ----------------------------------------
    def _data_keys(
        self, disks: list[Disk], bases: dict[str, tuple[DiskRestorePoint | None, bool]]
    ) -> dict[str, tuple[WrappedKey, BlockKey]]:
        """The data key of each disk under a disk encryption set; a base captured under
        another key (or none) is dropped, so that capture is full (ids differ by key)."""
        out: dict[str, tuple[WrappedKey, BlockKey]] = {}
        for disk in disks:
            got = self.envelopes.for_disk(disk)
            if got is not None:
                out[disk.id] = got
            base_drp = bases[disk.id][0]
            if base_drp is not None:
                if self.envelopes.of(base_drp.id) != (got[0] if got else None):
                    bases[disk.id] = (None, False)
        return out

    # -- restore ---------------------------------------------------------------------------------
    def restore_disk(
        self,
        disk_restore_point_id: str,
        *,
        subscription: str,
        resource_group: str,
        region: str,
        name: str,
        progress: Progress | None = None,
    ) -> Disk:
        """A new disk, byte-identical to the disk restore point (sparse where zero).

        The manifest is checked before anything is written and every block as it is read;
        the disk becomes visible only once all of it is written (``Disks.create_with``), so
        a restore that does not check leaves nothing behind (``IntegrityError``)."""
        drp = self.get_disk_restore_point(disk_restore_point_id)
        rp = self.get(drp.restore_point_id)
        check_name(name, "disk")
        target = RestoreRegionFacts(rp.id, rp.region, self.fabric.check_region(region))
        enforce(restore_region_problems(target))  # RP-9, the function plans call too
        key = self.envelopes.key_for(drp.id)  # KeyUnavailable (naming the key) if unusable
        opener = key.open_payload if key is not None else None
        with (
            store_lock(
                self.stores.get(rp.region, rp.subscription, rp.store), exclusive=False
            ) as store,
            naming(drp.id),
        ):
            size, ids = store.get_manifest(drp.manifest, drp.size_bytes)
            return self.disks.create_with(
                subscription=subscription,
                resource_group=resource_group,
                region=region,
                name=name,
                size_bytes=size,
                fill=lambda fd: restore_into(store, ids, fd, progress or no_progress, opener),
            )

    def open_disk_restore_point(self, disk_restore_point_id: str) -> DiskImageReader:
        """A reader of the disk image (the caller closes it); every block read is verified."""
        drp = self.get_disk_restore_point(disk_restore_point_id)
        rp = self.get(drp.restore_point_id)
        key = self.envelopes.key_for(drp.id)  # KeyUnavailable (naming the key) if unusable
        store = self.stores.open(rp.region, rp.subscription, rp.store)
        try:
            size, ids = store.get_manifest(drp.manifest, drp.size_bytes)
        except BaseException:
            store.close()
            raise
        return DiskImageReader(store, size, ids, drp.id, key.open_payload if key else None)
