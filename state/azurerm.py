"""The state in an Azure Blob (``backend "azurerm"``): one block blob, uploaded per commit.

The blob holds the whole SQLite state (``StateStore.serialize``); a command that writes
downloads it under the lock (``state.lease``) into a state in memory, and every commit of
that state (each apply step, each intent, the history) is uploaded whole, under the held
lease, before the write returns: what a step saved is durable remotely before the next
step starts. A command that only reads downloads it once into memory and writes nothing.

Always holds: nothing of the state is written to a local file (a kill leaves no working
copy behind); an upload is one Put Blob, so readers see the state before or after a
commit, never half of one; an upload is refused once the lease is lost, and after a
failed upload (the service down, the lease lost) every later write of that run fails too,
so a run stops at the first commit it could not save, and the intents of the steps whose
results were not saved are in the remote state for the next plan to reconcile; the
credential comes from the environment (``azblob.credential_from_env``) and is never
stored in the state, in ``.bcdr/`` or in a message; the blob's metadata names its lineage
and serial (``bcdrlineage``, ``bcdrserial``) and, while locked, its holder.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from azblob import BlobError, BlobNotFound, Container, LeaseConflict, account_of, check_endpoint

from . import lease as leasing
from .crypto import KeyConfig
from .records import LockInfo, StateError
from .store import StateStore
from .workspaces import DEFAULT, listed

BACKUP_SUFFIX = ".backup"
ENV = "env:"  # between the key and a workspace's name


class AzureBlobBackend:
    """The state in blob ``key`` of container ``container_name`` at ``endpoint``."""

    kind = "azurerm"
    remote = True

    def __init__(self, endpoint: str, container_name: str, key: str) -> None:
        try:
            self.endpoint = check_endpoint(endpoint)
        except BlobError as exc:
            raise StateError(f"The backend's endpoint is wrong: {exc}.") from None
        self.container_name, self.key = container_name, key
        self.where = f"blob {key!r} in container {container_name!r} at {self.endpoint}"
        self.label = Path(f"{account_of(self.endpoint)}/{container_name}/{key}")
        """What the state in memory is called in the store's messages."""
        self._container: Container | None = None
        self._held: leasing.HeldLease | None = None
        self._failed = ""

    def __repr__(self) -> str:
        return f"AzureBlobBackend({self.endpoint!r}, {self.container_name!r}, {self.key!r})"

    @property
    def container(self) -> Container:
        if self._container is None:
            try:
                self._container = Container(self.endpoint, self.container_name)
            except BlobError as exc:
                raise StateError(f"Cannot use the state {self.where}: {exc}.") from None
        return self._container

    # ------------------------------------------------------------- reading
    def check(self) -> None:
        """StateError unless the endpoint answers, takes the credential and has the container."""
        try:
            found = self.container.exists()
        except BlobError as exc:
            raise leasing.service_error(exc, f"reach the state {self.where}") from None
        if not found:
            raise leasing.missing_container(self.container, self.where)

    def exists(self) -> bool:
        """Whether the blob holds a state (an empty blob, made by a lock, holds none)."""
        try:
            return self.container.info(self.key).size > 0
        except BlobNotFound:
            return False
        except BlobError as exc:
            raise leasing.service_error(exc, f"read the state {self.where}") from None

    def read_image(self, blob: str | None = None) -> bytes:
        """The blob's bytes (empty when there is no state yet)."""
        name = blob or self.key
        try:
            return self.container.get(name)
        except BlobNotFound as exc:
            if exc.code == "ContainerNotFound":
                raise leasing.missing_container(self.container, self.where) from None
            return b""
        except BlobError as exc:
            raise leasing.service_error(exc, f"read the state {self.where}") from None

    def open(
        self,
        *,
        create: bool = True,
        read_only: bool = False,
        keys: KeyConfig | None = None,
        on_plaintext: Callable[[str], None] | None = None,
    ) -> StateStore:
        """The state in memory; a writable one uploads every commit (the lock is held)."""
        image = self.read_image()
        if read_only:
            return StateStore.from_image(
                image, self.label, keys=keys, on_plaintext=on_plaintext, read_only=True
            )
        if self._held is None:
            raise RuntimeError(f"{self.where} opened for writing without its lock: a bug")
        if not image and not create:
            raise StateError(f"No state found at {self.where}. Run `bcdr apply` to create one.")
        store = StateStore.from_image(image, self.label, keys=keys, on_plaintext=on_plaintext)
        store.on_commit = lambda: self.upload(store)
        if store.serialize() != image:  # a new state, an upgrade or a reseal at open
            self.upload(store)
        return store

    # ------------------------------------------------------------- writing
    def upload(self, store: StateStore) -> None:
        """Put the whole state in the blob under the held lease; StateError when it fails."""
        held = self._held
        if self._failed:
            raise StateError(self._failed)
        if held is None:
            raise RuntimeError(f"{self.where} written without its lock: a bug")
        try:
            held.check()
        except StateError as exc:
            self._failed = str(exc)
            raise
        held.metadata.update({"bcdrlineage": store.lineage or "", "bcdrserial": str(store.serial)})
        try:
            self.container.put(
                self.key, store.serialize(), metadata=held.metadata, lease=held.lease_id
            )
        except LeaseConflict as exc:
            held.lose(f"the service refused its lease ({exc.code or exc})")
            try:
                held.check()
            except StateError as lost:
                self._failed = str(lost)
            raise StateError(self._failed) from None
        except BlobError as exc:
            self._failed = (
                f"Could not save the state to {self.where}: {exc}. The run stopped here. "
                "What was saved before is in the state; a step whose result was not saved "
                "left its intent there, which the next plan reconciles. Run `bcdr apply` "
                "again once the service answers."
            )
            raise StateError(self._failed) from None

    def write_image(self, image: bytes) -> None:
        """Replace the state with ``image`` (a migration, a restore); the lock is held."""
        held = self._held
        if held is None:
            raise RuntimeError(f"{self.where} written without its lock: a bug")
        held.check()
        store = StateStore.from_image(image, self.label, read_only=True)
        try:
            held.metadata.update(
                {"bcdrlineage": store.lineage or "", "bcdrserial": str(store.serial)}
            )
        finally:
            store.close()
        try:
            self.container.put(self.key, image, metadata=held.metadata, lease=held.lease_id)
        except BlobError as exc:
            raise leasing.service_error(exc, f"write the state {self.where}") from None

    def backup(self, store: StateStore) -> str:
        """Refresh the backup blob (``KEY.backup``) from ``store``; where it is."""
        name = self.key + BACKUP_SUFFIX
        try:
            self.container.put(name, store.serialize())
        except BlobError as exc:
            raise StateError(
                f"Could not write the backup blob {name!r} ({exc}). The state itself is "
                "saved; the backup still holds an earlier run."
            ) from None
        return f"blob {name!r}"

    def backup_where(self) -> str:
        return f"blob {self.key + BACKUP_SUFFIX!r} in container {self.container_name!r}"

    def has_backup(self) -> bool:
        try:
            return self.container.info(self.key + BACKUP_SUFFIX).size > 0
        except BlobNotFound:
            return False
        except BlobError as exc:
            raise leasing.service_error(exc, f"read the backup of {self.where}") from None

    def restore_backup(self) -> tuple[str, int, str | None]:
        """Put the backup blob back as the state (the lock is held); (lineage, serial,
        where the replaced state was kept)."""
        image = self.read_image(self.key + BACKUP_SUFFIX)
        if not image:
            raise StateError(
                f"There is no backup of the state: {self.backup_where()} does not exist. "
                "bcdr writes it at the end of each successful apply, destroy, import and "
                "state edit."
            )
        backup = StateStore.from_image(image, self.label, read_only=True)
        lineage, serial = backup.lineage or "", backup.serial
        backup.close()
        current = self.read_image()
        kept: str | None = None
        if current:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            name = f"{self.key}.replaced-{stamp}"
            try:
                self.container.put(name, current)
            except BlobError as exc:
                raise leasing.service_error(exc, f"keep the current state as {name!r}") from None
            kept = f"blob {name!r}"
        self.write_image(image)
        return lineage, serial, kept

    def retire(self, why: str = "migrated") -> str:
        """Delete the state blob after it was moved elsewhere or its workspace deleted (the
        lock is held); what went."""
        del why  # a blob is deleted either way
        held = self._held
        try:
            self.container.delete_blob(self.key, lease=held.lease_id if held else None)
        except BlobNotFound:
            pass
        except BlobError as exc:
            raise leasing.service_error(exc, f"delete the moved state {self.where}") from None
        return self.where

    # -------------------------------------------------------------- locking
    @contextlib.contextmanager
    def holding(
        self,
        operation: str,
        *,
        info: str = "",
        timeout: float = 0.0,
        on_cleared: Callable[[LockInfo], None] | None = None,
    ) -> Iterator[LockInfo]:
        """Hold the lease for the block; released however the block ends."""
        del on_cleared  # a dead holder's lease expires by itself: nothing to clear
        held = leasing.acquire(
            self.container, self.key, self.where, operation, info, timeout=timeout
        )
        self._held, self._failed = held, ""
        try:
            assert held.holder is not None
            yield held.holder
        finally:
            self._held = None
            leasing.release(held)

    def current_lock(self) -> LockInfo | None:
        return leasing.current(self.container, self.key, self.where)

    def force_unlock(self, lock_id: str) -> LockInfo:
        held = self._held
        if held is not None and held.holder is not None and held.holder.lock_id == lock_id:
            held.lose("it was released")
            held.stop()
            self._held = None
        return leasing.force_unlock(self.container, self.key, self.where, lock_id)

    def settings(self) -> dict[str, str]:
        """What ``bcdr init`` records (never the credential)."""
        return {"endpoint": self.endpoint, "container_name": self.container_name, "key": self.key}

    # ------------------------------------------------------------ workspaces
    def workspace(self, name: str) -> AzureBlobBackend:
        """Workspace ``name``'s state: the blob ``KEYenv:NAME``, as Terraform's azurerm."""
        if name == DEFAULT:
            return self
        return AzureBlobBackend(self.endpoint, self.container_name, f"{self.key}{ENV}{name}")

    def workspace_names(self) -> list[str]:
        prefix = f"{self.key}{ENV}"
        try:
            found = [
                b.name.removeprefix(prefix)
                for b in self.container.list(prefix)
                if b.size > 0 and not b.name.endswith(BACKUP_SUFFIX)
            ]
        except BlobError as exc:
            raise leasing.service_error(exc, f"list the workspaces beside {self.where}") from None
        return listed(found)


def image_digest(image: bytes) -> str:
    return hashlib.sha256(image).hexdigest()
