"""The block stores restore points live in: one per (region, subscription), opened on demand.

A restore point's blocks are in its region's own store, or (``RestorePoint.store``) in another
store of the same subscription and region, named by a relative path ("vaults/rg/name": a
backup vault's vault-standard tier); the same block ids hold in both (one seed per
subscription), so blocks move between them by id.

What always holds: ``get`` keeps one handle per store and thread until ``close`` (closing an
index connection checkpoints it, which costs tens of ms); ``open`` gives a new handle the
caller closes; a process opens one store at a time (two threads setting up a new store's
index at once get "database is locked" instead of waiting). ``store_lock`` is the store's
lock: shared for writers (captures, copies, restores, verify), exclusive for gc. Where
a store keeps its objects is the fabric's placement (``core.fabric.placement``): its home
folder, or with ``block_store = "blob"`` the container ``bcdr-blocks`` of the blob endpoint,
under ``TENANT/regions/REGION/SUBSCRIPTION/store/`` (``place``); the index is local either
way and rebuildable from the packs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.blocks.remote import CONTAINER, BlobPlace
from core.blocks.store import BlockStore
from core.errors import CoreError
from core.fabric.home import Fabric

_OPEN_LOCK = threading.Lock()


class Stores:
    """The block store handles one ``RestorePoints`` uses."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[BlockStore] = []
        self._container: Any = None

    def place(self, region: str, subscription: str, store: str | None = None) -> BlobPlace | None:
        """Where the store of (region, subscription) keeps its objects on Azure Blob; None
        when they are in the fabric's home folder."""
        placement = self.fabric.placement
        if not placement.blocks_on_blob:
            return None
        if self._container is None:
            import azblob

            try:
                self._container = azblob.Container(placement.blob_endpoint, CONTAINER)
            except azblob.BlobError as exc:
                raise CoreError(f"the block stores' endpoint: {exc}") from None
        inner = f"{store}/store" if store else "store"
        prefix = f"{self.fabric.tenant_id}/regions/{region}/{subscription}/{inner}/"
        return BlobPlace(self._container, prefix)

    def get(self, region: str, subscription: str, store: str | None = None) -> BlockStore:
        """The block store of (region, subscription) (or its ``store``), kept open for this
        thread until ``close``."""
        stores = self._local.__dict__.setdefault("stores", {})
        handle = stores.get((region, subscription, store))
        if handle is None:
            handle = stores[(region, subscription, store)] = self.open(region, subscription, store)
            with self._lock:
                self._open.append(handle)
        return handle

    def open(self, region: str, subscription: str, store: str | None = None) -> BlockStore:
        """A new handle on the block store of (region, subscription) (or its ``store``); the
        caller closes it."""
        seed = self.fabric.subscription_seed(subscription)
        with _OPEN_LOCK:
            store_dir = self.fabric.store_dir(region, subscription, store)
            return BlockStore.open_dir(store_dir, seed, self.place(region, subscription, store))

    def with_index(self) -> set[tuple[str, str, str | None]]:
        """The (region, subscription, store) of every store that has an index on disk."""
        found: set[tuple[str, str, str | None]] = set()
        regions = self.fabric.home / "regions"
        for index in regions.glob("*/*/**/store/index.db"):
            region, sub, *inner = index.relative_to(regions).parts[:-2]
            found.add((region, sub, "/".join(inner) or None))
        return found

    def close(self) -> None:
        """Close the handles ``get`` opened (safe to call twice)."""
        with self._lock:
            for store in self._open:
                store.close()
            self._open.clear()
            self._local = threading.local()


@contextmanager
def store_lock(store: BlockStore, exclusive: bool) -> Iterator[BlockStore]:
    """Hold ``store``'s lock (shared for writers, exclusive for gc) and yield the store."""
    with store.lock(exclusive):
        yield store
