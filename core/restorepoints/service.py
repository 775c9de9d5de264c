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
    rps.create_collection(coll, region="eastus", source_vm_id=vm_id)
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
    report = rps.verify(sample_percent=10)           # report.problems name rps and disks
    freed = rps.delete(rp.id)                        # frees the blocks only it used (RP-13)
    rps.gc()                                         # reclaims what a crash left behind
    rps.close()
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable

from core.blocks.store import BlockStore
from core.disks.managed import Disk, Disks
from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import Fabric, check_name
from core.keystore.envelope import BlockKey, Envelopes, WrappedKey
from core.keystore.envelope import save_records as save_key_records
from core.problems import enforce
from core.progress import Progress, no_progress
from core.restorepoints.capture import capture_disk, restore_into
from core.restorepoints.collections import CollectionsMixin
from core.restorepoints.hooks import run_hook
from core.restorepoints.maintenance import MaintenanceMixin, store_lock
from core.restorepoints.model import (
    MODES,
    DiskImageReader,
    DiskRestorePoint,
    HookSpec,
    RestorePoint,
    VmSource,
    drp_from_row,
    included_disks,
    naming,
    source_metadata,
)
from core.restorepoints.rules import RestoreRegionFacts, restore_region_problems

_OPEN_LOCK = threading.Lock()

__all__ = [
    "DiskImageReader",
    "DiskRestorePoint",
    "HookSpec",
    "RestorePoint",
    "RestorePoints",
    "VmSource",
    "store_lock",
]


class RestorePoints(CollectionsMixin, MaintenanceMixin):
    """Restore point collections and restore points of one fabric."""

    def __init__(self, fabric: Fabric, disks: Disks) -> None:
        self.fabric = fabric
        self.disks = disks
        # Test seam: called with a step name ("blocks", "manifests") between the steps of create.
        self.fault_hook: Callable[[str], None] | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[BlockStore] = []
        # disks under a disk encryption set: data keys and per-restore-point key records
        self.envelopes = Envelopes(fabric)

    # -- stores ---------------------------------------------------------------------------
    def store(self, region: str, subscription: str) -> BlockStore:
        """The block store of (region, subscription), kept open for this thread until
        ``close`` (closing an index connection checkpoints it, which costs tens of ms)."""
        stores = self._local.__dict__.setdefault("stores", {})
        store = stores.get((region, subscription))
        if store is None:
            store = stores[(region, subscription)] = self.open_store(region, subscription)
            with self._lock:
                self._open.append(store)
        return store

    def open_store(self, region: str, subscription: str) -> BlockStore:
        """A new handle on the block store of (region, subscription); the caller closes it."""
        seed = self.fabric.subscription_seed(subscription)
        # One opening at a time in this process: two threads setting up a new store's index at
        # once (journal mode, schema) get "database is locked" instead of waiting.
        with _OPEN_LOCK:
            return BlockStore.open_dir(self.fabric.store_dir(region, subscription), seed)

    def close(self) -> None:
        """Close the block store handles this object opened (safe to call twice)."""
        with self._lock:
            for store in self._open:
                store.close()
            self._open.clear()
            self._local = threading.local()

    # -- restore points -----------------------------------------------------------------------
    def get(self, restore_point_id: str) -> RestorePoint:
        db = self.fabric.db()
        row = db.execute("SELECT * FROM restore_points WHERE id=?", (restore_point_id,)).fetchone()
        if row is None:
            raise NotFound(f"restore point {restore_point_id} does not exist")
        return self._rp(row)

    def list(self, collection_id: str | None = None) -> list[RestorePoint]:
        db = self.fabric.db()
        if collection_id is None:
            rows = db.execute("SELECT * FROM restore_points ORDER BY rowid")
        else:
            rows = db.execute(
                "SELECT * FROM restore_points WHERE collection_id=? ORDER BY rowid",
                (collection_id,),
            )
        return [self._rp(r) for r in rows.fetchall()]

    def _rp(self, row) -> RestorePoint:
        drps = self.fabric.db().execute(
            "SELECT * FROM disk_restore_points WHERE restore_point_id=? ORDER BY rowid",
            (row["id"],),
        )
        return RestorePoint(
            id=row["id"],
            name=row["name"],
            collection_id=row["collection_id"],
            region=row["region"],
            subscription=row["subscription"],
            created_at=row["created_at"],
            consistency_mode=row["consistency_mode"],
            consistency_achieved=row["consistency_achieved"],
            warnings=json.loads(row["warnings"]),
            source_metadata=json.loads(row["source_metadata"]),
            disk_restore_points=[drp_from_row(d) for d in drps.fetchall()],
            copied_from=row["copied_from"],
        )

    def get_disk_restore_point(self, disk_restore_point_id: str) -> DiskRestorePoint:
        row = (
            self.fabric.db()
            .execute("SELECT * FROM disk_restore_points WHERE id=?", (disk_restore_point_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"disk restore point {disk_restore_point_id} does not exist")
        return drp_from_row(row)

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
        coll = self.get_collection(collection_id)
        check_name(name, "restore point")
        rp_id = f"{coll['id']}/restorePoints/{name}"
        if self.fabric.db().execute("SELECT 1 FROM restore_points WHERE id=?", (rp_id,)).fetchone():
            raise AlreadyExists(f"restore point {rp_id} exists already: choose another name")
        if consistency_mode not in MODES:
            raise CoreError(f"restore point {name}: consistency_mode must be one of {MODES}")
        disks = included_disks(self.disks, vm, exclude_disk_ids)
        # rule RP-11: the blocks go to the collection's region, which may differ from the VM's
        region, sub = coll["region"], coll["subscription"]
        if sub.lower() != vm.subscription.lower():
            raise CoreError(
                f"restore point {rp_id}: the collection's subscription differs from VM "
                f"{vm.name}'s; create the collection in subscription {vm.subscription}"
            )
        bases = {d.id: self._base(d, region, sub) for d in disks}
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
            store_lock(self.store(region, sub), exclusive=False) as store,
            self.disks.hold_writes([d.id for d in disks]),
        ):
            with store.writer() as writer:
                captured = []
                for disk in disks:
                    base_drp, use_cbt = bases[disk.id]
                    base_ids = None
                    if base_drp is not None:
                        base_size, base_ids = store.get_manifest(
                            base_drp["manifest"], base_drp["size_bytes"]
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
                        base_drp["blocks_total"] if base_drp else None,
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
            self._fault("blocks")
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
            self._fault("manifests")
            achieved = "ApplicationConsistent" if app else "CrashConsistent"
            metadata = source_metadata(vm, disks)
            keys = [(d.id, d.disk_id, sealed[d.disk_id][0]) for d in drps if d.disk_id in sealed]
            self._commit(
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
                with self.fabric.transaction() as conn:
                    conn.execute(
                        "UPDATE restore_points SET consistency_achieved=?, warnings=? WHERE id=?",
                        ("CrashConsistent", json.dumps([*warnings, warn]), rp_id),
                    )
        return self.get(rp_id)

    def _commit(
        self,
        rp_id,
        coll,
        name,
        mode,
        achieved,
        warnings,
        metadata,
        drps,
        copied_from=None,
        cbt=False,
        keys: list[tuple[str, str, WrappedKey]] | tuple = (),
    ):
        """Write the restore point row and its disk rows in one transaction (last step);
        ``cbt``: the disks' change tracking was reset at this capture (it is their new base);
        ``keys``: (disk restore point id, disk id, wrapped data key) of encrypted disks."""
        with self.fabric.transaction() as conn:
            conn.execute(
                "INSERT INTO restore_points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rp_id,
                    coll["id"],
                    name,
                    coll["region"],
                    coll["subscription"],
                    time.time(),
                    mode,
                    achieved,
                    json.dumps(warnings),
                    json.dumps(metadata),
                    copied_from,
                ),
            )
            conn.executemany(
                "INSERT INTO disk_restore_points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        d.id,
                        d.restore_point_id,
                        d.disk_id,
                        d.disk_name,
                        d.size_bytes,
                        d.manifest,
                        d.bytes_stored,
                        d.bytes_changed,
                        d.blocks_total,
                        d.blocks_new,
                    )
                    for d in drps
                ],
            )
            if cbt:
                conn.executemany(
                    "INSERT OR REPLACE INTO cbt_bases VALUES (?, ?)",
                    [(d.disk_id, d.id) for d in drps],
                )
            save_key_records(conn, keys)

    def _fault(self, step: str) -> None:
        if self.fault_hook is not None:
            self.fault_hook(step)

    def _base(self, disk: Disk, region: str, sub: str) -> tuple[dict | None, bool]:
        """The previous restore point of ``disk`` in this store, and whether CBT covers it."""
        db = self.fabric.db()
        row = db.execute(
            "SELECT d.* FROM cbt_bases b JOIN disk_restore_points d "
            "ON d.id = b.disk_restore_point_id JOIN restore_points r ON r.id = d.restore_point_id "
            "WHERE b.disk_id=? AND r.region=? AND r.subscription=?",
            (disk.id, region, sub),
        ).fetchone()
        if row is not None:
            return dict(row), True
        row = db.execute(
            "SELECT d.* FROM disk_restore_points d JOIN restore_points r "
            "ON r.id = d.restore_point_id WHERE d.disk_id=? AND r.region=? AND r.subscription=? "
            "ORDER BY d.rowid DESC LIMIT 1",
            (disk.id, region, sub),
        ).fetchone()
        return (dict(row) if row else None), False

    # -- encrypted disks (core/keystore/envelope.py) ----------------------------------------
    def _data_keys(
        self, disks: list[Disk], bases: dict[str, tuple[dict | None, bool]]
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
                if self.envelopes.of(base_drp["id"]) != (got[0] if got else None):
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
            store_lock(self.store(rp.region, rp.subscription), exclusive=False) as store,
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
        store = self.open_store(rp.region, rp.subscription)
        try:
            size, ids = store.get_manifest(drp.manifest, drp.size_bytes)
        except BaseException:
            store.close()
            raise
        return DiskImageReader(store, size, ids, drp.id, key.open_payload if key else None)
