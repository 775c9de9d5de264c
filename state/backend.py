"""Where the state lives: a backend (the local file, or a blob) and moving a state between two.

``StateBackend`` is what the CLI uses of a state's home: whether a state is there, its
lock, opening it, its backup, and its bytes for a migration. ``LocalBackend`` is the file
``.bcdr/state.db`` with its lock file and backup beside it (``state.lock``,
``state.backup``); ``state.azurerm.AzureBlobBackend`` a blob with a lease. ``BACKEND_TYPES``
says which ``backend "TYPE"`` blocks exist and their attributes; ``backend_for`` makes one.

Always holds: a migration reads the source under its lock, refuses a destination that
holds another state (a different lineage, or a newer serial of the same one), writes the
copy under the destination's lock, reads it back and compares it byte for byte before the
source is retired, so a failure at any point leaves the source as it was.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from . import lock as locking
from .azurerm import AzureBlobBackend
from .backup import backup_path, restore_backup, write_backup, write_copy
from .crypto import KeyConfig
from .records import LockInfo, StateError
from .store import StateStore
from .workspaces import DEFAULT, listed


@dataclass(frozen=True)
class BackendType:
    """A ``backend "TYPE"`` block: the attributes it takes (all strings), an example of it,
    and how its backend is made from them."""

    required: tuple[str, ...]
    make: Callable[[dict[str, str]], StateBackend]
    optional: tuple[str, ...] = ()
    example: str = ""


BACKEND_TYPES = {
    "azurerm": BackendType(
        required=("endpoint", "container_name", "key"),
        make=lambda v: AzureBlobBackend(v["endpoint"], v["container_name"], v["key"]),
        example=(
            'backend "azurerm" {\n'
            '  endpoint       = "https://ACCOUNT.blob.core.windows.net"\n'
            '  container_name = "tfstate"\n'
            '  key            = "prod.bcdr"\n'
            "}"
        ),
    ),
}


class StateBackend(Protocol):
    """A state's home, as every command uses it."""

    kind: str
    remote: bool
    where: str
    """The state's place in messages."""

    def check(self) -> None: ...

    def exists(self) -> bool: ...

    def open(
        self,
        *,
        create: bool = True,
        read_only: bool = False,
        keys: KeyConfig | None = None,
        on_plaintext: Callable[[str], None] | None = None,
    ) -> StateStore: ...

    def holding(
        self,
        operation: str,
        *,
        info: str = "",
        timeout: float = 0.0,
        on_cleared: Callable[[LockInfo], None] | None = None,
    ) -> AbstractContextManager[LockInfo]: ...

    def current_lock(self) -> LockInfo | None: ...

    def force_unlock(self, lock_id: str) -> LockInfo: ...

    def backup(self, store: StateStore) -> str: ...

    def backup_where(self) -> str: ...

    def has_backup(self) -> bool: ...

    def restore_backup(self) -> tuple[str, int, str | None]: ...

    def read_image(self) -> bytes: ...

    def write_image(self, image: bytes) -> None: ...

    def retire(self, why: str = "migrated") -> str:
        """Take the state away (moved elsewhere, or its workspace deleted); what went."""
        ...

    def settings(self) -> dict[str, str]: ...

    def workspace(self, name: str) -> StateBackend:
        """The backend of workspace ``name`` (``state.workspaces``); this one for default."""
        ...

    def workspace_names(self) -> list[str]:
        """The workspaces holding a state, ``default`` first (always listed)."""
        ...


class LocalBackend:
    """The state file at ``path`` (``.bcdr/state.db``), its lock file and backup beside it."""

    kind = "local"
    remote = False

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)

    def check(self) -> None:
        """Nothing to reach: a local state needs only its folder, made when it is written."""

    def exists(self) -> bool:
        return StateStore.exists(self.path)

    def open(
        self,
        *,
        create: bool = True,
        read_only: bool = False,
        keys: KeyConfig | None = None,
        on_plaintext: Callable[[str], None] | None = None,
    ) -> StateStore:
        return StateStore.open(
            self.path, create=create, keys=keys, on_plaintext=on_plaintext, read_only=read_only
        )

    def holding(
        self,
        operation: str,
        *,
        info: str = "",
        timeout: float = 0.0,
        on_cleared: Callable[[LockInfo], None] | None = None,
    ) -> AbstractContextManager[LockInfo]:
        return locking.holding(
            self.path, operation, info=info, timeout=timeout, on_cleared=on_cleared
        )

    def current_lock(self) -> LockInfo | None:
        return locking.read(self.path)

    def force_unlock(self, lock_id: str) -> LockInfo:
        return locking.force_unlock(self.path, lock_id)

    def backup(self, store: StateStore) -> str:
        return str(store.backup())

    def backup_where(self) -> str:
        return str(backup_path(self.path))

    def has_backup(self) -> bool:
        return backup_path(self.path).is_file()

    def restore_backup(self) -> tuple[str, int, str | None]:
        lineage, serial, kept = restore_backup(self.path)
        return lineage, serial, None if kept is None else str(kept)

    def read_image(self) -> bytes:
        if not self.exists():
            return b""
        with StateStore.snapshot(self.path) as store:
            return store.serialize()

    def write_image(self, image: bytes) -> None:
        """Put a state's bytes in place as the file (whole: a copy renamed into place)."""
        from .migrations import memory_image

        src = sqlite3.connect(":memory:")
        try:
            src.deserialize(memory_image(image))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_copy(src, self.path)
            write_backup(src, self.path)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"Could not write the state {self.path}: {exc}.") from None
        finally:
            src.close()

    def retire(self, why: str = "migrated") -> str:
        """Move the file aside (``state.db.migrated-TIME`` after it was moved elsewhere,
        ``state.db.deleted-TIME`` when its workspace was deleted): nothing is lost."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = self.path.with_name(f"{self.path.name}.{why}-{stamp}")
        os.replace(self.path, kept)
        for side in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{self.path}{side}", f"{kept}{side}")
        return str(kept)

    def settings(self) -> dict[str, str]:
        return {}

    def workspace(self, name: str) -> LocalBackend:
        if name == DEFAULT:
            return self
        return LocalBackend(self.path.parent / "workspaces" / name / self.path.name)

    def workspace_names(self) -> list[str]:
        folder = self.path.parent / "workspaces"
        found = [d.name for d in folder.iterdir() if d.is_dir()] if folder.is_dir() else []
        return listed([n for n in found if self.workspace(n).exists()])


def backend_for(kind: str, settings: dict[str, str], local_path: Path) -> StateBackend:
    """The backend of a ``backend "KIND"`` block (``local``: no block, the file)."""
    if kind == "local":
        return LocalBackend(local_path)
    return BACKEND_TYPES[kind].make(settings)


@dataclass(frozen=True)
class Migrated:
    """What a migration did."""

    lineage: str
    serial: int
    instances: int
    copied: bool
    """False when the destination already held this very state."""
    retired: str
    """Where the source went (the file moved aside, the blob deleted), "" when kept."""


def _facts(image: bytes, label: Path) -> tuple[str, int, int]:
    with StateStore.from_image(image, label, read_only=True) as store:
        return store.lineage or "", store.serial, len(store.instances())


@contextlib.contextmanager
def _both(source: StateBackend, dest: StateBackend, timeout: float) -> Iterator[None]:
    with source.holding("migrate-state", timeout=timeout):
        with dest.holding("migrate-state", timeout=timeout):
            yield


def migrate(source: StateBackend, dest: StateBackend, *, timeout: float = 0.0) -> Migrated:
    """Move the state of ``source`` to ``dest``, both locked; see the module's promise."""
    with _both(source, dest, timeout):
        image = source.read_image()
        if not image:
            raise StateError(f"There is no state at {source.where} to move.")
        label = Path("migrated-state")
        lineage, serial, count = _facts(image, label)
        there = dest.read_image()
        copied = True
        if there:
            other, other_serial, _ = _facts(there, label)
            if other != lineage:
                raise StateError(
                    f"{dest.where} already holds a different state (lineage {other}, this one "
                    f"is {lineage}). Nothing was moved. Point the backend at another key, or "
                    "move that state away first."
                )
            if other_serial > serial:
                raise StateError(
                    f"{dest.where} holds a newer serial ({other_serial}) of this state than "
                    f"{source.where} ({serial}). Nothing was moved."
                )
            copied = there != image
        if copied:
            dest.write_image(image)
            back = dest.read_image()
            if _facts(back, label) != (lineage, serial, count) or (dest.remote and back != image):
                raise StateError(
                    f"The copy of the state at {dest.where} does not read back as it was "
                    f"written. {source.where} was kept as it is."
                )
        retired = source.retire()
    return Migrated(lineage, serial, count, copied, retired)
