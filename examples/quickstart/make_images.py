"""Make the raw disk images the quickstart imports: images/os.img, data1.img, data2.img.

Run it once before `bcdr apply`: ``python make_images.py`` (``--size-mib N`` for smaller or
larger images, ``--out DIR`` for another folder). The images are deterministic (the same
bytes on every machine and every run) and built from 1 MiB regions of random data, zeros
(left as holes, so they take no space) and text, like a real disk with a file system.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

MIB = 1 << 20
IMAGES = {"os.img": (32, 11), "data1.img": (16, 22), "data2.img": (16, 33)}  # MiB, seed
TEXT = b"bcdr quickstart: a line of a guest's log file, the same on every machine\n"


def make_image(path: Path, size_mib: int, seed: int) -> None:
    """Regions cycle: random, random, zeros, text, zeros, random (1 MiB each)."""
    rng = random.Random(seed)
    text = (TEXT * (MIB // len(TEXT) + 1))[:MIB]
    with open(path, "wb") as f:
        for i in range(size_mib):
            kind = ("random", "random", "zeros", "text", "zeros", "random")[i % 6]
            if kind == "random":
                f.write(rng.randbytes(MIB))
            elif kind == "text":
                f.write(text)
            else:
                f.seek(MIB, 1)  # a hole: reads as zeros, stores nothing
        f.truncate(size_mib * MIB)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="images", help="folder for the images (images)")
    parser.add_argument("--size-mib", type=int, help="make every image this many MiB")
    args = parser.parse_args(argv)
    if args.size_mib is not None and args.size_mib < 1:
        parser.error("--size-mib must be at least 1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, (size_mib, seed) in IMAGES.items():
        size = args.size_mib or size_mib
        make_image(out / name, size, seed)
        print(f"wrote {out / name} ({size} MiB)")


if __name__ == "__main__":
    main()
