"""The state lock: one row in the ``lock`` table, taken and cleared under BEGIN IMMEDIATE.

Always holds: every lock operation runs on its own short-lived connection in driver
autocommit mode and starts with ``BEGIN IMMEDIATE``, so reading the row and writing ours
happen under SQLite's write lock (sqlite-utils' own ``BEGIN`` is DEFERRED, which would let
two processes both see the row free); a held lock is reported at once, never waited for;
a process only ever deletes the lock row whose id it holds, unless forced by lock id.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

from .migrations import connect
from .records import LockInfo, StateError, StateLocked, utc_now

_COLUMNS = "id, user, pid, host, operation, created_at, info"


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no USER variable
        return str(os.getuid())


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _info(row: tuple) -> LockInfo:
    lock_id, user, pid, host, operation, created_at, info = row
    stale = host == socket.gethostname() and not pid_alive(int(pid))
    return LockInfo(lock_id, user, int(pid), host, operation, created_at, info or "", stale)


@contextlib.contextmanager
def _immediate(path: Path) -> Iterator[sqlite3.Connection]:
    """A dedicated connection inside BEGIN IMMEDIATE; commits on success, else rolls back."""
    conn = connect(path)
    try:
        conn.isolation_level = None  # we issue BEGIN/COMMIT ourselves
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StateError(
                f"Could not lock {path}: the database stayed busy ({exc}). Another process "
                "is writing to it; try again."
            ) from None
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


def read(path: Path) -> LockInfo | None:
    """The current lock holder, or None. ``stale`` is set for a dead holder on this host."""
    conn = connect(path)
    try:
        row = conn.execute(f"SELECT {_COLUMNS} FROM lock").fetchone()
    finally:
        conn.close()
    return _info(row) if row else None


def acquire(path: Path, operation: str, info: str = "") -> LockInfo:
    """Take the lock for ``operation``; raise StateLocked at once if anyone holds it."""
    ours = LockInfo(
        lock_id=str(uuid.uuid4()),
        user=current_user(),
        pid=os.getpid(),
        host=socket.gethostname(),
        operation=operation,
        created_at=utc_now(),
        info=info,
    )
    with _immediate(path) as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM lock").fetchone()
        if row is not None:
            raise StateLocked(str(path), _info(row))
        conn.execute(
            f"INSERT INTO lock ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [ours.lock_id, ours.user, ours.pid, ours.host, ours.operation, ours.created_at, info],
        )
    return ours


def release(path: Path, lock_id: str) -> None:
    """Drop our lock row; a row that is no longer ours (force-unlocked) is left alone."""
    with _immediate(path) as conn:
        conn.execute("DELETE FROM lock WHERE id = ?", [lock_id])


def force_unlock(path: Path, lock_id: str) -> LockInfo:
    """Remove the lock whose id is ``lock_id``; StateError if there is none or ids differ."""
    with _immediate(path) as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM lock").fetchone()
        if row is None:
            raise StateError(f"{path} is not locked; there is nothing to unlock.")
        held = _info(row)
        if held.lock_id != lock_id.strip():
            raise StateError(
                f"Lock id {lock_id!r} does not match the lock on {path}, which is "
                f"{held.lock_id} (operation {held.operation}, {held.user}@{held.host}, "
                f"pid {held.pid}, since {held.created_at}). Pass that id to force-unlock."
            )
        conn.execute("DELETE FROM lock WHERE id = ?", [held.lock_id])
    return held
