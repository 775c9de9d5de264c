"""Disk file I/O below the managed disks: durable writes, folder fsync, sparse image copies,
and the durable temp file of an atomic write (``write_temp``, used by the block store's and
the blob service's local files too).

Used by ``core/disks/managed.py`` and ``core/disks/cbt.py``. Always holds: ``pwrite_all``
writes every
byte it is given (short writes are retried); ``copy_sparse`` writes only the 64 KiB blocks
of the source that are not all zero into a destination that is already zero-filled, so
the copy reads the same as the source and stays sparse; an unreadable or truncated image is
a ``CoreError`` naming the file, never a traceback.
"""

from __future__ import annotations

import errno
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

from core.errors import CoreError
from core.progress import Progress

# The one block size of the core: the unit of changed-block tracking, of the block store's
# manifests and dedup, and of envelope sealing (core.blocks and core.keystore import it).
BLOCK_SIZE = 64 * 1024
CHUNK = 1 << 20
_ZERO = bytes(BLOCK_SIZE)


def is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (a folder: so a rename or a new entry in it is durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(folder: Path, prefix: str, chunks: list) -> Path:
    """A new file ``folder/PREFIX<random>`` holding ``chunks`` (bytes-likes) one after
    another, fsynced, mode 0600: the first half of an atomic write (the caller renames it
    into place). A failure removes it and re-raises."""
    tmp = folder / f"{prefix}{uuid.uuid4().hex}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        views = [v for v in (memoryview(c).cast("B") for c in chunks) if len(v)]
        i = 0
        while i < len(views):  # writev takes at most IOV_MAX buffers; short writes retried
            n = os.writev(fd, views[i : i + 1024])
            while n > 0:
                if n >= len(views[i]):
                    n -= len(views[i])
                    i += 1
                else:
                    views[i] = views[i][n:]
                    n = 0
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def data_ranges(src: int, size: int) -> Iterator[tuple[int, int]]:
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


def copy_sparse(src: int, size: int, dst: int, source: Path, progress: Progress) -> None:
    """Copy ``size`` bytes of ``src`` into ``dst`` (already zero-filled), skipping zero blocks."""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    description = f"import {source.name}"
    progress(description, 0, size)
    try:
        for start, end in data_ranges(src, size):
            off = start
            while off < end:
                n = os.preadv(src, [view[: min(CHUNK, end - off)]], off)
                if n <= 0:
                    raise CoreError(
                        f"image file {source} ended early at byte {off}: was it truncated "
                        "while importing? Import it again"
                    )
                write_nonzero(dst, buf, view, n, off)
                off += n
                progress(description, off, size)
    except OSError as exc:
        raise CoreError(f"image file {source} could not be read: {exc.strerror}") from None
    progress(description, size, size)


def write_nonzero(dst: int, buf: bytearray, view: memoryview, n: int, off: int) -> None:
    run = -1
    for i in range(0, n, BLOCK_SIZE):
        end = min(i + BLOCK_SIZE, n)
        if end - i == BLOCK_SIZE:
            zero = buf.startswith(_ZERO, i)
        else:
            zero = buf.count(0, i, end) == end - i
        if zero:
            if run >= 0:
                pwrite_all(dst, view[run:i], off + run)
                run = -1
        elif run < 0:
            run = i
    if run >= 0:
        pwrite_all(dst, view[run:n], off + run)


def pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    done = 0
    while done < len(data):
        done += os.pwrite(fd, data[done:], offset + done)
