"""Block stores on Azure Blob: the objects as block blobs, the store lock as blob leases.

``BlobPlace`` says where one store's objects live (a container and a name prefix);
``BlobBackend`` is the ``Backend`` over it (``core/blocks/backends.py``'s contract: a put is
one Put Blob, visible whole or not at all; ranged gets read single blocks) and ``LeaseLock``
the store lock that works across machines: a writer announces itself with a leased blob of
its own, gc with the one ``exclusive`` blob, and each checks the other side after
announcing, so gc never runs beside a writer on any machine. Leases last ``LEASE_SECONDS``
and a thread renews them while held, so the lock of a killed holder expires by itself.

What always holds: a lock held here whose lease was lost (broken, or expired while renewal
failed) refuses every later put through ``BlobBackend`` with a ``CoreError``, so a holder
that lost its lock stops writing; SDK failures arrive as ``CoreError`` (``NotFound`` for a
missing object) naming the object, the container and the endpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import azblob
from core.blocks.backends import Backend, Data, FileLock, LocalBackend, StoreLock, check_object_name
from core.errors import CoreError, NotFound

LEASE_SECONDS = 15  # Azure's shortest lease: a killed holder's lock is gone within this
RENEW_EVERY = 5.0
POLL = 0.25  # how often a waiting lock looks again
CONTAINER = "bcdr-blocks"  # the container of a fabric's block stores on an endpoint


@dataclass(frozen=True)
class BlobPlace:
    """Where one block store's objects live: ``prefix`` names inside ``container``."""

    container: azblob.Container
    prefix: str

    def __str__(self) -> str:
        return f"{self.container.endpoint}/{self.container.name}/{self.prefix}"


def core_error(exc: azblob.BlobError) -> CoreError:
    return (NotFound if isinstance(exc, azblob.BlobNotFound) else CoreError)(str(exc))


class BlobBackend:
    """A store's objects as block blobs ``PREFIX + name`` of one container."""

    def __init__(self, place: BlobPlace, guard: LeaseLock | None = None) -> None:
        self.place = place
        self.container = place.container
        self.prefix = place.prefix
        self.guard = guard
        """The store's lock: a put while it has lost its lease is refused."""
        self._created = False

    def _name(self, name: str) -> str:
        return self.prefix + check_object_name(name)

    def _ensure_container(self) -> None:
        if not self._created:
            try:
                self.container.create(exist_ok=True)
            except azblob.BlobError as exc:
                raise core_error(exc) from None
            self._created = True

    def put(self, name: str, data: Data) -> None:
        blob = self._name(name)
        body = b"".join(data) if isinstance(data, list) else memoryview(data).cast("B")
        if self.guard is not None:
            self.guard.check()
        self._ensure_container()
        try:
            self.container.put(blob, body)
        except azblob.BlobError as exc:
            raise core_error(exc) from None

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        try:
            return self.container.get(self._name(name), offset, length)
        except azblob.BlobError as exc:
            raise core_error(exc) from None

    def has(self, name: str) -> bool:
        try:
            self.container.info(self._name(name))
        except azblob.BlobNotFound:
            return False
        except azblob.BlobError as exc:
            raise core_error(exc) from None
        return True

    def list(self, prefix: str = "") -> Iterator[str]:
        cut = len(self.prefix)
        try:
            for info in self.container.list(self.prefix + prefix):
                name = info.name[cut:]
                if not name.startswith("locks/"):
                    yield name
        except azblob.BlobNotFound:
            return  # no container yet: no objects
        except azblob.BlobError as exc:
            raise core_error(exc) from None

    def delete(self, name: str) -> None:
        try:
            self.container.delete_blob(self._name(name))
        except azblob.BlobError as exc:
            raise core_error(exc) from None

    def size(self, name: str) -> int:
        try:
            return self.container.info(self._name(name)).size
        except azblob.BlobError as exc:
            raise core_error(exc) from None

    def remove_leftovers(self) -> tuple[int, int]:
        """Nothing to sweep: an interrupted put leaves only uncommitted blocks, which the
        service discards by itself, never a visible blob."""
        return 0, 0


def _holder(operation: str) -> dict[str, str]:
    return {
        "host": socket.gethostname(),
        "pid": str(os.getpid()),
        "operation": operation,
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


class _Renewer:
    """Renews one blob lease every ``RENEW_EVERY`` s until stopped; remembers a failure."""

    def __init__(self, container: azblob.Container, blob: str, lease: str) -> None:
        self.container, self.blob, self.lease = container, blob, lease
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease {blob}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(RENEW_EVERY):
            try:
                self.container.renew_lease(self.blob, self.lease)
            except azblob.BlobError as exc:
                self.lost = str(exc)
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class LeaseLock:
    """The store lock on Azure Blob: shared for writers, exclusive for gc (``lock`` of
    ``core.blocks.store.BlockStore``)."""

    def __init__(self, place: BlobPlace) -> None:
        self.place = place
        self.container = place.container
        self._exclusive = place.prefix + "locks/exclusive"
        self._held: list[_Renewer] = []
        self._mutex = threading.Lock()

    def check(self) -> None:
        """Raise ``CoreError`` when a lease this lock holds was lost (its holder must stop)."""
        for renewer in list(self._held):
            if renewer.lost:
                raise CoreError(
                    f"the lock on the block store {self.place} was lost ({renewer.lost}); "
                    "this run stops writing to it: run it again"
                )

    @contextlib.contextmanager
    def hold(self, exclusive: bool) -> Iterator[None]:
        """Hold the lock; waits while the other side holds it (a dead holder's lease expires
        within ``LEASE_SECONDS``)."""
        try:
            self.container.create(exist_ok=True)
            renewer = self._exclusive_lease() if exclusive else self._shared_lease()
        except azblob.BlobError as exc:
            raise core_error(exc) from None
        with self._mutex:
            self._held.append(renewer)
        try:
            yield
        finally:
            with self._mutex:
                self._held.remove(renewer)
            renewer.stop()
            with contextlib.suppress(azblob.BlobError):
                self.container.release_lease(renewer.blob, renewer.lease)
                if not exclusive:
                    self.container.delete_blob(renewer.blob)

    def _acquire(self, blob: str) -> str:
        while True:
            try:
                return self.container.acquire_lease(blob, LEASE_SECONDS)
            except azblob.LeaseConflict:
                time.sleep(POLL)

    def _shared_lease(self) -> _Renewer:
        mine = f"{self.place.prefix}locks/shared-{uuid.uuid4().hex}"
        while True:
            self.container.put(mine, json.dumps(_holder("write")).encode(), create_only=True)
            try:
                lease = self.container.acquire_lease(mine, LEASE_SECONDS)
            except azblob.BlobNotFound:  # gc swept it as stale before the lease: again
                continue
            if not self._leased(self._exclusive):
                return _Renewer(self.container, mine, lease)
            # gc holds (or waits for) the store: step back, and look again
            self.container.release_lease(mine, lease)
            self.container.delete_blob(mine)
            time.sleep(POLL)

    def _exclusive_lease(self) -> _Renewer:
        with contextlib.suppress(azblob.BlobExists):
            self.container.put(self._exclusive, b"", create_only=True)
        lease = self._acquire(self._exclusive)
        renewer = _Renewer(self.container, self._exclusive, lease)
        self.container.set_metadata(self._exclusive, _holder("gc"), lease=lease)
        prefix = f"{self.place.prefix}locks/shared-"
        while any(info.leased for info in self.container.list(prefix)):
            time.sleep(POLL)  # writers that announced themselves first finish
        for stale in self.container.list(prefix):  # killed writers' expired announcements
            with contextlib.suppress(azblob.BlobError):
                self.container.delete_blob(stale.name)
        return renewer

    def _leased(self, blob: str) -> bool:
        try:
            return self.container.info(blob).leased
        except azblob.BlobNotFound:
            return False


def objects_and_lock(store_dir: Path, place: BlobPlace | None) -> tuple[Backend, StoreLock]:
    """Where the store at ``store_dir`` keeps its objects and what locks it: ``objects/``
    and the ``lock`` file there, or, with ``place``, blobs and leases on Azure Blob (the
    index stays in ``store_dir`` either way)."""
    if place is None:
        return LocalBackend(store_dir / "objects"), FileLock(store_dir / "lock")
    lock = LeaseLock(place)
    return BlobBackend(place, guard=lock), lock
