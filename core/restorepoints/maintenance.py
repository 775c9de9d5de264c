"""Deleting restore points, gc and verify across stores (a mixin of ``RestorePoints``).

What always holds:
- A delete removes the rows first (restore point, disk restore points, CBT bases, key
  records) in one transaction, then collects the garbage of that store under its exclusive
  lock, so a block still used by another restore point is never freed (rule RP-13).
- ``gc`` and ``verify`` visit every store that has an index or a restore point row; verify
  reads under the shared lock and re-hashes every block it reads, unwrapping each encrypted
  disk restore point's key anew (an unusable key is reported, not raised). Asked to rebuild
  the index first, it closes this object's store handles and rebuilds each store's index
  from its packs under that store's exclusive lock (``core.blocks.store.rebuild_index``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from core.blocks.gc import GcReport, collect_garbage
from core.blocks.index import IndexDamaged, RebuildReport, rebuild_index
from core.blocks.store import BlockStore
from core.blocks.verify import VerifyReport, index_problem, verify_store
from core.errors import CoreError
from core.keystore.envelope import KeyUnavailable, WrappedKey, forget_records
from core.progress import Progress, no_progress

if TYPE_CHECKING:
    from core.fabric.home import Fabric
    from core.keystore.envelope import Envelopes


class MaintenanceMixin:
    """Delete, gc and verify of ``RestorePoints`` (``core/restorepoints/service.py``)."""

    fabric: Fabric
    envelopes: Envelopes

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

    def _manifests(self, region: str, sub: str) -> list[tuple[str, str, str, int]]:
        """(manifest, disk restore point id, restore point id, size) of every row in one store."""
        rows = self.fabric.db().execute(
            "SELECT d.manifest, d.id, d.restore_point_id, d.size_bytes FROM disk_restore_points d "
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
        self,
        sample_percent: float = 100.0,
        progress: Progress | None = None,
        *,
        rebuild: bool = False,
    ) -> VerifyReport:
        """Check every stored byte (blocks re-hashed: all, or a sample); the report names
        each restore point affected. ``rebuild``: first make each store's index again from
        its packs (``report.rebuilt``)."""
        if not 0 < sample_percent <= 100:
            raise CoreError(f"sample percent {sample_percent} must be in (0, 100]")
        total = VerifyReport()
        if rebuild:
            self.close()  # the handles this object holds would keep the old index open
            for region, sub in self._stores():
                total.rebuilt.append(self.rebuild_index(region, sub))
        for region, sub in self._stores():
            manifests = self._manifests(region, sub)
            try:
                handle = self.store(region, sub)
            except IndexDamaged as exc:
                total.problems.append(index_problem(exc.path, exc.detail, manifests))
                continue
            with store_lock(handle, exclusive=False) as store:
                total.add(
                    verify_store(
                        store,
                        manifests,
                        sample_percent,
                        progress or no_progress,
                        openers=self._openers([drp for _, drp, *_ in manifests]),
                    )
                )
        return total

    def rebuild_index(self, region: str, sub: str) -> RebuildReport:
        """Make the index of one store again from its packs (close its handles first)."""
        return rebuild_index(self.fabric.store_dir(region, sub))

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


@contextmanager
def store_lock(store: BlockStore, exclusive: bool) -> Iterator[BlockStore]:
    """Hold ``store``'s lock (shared for writers, exclusive for gc) and yield the store."""
    with store.lock(exclusive):
        yield store
