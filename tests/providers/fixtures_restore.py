"""Specs and helpers for the restore point tests: a VM with an OS disk and a data disk.

``BASE`` declares a resource group, two imported disks (``os.raw``, 2 MiB; ``data.raw``,
1 MiB), a Linux VM and a collection in ``COLL_REGION``; ``setup(ws, extra)`` writes the images
and the specs (``BASE`` plus ``extra``) and runs ``init``. ``write_disk`` is a guest write
through the core, ``drp_bytes`` reads a disk restore point back through the core.
"""

from __future__ import annotations

import random
from typing import Any

from tests.providers.conftest import MiB, Workspace, make_image

BASE = """
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
}

resource "resource_group" "dr" {
  name     = "dr"
  location = "westus"
}

resource "managed_disk" "os" {
  name           = "web-os"
  resource_group = resource_group.rg.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "os.raw"
  OS_EXTRA
}

resource "managed_disk" "data" {
  name           = "web-data"
  resource_group = resource_group.rg.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "data.raw"
  DATA_EXTRA
}

resource "virtual_machine" "web" {
  name              = "web"
  resource_group    = resource_group.rg.name
  location          = "eastus"
  os_disk_id        = managed_disk.os.id
  data_disk_ids     = [managed_disk.data.id]
  ephemeral_os_disk = EPHEMERAL
}

resource "restore_point_collection" "daily" {
  name           = "daily"
  resource_group = resource_group.rg.name
  location       = "COLL_REGION"
  source_vm_id   = virtual_machine.web.id
}
"""

RP1 = """
resource "restore_point" "rp1" {
  name          = "rp1"
  collection_id = restore_point_collection.daily.id
}
"""


def spec(
    extra: str = "",
    coll_region: str = "eastus",
    os_extra: str = "",
    data_extra: str = "",
    ephemeral: str = "false",
) -> str:
    text = (
        BASE.replace("COLL_REGION", coll_region)
        .replace("OS_EXTRA", os_extra)
        .replace("DATA_EXTRA", data_extra)
        .replace("EPHEMERAL", ephemeral)
    )
    return text + extra


def setup(ws: Workspace, extra: str = "", **kw: Any) -> tuple[bytes, bytes]:
    """Images, specs and init; returns the images' bytes (os, data)."""
    os_img = make_image(ws.dir / "os.raw", 2, seed=1)
    data_img = make_image(ws.dir / "data.raw", 1, seed=2)
    ws.write(spec(extra, **kw))
    ws.ok("init")
    return os_img, data_img


def write_disk(ws: Workspace, disk_id: str, offset: int, nbytes: int, seed: int = 9) -> bytes:
    """A guest write of ``nbytes`` random bytes through the core; returns them."""
    from core.disks import Disks

    data = random.Random(seed).randbytes(nbytes)
    with ws.fabric() as fab:
        Disks(fab).write(disk_id, offset, data)
    return data


def drp_bytes(ws: Workspace, drp_id: str) -> bytes:
    from core.disks import Disks
    from core.restorepoints import RestorePoints

    with ws.fabric() as fab:
        rps = RestorePoints(fab, Disks(fab))
        try:
            with rps.open_disk_restore_point(drp_id) as reader:
                return reader.read(0, reader.size_bytes)
        finally:
            rps.close()


def disk_bytes(ws: Workspace, disk_id: str) -> bytes:
    from core.disks import Disks

    with ws.fabric() as fab:
        disks = Disks(fab)
        return disks.read(disk_id, 0, disks.get(disk_id).size_bytes)


def plan_json(ws: Workspace) -> dict[str, Any]:
    """The plan as ``show -json`` prints it (through a saved plan file)."""
    import json

    ws.ok("plan", "-out", "tf.plan", "-no-color")
    return json.loads(ws.ok("show", "-json", "tf.plan"))


def change_of(plan: dict[str, Any], address: str) -> dict[str, Any]:
    for ch in plan.get("resource_changes", []):
        if ch.get("address") == address:
            return ch
    raise AssertionError(f"{address} not in the plan: {[c.get('address') for c in plan]}")


__all__ = ["MiB", "RP1", "setup", "spec", "write_disk", "drp_bytes", "disk_bytes"]
