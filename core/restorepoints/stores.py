"""The block stores restore points live in: one per (region, subscription), opened on demand.

What always holds: ``get`` keeps one handle per store and thread until ``close`` (closing an
index connection checkpoints it, which costs tens of ms); ``open`` gives a new handle the
caller closes; a process opens one store at a time (two threads setting up a new store's
index at once get "database is locked" instead of waiting). ``store_lock`` is the store's
lock: shared for writers (captures, copies, restores, verify), exclusive for gc.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from core.blocks.store import BlockStore
from core.fabric.home import Fabric

_OPEN_LOCK = threading.Lock()


class Stores:
    """The block store handles one ``RestorePoints`` uses."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[BlockStore] = []

    def get(self, region: str, subscription: str) -> BlockStore:
        """The block store of (region, subscription), kept open for this thread until
        ``close``."""
        stores = self._local.__dict__.setdefault("stores", {})
        store = stores.get((region, subscription))
        if store is None:
            store = stores[(region, subscription)] = self.open(region, subscription)
            with self._lock:
                self._open.append(store)
        return store

    def open(self, region: str, subscription: str) -> BlockStore:
        """A new handle on the block store of (region, subscription); the caller closes it."""
        seed = self.fabric.subscription_seed(subscription)
        with _OPEN_LOCK:
            return BlockStore.open_dir(self.fabric.store_dir(region, subscription), seed)

    def with_index(self) -> set[tuple[str, str]]:
        """The (region, subscription) of every store that has an index on disk."""
        return {
            (index.parent.parent.parent.name, index.parent.parent.name)
            for index in (self.fabric.home / "regions").glob("*/*/store/index.db")
        }

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
