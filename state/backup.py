"""The state's backup beside it (``state.db.backup``), reading without writing, and damage.

Always holds: the backup is a whole bcdr state taken with SQLite's online backup API from
a consistent read and put in place by rename, so it is never half-written and holds the
same bytes for sealed values as the state (no plaintext appears); reading a state for a
copy never writes to it (no checkpoint, no new file when none of SQLite's side files are
there); restoring keeps the damaged file (and its WAL) under a new name, never deletes it;
an SQLite failure reading a state is a StateError that names the file and the way back.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

from . import migrations
from .records import StateError

BACKUP_SUFFIX = ".backup"
RESTORE_COMMAND = "bcdr state restore-backup"
_BUSY = ("locked", "busy")


def backup_path(state_path: Path) -> Path:
    """Where the backup of the state at ``state_path`` is kept."""
    state_path = Path(state_path)
    return state_path.with_name(state_path.name + BACKUP_SUFFIX)


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """Whether an SQLite error says the file is unreadable (not a bug, not a busy file)."""
    return type(exc) in (sqlite3.DatabaseError, sqlite3.OperationalError, sqlite3.DataError)


def damaged(path: Path, exc: sqlite3.DatabaseError) -> Exception:
    """The error for an SQLite failure on the state at ``path``: busy, damaged, or a bug."""
    text = str(exc)
    if not is_damage(exc):
        return exc
    if any(word in text.lower() for word in _BUSY):
        return StateError(
            f"The state {path} stayed busy for {migrations.BUSY_TIMEOUT_S:.0f} s ({text}): "
            "another process kept writing to it. Try again."
        )
    backup = backup_path(path)
    if backup.is_file():
        how = (
            f"The state of the last successful run is kept in {backup}. Restore it with "
            f"`{RESTORE_COMMAND}` (the damaged file is kept beside it), then run `bcdr plan` "
            "to see what changed since that run."
        )
    else:
        how = (
            f"There is no backup ({backup} does not exist). Restore {path.name} from a copy "
            "of your own, or move it away and bring the objects back with `bcdr import`."
        )
    return StateError(f"The state file {path} is damaged ({text}). It was left untouched.\n{how}")


def check_header(path: Path) -> None:
    """``migrations.check_header``; its refusal names the backup when there is one."""
    try:
        migrations.check_header(path)
    except StateError as exc:
        backup = backup_path(path)
        if not backup.is_file():
            raise
        raise StateError(
            f"{exc}\nIf it is this folder's state, damaged, `{RESTORE_COMMAND}` puts back the "
            f"state of the last successful run, kept in {backup}."
        ) from None


def _reader(path: Path) -> sqlite3.Connection:
    """A connection that reads ``path`` and writes nothing to it, not even a checkpoint.

    With a WAL beside the file (a writer is open, or one was killed), read-only: a
    read-only connection never checkpoints. Without one, read-write, so that SQLite removes
    the side files it creates when the connection closes; it writes nothing else.
    """
    if Path(f"{path}-wal").exists():
        uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=migrations.BUSY_TIMEOUT_S)
    return migrations.connect(path)


def copy_into(path: Path, conn: sqlite3.Connection) -> None:
    """Copy the state at ``path`` into ``conn`` in one consistent read (sqlite3 backup)."""
    src = _reader(path)
    try:
        src.backup(conn)
    finally:
        src.close()
    check_integrity(conn)


def check_integrity(conn: sqlite3.Connection) -> None:
    """SQLite's quick check of every page (milliseconds per megabyte); DatabaseError if bad."""
    (verdict,) = conn.execute("PRAGMA quick_check").fetchone()
    if verdict != "ok":
        raise sqlite3.DatabaseError(f"integrity check failed: {verdict}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_copy(src: sqlite3.Connection, target: Path) -> None:
    """Write a copy of ``src`` to ``target`` whole: a temporary file renamed into place."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        dst = sqlite3.connect(str(tmp))
        try:
            src.backup(dst)
        finally:
            dst.close()
        _fsync(tmp)
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            leftover.unlink(missing_ok=True)


def write_backup(conn: sqlite3.Connection, state_path: Path) -> Path:
    """Refresh the backup of the state open on ``conn``; the backup's path.

    StateError when it cannot be written (a full disk): the state itself is not affected.
    """
    target = backup_path(state_path)
    try:
        write_copy(conn, target)
    except (OSError, sqlite3.Error) as exc:
        raise StateError(
            f"Could not write the backup {target} ({exc}). The state itself is saved; the "
            "backup still holds an earlier run."
        ) from None
    return target


def _check_backup(backup: Path) -> tuple[str, int]:
    """(lineage, serial) of a readable backup; StateError when it is missing or damaged."""
    if not backup.is_file():
        raise StateError(
            f"There is no backup of the state: {backup} does not exist. bcdr writes it at "
            "the end of each successful apply, destroy, import and state edit."
        )
    migrations.check_header(backup)
    conn = sqlite3.connect(":memory:")
    try:
        copy_into(backup, conn)
        lineage, serial = conn.execute("SELECT lineage, serial FROM meta").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StateError(
            f"The backup {backup} is damaged too ({exc}). It was left untouched."
        ) from None
    finally:
        conn.close()
    return lineage, int(serial)


def restore_backup(state_path: Path) -> tuple[str, int, Path | None]:
    """Put the backup back in place of the state; (lineage, serial, where the old file went).

    The caller holds the state lock. The old state (and its WAL), damaged or not, is kept
    as ``state.db.replaced-YYYYMMDDTHHMMSSZ``.
    """
    state_path = Path(state_path)
    backup = backup_path(state_path)
    lineage, serial = _check_backup(backup)
    kept: Path | None = None
    if state_path.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = state_path.with_name(f"{state_path.name}.replaced-{stamp}")
        os.replace(state_path, kept)
        for side in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{state_path}{side}", f"{kept}{side}")
    src = _reader(backup)
    try:
        write_copy(src, state_path)
    finally:
        src.close()
    return lineage, serial, kept
