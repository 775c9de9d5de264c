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
- A disk under a disk encryption set is captured with its data key (``core/envelope.py``):
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
    res = copy_restore_point(fabric, rps, rp.id, dr_coll, "rp1")  # core/copy.py, RP-10
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from core.blockstore import BlockStore
from core.capture import capture_disk, restore_into
from core.disks import Disk, Disks
from core.envelope import BlockKey, Envelopes, KeyUnavailable, WrappedKey, forget_records
from core.envelope import save_records as save_key_records
from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric import Fabric, ResourceId, check_name
from core.gc import GcReport, collect_garbage
from core.hooks import run_hook
from core.progress import Progress, no_progress
from core.rpmodel import (
    MODES,
    SCHEMA,
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
from core.verify import VerifyReport, verify_store

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


class RestorePoints:
    """Restore point collections and restore points of one fabric."""

    def __init__(self, fabric: Fabric, disks: Disks) -> None:
        self.fabric = fabric
        self.disks = disks
        # Test seam: called with a step name ("blocks", "manifests") between the steps of create.
        self.fault_hook: Callable[[str], None] | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[BlockStore] = []
        with fabric.transaction() as conn:
            for stmt in SCHEMA.strip().split(";"):
                if stmt.strip():
                    conn.execute(stmt)
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

    # -- collections ----------------------------------------------------------------------
    def create_collection(self, collection_id: str, *, region: str, source_vm_id: str) -> dict:
        rid = ResourceId.parse(collection_id)
        if rid.type.lower() != "restorepointcollections" or rid.children:
            raise CoreError(
                f"{collection_id} is not a restore point collection id: use /subscriptions/"
                "{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/restorePointCollections/"
                "{name}"
            )
        check_name(rid.name, "restore point collection")
        sub = self.fabric.check_subscription(rid.subscription)
        region = self.fabric.check_region(region)
        with self.fabric.transaction() as conn:
            if conn.execute("SELECT 1 FROM rp_collections WHERE id=?", (collection_id,)).fetchone():
                raise AlreadyExists(f"restore point collection {collection_id} exists already")
            conn.execute(
                "INSERT INTO rp_collections VALUES (?, ?, ?, ?, ?, ?)",
                (collection_id, rid.name, region, sub, source_vm_id, time.time()),
            )
        return self.get_collection(collection_id)

    def get_collection(self, collection_id: str) -> dict:
        row = (
            self.fabric.db()
            .execute("SELECT * FROM rp_collections WHERE id=?", (collection_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(
                f"restore point collection {collection_id} does not exist: create it first"
            )
        out = dict(row)
        out["restore_point_ids"] = [rp.id for rp in self.list(row["id"])]
        return out

    def delete_collection(self, collection_id: str, progress: Progress | None = None) -> int:
        """Delete a collection and its restore points (rule RP-13); returns bytes freed."""
        coll = self.get_collection(collection_id)
        freed = self._delete_rows(coll["restore_point_ids"])
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM rp_collections WHERE id=?", (coll["id"],))
        return freed + self._gc_store(coll["region"], coll["subscription"], progress).bytes_freed

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
                        base_size, base_ids = store.get_manifest(base_drp["manifest"])
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

    # -- deleting, verify, gc ------------------------------------------------------------------
    def delete(self, restore_point_id: str, progress: Progress | None = None) -> int:
        """Delete a restore point and free the blocks no other uses."""
        # rule RP-13: the row goes first, then gc frees what no other restore point uses
        rp = self.get(restore_point_id)
        self._delete_rows([rp.id])
        return self._gc_store(rp.region, rp.subscription, progress).bytes_freed

    def _delete_rows(self, rp_ids: list[str]) -> int:
        with self.fabric.transaction() as conn:
            for rp_id in rp_ids:
                conn.execute(
                    "DELETE FROM cbt_bases WHERE disk_restore_point_id IN "
                    "(SELECT id FROM disk_restore_points WHERE restore_point_id=?)",
                    (rp_id,),
                )
                forget_records(conn, rp_id)
                conn.execute("DELETE FROM disk_restore_points WHERE restore_point_id=?", (rp_id,))
                conn.execute("DELETE FROM restore_points WHERE id=?", (rp_id,))
        return 0

    def _manifests(self, region: str, sub: str) -> list[tuple[str, str, str]]:
        """(manifest, disk restore point id, restore point id) of every row in one store."""
        rows = self.fabric.db().execute(
            "SELECT d.manifest, d.id, d.restore_point_id FROM disk_restore_points d "
            "JOIN restore_points r ON r.id = d.restore_point_id "
            "WHERE r.region=? AND r.subscription=?",
            (region, sub),
        )
        return [tuple(r) for r in rows.fetchall()]

    def _stores(self) -> list[tuple[str, str]]:
        found = set()
        for index in sorted((self.fabric.home / "regions").glob("*/*/store/index.db")):
            found.add((index.parent.parent.parent.name, index.parent.parent.name))
        for r in self.fabric.db().execute(
            "SELECT DISTINCT region, subscription FROM restore_points"
        ):
            found.add((r[0], r[1]))
        return sorted(found)

    def _gc_store(self, region: str, sub: str, progress: Progress | None) -> GcReport:
        with store_lock(self.store(region, sub), exclusive=True) as store:
            return collect_garbage(store, self._manifests(region, sub), progress or no_progress)

    def gc(self, progress: Progress | None = None) -> GcReport:
        """Mark and sweep every store: delete blocks and manifests no restore point uses."""
        total = GcReport()
        for region, sub in self._stores():
            total.add(self._gc_store(region, sub, progress))
        return total

    def verify(
        self, sample_percent: float = 100.0, progress: Progress | None = None
    ) -> VerifyReport:
        """Re-read and re-hash stored blocks; the report names each restore point affected."""
        if not 0 < sample_percent <= 100:
            raise CoreError(f"sample percent {sample_percent} must be in (0, 100]")
        total = VerifyReport()
        for region, sub in self._stores():
            with store_lock(self.store(region, sub), exclusive=False) as store:
                manifests = self._manifests(region, sub)
                total.add(
                    verify_store(
                        store,
                        manifests,
                        sample_percent,
                        progress or no_progress,
                        openers=self._openers([drp for _, drp, _ in manifests]),
                    )
                )
        return total

    # -- encrypted disks (core/envelope.py) ----------------------------------------------------
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

    def _openers(self, drp_ids: list[str]) -> dict[str, Callable | KeyUnavailable]:
        """For each encrypted disk restore point: its key's opener, or why it cannot open."""
        out: dict[str, Callable | KeyUnavailable] = {}
        opened: dict[WrappedKey, Callable | KeyUnavailable] = {}
        for drp_id, wk in self.envelopes.of_many(drp_ids).items():
            if wk not in opened:
                try:
                    opened[wk] = self.envelopes.unwrap(wk, "its blocks").open_payload
                except KeyUnavailable as exc:
                    opened[wk] = exc
            out[drp_id] = opened[wk]
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
        """A new disk, byte-identical to the disk restore point (sparse where zero)."""
        drp = self.get_disk_restore_point(disk_restore_point_id)
        rp = self.get(drp.restore_point_id)
        check_name(name, "disk")
        key = self.envelopes.key_for(drp.id)  # KeyUnavailable (naming the key) if unusable
        opener = key.open_payload if key is not None else None
        with (
            store_lock(self.store(rp.region, rp.subscription), exclusive=False) as store,
            naming(drp.id),
        ):
            size, ids = store.get_manifest(drp.manifest)
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
            size, ids = store.get_manifest(drp.manifest)
        except BaseException:
            store.close()
            raise
        return DiskImageReader(store, size, ids, drp.id, key.open_payload if key else None)


@contextmanager
def store_lock(store: BlockStore, exclusive: bool) -> Iterator[BlockStore]:
    """Hold ``store``'s lock (shared for writers, exclusive for gc) and yield the store."""
    with store.lock(exclusive):
        yield store
