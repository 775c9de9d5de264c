"""Restore point collections: create, get and delete.

What always holds:
- A collection id is a ``Microsoft.Compute/restorePointCollections`` resource id of a known
  subscription, in a known region; creating one that exists raises ``AlreadyExists``.
- Deleting a collection deletes its restore points' rows first, then the collection row,
  then collects the garbage of its store (rule RP-13): a crash in between leaves only
  orphan blocks, which ``gc`` reclaims.
"""

from __future__ import annotations

import time

from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import Fabric, ResourceId, check_name
from core.progress import Progress
from core.restorepoints.catalog import Catalog
from core.restorepoints.maintenance import Maintenance
from core.restorepoints.model import Collection


class Collections:
    """The restore point collections of one fabric."""

    def __init__(self, fabric: Fabric, catalog: Catalog, maintenance: Maintenance) -> None:
        self.fabric = fabric
        self.catalog = catalog
        self.maintenance = maintenance

    def create(self, collection_id: str, *, region: str, source_vm_id: str) -> Collection:
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
        return self.get(collection_id)

    def get(self, collection_id: str) -> Collection:
        row = (
            self.fabric.db()
            .execute("SELECT * FROM rp_collections WHERE id=?", (collection_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(
                f"restore point collection {collection_id} does not exist: create it first"
            )
        return Collection(
            id=row["id"],
            name=row["name"],
            region=row["region"],
            subscription=row["subscription"],
            source_vm_id=row["source_vm_id"],
            created_at=row["created_at"],
            restore_point_ids=self.catalog.ids_in(row["id"]),
        )

    def delete(self, collection_id: str, progress: Progress | None = None) -> int:
        """Delete a collection and its restore points (rule RP-13); returns bytes freed."""
        coll = self.get(collection_id)
        stores = {None} | {self.catalog.get(i).store for i in coll.restore_point_ids}
        self.catalog.delete_rows(coll.restore_point_ids)
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM rp_collections WHERE id=?", (coll.id,))
        return sum(
            self.maintenance.gc_store(coll.region, coll.subscription, progress, s).bytes_freed
            for s in sorted(stores, key=lambda s: s or "")
        )
