"""capture_disk by re-hashing: ids and stats match a block-by-block count, holes included."""

from __future__ import annotations

import os
import random
from pathlib import Path

from core.blocks import ID_BYTES, ZERO_ID, BlockStore
from core.disks import BLOCK_SIZE, Disk
from core.progress import no_progress
from core.restorepoints.capture import CHUNK, capture_disk


def disk_at(path: Path, size: int) -> Disk:
    return Disk("disk", "disk", "eastus", "sub", "rg", path, size, "Standard_LRS", False, False)


def expected(ids: bytes, base: bytes | None, size: int) -> tuple[int, int]:
    total = changed = 0
    for b in range(len(ids) // ID_BYTES):
        d = ids[b * ID_BYTES : (b + 1) * ID_BYTES]
        total += d != ZERO_ID
        differs = d != ZERO_ID if base is None else d != base[b * ID_BYTES : (b + 1) * ID_BYTES]
        changed += min(BLOCK_SIZE, size - b * BLOCK_SIZE) if differs else 0
    return total, changed


def write_day(path: Path, size: int, rng: random.Random, kinds: list[int], mutate: float):
    """Blocks: 0 hole, 1 written zeros, 2 text, 3 random; ``mutate`` of them change kind."""
    for b in range(len(kinds)):
        if rng.random() < mutate:
            kinds[b] = rng.randrange(4)
    with open(path, "wb") as f:
        f.truncate(size)
        for b, kind in enumerate(kinds):
            n = min(BLOCK_SIZE, size - b * BLOCK_SIZE)
            if kind:
                data = (bytes(n), b"%d text " % b * n, os.urandom(n))[kind - 1]
                f.seek(b * BLOCK_SIZE)
                f.write(data[:n])


def test_rehash_stats_and_ids_match_a_full_count(tmp_path) -> None:
    rng = random.Random(7)
    per_chunk = CHUNK // BLOCK_SIZE
    for trial, nblocks in enumerate((1, 3, per_chunk, per_chunk * 3 + 5)):
        size = nblocks * BLOCK_SIZE - (0, 4096, 1000, 0)[trial]
        path = tmp_path / f"d{trial}.img"
        kinds = [rng.randrange(4) for _ in range(nblocks)]
        with BlockStore.open_dir(tmp_path / f"s{trial}", seed=5, pack_size=1 << 20) as store:
            base = None
            for mutate in (1.0, 0.0, 0.1, 0.5):  # first, unchanged, a few changed, many
                write_day(path, size, rng, kinds, mutate)
                with store.writer() as w:
                    disk = disk_at(path, size)
                    ids, stats = capture_disk(store, w, disk, base, None, no_progress)
                assert (stats.blocks_total, stats.bytes_changed) == expected(ids, base, size)
                image = bytearray(size)
                tagged = [
                    (b, bytes(ids[b * ID_BYTES : (b + 1) * ID_BYTES]))
                    for b in range(nblocks)
                    if ids[b * ID_BYTES : (b + 1) * ID_BYTES] != ZERO_ID
                ]
                for blocks, data in store.read_tagged(tagged):
                    for b in blocks:
                        image[b * BLOCK_SIZE : b * BLOCK_SIZE + len(data)] = data
                assert bytes(image) == path.read_bytes()
                base = bytes(ids)
