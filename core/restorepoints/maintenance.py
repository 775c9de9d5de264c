"""Garbage collection and verification across the stores restore points live in.

What always holds:
- ``gc_store`` collects the garbage of one store under its exclusive lock, keeping every
  block a restore point row still names, so a block still used by another restore point is
  never freed (rule RP-13); deletes remove the rows first (``Catalog.delete_rows``), then
  call it.
- ``gc`` and ``verify`` visit every store that has an index or a restore point row; verify
  reads under the shared lock and re-hashes every block it reads, unwrapping each encrypted
  disk restore point's key anew (an unusable key is reported, not raised). Asked to rebuild
  the index first, it closes the shared store handles and rebuilds each store's index from
  its packs under that store's exclusive lock (``core.blocks.index.rebuild_index``).
"""

from __future__ import annotations

from collections.abc import Callable

from core.blocks.gc import GcReport, collect_garbage
from core.blocks.index import IndexDamaged, RebuildReport, rebuild_index
from core.blocks.verify import VerifyReport, index_problem, verify_store
from core.errors import CoreError
from core.fabric.home import Fabric
from core.keystore.envelope import Envelopes, KeyUnavailable, WrappedKey
from core.progress import Progress, no_progress
from core.restorepoints.catalog import Catalog
from core.restorepoints.stores import Stores, store_lock


class Maintenance:
    """gc, verify and index rebuilds of the stores of one fabric's restore points."""

    def __init__(
        self, fabric: Fabric, catalog: Catalog, stores: Stores, envelopes: Envelopes
    ) -> None:
        self.fabric = fabric
        self.catalog = catalog
        self.stores = stores
        self.envelopes = envelopes

    def in_use(self) -> list[tuple[str, str, str | None]]:
        """(region, subscription, store) of every store with an index or a restore point row."""
        found = self.stores.with_index() | self.catalog.regions()
        return sorted(found, key=lambda s: (s[0], s[1], s[2] or ""))

    def gc_store(
        self,
        region: str,
        sub: str,
        progress: Progress | None = None,
        store: str | None = None,
    ) -> GcReport:
        """Delete the blocks and manifests of one store that no restore point row uses."""
        with store_lock(self.stores.get(region, sub, store), exclusive=True) as handle:
            manifests = self.catalog.manifests(region, sub, store)
            return collect_garbage(handle, manifests, progress or no_progress)

    def gc(self, progress: Progress | None = None) -> GcReport:
        """Mark and sweep every store: delete blocks and manifests no restore point uses."""
        total = GcReport()
        for region, sub, store in self.in_use():
            total.add(self.gc_store(region, sub, progress, store))
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
            self.stores.close()  # the handles held would keep the old index open
            for region, sub, inner in self.in_use():
                total.rebuilt.append(self.rebuild_index(region, sub, inner))
        for region, sub, inner in self.in_use():
            manifests = self.catalog.manifests(region, sub, inner)
            try:
                handle = self.stores.get(region, sub, inner)
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

    def rebuild_index(self, region: str, sub: str, store: str | None = None) -> RebuildReport:
        """Make the index of one store again from its packs (close its handles first)."""
        return rebuild_index(
            self.fabric.store_dir(region, sub, store), self.stores.place(region, sub, store)
        )

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
