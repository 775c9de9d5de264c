"""The block store's index file: opening it, telling damage from other errors, and making it
again from the packs' footers (``rebuild_index``, ``bcdr verify --rebuild-index``).

The index (``index.db``, SQLite) maps each block id to its pack, offset, length and raw flag,
and lists the packs with their sizes; it holds nothing the packs' footers do not, so it can
always be rebuilt from them. What always holds: a damaged file (SQLite says "malformed" or
"not a database") surfaces as ``IndexDamaged`` naming the file and the way to rebuild it,
never as a bare ``sqlite3`` error; a text column that does not decode (a flipped byte in a
pack name) reads as a name that names no object, never as a decode error; a rebuild runs
under the store's exclusive lock and keeps the index it replaces beside the new one.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.blocks.packs import read_footer
from core.disks.fileio import fsync_path
from core.errors import CoreError, IntegrityError, NotFound

if TYPE_CHECKING:
    from core.blocks.remote import BlobPlace

_SCHEMA = """
CREATE TABLE IF NOT EXISTS packs (name TEXT PRIMARY KEY, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    id BLOB PRIMARY KEY, pack TEXT NOT NULL, off INTEGER NOT NULL,
    len INTEGER NOT NULL, raw INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blocks_by_pack ON blocks(pack);
"""


@dataclass
class RebuildReport:
    """What ``rebuild_index`` did: packs read, blocks indexed, packs whose footer is damaged
    (their blocks are not indexed; verify names the restore points that lack them)."""

    store_dir: str
    packs: int = 0
    blocks: int = 0
    damaged_packs: list[tuple[str, str]] = field(default_factory=list)  # (pack, why)
    kept_as: str | None = None  # where the index it replaced was moved, if there was one


def connect(path: Path) -> sqlite3.Connection:
    """The index at ``path`` (made if missing): WAL, synchronous=FULL, the schema applied."""
    # the timeout is set at connect, before journal_mode=WAL, which itself may wait on
    # another process opening the same store
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    db.text_factory = _text  # a damaged name is one that names nothing, not a decode error
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
    except BaseException:
        db.close()
        raise
    return db


def _text(raw: bytes) -> str:
    """Decode a text column; bytes that are not UTF-8 become U+FFFD (no valid name has it)."""
    return raw.decode("utf-8", "replace")


# What reading a damaged file can raise: SQLite's error, or -- when the damage is in the
# schema text and SQLite quotes it in its message -- the failure to decode that message.
DAMAGE_ERRORS = (sqlite3.DatabaseError, UnicodeDecodeError)


def is_damage(exc: Exception) -> bool:
    """Whether SQLite says the file is damaged or not a database (not busy, not a bug)."""
    if isinstance(exc, UnicodeDecodeError):
        return True
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26


class IndexDamaged(IntegrityError):
    """The index file is damaged: names it, what SQLite says, and how to rebuild it."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path, self.detail = path, detail
        super().__init__(
            f"the block index {path} is damaged ({detail}); the packs are not: rebuild the "
            "index from them with `bcdr verify --rebuild-index`"
        )


def index_damaged(path: Path, exc: Exception) -> IndexDamaged:
    """The error for a damaged index file."""
    return IndexDamaged(path, str(exc))


def rebuild_index(store_dir: Path, place: BlobPlace | None = None) -> RebuildReport:
    """Make the index of the store at ``store_dir`` (``BlockStore.open_dir``'s layout) again
    from its packs' footers, under the store's exclusive lock (no writer runs meanwhile).

    Close every handle on the store first. The new index is written beside the old one and
    made durable, then the old one (with its WAL) is moved aside to ``index.db.before-rebuild``
    and the new one takes its name. A pack whose footer is damaged is reported and not
    indexed; a block in two packs is indexed in the first (by name). A crash meanwhile
    leaves either index in place (or, in the instant of the swap, one the next rebuild
    replaces). Run it while no other process reads the store (``bcdr serve``): a reader
    keeps the index it opened. With ``place`` the packs are read from Azure Blob (ranged
    reads of their footers) and the index is made in ``store_dir`` as ever.
    """
    from core.blocks.remote import objects_and_lock

    store_dir = Path(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    backend, lock = objects_and_lock(store_dir, place)
    index = store_dir / "index.db"
    report = RebuildReport(str(store_dir))
    with lock.hold(exclusive=True):
        new = store_dir / "index.db.rebuilding"
        for leftover in (new, new.with_name(new.name + "-journal")):
            leftover.unlink(missing_ok=True)
        db = sqlite3.connect(new, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            db.execute("BEGIN")
            for pack in backend.list("packs/"):
                try:
                    entries = read_footer(backend, pack).entries
                    size = backend.size(pack)
                except NotFound:
                    continue
                except CoreError as exc:
                    report.damaged_packs.append((pack, str(exc)))
                    continue
                db.execute("INSERT INTO packs (name, size) VALUES (?, ?)", (pack, size))
                db.executemany(
                    "INSERT OR IGNORE INTO blocks (id, pack, off, len, raw) VALUES (?, ?, ?, ?, ?)",
                    [(d, pack, off, ln, raw) for d, off, ln, raw in entries],
                )
                report.packs += 1
            db.execute("COMMIT")
            report.blocks = db.execute("SELECT COUNT(*) FROM blocks").fetchone()[0]
        finally:
            db.close()
        fsync_path(new)
        if index.exists():
            kept = store_dir / "index.db.before-rebuild"
            for suffix in ("-wal", "-shm", ""):  # the WAL first: never a WAL beside a new file
                old = store_dir / f"index.db{suffix}"
                if old.exists():
                    os.replace(old, store_dir / f"{kept.name}{suffix}")
            report.kept_as = kept.name
        for suffix in ("-wal", "-shm"):
            (store_dir / f"index.db{suffix}").unlink(missing_ok=True)
        os.replace(new, index)
        fsync_path(store_dir)
    return report
