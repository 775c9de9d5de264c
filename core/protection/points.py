"""Recovery points: a protected item's restore points as the vault knows them (``bk_points``).

A recovery point IS a restore point of the vault's collection for the VM (its id is the
restore point id, so restores take it as they take any restore point); its ``bk_points``
row adds what the vault knows: the item, the scheduled time, an on-demand backup's own
expiry, the tier its blocks are in, when it leaves the instant tier (``tier_at``), the
latest expiry an immutable vault has promised (``locked_until``) and its soft delete.

Always holds: the row outlives its item and its VM (nothing deletes it but a delete or a
prune, then a purge); a soft-deleted point keeps its row and its blocks until its window
(``SOFT_DELETE_DAYS``) ends, and a purge removes the row only after its restore point.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import NotFound
from core.fabric.home import Fabric
from core.protection.items import utc

SOFT_DELETE_DAYS = 14
SOFT_DELETE = timedelta(days=SOFT_DELETE_DAYS)
TIERS = ("Snapshot", "VaultStandard", "SnapshotAndVaultStandard")


@dataclass(frozen=True)
class RecoveryPointInfo:
    id: str  # the restore point id
    item_id: str
    time: datetime  # the scheduled start
    consistency: str
    tier: str  # "Snapshot" | "VaultStandard" | "SnapshotAndVaultStandard"
    bytes_stored: int
    expires_at: datetime | None
    kept_by: tuple[str, ...]
    deleted_at: datetime | None  # soft-deleted
    retain_until: datetime | None  # on demand


@dataclass(frozen=True)
class PointRow:
    """A ``bk_points`` row as stored (times in seconds, UTC)."""

    id: str
    item_id: str
    vault_id: str
    time: float
    retain_until: float | None
    deleted_at: float | None
    tier: str
    tier_at: float
    locked_until: float | None
    consistency: str

    @property
    def when(self) -> datetime:
        return utc(self.time)  # type: ignore[return-value]


def _row(row: sqlite3.Row) -> PointRow:
    return PointRow(
        row["id"],
        row["item_id"],
        row["vault_id"],
        row["time"],
        row["retain_until"],
        row["deleted_at"],
        row["tier"],
        row["tier_at"],
        row["locked_until"],
        row["consistency"],
    )


class Points:
    """The recovery point rows of one fabric."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric

    def insert(self, conn: sqlite3.Connection, row: PointRow, created_at: float) -> None:
        """Record a new point (inside the caller's transaction)."""
        conn.execute(
            "INSERT INTO bk_points (id, item_id, vault_id, time, retain_until, deleted_at, "
            "tier, tier_at, locked_until, consistency, created_at) "
            "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            (
                row.id,
                row.item_id,
                row.vault_id,
                row.time,
                row.retain_until,
                row.tier,
                row.tier_at,
                row.locked_until,
                row.consistency,
                created_at,
            ),
        )
        conn.execute("UPDATE bk_vaults SET has_points=1 WHERE id=?", (row.vault_id,))

    def find(self, point_id: str) -> PointRow | None:
        row = self.fabric.db().execute("SELECT * FROM bk_points WHERE id=?", (point_id,))
        found = row.fetchone()
        return _row(found) if found else None

    def get(self, point_id: str) -> PointRow:
        found = self.find(point_id)
        if found is None:
            raise NotFound(f"recovery point {point_id} does not exist in any vault")
        return found

    def of_item(self, item_id: str, include_deleted: bool = False) -> list[PointRow]:
        """The item's points, oldest first."""
        rows = self.fabric.db().execute(
            "SELECT * FROM bk_points WHERE item_id=? ORDER BY time, id", (item_id,)
        )
        return [r for r in map(_row, rows) if include_deleted or r.deleted_at is None]

    def of_vault(self, vault_id: str) -> list[PointRow]:
        rows = self.fabric.db().execute(
            "SELECT * FROM bk_points WHERE vault_id=? ORDER BY time, id", (vault_id,)
        )
        return [_row(r) for r in rows]

    def item_ids(self) -> list[str]:
        """Every item id that has points (its item may be gone)."""
        rows = self.fabric.db().execute("SELECT DISTINCT item_id FROM bk_points ORDER BY item_id")
        return [r[0] for r in rows]

    def to_tier(self, at: float) -> list[PointRow]:
        """Points in the snapshot tier whose instant-restore days are over at ``at``."""
        rows = self.fabric.db().execute(
            "SELECT * FROM bk_points WHERE tier='Snapshot' AND deleted_at IS NULL AND tier_at<=? "
            "ORDER BY time, id",
            (at,),
        )
        return [_row(r) for r in rows]

    def to_purge(self, at: float) -> list[PointRow]:
        """Soft-deleted points whose window is over at ``at``."""
        rows = self.fabric.db().execute(
            "SELECT * FROM bk_points WHERE deleted_at IS NOT NULL AND deleted_at<=? "
            "ORDER BY time, id",
            (at - SOFT_DELETE.total_seconds(),),
        )
        return [_row(r) for r in rows]

    def set_tier(self, point_id: str, tier: str) -> None:
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE bk_points SET tier=? WHERE id=?", (tier, point_id))

    def lock_until(self, point_id: str, until: float) -> None:
        """Promise (immutable vault) that the point stays until ``until`` at least."""
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE bk_points SET locked_until=MAX(COALESCE(locked_until, 0), ?) WHERE id=?",
                (until, point_id),
            )

    def soft_delete(self, point_id: str, at: float) -> None:
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE bk_points SET deleted_at=? WHERE id=?", (at, point_id))

    def undelete(self, point_id: str) -> None:
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE bk_points SET deleted_at=NULL WHERE id=?", (point_id,))

    def remove(self, point_id: str) -> None:
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM bk_points WHERE id=?", (point_id,))
