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
its data key's row (``envelope_keys``, see ``core/keystore/envelope.py``) in one transaction: a disk
made again under the same id never inherits the old disk's data key.

The bitmap itself is ``core/disks/cbt.py``, the per-disk lock ``core/disks/lock.py``, the file I/O
below (folder fsync, sparse image copy) ``core/disks/fileio.py`` and the ``disks`` table and
``Disk`` record ``core/disks/records.py``, and the disk rules (DISK-1 the SKU list, DISK-2 a
copy in its source's region) ``core/disks/rules.py``.

It passes 400 lines by a little: the disks service's create, copy, resize, write and delete
share one lock discipline and record format; splitting them would hide that coupling.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from core.disks import cbt
from core.disks.cbt import ChangeSet
from core.disks.fileio import copy_sparse, fsync_path, is_regular
from core.disks.lock import disk_lock
from core.disks.records import Disk, DiskFile, disk_from_row, new_disk
from core.disks.rules import DiskCopyFacts, SkuFacts, disk_copy_problems, sku_problems
from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import Fabric
from core.problems import enforce
from core.progress import Progress, no_progress


class Disks:
    """The managed disks of one fabric."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric

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
        """A new disk holding a copy of the raw image ``source`` (as large as it, or larger).

        ``source`` is opened without following a final symlink and without blocking (the
        caller resolved and checked the path; a link or a FIFO put there since is refused).
        """
        source = Path(source)
        try:
            src = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            raise CoreError(
                f"image file {source} does not exist: check the path (source_uri)"
            ) from None
        except PermissionError:
            raise CoreError(
                f"image file {source} cannot be read (permission denied): make it readable"
            ) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise CoreError(
                    f"image file {source} is a symbolic link: give the file it points to"
                ) from None
            raise CoreError(f"image file {source} cannot be opened: {exc.strerror}") from None
        try:
            st = os.fstat(src)
            if not is_regular(st.st_mode):
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
                fill=lambda fd: copy_sparse(src, image_size, fd, source, progress or no_progress),
            )
        finally:
            os.close(src)

    def copy(
        self,
        source_id: str,
        *,
        subscription: str,
        resource_group: str,
        region: str,
        name: str,
        size_bytes: int | None = None,
        progress: Progress | None = None,
        **flags: Any,
    ) -> Disk:
        """A new disk holding a copy of disk ``source_id`` (as large as it, or larger), made
        in the source's region (rule DISK-2) while writes to the source are held."""
        src = self.get(source_id)
        enforce(disk_copy_problems(DiskCopyFacts(src.id, src.region, region)))  # DISK-2
        with self.hold_writes([src.id]):
            return self.import_image(
                subscription=subscription,
                resource_group=resource_group,
                region=region,
                name=name,
                source=src.path,
                size_bytes=max(size_bytes or 0, src.size_bytes),
                progress=progress,
                **flags,
            )

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
        disk = new_disk(self.fabric, subscription, resource_group, region, name, size_bytes, sku)
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
                fsync_path(folder)
                cbt.forget(disk.path)
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

    # -- looking up ----------------------------------------------------------------------------

    def _row(self, disk_id: str) -> sqlite3.Row | None:
        return self.fabric.db().execute("SELECT * FROM disks WHERE id = ?", (disk_id,)).fetchone()

    def get(self, disk_id: str) -> Disk:
        row = self._row(disk_id)
        if row is None:
            raise NotFound(f"disk {disk_id} does not exist: check the id or create the disk")
        return disk_from_row(row, self.fabric.home)

    def list(self) -> list[Disk]:
        rows = self.fabric.db().execute("SELECT * FROM disks ORDER BY id")
        return [disk_from_row(row, self.fabric.home) for row in rows]

    def delete(self, disk_id: str) -> None:
        disk = self.get(disk_id)
        lock = disk_lock(disk.path)
        lock.acquire()
        try:
            with self.fabric.transaction() as conn:
                conn.execute("DELETE FROM disks WHERE id = ?", (disk.id,))
                conn.execute("DELETE FROM envelope_keys WHERE disk_id = ?", (disk.id,))
            for path in (disk.path, Path(str(disk.path) + ".cbt")):
                path.unlink(missing_ok=True)
            fsync_path(disk.path.parent)
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
        if sku is not None:
            enforce(sku_problems(SkuFacts(disk.name, sku)))  # DISK-1
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
            cbt.forget(disk.path)
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
        with self._locked([disk]):
            try:
                fd = os.open(disk.path, os.O_RDWR)
            except FileNotFoundError:
                raise NotFound(f"disk {disk.id} was deleted") from None
            try:
                cbt.write_tracked(disk.path, disk.blocks, fd, offset, data)
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
                lock = disk_lock(disk.path)
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
            return cbt.changed_since_reset(disk.path, disk.blocks, disk.size_bytes)

    def reset_changed_blocks(self, disk_id: str) -> None:
        """Start tracking afresh from the disk's current content (call right after a capture)."""
        disk = self.get(disk_id)
        with self._locked([disk]):
            cbt.reset(disk.path, disk.blocks)
