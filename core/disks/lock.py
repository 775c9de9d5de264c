"""The per-disk write lock: a reentrant thread lock plus an ``flock`` on a file beside the disk.

``core/disks/managed.py`` takes it around every write, grow and delete, and ``Disks.hold_writes``
takes it so a capture sees one instant across processes. Always holds: one ``DiskLock``
object per lock file path in a process (``disk_lock`` hands out the same one), so threads
queue on its ``RLock`` and processes on its ``flock``; the ``flock`` is held exactly while
the lock's depth is above zero; a lock file replaced while waiting (the disk was deleted and
made again) is not trusted: the wait starts over on the new file.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

__all__ = ["DiskLock", "disk_lock"]


class DiskLock:
    """Reentrant per-disk lock: a thread RLock plus ``flock`` on a lock file beside the disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rlock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None

    def acquire(self) -> None:
        self.rlock.acquire()
        try:
            if self.depth == 0:
                self.fd = self._flock()
            self.depth += 1
        except BaseException:
            self.rlock.release()
            raise

    def _flock(self) -> int:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                # The lock file may have been replaced (disk deleted) while we waited.
                if os.path.exists(self.path) and os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    return fd
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)

    def release(self) -> None:
        self.depth -= 1
        if self.depth == 0 and self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        self.rlock.release()


_LOCKS: dict[str, DiskLock] = {}
_LOCKS_GUARD = threading.Lock()


def disk_lock(path: Path) -> DiskLock:
    """The lock of the disk file ``path`` (its lock file is ``<path>.lock``)."""
    key = str(Path(str(path) + ".lock").resolve())
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = DiskLock(Path(key))
        return lock
