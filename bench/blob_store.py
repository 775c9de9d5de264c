"""Block store on Azure Blob (Azurite) against the local store, in one run.

Run ``python bench/blob_store.py [--size 1GiB] [--json FILE]`` (``make bench``; it needs
Azurite in ``.azurite/``, which ``make test`` installs). For each placement — the fabric's
home folder, then ``block_store = "blob"`` on an Azurite started for the run — it imports
the same deterministic disk image, takes a full restore point, rewrites 1% of the blocks,
takes an incremental one, and restores the latest, checking the restored disk byte for
byte. It prints the seconds of each, the ratio blob/local, and where the blob run's extra
time goes: the seconds spent inside Put Blob and ranged Get Blob calls (timed around
``azblob.Container.put``/``get`` in this process only).

Always holds: both placements run the same steps on the same images in the same process
order; a restore that does not match is an error, never a figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import format_table, human_bytes, parse_size  # noqa: E402
from image import BLOCK, changed_blocks, changed_data, make_images  # noqa: E402

REGION = "eastus"


class Timed:
    """Seconds and calls spent in ``azblob.Container.put`` and ``get`` (this process)."""

    def __init__(self) -> None:
        import azblob

        self.calls = {"put": 0, "get": 0}
        self.seconds = {"put": 0.0, "get": 0.0}
        self.bytes = {"put": 0, "get": 0}
        for name in ("put", "get"):
            original = getattr(azblob.Container, name)

            def timed(*args, _name=name, _original=original, **kw):
                t0 = time.perf_counter()
                out = _original(*args, **kw)
                self.seconds[_name] += time.perf_counter() - t0
                self.calls[_name] += 1
                self.bytes[_name] += len(args[2]) if _name == "put" else len(out)
                return out

            setattr(azblob.Container, name, timed)


def run(home: Path, image: Path, size: int, placement) -> dict:
    from core.disks import Disks
    from core.fabric import Fabric, ResourceId
    from core.restorepoints import RestorePoints, VmSource

    fabric = Fabric.open(home, placement)
    try:
        sub = fabric.default_subscription
        disks = Disks(fabric)
        points = RestorePoints(fabric, disks)
        where = {"subscription": sub, "resource_group": "bench", "region": REGION}
        disk = disks.import_image(**where, name="disk", source=image)
        vm_id = str(ResourceId(sub, "bench", "Microsoft.Compute", "virtualMachines", "vm"))
        cid = str(ResourceId(sub, "bench", "Microsoft.Compute", "restorePointCollections", "c"))
        points.collections.create(cid, region=REGION, source_vm_id=vm_id)
        vm = VmSource(
            vm_id=vm_id, name="vm", region=REGION, subscription=sub, size="Standard_D2s_v5",
            os_type="linux", power_state="stopped", os_disk_id=disk.id, data_disk_ids=[],
        )  # fmt: skip
        out: dict = {}
        t0 = time.perf_counter()
        points.create(cid, "full", vm, consistency_mode="CrashConsistent")
        out["full"] = time.perf_counter() - t0
        blocks = disks.get(disk.id).size_bytes // BLOCK  # the image's whole blocks
        for b in changed_blocks(blocks * BLOCK, 7):
            disks.write(disk.id, b * BLOCK, changed_data(b, 7))
        t0 = time.perf_counter()
        rp = points.create(cid, "incremental", vm, consistency_mode="CrashConsistent")
        out["incremental"] = time.perf_counter() - t0
        out["incremental_bytes"] = rp.disk_restore_points[0].bytes_stored
        t0 = time.perf_counter()
        restored = points.restore_disk(rp.disk_restore_points[0].id, **where, name="restored")
        out["restore"] = time.perf_counter() - t0
        if _sha(Path(restored.path)) != _sha(Path(disks.get(disk.id).path)):
            raise SystemExit("the restored disk differs from its source: no figure kept")
        points.close()
        return out
    finally:
        fabric.close()


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1GiB", help="disk size (default 1GiB)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--tmp", type=Path, help="where the scratch folder goes (default: system)")
    args = ap.parse_args(argv)
    size = parse_size(args.size)

    import os

    from core.fabric.placement import Placement
    from tests.azurite import Azurite

    with tempfile.TemporaryDirectory(prefix="bcdr-blob-bench-", dir=args.tmp) as tmp:
        scratch = Path(tmp)
        image, day2 = scratch / "day1.img", scratch / "day2.img"
        make_images(image, day2, size, 7)  # day 2 is written through the disk API below
        azurite = Azurite(scratch / "azurite").start()
        try:
            os.environ.update(azurite.env)
            local = run(scratch / "local", image, size, Placement())
            timed = Timed()
            blob = run(scratch / "blob", image, size, Placement(azurite.endpoint, "blob"))
        finally:
            azurite.stop()

    rows = [
        [step, f"{local[step]:.2f} s", f"{blob[step]:.2f} s", f"{blob[step] / local[step]:.2f}x"]
        for step in ("full", "incremental", "restore")
    ]
    print(f"Restore points of a {human_bytes(size)} disk: local store vs Azurite")
    print(format_table(["step", "local", "blob (Azurite)", "blob/local"], rows))
    print(
        f"incremental stored {human_bytes(blob['incremental_bytes'])}; in the blob run, "
        f"{timed.calls['put']} Put Blob calls took {timed.seconds['put']:.2f} s "
        f"({human_bytes(timed.bytes['put'])}), {timed.calls['get']} Get Blob calls "
        f"{timed.seconds['get']:.2f} s ({human_bytes(timed.bytes['get'])})"
    )
    calls = {"calls": timed.calls, "seconds": timed.seconds, "bytes": timed.bytes}
    figures = {"size": size, "local": local, "blob": blob, "blob_calls": calls}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
