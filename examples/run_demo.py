"""`make demo`: the smallest end-to-end tour that works today.

Part 1 runs the `bcdr` CLI on examples/hello in a temporary folder: init, plan, apply,
and a second plan that must say "No changes." (exit 0 with -detailed-exitcode).
Part 2 drives the embedded snapshot core directly: import a disk image, take a restore
point, write to the disk through the core, take an incremental one, restore it to a new
disk, serve it over a SAS URL and compare checksums.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BCDR = Path(sys.executable).with_name("bcdr")
MIB = 1024 * 1024


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def bcdr(workdir: Path, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    print(f"$ bcdr {' '.join(args)}", flush=True)
    proc = subprocess.run(
        [str(BCDR), *args], cwd=workdir, text=True, capture_output=True, env=os.environ
    )
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode not in ok:
        raise SystemExit(f"demo failed: `bcdr {' '.join(args)}` exited {proc.returncode}")
    return proc


def engine_tour(root: Path) -> None:
    work = root / "hello"
    shutil.copytree(HERE / "hello", work)
    step("Part 1: plan and apply a configuration (examples/hello)")
    bcdr(work, "init", "-no-color")
    bcdr(work, "plan", "-no-color")
    bcdr(work, "apply", "-auto-approve", "-no-color")
    proc = bcdr(work, "plan", "-detailed-exitcode", "-no-color")
    assert "No changes." in proc.stdout, "the second plan should have no changes"
    bcdr(work, "output", "-no-color")


def make_image(path: Path, size: int, seed: int = 7) -> None:
    """Half random, a third zeros, the rest repetitive text, in 1 MiB regions."""
    rng = random.Random(seed)
    text = (b"bcdr demo: the quick brown fox jumps over the lazy dog\n" * 20000)[:MIB]
    with open(path, "wb") as f:
        for i in range(size // MIB):
            kind = i % 6
            if kind in (0, 1, 2):
                f.write(rng.randbytes(MIB))
            elif kind in (3, 4):
                f.seek(MIB, os.SEEK_CUR)
            else:
                f.write(text)
        f.truncate(size)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            h.update(chunk)
    return h.hexdigest()


def core_tour(root: Path) -> None:
    from core.access import Access, make_server
    from core.disks import Disks
    from core.fabric import Fabric, ResourceId
    from core.snapshots import RestorePoints, VmSource

    step("Part 2: the embedded snapshot core")
    fabric = Fabric.open(root / "fabric")
    sub = fabric.default_subscription
    disks = Disks(fabric)
    points = RestorePoints(fabric, disks)
    image = root / "os.img"
    make_image(image, 48 * MIB)
    disk = disks.import_image(
        subscription=sub, resource_group="demo", region="eastus", name="os", source=image
    )
    print(f"imported {image.name} as disk {disk.name} ({disk.size_bytes // MIB} MiB)")

    vm_id = str(ResourceId(sub, "demo", "Microsoft.Compute", "virtualMachines", "web"))
    vm = VmSource(
        vm_id=vm_id, name="web", region="eastus", subscription=sub, size="Standard_D2s_v5",
        os_type="linux", power_state="running", os_disk_id=disk.id, data_disk_ids=[],
    )
    coll_id = str(
        ResourceId(sub, "demo", "Microsoft.Compute", "restorePointCollections", "web-rpc")
    )
    points.create_collection(coll_id, region="eastus", source_vm_id=vm_id)
    rp1 = points.create(coll_id, "rp1", vm)
    d1 = rp1.disk_restore_points[0]
    print(f"restore point rp1: {rp1.consistency_achieved}, stored {d1.bytes_stored:,} bytes")

    payload = b"written by the guest after rp1\n" * 4096
    disks.write(disk.id, 5 * MIB, payload)
    print(f"guest wrote {len(payload):,} bytes at offset 5 MiB")
    rp2 = points.create(coll_id, "rp2", vm)
    d2 = rp2.disk_restore_points[0]
    print(f"restore point rp2 (incremental): stored {d2.bytes_stored:,} bytes")
    expected = sha256_file(disk.path)

    restored = points.restore_disk(
        d2.id, subscription=sub, resource_group="demo", region="eastus", name="os-restored"
    )
    print(f"restored rp2 to disk {restored.name}: sha256 {sha256_file(restored.path)[:16]}...")

    server = make_server(fabric, "127.0.0.1", 0)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        grant = Access(fabric, points, base_url=f"http://127.0.0.1:{port}").grant(d2.id, 600)
        print("granted read access (SAS URL not shown: it is a secret)")
        h = hashlib.sha256()
        with urllib.request.urlopen(grant.url) as resp:
            while chunk := resp.read(MIB):
                h.update(chunk)
        served = h.hexdigest()
    finally:
        server.shutdown()
        server.server_close()
    print(f"disk at rp2     sha256 {expected}")
    print(f"served over SAS sha256 {served}")
    if served != expected or sha256_file(restored.path) != expected:
        raise SystemExit("demo failed: checksums differ")
    print("checksums match")
    fabric.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bcdr-demo-") as tmp:
        root = Path(tmp)
        engine_tour(root)
        core_tour(root)
    print("\nDemo complete.")


if __name__ == "__main__":
    main()
