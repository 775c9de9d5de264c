"""The state file's format: how it is recognised, created, opened and upgraded.

Always holds: a bcdr state is an SQLite file whose header carries ``APPLICATION_ID`` and
whose ``meta`` row holds lineage, serial and format version; a file that is not one (or
one written by a newer bcdr) is refused before anything is written to it; a new state is
built in a temporary file and linked into place whole, so no half-created state is ever
visible; upgrades run every pending migration in one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .records import StateError, utc_now

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

APPLICATION_ID = 0x62636472  # "bcdr", stored at byte 68 of the SQLite header
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 10.0

MIGRATION_SET = "bcdr_state"
MIGRATIONS_TABLE = "_sqlite_migrations"  # where sqlite-utils' Migrations records its steps
_STEPS: list[tuple[str, Callable[[Database], None]]] = []


def migration(name: str) -> Callable[[Callable[[Database], None]], Callable[[Database], None]]:
    """Declare a step, in order; sqlite-utils' ``Migrations`` runs them (see ``upgrade``)."""

    def add(func: Callable[[Database], None]) -> Callable[[Database], None]:
        _STEPS.append((name, func))
        return func

    return add


@functools.cache
def steps() -> Migrations:
    """The steps as sqlite-utils' ``Migrations`` (imported here: an up-to-date state is
    read without importing sqlite-utils at all)."""
    from sqlite_utils.migrations import Migrations

    out = Migrations(MIGRATION_SET)
    for name, func in _STEPS:
        out(name=name)(func)
    return out


def __getattr__(name: str) -> Any:
    """``migrations``: the steps as sqlite-utils' ``Migrations``, built on first use."""
    if name == "migrations":
        return steps()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _set_format(db: Database, version: int) -> None:
    db.execute("UPDATE meta SET format_version = ? WHERE id = 1", [version])


@migration("0001_core_tables")
def m0001_core_tables(db: Database) -> None:
    db.execute(
        """CREATE TABLE meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            lineage TEXT NOT NULL,
            serial INTEGER NOT NULL,
            format_version INTEGER NOT NULL,
            created_at TEXT NOT NULL)"""
    )
    db.execute(
        "INSERT INTO meta (id, lineage, serial, format_version, created_at) VALUES (1, ?, 0, 1, ?)",
        [str(uuid.uuid4()), utc_now()],
    )
    db.execute(
        """CREATE TABLE instances (
            address TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            name TEXT NOT NULL,
            index_key TEXT NOT NULL DEFAULT 'null',
            provider TEXT NOT NULL,
            id TEXT,
            attributes TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ready', 'tainted')),
            dependencies TEXT NOT NULL DEFAULT '[]',
            schema_version INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE outputs (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            sensitive INTEGER NOT NULL DEFAULT 0)"""
    )


@migration("0002_lock_and_history")
def m0002_lock_and_history(db: Database) -> None:
    # `slot` keeps the lock table to a single row whatever the caller does.
    db.execute(
        """CREATE TABLE lock (
            id TEXT PRIMARY KEY,
            slot INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (slot = 1),
            user TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            operation TEXT NOT NULL,
            created_at TEXT NOT NULL,
            info TEXT NOT NULL DEFAULT '')"""
    )
    db.execute(
        """CREATE TABLE history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            operation TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            status TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '{}')"""
    )
    _set_format(db, 2)


@migration("0003_instance_type_index")
def m0003_instance_type_index(db: Database) -> None:
    db["instances"].create_index(["type", "name"], index_name="instances_type_name")
    _set_format(db, 3)


@migration("0004_sealed_values")
def m0004_sealed_values(db: Database) -> None:
    # kdf: the scrypt parameters and salt of a passphrase; key_check: a value sealed with
    # the state key, to refuse a wrong key at open; sensitive: each instance's sensitive
    # paths, so that later writes keep sealing them.
    db.execute("ALTER TABLE meta ADD COLUMN kdf TEXT")
    db.execute("ALTER TABLE meta ADD COLUMN key_check TEXT")
    db.execute("ALTER TABLE instances ADD COLUMN sensitive TEXT NOT NULL DEFAULT '[]'")
    _set_format(db, 4)


@migration("0005_intents")
def m0005_intents(db: Database) -> None:
    # the intent of each running apply step (see records.Intent): at most one per address
    db.execute(
        """CREATE TABLE intents (
            address TEXT PRIMARY KEY,
            action TEXT NOT NULL,
            apply_id TEXT NOT NULL,
            type TEXT NOT NULL,
            provider TEXT NOT NULL,
            planned_id TEXT,
            prior_id TEXT,
            dependencies TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL)"""
    )
    _set_format(db, 5)


FORMAT_VERSION = 5


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the settings every state connection uses (per connection)."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left readable
    return conn


def check_header(path: Path) -> None:
    """Refuse, without opening it as a database, a file that is not a bcdr state."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except IsADirectoryError:
        raise StateError(f"{path} is a directory, not a state file.") from None
    except OSError as exc:
        raise StateError(f"Cannot read the state file {path}: {exc.strerror}.") from None
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise StateError(
            f"{path} is not a bcdr state (not an SQLite database). It was left untouched; "
            "point bcdr at the right state file, or move this file away."
        )
    app_id = int.from_bytes(header[68:72], "big")
    if app_id != APPLICATION_ID:
        raise StateError(
            f"{path} is an SQLite database but not a bcdr state. It was left untouched; "
            "point bcdr at the right state file, or move this file away."
        )


def check_image(image: bytes, where: Path) -> None:
    """``check_header`` for a state's bytes (``StateStore.serialize``) kept elsewhere."""
    header = bytes(image[:100])
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise StateError(
            f"{where} is not a bcdr state (not an SQLite database). It was left untouched; "
            "point bcdr at the right state, or move this one away."
        )
    if int.from_bytes(header[68:72], "big") != APPLICATION_ID:
        raise StateError(
            f"{where} is an SQLite database but not a bcdr state. It was left untouched; "
            "point bcdr at the right state, or move this one away."
        )


def memory_image(image: bytes) -> bytes:
    """``image`` as an in-memory database opens it: a WAL file's header (bytes 18-19 = 2,
    as a copy of a local state carries) says rollback journal instead; nothing else moves."""
    if image[18:20] == b"\x02\x02":
        return image[:18] + b"\x01\x01" + image[20:]
    return image


def check_format(db: Database | sqlite3.Connection, path: Path) -> int:
    """The file's format version; StateError if it has no meta row or is too new."""
    try:
        row = db.execute("SELECT format_version FROM meta WHERE id = 1").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StateError(
            f"{path} is marked as a bcdr state but cannot be read ({exc}). It was left "
            "untouched; restore it from a backup."
        ) from None
    if row is None:
        raise StateError(f"{path} has no meta row: it is damaged. Restore it from a backup.")
    version = int(row[0])
    if version > FORMAT_VERSION:
        raise StateError(
            f"{path} was written by a newer bcdr (state format {version}; this bcdr reads "
            f"up to {FORMAT_VERSION}). Upgrade bcdr to use this state."
        )
    return version


def pending(conn: sqlite3.Connection) -> list[str]:
    """The names of the steps not applied yet (sqlite-utils' ``Migrations.pending``, read
    with one query of its table)."""
    known = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
    ).fetchone()
    if known is None:  # no step applied yet
        return [name for name, _ in _STEPS]
    rows = conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", [MIGRATION_SET]
    ).fetchall()
    applied = {row[0] for row in rows}
    return [name for name, _ in _STEPS if name not in applied]


def upgrade(conn: sqlite3.Connection, path: Path) -> None:
    """Apply pending migrations, all in one write transaction taken with BEGIN IMMEDIATE."""
    if not pending(conn):
        return
    from sqlite_utils import Database

    db = Database(conn)
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-checked under the write lock: another process may have upgraded meanwhile.
        if db["meta"].exists():
            check_format(db, path)
        steps().apply(db)  # its own atomic() blocks nest as savepoints
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def create(path: Path) -> None:
    """Create a new, empty state at ``path``; leave any state created meanwhile alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        conn = connect(tmp)
        try:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("PRAGMA journal_mode = WAL")
            upgrade(conn, tmp)
        finally:
            conn.close()  # the last close checkpoints the WAL into the main file
        _publish(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


def _publish(tmp: Path, path: Path) -> None:
    """Put the finished file in place atomically, never over a state created meanwhile."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        return
    except OSError:  # a filesystem without hard links: rename is still atomic
        if path.exists():
            return
        os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)  # make the new directory entry durable
    except OSError:
        pass
    finally:
        os.close(fd)
