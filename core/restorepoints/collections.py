"""Restore point collections: create, get and delete (a mixin of ``RestorePoints``).

What always holds:
- A collection id is a ``Microsoft.Compute/restorePointCollections`` resource id of a known
  subscription, in a known region; creating one that exists raises ``AlreadyExists``.
- Deleting a collection deletes its restore points' rows first, then the collection row,
  then collects the garbage of its store (rule RP-13): a crash in between leaves only
  orphan blocks, which ``gc`` reclaims.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import ResourceId, check_name
from core.progress import Progress

if TYPE_CHECKING:
    from core.fabric.home import Fabric


class CollectionsMixin:
    """The collection methods of ``RestorePoints`` (``core/restorepoints/service.py``)."""

    fabric: Fabric

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
