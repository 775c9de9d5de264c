"""Reading a disk image into the block store, and writing one back out (the fast paths).

``capture_disk`` turns a disk file into a dense manifest (16-byte id per 64 KiB block, all
zero for a zero block) and hands only blocks the store lacks to a ``PackWriter``: with a
changed-block set it reads only those blocks (time grows with the changed bytes, not the disk
size); otherwise it reads the data ranges of the file (holes skipped with ``SEEK_DATA``) and
re-hashes them, comparing with the previous manifest. ``restore_into`` writes a manifest's
blocks into a file in pack order, coalescing adjacent blocks into large ``pwritev`` calls.

What always holds: zero blocks are never stored (rule RP-4); each block is hashed with one call
on a ``memoryview`` slice of a reused read buffer; nothing here touches ``fabric.db``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import xxhash

from core.blockstore import BLOCK_SIZE, ID_BYTES, ZERO_ID, BlockStore, PackWriter, nonzero_ids
from core.disks import ChangeSet, Disk
from core.errors import CoreError
from core.progress import Progress

CHUNK = 2 * 1024 * 1024  # bytes per read buffer; a multiple of BLOCK_SIZE
_BPC = CHUNK // BLOCK_SIZE


@dataclass
class CaptureStats:
    blocks_total: int  # non-zero blocks in the image
    bytes_changed: int  # logical bytes of blocks whose id differs from the base


def _data_runs(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """(first block, block count) runs that may hold data; holes skipped where supported."""
    nblocks = -(-size // BLOCK_SIZE)
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
            end = os.lseek(fd, start, os.SEEK_HOLE)
        except OSError:  # ENXIO: no data after pos; EINVAL: not supported
            if pos == 0:
                start, end = 0, size
            else:
                return
        first = start // BLOCK_SIZE
        last = min(-(-min(end, size) // BLOCK_SIZE), nblocks)
        if last > first:
            yield first, last - first
        pos = last * BLOCK_SIZE
        if end >= size:
            return


def _runs_of(blocks: list[int]) -> Iterator[tuple[int, int]]:
    """Consecutive runs of sorted block indexes, as (first, count)."""
    i = 0
    while i < len(blocks):
        j = i
        while j + 1 < len(blocks) and blocks[j + 1] == blocks[j] + 1:
            j += 1
        yield blocks[i], j - i + 1
        i = j + 1


def _groups(runs: Iterator[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    """Runs cut and packed into groups of at most one read buffer's worth of blocks."""
    group: list[tuple[int, int]] = []
    n = 0
    for first, count in runs:
        while count:
            take = min(count, _BPC - n)
            group.append((first, take))
            n, first, count = n + take, first + take, count - take
            if n == _BPC:
                yield group
                group, n = [], 0
    if group:
        yield group


def capture_disk(
    store: BlockStore,
    writer: PackWriter,
    disk: Disk,
    base: bytes | None,
    changed: ChangeSet | None,
    progress: Progress,
    base_total: int | None = None,
) -> tuple[bytearray, CaptureStats]:
    """Read ``disk`` (whole, or only ``changed`` blocks on top of ``base``) into the store.

    ``base_total`` (the base's non-zero block count) lets a changed-block capture count
    without a pass over the whole manifest.
    """
    size = disk.size_bytes
    nblocks = -(-size // BLOCK_SIZE)
    if base is not None and len(base) != nblocks * ID_BYTES:
        base = None  # the disk was resized: compare nothing, store what differs from the store
    cbt = changed is not None and base is not None and base_total is not None
    if cbt:
        ids = bytearray(base)
        runs = list(_runs_of(changed.blocks))
        for first, count in runs:  # blocks written may have become zero: reset them first
            ids[first * ID_BYTES : (first + count) * ID_BYTES] = bytes(count * ID_BYTES)
    else:
        ids = bytearray(nblocks * ID_BYTES)
        runs = None
    zero_full = store.zero_digest(BLOCK_SIZE)
    zero_tail = store.zero_digest(size - (nblocks - 1) * BLOCK_SIZE)
    digest, seed = xxhash.xxh3_128_digest, store.seed
    bufs = [bytearray(CHUNK) for _ in range(writer.max_inflight + 1)]
    turn = 0
    total = size if runs is None else len(changed.blocks) * BLOCK_SIZE
    done = 0
    try:
        fd = os.open(disk.path, os.O_RDONLY)
    except OSError as exc:
        raise CoreError(f"disk {disk.id}: its file cannot be read ({exc.strerror})") from None
    try:
        for group in _groups(iter(runs) if runs is not None else _data_runs(fd, size)):
            mv = memoryview(bufs[turn])
            at = 0
            blocks: list[tuple[int, memoryview]] = []
            for first, count in group:
                length = min(count * BLOCK_SIZE, size - first * BLOCK_SIZE)
                if os.preadv(fd, [mv[at : at + length]], first * BLOCK_SIZE) != length:
                    raise CoreError(f"disk {disk.id}: file is shorter than {size} bytes")
                for k in range(count):
                    blocks.append(
                        (
                            first + k,
                            mv[at + k * BLOCK_SIZE : min(at + length, at + (k + 1) * BLOCK_SIZE)],
                        )
                    )
                at += length
            new: list[tuple[bytes, memoryview]] = []
            for b, block in blocks:
                d = digest(block, seed=seed)
                if d == zero_full or (b == nblocks - 1 and d == zero_tail):
                    continue
                pos = b * ID_BYTES
                ids[pos : pos + ID_BYTES] = d
                if base is None or base[pos : pos + ID_BYTES] != d:
                    new.append((d, block))
            if new:
                fresh = set(writer.new_among([d for d, _ in new]))
                if fresh:
                    writer.add_many([(d, v) for d, v in new if d in fresh])
                    # Only a buffer handed to the writer must rest until it is done.
                    turn = (turn + 1) % len(bufs)
            done += at
            progress(f"snapshot {disk.name}", done, total)
    finally:
        os.close(fd)
    writer.drain()
    if cbt:
        return ids, _stats_changed(ids, base, base_total, runs, size)
    return ids, _stats(ids, base, size)


def _stats_changed(
    ids: bytearray, base: bytes, base_total: int, runs: list[tuple[int, int]], size: int
) -> CaptureStats:
    """Stats when only the blocks in ``runs`` can differ from ``base``."""
    total, changed = base_total, 0
    for first, count in runs:
        for b in range(first, first + count):
            new = ids[b * ID_BYTES : (b + 1) * ID_BYTES]
            old = base[b * ID_BYTES : (b + 1) * ID_BYTES]
            total += (new != ZERO_ID) - (old != ZERO_ID)
            if new != old:
                changed += min(BLOCK_SIZE, size - b * BLOCK_SIZE)
    return CaptureStats(blocks_total=total, bytes_changed=changed)


def _stats(ids: bytearray, base: bytes | None, size: int) -> CaptureStats:
    nblocks = len(ids) // ID_BYTES
    mv_new = memoryview(ids)
    total = changed = 0
    for b in range(nblocks):
        d = mv_new[b * ID_BYTES : (b + 1) * ID_BYTES]
        nonzero = d != ZERO_ID
        total += nonzero
        if base is None:
            differs = nonzero
        else:
            differs = d != base[b * ID_BYTES : (b + 1) * ID_BYTES]
        if differs:
            changed += min(BLOCK_SIZE, size - b * BLOCK_SIZE)
    return CaptureStats(blocks_total=total, bytes_changed=changed)


def restore_into(store: BlockStore, ids: bytes, fd: int, progress: Progress) -> None:
    """Write every non-zero block of the manifest ``ids`` into ``fd`` (already sized, zero).

    The block list is joined and sorted in the store's index (no Python object per block),
    and adjacent blocks go out in one ``pwritev``.
    """
    total = sum(1 for _ in nonzero_ids(ids)) * BLOCK_SIZE
    run_start, run_bufs = -1, []
    done = 0

    def flush() -> None:
        if run_bufs:
            off = run_start * BLOCK_SIZE
            want = sum(len(x) for x in run_bufs)
            if os.pwritev(fd, run_bufs, off) != want:
                _pwrite_rest(fd, b"".join(run_bufs), off)

    for blocks, data in store.read_tagged(nonzero_ids(ids)):
        for b in blocks:
            if run_bufs and b == run_start + len(run_bufs) and len(run_bufs) < 64:
                run_bufs.append(data)
            else:
                flush()
                run_start, run_bufs = b, [data]
            done += BLOCK_SIZE
        progress("restore", min(done, total), total)
    flush()


def _pwrite_rest(fd: int, data: bytes, off: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, off)
        view, off = view[n:], off + n
