"""Changed-block tracking (CBT): the bitmap kept beside each managed disk.

A disk's bitmap file is ``<name>.img.cbt``: a JSON header line (version, whether tracking
is on, the disk file's (size, mtime_ns) after the core's last write), then one bit per
64 KiB block. Always holds: the file is replaced atomically (temp file, fsync, rename,
fsync of the folder); a write through ``write_tracked`` marks its blocks in the bitmap
*before* the data lands; when the disk file no longer matches the recorded (size,
mtime_ns), someone wrote outside the core and ``changed_since_reset`` answers None (as it
does for a missing, unreadable or mis-sized bitmap) until the next ``reset``. Callers hold
the disk's lock (``core/disks/lock.py``) around every call here.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from core.disks.fileio import BLOCK_SIZE, fsync_path, pwrite_all

__all__ = [
    "CbtFile",
    "CbtState",
    "ChangeSet",
    "changed_since_reset",
    "forget",
    "reset",
    "write_tracked",
]


@dataclass
class ChangeSet:
    """Blocks written through the core since the last restore point, and their bytes."""

    blocks: list[int]
    bytes: int


@dataclass
class CbtState:
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


class CbtFile:
    """The bitmap file beside a disk: a JSON header line, then the bitmap bytes."""

    def __init__(self, disk_path: Path, blocks: int) -> None:
        self.path = Path(str(disk_path) + ".cbt")
        self.nbytes = -(-blocks // 8)

    def fresh(self, stat_now: tuple[int, int] | None, tracking: bool = True) -> CbtState:
        return CbtState(tracking, stat_now, bytearray(self.nbytes))

    def load(self) -> CbtState:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return self.fresh(None, tracking=False)
        head, _, bitmap = raw.partition(b"\n")
        try:
            header = json.loads(head)
            state = CbtState(
                bool(header["tracking"]),
                tuple(header["stat"]) if header["stat"] else None,
                bytearray(bitmap),
            )
        except (ValueError, KeyError, TypeError):
            return self.fresh(None, tracking=False)  # unreadable: CBT unusable until reset
        if len(state.bitmap) != self.nbytes:
            return self.fresh(None, tracking=False)
        return state

    def save(self, state: CbtState) -> None:
        header = {"version": 1, "tracking": state.tracking, "stat": state.stat}
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            pwrite_all(fd, memoryview(json.dumps(header).encode() + b"\n" + state.bitmap), 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        fsync_path(self.path.parent)


def forget(disk_path: Path) -> None:
    """Drop the disk's bitmap: tracking is off until the next ``reset``."""
    Path(str(disk_path) + ".cbt").unlink(missing_ok=True)


def write_tracked(disk_path: Path, blocks: int, fd: int, offset: int, data: bytes) -> None:
    """Write ``data`` (non-empty) at ``offset`` of the open disk file ``fd``, durably, its
    blocks marked in the bitmap first and the file's new (size, mtime_ns) recorded after."""
    first, last = offset // BLOCK_SIZE, (offset + len(data) - 1) // BLOCK_SIZE
    cbt = CbtFile(disk_path, blocks)
    state = cbt.load()
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


def changed_since_reset(disk_path: Path, blocks: int, size_bytes: int) -> ChangeSet | None:
    """The blocks written through the core since the last reset, or None if CBT is not usable."""
    state = CbtFile(disk_path, blocks).load()
    if not state.tracking:
        return None
    try:
        st = os.stat(disk_path)
    except FileNotFoundError:
        return None
    if state.stat != (st.st_size, st.st_mtime_ns):
        return None
    found = state.blocks()
    nbytes = sum(min(BLOCK_SIZE, size_bytes - b * BLOCK_SIZE) for b in found)
    return ChangeSet(found, nbytes)


def reset(disk_path: Path, blocks: int) -> None:
    """Start tracking afresh from the disk file's current content."""
    cbt = CbtFile(disk_path, blocks)
    st = os.stat(disk_path)
    cbt.save(cbt.fresh((st.st_size, st.st_mtime_ns)))
