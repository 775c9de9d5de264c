"""Block store backends: a narrow object store (put, get, has, list, delete, size), the
sweep of what interrupted puts left behind (``remove_leftovers``), and the store lock.

What always holds: ``put`` is atomic and durable (a reader sees the old object, the new
one, or none, never a torn one; after ``put`` returns the object survives a crash); names
are relative, ``/``-separated, and made only of ``[A-Za-z0-9._-]`` parts that do not start
with a dot, so no name escapes the store or collides with a temp file. Every backend passes
``tests/core/backend_conformance.py``: ``LocalBackend`` here, ``BlobBackend`` on Azure Blob
(``core/blocks/remote.py``). A store lock (``StoreLock``) is held shared by writers and
exclusive by gc: ``FileLock`` on one machine, ``LeaseLock`` (remote.py) across machines.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from core.disks.fileio import fsync_path, write_temp
from core.errors import CoreError, NotFound

_NAME_PART = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
_TMP_PREFIX = ".tmp-"


def check_object_name(name: str) -> str:
    """Return ``name`` if it is a valid object name, else raise ``CoreError`` naming it."""
    parts = name.split("/") if isinstance(name, str) else []
    if not name or not all(_NAME_PART.match(p) and p not in (".", "..") for p in parts):
        raise CoreError(
            f"invalid object name {name!r}: use '/'-separated parts of letters, digits, "
            "'.', '_' and '-' that do not start with '.' (no '..', no leading '/')"
        )
    return name


Data = bytes | bytearray | memoryview | list  # a list: the object is their concatenation


class Backend(Protocol):
    """A narrow object store. ``put`` is atomic and durable; a name is never half-written."""

    def put(self, name: str, data: Data) -> None: ...
    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes: ...
    def has(self, name: str) -> bool: ...
    def list(self, prefix: str = "") -> Iterator[str]: ...
    def delete(self, name: str) -> None: ...
    def size(self, name: str) -> int: ...
    def remove_leftovers(self) -> tuple[int, int]: ...


class StoreLock(Protocol):
    """A block store's lock: ``hold(exclusive)`` for the block; ``check`` raises
    ``CoreError`` when the lock was lost while held (its holder must stop writing)."""

    def hold(self, exclusive: bool) -> contextlib.AbstractContextManager[None]: ...
    def check(self) -> None: ...


class FileLock:
    """The store lock as a file locked with ``flock`` (cross-process, one machine)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def hold(self, exclusive: bool) -> Iterator[None]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def check(self) -> None:
        """A file lock is never lost while its holder lives."""


class LocalBackend:
    """Objects as files under ``root``; a put is temp file + fsync + rename + dir fsync.

    A put killed before its rename leaves its temp file (``.tmp-*``); ``remove_leftovers``
    deletes them, and must run only while no put does (the store's exclusive lock).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.root / check_object_name(name)

    def put(self, name: str, data: Data) -> None:
        path = self._path(name)
        parent = path.parent
        if not parent.is_dir():
            parent.mkdir(parents=True, exist_ok=True)
            fsync_path(parent.parent)
        tmp = write_temp(parent, _TMP_PREFIX, data if isinstance(data, list) else [data])
        os.replace(tmp, path)
        fsync_path(parent)

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        try:
            fd = os.open(self._path(name), os.O_RDONLY)
        except FileNotFoundError:
            raise NotFound(f"object {name!r} not found in store {self.root}") from None
        try:
            if length is None:
                length = max(os.fstat(fd).st_size - offset, 0)
            return os.pread(fd, length, offset)
        finally:
            os.close(fd)

    def has(self, name: str) -> bool:
        return self._path(name).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        root = str(self.root)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            for fn in sorted(filenames):
                if fn.startswith(_TMP_PREFIX):
                    continue
                name = fn if rel == "." else f"{rel}/{fn}"
                if name.startswith(prefix):
                    yield name

    def delete(self, name: str) -> None:
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            raise NotFound(f"object {name!r} not found in store {self.root}") from None

    def size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"object {name!r} not found in store {self.root}") from None

    def remove_leftovers(self) -> tuple[int, int]:
        """Delete the temp files of interrupted puts: (files, bytes). Call it only while no
        ``put`` runs (under the store's exclusive lock): a running put's file is one."""
        files = size = 0
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for fn in filenames:
                if fn.startswith(_TMP_PREFIX):
                    path = Path(dirpath) / fn
                    try:
                        got = path.stat().st_size
                        path.unlink()
                    except FileNotFoundError:
                        continue
                    files, size = files + 1, size + got
        return files, size
