"""The blob service in local folders: the embedded platform's default.

An account is a folder (``root_of(account)``: in a fabric, ``regions/<region>/<subscription>/
blobs/<account>``), a container a folder in it, a blob a file at its name (``/`` makes
folders). A blob's file is a short header (its ETag, metadata and time, as JSON) and then its
bytes, so bytes and metadata change together. The account's leases are rows of
``.leases.db`` (SQLite) in its folder, with their expiry times, so every process on the
machine sees the same leases and a lease ends by time alone.

What always holds: a put writes a temp file (``.tmp-*``) beside the blob, fsyncs it, and only
then, in one write transaction of ``.leases.db`` (which checks the lease), renames it over
the blob and fsyncs the folder: readers see the old blob or the new one, never a torn one,
and a write refused by a lease changes nothing. Deletes and metadata changes check the
lease in the same transaction as their change. A local container cannot hold both a blob
``a`` and blobs under ``a/`` (a file cannot be a folder): that put is refused, naming both.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import struct
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from core.blobs.service import (
    BlobInfo,
    LeaseConflict,
    check_account,
    check_blob,
    check_container,
    check_lease_seconds,
    check_metadata,
    where,
)
from core.disks.fileio import fsync_path, write_temp
from core.errors import AlreadyExists, CoreError, NotFound

_MAGIC = b"BCDRBLOB"
_HEAD = struct.Struct(">8sI")
_TMP = ".tmp-"
_LEASES = ".leases.db"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    container TEXT NOT NULL, blob TEXT NOT NULL, lease_id TEXT NOT NULL,
    seconds INTEGER NOT NULL, expires_at REAL, break_at REAL,
    PRIMARY KEY (container, blob))
"""


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


class _Lease:
    """A lease row as it stands at ``now``."""

    def __init__(self, row: sqlite3.Row | None, now: float) -> None:
        self.row = row
        self.id = row["lease_id"] if row else None
        if row is None:
            self.state = "available"
        elif row["break_at"] is not None:
            self.state = "breaking" if now < row["break_at"] else "broken"
        elif row["expires_at"] is not None and now >= row["expires_at"]:
            self.state = "expired"
        else:
            self.state = "leased"
        self.duration = ("infinite" if row["seconds"] == -1 else "fixed") if self.active else ""

    @property
    def active(self) -> bool:
        return self.state in ("leased", "breaking")


class LocalBlobService:
    """Accounts as folders; ``root_of(account)`` is an account's folder."""

    def __init__(
        self, root_of: Callable[[str], Path], clock: Callable[[], float] = time.time
    ) -> None:
        self.root_of = root_of
        self.clock = clock

    def __repr__(self) -> str:
        return "LocalBlobService()"

    def create_account(self, account: str) -> None:
        root = self.root_of(check_account(account))
        if not root.is_dir():
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
            fsync_path(root.parent)

    def delete_account(self, account: str) -> int:
        try:
            root = self.root_of(check_account(account))
        except NotFound:
            return 0
        count = sum(self._count(root / name) for name in self.containers(account))
        if root.is_dir():
            shutil.rmtree(root)
            fsync_path(root.parent)
        return count

    @staticmethod
    def _count(folder: Path) -> int:
        return sum(1 for _d, _s, files in os.walk(folder) for f in files if not f.startswith(_TMP))

    def containers(self, account: str) -> list[str]:
        try:
            root = self.root_of(check_account(account))
        except NotFound:
            return []
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def container(self, account: str, name: str) -> LocalContainer:
        return LocalContainer(self, check_account(account), check_container(name))

    def endpoint_of(self, account: str) -> str:
        """The Azure form of the account's endpoint (the blobs are in the fabric's folders)."""
        return f"https://{check_account(account)}.blob.core.windows.net/"


class LocalContainer:
    """One container's blobs as files in a folder."""

    def __init__(self, service: LocalBlobService, account: str, name: str) -> None:
        self.service, self.account, self.name = service, account, name

    def __repr__(self) -> str:
        return f"LocalContainer({self.account!r}, {self.name!r})"

    @property
    def _account_dir(self) -> Path:
        return self.service.root_of(self.account)

    @property
    def folder(self) -> Path:
        return self._account_dir / self.name

    def _where(self, blob: str = "") -> str:
        return where(self.account, self.name, blob)

    # -------------------------------------------------------------- the leases' database
    @contextmanager
    def _leases(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """The account's lease table; ``write`` holds its write lock for the block."""
        if not self._account_dir.is_dir():
            raise NotFound(f"No {where(self.account)}: create the account first")
        conn = sqlite3.connect(self._account_dir / _LEASES, timeout=30.0, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(_SCHEMA)
            if not write:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _lease(self, conn: sqlite3.Connection, blob: str) -> _Lease:
        row = conn.execute(
            "SELECT * FROM leases WHERE container = ? AND blob = ?", (self.name, blob)
        ).fetchone()
        return _Lease(row, self.service.clock())

    def _check_lease(self, lease: _Lease, given: str | None, blob: str, doing: str) -> None:
        """Azure's rule for a call on a blob: an active lease needs its id; no active lease
        takes none."""
        if lease.active and given != lease.id:
            said = "no lease id was given" if given is None else "the lease id given is not its"
            raise LeaseConflict(
                f"Cannot {doing} {self._where(blob)}: it is leased and {said}; give the "
                "holder's lease id, or break the lease"
            )
        if not lease.active and given is not None:
            raise LeaseConflict(
                f"Cannot {doing} {self._where(blob)} with a lease id: it has no active lease "
                f"({lease.state}); acquire one first"
            )

    # ----------------------------------------------------------------------- containers
    def create(self) -> bool:
        if not self._account_dir.is_dir():
            raise NotFound(f"No {where(self.account)}: create the account first")
        if self.folder.is_dir():
            return False
        self.folder.mkdir(mode=0o700)
        fsync_path(self._account_dir)
        return True

    def exists(self) -> bool:
        return self.folder.is_dir()

    def _require(self) -> None:
        if not self.folder.is_dir():
            raise NotFound(f"No {self._where()}: create the container first")

    def delete(self) -> int:
        self._require()
        count = LocalBlobService._count(self.folder)
        with self._leases(write=True) as conn:
            shutil.rmtree(self.folder)
            conn.execute("DELETE FROM leases WHERE container = ?", (self.name,))
        fsync_path(self._account_dir)
        return count

    # ---------------------------------------------------------------------------- blobs
    def _path(self, blob: str) -> Path:
        return self.folder / check_blob(blob)

    def _read_head(self, fd: int, blob: str) -> tuple[int, dict]:
        """(offset of the bytes, header) of an open blob file."""
        head = os.pread(fd, _HEAD.size, 0)
        if len(head) != _HEAD.size or head[:8] != _MAGIC:
            raise CoreError(f"{self._where(blob)} is damaged: its file has no blob header")
        (_magic, length) = _HEAD.unpack(head)
        return _HEAD.size + length, json.loads(os.pread(fd, length, _HEAD.size))

    def _open(self, blob: str) -> int:
        self._require()
        try:
            fd = os.open(self._path(blob), os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(f"No {self._where(blob)}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotFound(f"No {self._where(blob)}")
        return fd

    def _info(self, blob: str, lease: _Lease | None = None) -> BlobInfo:
        fd = self._open(blob)
        try:
            start, head = self._read_head(fd, blob)
            size = os.fstat(fd).st_size - start
        finally:
            os.close(fd)
        if lease is None:
            with self._leases() as conn:
                lease = self._lease(conn, blob)
        return BlobInfo(
            name=blob,
            size=size,
            etag=head["etag"],
            metadata=dict(head["metadata"]),
            last_modified=_iso(head["modified"]),
            lease_state=lease.state,
            lease_duration=lease.duration,
        )

    def _parent_for(self, blob: str) -> Path:
        """The folder a blob's file goes in, made if need be; a part that is a blob is refused."""
        path = self._path(blob)
        parent = path.parent
        probe = self.folder
        for part in path.relative_to(self.folder).parts[:-1]:
            probe = probe / part
            if probe.is_file():
                raise AlreadyExists(
                    f"Cannot write {self._where(blob)}: {probe.relative_to(self.folder)!s} is a "
                    "blob, and a local container cannot hold a blob and blobs under its name"
                )
        if path.is_dir():
            raise AlreadyExists(
                f"Cannot write {self._where(blob)}: blobs under {blob + '/'!r} exist, and a "
                "local container cannot hold a blob and blobs under its name"
            )
        if not parent.is_dir():
            parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fsync_path(parent.parent)
        return parent

    def _write(self, blob: str, data: bytes | bytearray | memoryview, metadata: dict) -> Path:
        """The blob's new file written and fsynced under a temp name (not yet visible)."""
        parent = self._parent_for(blob)
        head = json.dumps(
            {
                "etag": f'"0x{uuid.uuid4().hex[:16].upper()}"',
                "metadata": metadata,
                "modified": self.service.clock(),
            },
            sort_keys=True,
        ).encode()
        return write_temp(parent, _TMP, [_HEAD.pack(_MAGIC, len(head)) + head, data])

    def put(
        self,
        blob: str,
        data: bytes | bytearray | memoryview,
        *,
        metadata: Mapping[str, str] | None = None,
        lease: str | None = None,
    ) -> BlobInfo:
        self._require()
        meta = check_metadata(metadata)
        tmp = self._write(blob, data, meta)
        try:
            with self._leases(write=True) as conn:
                now = self._lease(conn, blob)
                self._check_lease(now, lease, blob, "write")
                os.replace(tmp, self._path(blob))
                fsync_path(tmp.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return self._info(blob, now)

    def get(
        self, blob: str, offset: int = 0, length: int | None = None, *, lease: str | None = None
    ) -> bytes:
        if lease is not None:
            with self._leases() as conn:
                self._check_read_lease(self._lease(conn, blob), lease, blob)
        fd = self._open(blob)
        try:
            start, _head = self._read_head(fd, blob)
            size = os.fstat(fd).st_size - start
            if length is None:
                length = max(size - offset, 0)
            length = max(min(length, size - offset), 0)
            return os.pread(fd, length, start + offset) if length else b""
        finally:
            os.close(fd)

    def _check_read_lease(self, lease: _Lease, given: str, blob: str) -> None:
        if not lease.active or lease.id != given:
            raise LeaseConflict(
                f"Cannot read {self._where(blob)} with that lease id: it is not the blob's "
                f"active lease ({lease.state})"
            )

    def info(self, blob: str) -> BlobInfo:
        return self._info(check_blob(blob))

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        self._require()
        root = str(self.folder)
        names = []
        for dirpath, _dirs, files in os.walk(root):
            rel = os.path.relpath(dirpath, root)
            for fn in files:
                if fn.startswith(_TMP):
                    continue
                name = fn if rel == "." else f"{rel}/{fn}".replace(os.sep, "/")
                if name.startswith(prefix):
                    names.append(name)
        with self._leases() as conn:
            leases = {
                row["blob"]: row
                for row in conn.execute("SELECT * FROM leases WHERE container = ?", (self.name,))
            }
        now = self.service.clock()
        for name in sorted(names):
            with suppress(NotFound):  # deleted meanwhile
                yield self._info(name, _Lease(leases.get(name), now))

    def delete_blob(self, blob: str, *, lease: str | None = None) -> None:
        path = self._path(blob)
        self._require()
        with self._leases(write=True) as conn:
            self._check_lease(self._lease(conn, blob), lease, blob, "delete")
            if not path.is_file():
                raise NotFound(f"No {self._where(blob)}")
            path.unlink()
            conn.execute("DELETE FROM leases WHERE container = ? AND blob = ?", (self.name, blob))
            fsync_path(path.parent)
        parent = path.parent
        while parent != self.folder:  # folders left empty go, as Azure has no folders
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def set_metadata(
        self, blob: str, metadata: Mapping[str, str], *, lease: str | None = None
    ) -> BlobInfo:
        meta = check_metadata(metadata)
        self._require()
        with self._leases(write=True) as conn:  # no put can come between the read and rename
            now = self._lease(conn, blob)
            self._check_lease(now, lease, blob, "set the metadata of")
            tmp = self._write(blob, self.get(blob), meta)
            try:
                os.replace(tmp, self._path(blob))
                fsync_path(tmp.parent)
            finally:
                tmp.unlink(missing_ok=True)
        return self._info(blob, now)

    # ---------------------------------------------------------------------------- leases
    @contextmanager
    def _leased(self, blob: str) -> Iterator[tuple[sqlite3.Connection, _Lease]]:
        """The blob's lease under the account's write lock (NotFound when no such blob)."""
        path = self._path(blob)
        self._require()
        with self._leases(write=True) as conn:
            if not path.is_file():
                raise NotFound(f"No {self._where(blob)}")
            yield conn, self._lease(conn, blob)

    def _set(self, conn: sqlite3.Connection, blob: str, lease_id: str, seconds: int) -> None:
        expires = None if seconds == -1 else self.service.clock() + seconds
        conn.execute(
            "INSERT INTO leases VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (container, blob) DO "
            "UPDATE SET lease_id = excluded.lease_id, seconds = excluded.seconds, "
            "expires_at = excluded.expires_at, break_at = NULL",
            (self.name, blob, lease_id, seconds, expires),
        )

    def acquire_lease(self, blob: str, seconds: int, lease_id: str | None = None) -> str:
        check_lease_seconds(seconds)
        with self._leased(blob) as (conn, lease):
            if lease.state == "breaking" or (lease.state == "leased" and lease.id != lease_id):
                raise LeaseConflict(
                    f"Cannot lease {self._where(blob)}: another lease holds it ({lease.state}); "
                    "wait for it to end, or break it"
                )
            new = lease_id or str(uuid.uuid4())
            self._set(conn, blob, new, seconds)
            return new

    def renew_lease(self, blob: str, lease_id: str) -> None:
        with self._leased(blob) as (conn, lease):
            if lease.id != lease_id or lease.state in ("breaking", "broken"):
                raise LeaseConflict(
                    f"Cannot renew the lease on {self._where(blob)}: it is not that lease's "
                    f"to renew ({lease.state}); acquire a new one"
                )
            self._set(conn, blob, lease_id, lease.row["seconds"])

    def release_lease(self, blob: str, lease_id: str) -> None:
        with self._leased(blob) as (conn, lease):
            if lease.id != lease_id:
                raise LeaseConflict(
                    f"Cannot release the lease on {self._where(blob)}: the lease id is not its "
                    f"lease's ({lease.state})"
                )
            conn.execute("DELETE FROM leases WHERE container = ? AND blob = ?", (self.name, blob))

    def break_lease(self, blob: str, period: int = 0) -> None:
        if not (isinstance(period, int) and 0 <= period <= 60):
            raise CoreError(f"a lease's break period is 0-60 seconds, not {period}")
        with self._leased(blob) as (conn, lease):
            if lease.state == "broken":
                return
            if not lease.active:
                raise LeaseConflict(
                    f"Cannot break the lease on {self._where(blob)}: it has none ({lease.state})"
                )
            now = self.service.clock()
            at = now + period
            row = lease.row
            if row["expires_at"] is not None:
                at = min(at, row["expires_at"])
            if row["break_at"] is not None:
                at = min(at, row["break_at"])
            conn.execute(
                "UPDATE leases SET break_at = ? WHERE container = ? AND blob = ?",
                (at, self.name, blob),
            )
