"""Fixtures and helpers for the snapshot tests: restore points, VMs and small disk images."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.disks import BLOCK_SIZE, Disk, Disks
from core.fabric import Fabric, ResourceId
from core.restorepoints import HookSpec, RestorePoints, VmSource

MiB = 1024 * 1024


@pytest.fixture
def rps(fabric: Fabric, disks: Disks) -> Iterator[RestorePoints]:
    restore_points = RestorePoints(fabric, disks)
    yield restore_points
    restore_points.close()


def image_bytes(size: int, seed: int = 1) -> bytes:
    """A disk image in 64 KiB blocks: random, text and zero blocks mixed."""
    rng = random.Random(seed)
    out = bytearray()
    for b in range(-(-size // BLOCK_SIZE)):
        kind = rng.random()
        if kind < 0.4:
            out += rng.randbytes(BLOCK_SIZE)
        elif kind < 0.7:
            out += (f"line {b} of the guest's log, seed {seed}\n" * 2000).encode()[:BLOCK_SIZE]
        else:
            out += bytes(BLOCK_SIZE)
    return bytes(out[:size])


def import_disk(disks: Disks, fabric: Fabric, tmp: Path, name: str, data: bytes, **kw) -> Disk:
    src = tmp / f"{name}.raw"
    src.write_bytes(data)
    return disks.import_image(
        subscription=fabric.default_subscription,
        resource_group="rg",
        region=kw.pop("region", "eastus"),
        name=name,
        source=src,
        **kw,
    )


def collection(
    rps: RestorePoints, fabric: Fabric, name: str = "daily", region: str = "eastus"
) -> str:
    cid = str(
        ResourceId(
            fabric.default_subscription, "rg", "Microsoft.Compute", "restorePointCollections", name
        )
    )
    rps.collections.create(cid, region=region, source_vm_id=vm_id(fabric))
    return cid


def vm_id(fabric: Fabric) -> str:
    return str(
        ResourceId(fabric.default_subscription, "rg", "Microsoft.Compute", "virtualMachines", "web")
    )


def vm(
    fabric: Fabric,
    os_disk: Disk,
    data: list[Disk] = (),
    *,
    power_state: str = "running",
    hooks: HookSpec | None = None,
) -> VmSource:
    return VmSource(
        vm_id=vm_id(fabric),
        name="web",
        region="eastus",
        subscription=fabric.default_subscription,
        size="Standard_D2s_v5",
        os_type="linux",
        power_state=power_state,
        os_disk_id=os_disk.id,
        data_disk_ids=[d.id for d in data],
        hooks=hooks,
        network={"nics": [{"name": "web-nic", "private_ip": "10.0.0.4"}]},
    )


def restored_bytes(
    rps: RestorePoints, fabric: Fabric, drp_id: str, name: str, region="eastus"
) -> bytes:
    disk = rps.restore_disk(
        drp_id,
        subscription=fabric.default_subscription,
        resource_group="rg",
        region=region,
        name=name,
    )
    return disk.path.read_bytes()


def store_bytes(fabric: Fabric, region: str = "eastus") -> int:
    root = fabric.store_dir(region, fabric.default_subscription) / "objects"
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def flip_byte_in_a_pack(fabric: Fabric, region: str = "eastus") -> Path:
    folder = fabric.store_dir(region, fabric.default_subscription) / "objects" / "packs"
    pack = max(folder.iterdir(), key=lambda p: p.stat().st_size)  # the full restore point's
    with open(pack, "r+b") as f:
        f.seek(10)
        b = f.read(1)
        f.seek(10)
        f.write(bytes([b[0] ^ 0x55]))
        f.flush()
        os.fsync(f.fileno())
    return pack


def two_restore_points(fabric: Fabric, disks: Disks, rps: RestorePoints, tmp: Path) -> tuple:
    """rp1 (full) and rp2 (3 blocks rewritten) of one 4 MiB disk: (disk, data, rp1, rp2)."""
    data = image_bytes(4 * MiB, 11)
    d = import_disk(disks, fabric, tmp, "os", data)
    cid = collection(rps, fabric)
    rp1 = rps.create(cid, "rp1", vm(fabric, d))
    nonzero = [i for i in range(5, 64) if data[i * BLOCK_SIZE : (i + 1) * BLOCK_SIZE].strip(b"\0")]
    for i in nonzero[:3]:
        disks.write(d.id, i * BLOCK_SIZE, os.urandom(BLOCK_SIZE))
    rp2 = rps.create(cid, "rp2", vm(fabric, d))
    return d, data, rp1, rp2
