"""The benchmark's disk images: a deterministic day-1 image and its day-2 version.

The image is built in 1 MiB regions, about 1/2 random, 1/3 zeros and the rest log-like
text; day 2 rewrites 1% of its 64 KiB blocks with random bytes. Also the two file helpers
every run uses: overwrite a file in place, and refuse a restore that differs from its image.

Always holds: the same (size, seed) gives the same bytes on every machine and every run;
no region's content repeats another's, so dedup within one image finds only zero regions.
"""

from __future__ import annotations

import filecmp
import os
import random
import shutil
from pathlib import Path

from common import CommandFailed

REGION = 1 << 20  # the image is built in regions of this size
BLOCK = 64 * 1024  # day 2 rewrites blocks of this size


_LINES = (
    '{t} web-{h:02d} nginx[{p}]: 10.0.{a}.{b} - - "GET /api/v2/items/{n} HTTP/1.1" 200 {s}\n',
    "{t} db-{h:02d} postgres[{p}]: LOG:  duration: {a}.{b} ms  statement: SELECT * FROM "
    "orders WHERE id = {n}\n",
    "{t} app-{h:02d} java[{p}]: INFO  c.e.OrderService - order {n} state=PAID amount={s}\n",
    "{t} node-{h:02d} kernel: [{n}.{a}] EXT4-fs (sda{b}): mounted filesystem with ordered data\n",
)


def _text_base(seed: int) -> bytes:
    """One MiB of log-like text, from which every text region is cut."""
    rng = random.Random(f"{seed}:text")
    out: list[str] = []
    size = 0
    while size < 2 * REGION:
        line = rng.choice(_LINES).format(
            t=f"2026-11-21T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z",
            h=rng.randrange(32),
            p=rng.randrange(1000, 65000),
            a=rng.randrange(256),
            b=rng.randrange(256),
            n=rng.randrange(10**7),
            s=rng.randrange(100, 99999),
        )
        out.append(line)
        size += len(line)
    return "".join(out).encode()


def region_kinds(size: int, seed: int) -> list[str]:
    """The kind of each 1 MiB region: about 1/2 random, 1/3 zeros, the rest text."""
    rng = random.Random(f"{seed}:kinds")
    kinds = []
    for _ in range((size + REGION - 1) // REGION):
        x = rng.random()
        kinds.append("random" if x < 0.5 else "zero" if x < 0.5 + 1 / 3 else "text")
    return kinds


def region_data(kind: str, index: int, seed: int, text: bytes) -> bytes:
    """The bytes of region ``index``: unique per region, so no region dedups another."""
    if kind == "zero":
        return bytes(REGION)
    if kind == "random":
        return random.Random(f"{seed}:r{index}").randbytes(REGION)
    start = (index * 7919) % REGION
    data = bytearray(text[start : start + REGION])
    for k in range(0, REGION, 4096):  # a stamp every 4 KiB keeps regions distinct
        data[k : k + 20] = f"\n#{index:09d}.{k // 4096:04d}\n".encode()
    return bytes(data)


def changed_blocks(size: int, seed: int) -> list[int]:
    """Indexes of the 1% of 64 KiB blocks that day 2 rewrites (at least one)."""
    n = size // BLOCK
    return sorted(random.Random(f"{seed}:day2").sample(range(n), max(1, n // 100)))


def changed_data(block: int, seed: int) -> bytes:
    return random.Random(f"{seed}:d2:{block}").randbytes(BLOCK)


def make_images(image: Path, day2: Path, size: int, seed: int) -> dict:
    """Write the day-1 and day-2 images; return the share of each kind of region."""
    kinds = region_kinds(size, seed)
    text = _text_base(seed)
    with open(image, "wb") as f:
        for i, kind in enumerate(kinds):
            f.write(region_data(kind, i, seed, text)[: min(REGION, size - i * REGION)])
    shutil.copyfile(image, day2)
    blocks = changed_blocks(size, seed)
    with open(day2, "r+b") as f:
        for b in blocks:
            os.pwrite(f.fileno(), changed_data(b, seed), b * BLOCK)
    return {k: kinds.count(k) / len(kinds) for k in ("random", "zero", "text")} | {
        "changed_blocks": len(blocks)
    }


def _overwrite(path: Path, source: Path) -> None:
    """Replace a file's content in place (same inode), as a guest or a tool outside would."""
    with open(source, "rb") as src, open(path, "r+b") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.truncate()
        dst.flush()
        os.fsync(dst.fileno())


def _check_same(restored: Path, expected: Path, what: str, full: bool) -> None:
    """Refuse a restore that is not byte-identical (fully compared on the first run)."""
    same = filecmp.cmp(restored, expected, shallow=False) if full else (
        restored.stat().st_size == expected.stat().st_size
    )  # fmt: skip
    restored.unlink()
    if not same:
        raise CommandFailed(f"{what} is not byte-identical to the day-2 image")
