"""The restore point rows of ``fabric.db``: read them as records, commit and delete them.

What always holds: a restore point becomes visible only through ``commit``, which writes its
row, its disk restore points' rows, the disks' new change-tracking bases and the key records
of encrypted disks in one transaction (the last step of a capture or a copy, after the blocks
and manifests are durable); ``delete_rows`` removes the same rows, and nothing else, in one
transaction, so the blocks they used are left for the store's gc. Nothing here touches a
block store.
"""

from __future__ import annotations

import json
import sqlite3
import time

from core.disks.records import Disk
from core.errors import NotFound
from core.fabric.home import Fabric
from core.keystore.envelope import WrappedKey, forget_records
from core.keystore.envelope import save_records as save_key_records
from core.restorepoints.model import Collection, DiskRestorePoint, RestorePoint, drp_from_row


class Catalog:
    """The restore point and disk restore point rows of one fabric."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric

    def get(self, restore_point_id: str) -> RestorePoint:
        db = self.fabric.db()
        row = db.execute("SELECT * FROM restore_points WHERE id=?", (restore_point_id,)).fetchone()
        if row is None:
            raise NotFound(f"restore point {restore_point_id} does not exist")
        return self._record(row)

    def exists(self, restore_point_id: str) -> bool:
        db = self.fabric.db()
        return (
            db.execute("SELECT 1 FROM restore_points WHERE id=?", (restore_point_id,)).fetchone()
            is not None
        )

    def list(self, collection_id: str | None = None) -> list[RestorePoint]:
        db = self.fabric.db()
        if collection_id is None:
            rows = db.execute("SELECT * FROM restore_points ORDER BY rowid")
        else:
            rows = db.execute(
                "SELECT * FROM restore_points WHERE collection_id=? ORDER BY rowid",
                (collection_id,),
            )
        return [self._record(r) for r in rows.fetchall()]

    def ids_in(self, collection_id: str) -> list[str]:
        """The ids of a collection's restore points, oldest first."""
        rows = self.fabric.db().execute(
            "SELECT id FROM restore_points WHERE collection_id=? ORDER BY rowid", (collection_id,)
        )
        return [r[0] for r in rows.fetchall()]

    def _record(self, row: sqlite3.Row) -> RestorePoint:
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
            store=row["store"],
        )

    def disk_restore_point(self, disk_restore_point_id: str) -> DiskRestorePoint:
        row = (
            self.fabric.db()
            .execute("SELECT * FROM disk_restore_points WHERE id=?", (disk_restore_point_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"disk restore point {disk_restore_point_id} does not exist")
        return drp_from_row(row)

    def base(self, disk: Disk, region: str, sub: str) -> tuple[DiskRestorePoint | None, bool]:
        """The previous disk restore point of ``disk`` in the store of (region, sub), and
        whether the disk's change tracking covers the changes since it."""
        db = self.fabric.db()
        row = db.execute(
            "SELECT d.* FROM cbt_bases b JOIN disk_restore_points d "
            "ON d.id = b.disk_restore_point_id JOIN restore_points r ON r.id = d.restore_point_id "
            "WHERE b.disk_id=? AND r.region=? AND r.subscription=? AND r.store IS NULL",
            (disk.id, region, sub),
        ).fetchone()
        if row is not None:
            return drp_from_row(row), True
        row = db.execute(
            "SELECT d.* FROM disk_restore_points d JOIN restore_points r "
            "ON r.id = d.restore_point_id WHERE d.disk_id=? AND r.region=? AND r.subscription=? "
            "AND r.store IS NULL ORDER BY d.rowid DESC LIMIT 1",
            (disk.id, region, sub),
        ).fetchone()
        return (drp_from_row(row) if row else None), False

    def manifests(
        self, region: str, sub: str, store: str | None = None
    ) -> list[tuple[str, str, str, int]]:
        """(manifest, disk restore point id, restore point id, size) of every row in one store."""
        rows = self.fabric.db().execute(
            "SELECT d.manifest, d.id, d.restore_point_id, d.size_bytes FROM disk_restore_points d "
            "JOIN restore_points r ON r.id = d.restore_point_id "
            "WHERE r.region=? AND r.subscription=? AND r.store IS ?",
            (region, sub, store),
        )
        return [tuple(r) for r in rows.fetchall()]

    def regions(self) -> set[tuple[str, str, str | None]]:
        """The (region, subscription, store) of every store that holds a restore point row."""
        rows = self.fabric.db().execute(
            "SELECT DISTINCT region, subscription, store FROM restore_points"
        )
        return {(r[0], r[1], r[2]) for r in rows}

    def commit(
        self,
        rp_id: str,
        coll: Collection,
        name: str,
        mode: str,
        achieved: str,
        warnings: list[str],
        metadata: dict,
        drps: list[DiskRestorePoint],
        copied_from: str | None = None,
        cbt: bool = False,
        keys: list[tuple[str, str, WrappedKey]] | tuple = (),
    ) -> None:
        """Write the restore point row and its disk rows in one transaction (last step);
        ``cbt``: the disks' change tracking was reset at this capture (it is their new base);
        ``keys``: (disk restore point id, disk id, wrapped data key) of encrypted disks."""
        with self.fabric.transaction() as conn:
            conn.execute(
                "INSERT INTO restore_points (id, collection_id, name, region, subscription, "
                "created_at, consistency_mode, consistency_achieved, warnings, source_metadata, "
                "copied_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rp_id,
                    coll.id,
                    name,
                    coll.region,
                    coll.subscription,
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

    def move(self, rp_id: str, store: str | None, manifests: dict[str, str]) -> None:
        """Repoint a restore point at another store of its region (its id stays), with the
        manifest name of each of its disk restore points there, in one transaction."""
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE restore_points SET store=? WHERE id=?", (store, rp_id))
            conn.executemany(
                "UPDATE disk_restore_points SET manifest=? WHERE id=?",
                [(manifest, drp_id) for drp_id, manifest in manifests.items()],
            )

    def mark_crash_consistent(self, rp_id: str, warnings: list[str]) -> None:
        """Record that a restore point is crash-consistent after all (a post hook failed)."""
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE restore_points SET consistency_achieved=?, warnings=? WHERE id=?",
                ("CrashConsistent", json.dumps(warnings), rp_id),
            )

    def delete_rows(self, rp_ids: list[str]) -> None:
        """Delete restore points' rows (with their disk rows, CBT bases and key records)."""
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
