"""Reading a disk image into the block store, and writing one back out (the fast paths).

``capture_disk`` turns a disk file into a dense manifest (16-byte id per 64 KiB block, all
zero for a zero block) and hands only blocks the store lacks to a ``PackWriter``: with a
changed-block set it reads only those blocks (time grows with the changed bytes, not the disk
size); otherwise it reads the data ranges of the file (holes skipped with ``SEEK_DATA``) and
re-hashes them, comparing with the previous manifest. ``restore_into`` writes a manifest's
blocks into a file in pack order, coalescing adjacent blocks into large ``pwritev`` calls.

A disk under a disk encryption set passes its data key (``core/keystore/envelope.py``): its ids are
keyed HMACs and its blocks are sealed; the choice is made once per disk, never per block.

What always holds: zero blocks are never stored (rule RP-4); each block is hashed with one call
on a ``memoryview`` slice of a reused read buffer; nothing here touches ``fabric.db``.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import xxhash

from core.blocks.packs import ID_BYTES, ZERO_ID, PackWriter, nonzero_ids
from core.blocks.store import BlockStore, Opener
from core.disks.cbt import ChangeSet
from core.disks.fileio import BLOCK_SIZE
from core.disks.records import Disk
from core.errors import CoreError
from core.keystore.envelope import BlockKey, keyed_digest
from core.progress import Progress

CHUNK = 2 * 1024 * 1024  # bytes per read buffer; a multiple of BLOCK_SIZE
_BPC = CHUNK // BLOCK_SIZE
_READERS = 2  # buffers read ahead at once, each by its own thread (preadv drops the GIL)


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


def _read_group(fd: int, buf: bytearray, group: list[tuple[int, int]], size: int) -> int:
    """Read the runs of ``group`` back to back into ``buf``; returns the bytes read (or -1
    if the file is shorter than ``size``). Runs in the read-ahead thread (GIL released)."""
    mv = memoryview(buf)
    at = 0
    for first, count in group:
        length = min(count * BLOCK_SIZE, size - first * BLOCK_SIZE)
        if os.preadv(fd, [mv[at : at + length]], first * BLOCK_SIZE) != length:
            return -1
        at += length
    return at


def capture_disk(
    store: BlockStore,
    writer: PackWriter,
    disk: Disk,
    base: bytes | None,
    changed: ChangeSet | None,
    progress: Progress,
    base_total: int | None = None,
    key: BlockKey | None = None,
) -> tuple[bytearray, CaptureStats]:
    """Read ``disk`` (whole, or only ``changed`` blocks on top of ``base``) into the store.

    ``base_total`` (the base's non-zero block count) lets a changed-block capture count
    without a pass over the whole manifest. A second thread reads the next buffer while this
    one hashes the current one; a buffer whose ids all equal the base's is settled with one
    comparison, not one per block.
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
    # rule RP-4: zero blocks are never stored, and only blocks whose id differs from the
    # base's are handed to the writer (a first capture has no base: every non-zero block)
    zero_full = store.zero_digest(BLOCK_SIZE)
    zero_tail = store.zero_digest(size - (nblocks - 1) * BLOCK_SIZE)
    digest, seed = xxhash.xxh3_128_digest, store.seed
    add = writer.add_many
    if key is not None:  # a disk under a disk encryption set: keyed ids, sealed blocks
        zero_full, zero_tail = key.zero_digest(BLOCK_SIZE), key.zero_digest(zero_tail_size(size))
        digest, seed = keyed_digest, key.id_key
        add = partial(writer.add_many, compress=key.seal_many)
    # Buffers: up to max_inflight handed to the writer, one hashed, _READERS being read.
    bufs = [bytearray(CHUNK) for _ in range(writer.max_inflight + 1 + _READERS)]
    busy: deque[int] = deque(maxlen=max(writer.max_inflight, 1))
    total = size if runs is None else len(changed.blocks) * BLOCK_SIZE
    done = 0
    seen_total = seen_changed = 0  # re-hash: non-zero blocks, bytes changed since the base
    expect = 0  # re-hash: the block after the last one read
    try:
        fd = os.open(disk.path, os.O_RDONLY)
    except OSError as exc:
        raise CoreError(f"disk {disk.id}: its file cannot be read ({exc.strerror})") from None
    reader = ThreadPoolExecutor(_READERS)
    ahead: deque[tuple[list[tuple[int, int]], int, Future]] = deque()
    groups = _groups(iter(runs) if runs is not None else _data_runs(fd, size))

    def read_ahead(cur: int) -> None:
        while len(ahead) < _READERS:
            group = next(groups, None)
            if group is None:
                return
            taken = {cur, *busy, *(i for _, i, _ in ahead)}
            i = next(i for i in range(len(bufs)) if i not in taken)
            ahead.append((group, i, reader.submit(_read_group, fd, bufs[i], group, size)))

    try:
        read_ahead(-1)
        while ahead:
            group, cur, future = ahead.popleft()
            at = future.result()
            if at < 0:
                raise CoreError(f"disk {disk.id}: file is shorter than {size} bytes")
            read_ahead(cur)
            mv = memoryview(bufs[cur])[:at]
            digests = [digest(mv[k : k + BLOCK_SIZE], seed=seed) for k in range(0, at, BLOCK_SIZE)]
            first_b, end_b = group[0][0], group[-1][0] + group[-1][1]
            contiguous = end_b - first_b == len(digests) and end_b < nblocks
            lo, hi = first_b * ID_BYTES, end_b * ID_BYTES
            new: list[tuple[bytes, memoryview]] = []
            settled = False
            if contiguous and base is not None:
                zeros = digests.count(zero_full)
                as_ids = [ZERO_ID if d == zero_full else d for d in digests] if zeros else digests
                joined = b"".join(as_ids)
                if joined == base[lo:hi]:
                    ids[lo:hi] = joined  # unchanged since the base: one comparison
                    seen_total += len(digests) - zeros
                    settled = True
            elif contiguous and digests.count(zero_full) == len(digests):
                settled = True  # all zero and no base: the ids stay zero
            if not settled:
                index = (b for first, count in group for b in range(first, first + count))
                for i, (b, d) in enumerate(zip(index, digests, strict=True)):
                    pos = b * ID_BYTES
                    length = min(BLOCK_SIZE, size - b * BLOCK_SIZE)
                    if d == zero_full or (b == nblocks - 1 and d == zero_tail):
                        if base is not None and not cbt and base[pos : pos + ID_BYTES] != ZERO_ID:
                            seen_changed += length
                        continue
                    ids[pos : pos + ID_BYTES] = d
                    seen_total += 1
                    if base is None or base[pos : pos + ID_BYTES] != d:
                        seen_changed += length
                        new.append((d, mv[i * BLOCK_SIZE : i * BLOCK_SIZE + length]))
            if not cbt:
                for first, count in group:  # blocks never read (holes) are zero now
                    if first > expect and base is not None:
                        seen_changed += _nonzero_bytes(base, expect, first, size)
                    expect = first + count
            if new:
                fresh = set(writer.new_among([d for d, _ in new]))
                if fresh:
                    add([(d, v) for d, v in new if d in fresh])
                    busy.append(cur)  # rests until the writer is done with it
            done += at
            progress(f"snapshot {disk.name}", min(done, total), total)
    finally:
        for _, _, future in ahead:
            future.cancel()
        reader.shutdown(wait=True)
        os.close(fd)
    writer.drain()
    progress(f"snapshot {disk.name}", total, total)  # stored; the holes needed no reading
    if cbt:
        return ids, _stats_changed(ids, base, base_total, runs, size)
    if base is not None and expect < nblocks:
        seen_changed += _nonzero_bytes(base, expect, nblocks, size)
    return ids, CaptureStats(blocks_total=seen_total, bytes_changed=seen_changed)


def _nonzero_bytes(base: bytes, first: int, end: int, size: int) -> int:
    """Logical bytes of the blocks first..end-1 whose id in ``base`` is not zero."""
    out = 0
    for b in range(first, end):
        if base[b * ID_BYTES : (b + 1) * ID_BYTES] != ZERO_ID:
            out += min(BLOCK_SIZE, size - b * BLOCK_SIZE)
    return out


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


def restore_into(
    store: BlockStore, ids: bytes, fd: int, progress: Progress, opener: Opener | None = None
) -> None:
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

    for blocks, data in store.read_tagged(nonzero_ids(ids), opener):
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


def zero_tail_size(size: int) -> int:
    """Bytes of a disk's last block."""
    return size - (-(-size // BLOCK_SIZE) - 1) * BLOCK_SIZE
