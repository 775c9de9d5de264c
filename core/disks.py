"""Managed disks: raw image files, sparse where zero, with changed-block tracking (CBT).

A disk is ``disks_dir/<resource group>/<name>.img`` plus a row in ``fabric.db`` (its path
relative to the fabric's home, so a home can be moved). Always holds:
a disk file appears under its final name only when complete (temp file in the same folder,
fsync, rename, fsync of the folder) and in the same transaction as its row; every write
through ``Disks.write`` is durable before it returns and marks the 64 KiB blocks it touched
in a bitmap kept beside the disk (``<name>.img.cbt``, replaced atomically) *before* the data
lands. The bitmap records the file's (size, mtime_ns) after the core's last write; if the
file no longer matches, someone wrote outside the core and ``changed_blocks`` returns None.
Writes take a per-disk lock (a thread lock plus an fcntl lock file), which ``hold_writes``
takes too, so a capture sees one instant across processes. Deleting a disk drops its row and
its data key's row (``envelope_keys``, see ``core/envelope.py``) in one transaction: a disk
made again under the same id never inherits the old disk's data key.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric import Fabric, ResourceId, check_name
from core.progress import Progress, no_progress

BLOCK_SIZE = 64 * 1024
CHUNK = 1 << 20
SKUS = ("Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "PremiumV2_LRS", "UltraSSD_LRS")
_ZERO = bytes(BLOCK_SIZE)

__all__ = ["BLOCK_SIZE", "SKUS", "ChangeSet", "Disk", "DiskFile", "Disks"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS disks (
    id TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL, region TEXT NOT NULL,
    subscription TEXT NOT NULL, resource_group TEXT NOT NULL, path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, sku TEXT NOT NULL, shared INTEGER NOT NULL,
    ephemeral INTEGER NOT NULL, encryption_set_id TEXT, created_at REAL NOT NULL)
"""


@dataclass
class Disk:
    id: str
    name: str
    region: str
    subscription: str
    resource_group: str
    path: Path
    size_bytes: int
    sku: str
    shared: bool
    ephemeral: bool
    encryption_set_id: str | None = None

    @property
    def blocks(self) -> int:
        return -(-self.size_bytes // BLOCK_SIZE)


class _DiskLock:
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


_LOCKS: dict[str, _DiskLock] = {}
_LOCKS_GUARD = threading.Lock()


def _disk_lock(path: Path) -> _DiskLock:
    key = str(Path(str(path) + ".lock").resolve())
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = _DiskLock(Path(key))
        return lock


@dataclass(frozen=True)
class DiskFile:
    """What the disk's file says now: its size, the bytes it really occupies, its mtime."""

    size_bytes: int
    allocated_bytes: int
    modified_ns: int


@dataclass
class ChangeSet:
    """Blocks written through the core since the last restore point, and their bytes."""

    blocks: list[int]
    bytes: int


@dataclass
class _CbtState:
    tracking: bool  # False until the first reset, and after a write outside the core
    stat: tuple[int, int] | None  # (size, mtime_ns) of the disk file after the core's last write
    bitmap: bytearray

    def mark(self, first: int, last: int) -> bool:
        """Set the bits of blocks first..last; True if any was not set."""
        changed = False
        bitmap = self.bitmap
        for block in range(first, last + 1):
            byte, bit = divmod(block, 8)
            if not bitmap[byte] & (1 << bit):
                bitmap[byte] |= 1 << bit
                changed = True
        return changed

    def blocks(self) -> list[int]:
        found = []
        for byte, value in enumerate(self.bitmap):
            if value:
                found.extend(byte * 8 + bit for bit in range(8) if value & (1 << bit))
        return found


class _CbtFile:
    """The bitmap file beside a disk: a JSON header line, then the bitmap bytes."""

    def __init__(self, disk_path: Path, blocks: int) -> None:
        self.path = Path(str(disk_path) + ".cbt")
        self.nbytes = -(-blocks // 8)

    def fresh(self, stat_now: tuple[int, int] | None, tracking: bool = True) -> _CbtState:
        return _CbtState(tracking, stat_now, bytearray(self.nbytes))

    def load(self) -> _CbtState:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return self.fresh(None, tracking=False)
        head, _, bitmap = raw.partition(b"\n")
        try:
            header = json.loads(head)
            state = _CbtState(
                bool(header["tracking"]),
                tuple(header["stat"]) if header["stat"] else None,
                bytearray(bitmap),
            )
        except (ValueError, KeyError, TypeError):
            return self.fresh(None, tracking=False)  # unreadable: CBT unusable until reset
        if len(state.bitmap) != self.nbytes:
            return self.fresh(None, tracking=False)
        return state

    def save(self, state: _CbtState) -> None:
        header = {"version": 1, "tracking": state.tracking, "stat": state.stat}
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _pwrite_all(fd, memoryview(json.dumps(header).encode() + b"\n" + state.bitmap), 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)


class Disks:
    """The managed disks of one fabric."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric
        with fabric.transaction() as conn:
            conn.execute(_SCHEMA)

    # -- creating ----------------------------------------------------------------------------

    def create_empty(
        self,
        *,
        subscription: str,
        resource_group: str,
        region: str,
        name: str,
        size_bytes: int,
        sku: str = "Standard_LRS",
        shared: bool = False,
        ephemeral: bool = False,
        encryption_set_id: str | None = None,
    ) -> Disk:
        """A new all-zero disk (a sparse file); refused if larger than the free space."""
        return self.create_with(
            subscription=subscription,
            resource_group=resource_group,
            region=region,
            name=name,
            size_bytes=size_bytes,
            sku=sku,
            shared=shared,
            ephemeral=ephemeral,
            encryption_set_id=encryption_set_id,
            fill=lambda fd: None,
        )

    def import_image(
        self,
        *,
        subscription: str,
        resource_group: str,
        region: str,
        name: str,
        source: Path,
        size_bytes: int | None = None,
        sku: str = "Standard_LRS",
        shared: bool = False,
        ephemeral: bool = False,
        encryption_set_id: str | None = None,
        progress: Progress | None = None,
    ) -> Disk:
        """A new disk holding a copy of the raw image ``source`` (as large as it, or larger)."""
        source = Path(source)
        try:
            src = os.open(source, os.O_RDONLY)
        except FileNotFoundError:
            raise CoreError(
                f"image file {source} does not exist: check the path (source_uri)"
            ) from None
        except PermissionError:
            raise CoreError(
                f"image file {source} cannot be read (permission denied): make it readable"
            ) from None
        except OSError as exc:
            raise CoreError(f"image file {source} cannot be opened: {exc.strerror}") from None
        try:
            st = os.fstat(src)
            if not _is_regular(st.st_mode):
                raise CoreError(f"image file {source} is not a regular file: give a raw image")
            image_size = st.st_size
            if size_bytes is None:
                size_bytes = image_size
            if image_size == 0:
                raise CoreError(f"image file {source} is empty: give a raw disk image")
            if size_bytes < image_size:
                raise CoreError(
                    f"disk {name!r} would be {size_bytes} bytes, smaller than its image {source} "
                    f"({image_size} bytes): give a size of at least the image's"
                )
            return self.create_with(
                subscription=subscription,
                resource_group=resource_group,
                region=region,
                name=name,
                size_bytes=size_bytes,
                sku=sku,
                shared=shared,
                ephemeral=ephemeral,
                encryption_set_id=encryption_set_id,
                fill=lambda fd: _copy_sparse(src, image_size, fd, source, progress or no_progress),
            )
        finally:
            os.close(src)

    def create_with(
        self,
        *,
        subscription: str,
        resource_group: str,
        region: str,
        name: str,
        size_bytes: int,
        fill: Callable[[int], None],
        sku: str = "Standard_LRS",
        shared: bool = False,
        ephemeral: bool = False,
        encryption_set_id: str | None = None,
    ) -> Disk:
        """A new disk whose content ``fill(fd)`` writes into an all-zero file of ``size_bytes``.

        The disk becomes visible only after ``fill`` returns and the file is durable; if
        ``fill`` raises, nothing is left behind.
        """
        disk = self._new_disk(subscription, resource_group, region, name, size_bytes, sku)
        disk.shared, disk.ephemeral, disk.encryption_set_id = shared, ephemeral, encryption_set_id
        folder = disk.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(folder).free
        if size_bytes > free:
            raise CoreError(
                f"disk {disk.id} needs {size_bytes} bytes but only {free} are free under "
                f"{folder}: free some space or make the disk smaller"
            )
        if self._row(disk.id) is not None:
            raise AlreadyExists(f"disk {disk.id} exists already: delete it or choose another name")
        tmp = folder / f".{disk.path.name}.tmp-{os.getpid()}-{threading.get_ident()}"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.ftruncate(fd, size_bytes)
            fill(fd)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        try:
            with self.fabric.transaction() as conn:
                if self._row(disk.id) is not None:
                    raise AlreadyExists(
                        f"disk {disk.id} exists already: delete it or choose another name"
                    )
                os.replace(tmp, disk.path)
                _fsync_dir(folder)
                Path(str(disk.path) + ".cbt").unlink(missing_ok=True)
                conn.execute(
                    "INSERT INTO disks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        disk.id,
                        disk.name,
                        disk.region,
                        disk.subscription,
                        disk.resource_group,
                        str(disk.path.relative_to(self.fabric.home)),
                        disk.size_bytes,
                        disk.sku,
                        int(shared),
                        int(ephemeral),
                        encryption_set_id,
                        time.time(),
                    ),
                )
        finally:
            tmp.unlink(missing_ok=True)
        return disk

    def _new_disk(
        self, subscription: str, resource_group: str, region: str, name: str, size: int, sku: str
    ) -> Disk:
        check_name(name, "disk")
        check_name(resource_group, "resource group")
        region = self.fabric.check_region(region)
        subscription = self.fabric.check_subscription(subscription)
        if sku not in SKUS:
            raise CoreError(f"disk {name!r}: sku {sku!r} is not one of {', '.join(SKUS)}")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise CoreError(f"disk {name!r}: size {size!r} must be a positive number of bytes")
        rid = ResourceId(subscription, resource_group, "Microsoft.Compute", "disks", name)
        path = self.fabric.disks_dir(region, subscription) / resource_group / f"{name}.img"
        return Disk(
            str(rid), name, region, subscription, resource_group, path, size, sku, False, False
        )

    # -- looking up ----------------------------------------------------------------------------

    def _row(self, disk_id: str) -> sqlite3.Row | None:
        return self.fabric.db().execute("SELECT * FROM disks WHERE id = ?", (disk_id,)).fetchone()

    def get(self, disk_id: str) -> Disk:
        row = self._row(disk_id)
        if row is None:
            raise NotFound(f"disk {disk_id} does not exist: check the id or create the disk")
        return _disk(row, self.fabric.home)

    def list(self) -> list[Disk]:
        rows = self.fabric.db().execute("SELECT * FROM disks ORDER BY id")
        return [_disk(row, self.fabric.home) for row in rows]

    def delete(self, disk_id: str) -> None:
        disk = self.get(disk_id)
        lock = _disk_lock(disk.path)
        lock.acquire()
        try:
            with self.fabric.transaction() as conn:
                conn.execute("DELETE FROM disks WHERE id = ?", (disk.id,))
                if _has_table(conn, "envelope_keys"):  # made by core/envelope.py when used
                    conn.execute("DELETE FROM envelope_keys WHERE disk_id = ?", (disk.id,))
            for path in (disk.path, Path(str(disk.path) + ".cbt")):
                path.unlink(missing_ok=True)
            _fsync_dir(disk.path.parent)
            lock.path.unlink(missing_ok=True)
        finally:
            lock.release()

    def file_info(self, disk_id: str) -> DiskFile:
        """Size, allocated bytes and last-modified time of the disk's file (NotFound if gone)."""
        disk = self.get(disk_id)
        try:
            st = os.stat(disk.path)
        except FileNotFoundError:
            raise NotFound(f"disk {disk.id}: its file {disk.path} is gone") from None
        return DiskFile(st.st_size, st.st_blocks * 512, st.st_mtime_ns)

    def set_flags(
        self,
        disk_id: str,
        *,
        sku: str | None = None,
        shared: bool | None = None,
        ephemeral: bool | None = None,
        encryption_set_id: str | None = None,
    ) -> Disk:
        """Change the descriptors of a disk (those given); the bytes are left alone."""
        disk = self.get(disk_id)
        if sku is not None and sku not in SKUS:
            raise CoreError(f"disk {disk.name!r}: sku {sku!r} is not one of {', '.join(SKUS)}")
        sets = {
            "sku": sku,
            "shared": None if shared is None else int(shared),
            "ephemeral": None if ephemeral is None else int(ephemeral),
            "encryption_set_id": encryption_set_id,
        }
        sets = {k: v for k, v in sets.items() if v is not None}
        if sets:
            with self.fabric.transaction() as conn:
                conn.execute(
                    f"UPDATE disks SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                    (*sets.values(), disk.id),
                )
        return self.get(disk.id)

    def grow(self, disk_id: str, size_bytes: int) -> Disk:
        """Make the disk larger (the new bytes read as zeros); shrinking is refused.

        The change tracking no longer covers the disk afterwards, so the next restore point
        of it compares every block instead of trusting the bitmap.
        """
        disk = self.get(disk_id)
        if not isinstance(size_bytes, int) or isinstance(size_bytes, bool):
            raise CoreError(f"disk {disk.name!r}: size {size_bytes!r} must be a number of bytes")
        if size_bytes < disk.size_bytes:
            raise CoreError(
                f"disk {disk.id} is {disk.size_bytes} bytes and cannot shrink to {size_bytes}: "
                "create a new disk of the smaller size instead"
            )
        if size_bytes == disk.size_bytes:
            return disk
        free = shutil.disk_usage(disk.path.parent).free
        if size_bytes - disk.size_bytes > free:
            raise CoreError(
                f"disk {disk.id} needs {size_bytes - disk.size_bytes} more bytes but only {free} "
                f"are free under {disk.path.parent}: free some space"
            )
        with self._locked([disk]):
            with open(disk.path, "r+b") as f:
                os.ftruncate(f.fileno(), size_bytes)
                os.fsync(f.fileno())
            Path(str(disk.path) + ".cbt").unlink(missing_ok=True)
            with self.fabric.transaction() as conn:
                conn.execute("UPDATE disks SET size_bytes = ? WHERE id = ?", (size_bytes, disk.id))
        return self.get(disk.id)

    # -- guest I/O -----------------------------------------------------------------------------

    def _check_range(self, disk: Disk, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > disk.size_bytes:
            raise CoreError(
                f"disk {disk.id}: range {offset}+{length} is outside the disk "
                f"({disk.size_bytes} bytes)"
            )

    def write(self, disk_id: str, offset: int, data: bytes) -> None:
        """A guest write: durable on return, its 64 KiB blocks marked in the CBT bitmap."""
        disk = self.get(disk_id)
        self._check_range(disk, offset, len(data))
        if not data:
            return
        first, last = offset // BLOCK_SIZE, (offset + len(data) - 1) // BLOCK_SIZE
        with self._locked([disk]):
            cbt = _CbtFile(disk.path, disk.blocks)
            state = cbt.load()
            try:
                fd = os.open(disk.path, os.O_RDWR)
            except FileNotFoundError:
                raise NotFound(f"disk {disk.id} was deleted") from None
            try:
                if state.tracking:
                    st = os.fstat(fd)
                    dirty = False
                    if state.stat != (st.st_size, st.st_mtime_ns):
                        state.tracking = False  # written outside the core: CBT unusable
                        dirty = True
                    dirty = state.mark(first, last) or dirty
                    if dirty:
                        cbt.save(state)  # blocks marked before the data lands
                view = memoryview(data)
                done = 0
                while done < len(view):
                    done += os.pwrite(fd, view[done:], offset + done)
                os.fsync(fd)
                if state.tracking:
                    st = os.fstat(fd)
                    state.stat = (st.st_size, st.st_mtime_ns)
                    cbt.save(state)
            finally:
                os.close(fd)

    def read(self, disk_id: str, offset: int, length: int) -> bytes:
        disk = self.get(disk_id)
        self._check_range(disk, offset, length)
        with open(disk.path, "rb", buffering=0) as f:
            return os.pread(f.fileno(), length, offset) if length else b""

    # -- capture support -------------------------------------------------------------------------

    @contextmanager
    def _locked(self, disks: list[Disk]) -> Iterator[None]:
        with ExitStack() as stack:
            for disk in sorted(disks, key=lambda d: str(d.path)):
                lock = _disk_lock(disk.path)
                lock.acquire()
                stack.callback(lock.release)
            yield

    @contextmanager
    def hold_writes(self, disk_ids: list[str]) -> Iterator[None]:
        """Block writes through the core to these disks (in any process) while held."""
        disks = {d.id: d for d in (self.get(i) for i in disk_ids)}
        with self._locked(list(disks.values())):
            yield

    def changed_blocks(self, disk_id: str) -> ChangeSet | None:
        """Blocks written through the core since the last reset, or None if CBT is not usable."""
        disk = self.get(disk_id)
        with self._locked([disk]):
            state = _CbtFile(disk.path, disk.blocks).load()
            if not state.tracking:
                return None
            try:
                st = os.stat(disk.path)
            except FileNotFoundError:
                return None
            if state.stat != (st.st_size, st.st_mtime_ns):
                return None
            blocks = state.blocks()
        nbytes = sum(min(BLOCK_SIZE, disk.size_bytes - b * BLOCK_SIZE) for b in blocks)
        return ChangeSet(blocks, nbytes)

    def reset_changed_blocks(self, disk_id: str) -> None:
        """Start tracking afresh from the disk's current content (call right after a capture)."""
        disk = self.get(disk_id)
        with self._locked([disk]):
            cbt = _CbtFile(disk.path, disk.blocks)
            st = os.stat(disk.path)
            cbt.save(cbt.fresh((st.st_size, st.st_mtime_ns)))


def _disk(row: sqlite3.Row, home: Path) -> Disk:
    return Disk(
        id=row["id"],
        name=row["name"],
        region=row["region"],
        subscription=row["subscription"],
        resource_group=row["resource_group"],
        path=home / row["path"],
        size_bytes=row["size_bytes"],
        sku=row["sku"],
        shared=bool(row["shared"]),
        ephemeral=bool(row["ephemeral"]),
        encryption_set_id=row["encryption_set_id"],
    )


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _data_ranges(src: int, size: int) -> Iterator[tuple[int, int]]:
    """Block-aligned ranges of ``src`` that may hold data (holes skipped where the fs says so)."""
    pos = 0
    while pos < size:
        try:
            start = os.lseek(src, pos, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # no data after pos
                return
            yield pos, size  # no SEEK_DATA support here: read everything
            return
        if start >= size:
            return
        end = os.lseek(src, start, os.SEEK_HOLE)
        start = max(pos, start - start % BLOCK_SIZE)
        end = min(size, -(-end // BLOCK_SIZE) * BLOCK_SIZE)
        yield start, end
        pos = end


def _copy_sparse(src: int, size: int, dst: int, source: Path, progress: Progress) -> None:
    """Copy ``size`` bytes of ``src`` into ``dst`` (already zero-filled), skipping zero blocks."""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    description = f"import {source.name}"
    progress(description, 0, size)
    try:
        for start, end in _data_ranges(src, size):
            off = start
            while off < end:
                n = os.preadv(src, [view[: min(CHUNK, end - off)]], off)
                if n <= 0:
                    raise CoreError(
                        f"image file {source} ended early at byte {off}: was it truncated "
                        "while importing? Import it again"
                    )
                _write_nonzero(dst, buf, view, n, off)
                off += n
                progress(description, off, size)
    except OSError as exc:
        raise CoreError(f"image file {source} could not be read: {exc.strerror}") from None
    progress(description, size, size)


def _write_nonzero(dst: int, buf: bytearray, view: memoryview, n: int, off: int) -> None:
    run = -1
    for i in range(0, n, BLOCK_SIZE):
        end = min(i + BLOCK_SIZE, n)
        if end - i == BLOCK_SIZE:
            zero = buf.startswith(_ZERO, i)
        else:
            zero = buf.count(0, i, end) == end - i
        if zero:
            if run >= 0:
                _pwrite_all(dst, view[run:i], off + run)
                run = -1
        elif run < 0:
            run = i
    if run >= 0:
        _pwrite_all(dst, view[run:n], off + run)


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    done = 0
    while done < len(data):
        done += os.pwrite(fd, data[done:], offset + done)
