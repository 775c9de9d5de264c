"""Specs and helpers for the protection types' tests: a VM with an OS disk and a data disk
(imported from raw images, as the VM tests make one), a vault, a daily policy and the VM
protected by it.

``spec(vault=..., policy=..., item=...)`` puts the pieces together (each a block's extra
lines); ``setup(ws, text)`` writes the images and the specs and runs ``init``; ``line_of``
finds the line a diagnostic must point at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.providers.conftest import Workspace, make_image

ADDRESS = "backup_protected_vm.web"

VM = """
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
}

resource "managed_disk" "os" {
  name           = "web-os"
  resource_group = resource_group.rg.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "os.raw"
}

resource "managed_disk" "data" {
  name           = "web-data"
  resource_group = resource_group.rg.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "data.raw"
}

resource "virtual_machine" "web" {
  name           = "web"
  resource_group = resource_group.rg.name
  location       = "eastus"
  os_disk_id     = managed_disk.os.id
  data_disk_ids  = [managed_disk.data.id]
}
"""

GROUP = """
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
}
"""

VAULT = """
resource "recovery_services_vault" "v" {
  name              = "vault1"
  resource_group    = resource_group.rg.name
  location          = "eastus"
  storage_mode_type = "LocallyRedundant"
  VAULT_EXTRA
}
"""

POLICY = """
resource "backup_policy_vm" "daily" {
  name     = "daily"
  vault_id = recovery_services_vault.v.id
  POLICY_EXTRA
  backup {
    frequency = "Daily"
    time      = "02:00"
  }
  retention_daily {
    count = 7
  }
}
"""

ITEM = """
resource "backup_protected_vm" "web" {
  vault_id         = recovery_services_vault.v.id
  source_vm_id     = virtual_machine.web.id
  backup_policy_id = backup_policy_vm.daily.id
  ITEM_EXTRA
}
"""


def spec(vault: str = "", policy: str = "", item: str | None = "", vm: bool = True) -> str:
    """The VM (or just its group), the vault, the daily policy and, unless ``item`` is
    None, the VM protected by it; each block's extra lines as given."""
    text = (VM if vm else GROUP) + VAULT.replace("VAULT_EXTRA", vault)
    text += POLICY.replace("POLICY_EXTRA", policy)
    if item is not None:
        text += ITEM.replace("ITEM_EXTRA", item)
    return text


def setup(ws: Workspace, text: str) -> tuple[bytes, bytes]:
    """Images, specs and init; the images' bytes (os, data)."""
    os_img = make_image(ws.dir / "os.raw", 2, seed=1)
    data_img = make_image(ws.dir / "data.raw", 1, seed=2)
    ws.write(text)
    ws.ok("init")
    return os_img, data_img


def line_of(path: Path, text: str, nth: int = 0) -> int:
    """The number of the ``nth`` line (from 0) of ``path`` that holds ``text``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [i for i, t in enumerate(lines, 1) if text in t][nth]


def as_json(ws: Workspace, *args: str, code: int = 0) -> Any:
    result = ws.run(*args, "-json", "-no-color")
    assert result.exit_code == code, result.output
    return json.loads(result.output)


def disk_bytes(ws: Workspace, disk_id: str) -> bytes:
    from core.disks import Disks

    with ws.fabric() as fab:
        disks = Disks(fab)
        return disks.read(disk_id, 0, disks.get(disk_id).size_bytes)


def refused(ws: Workspace, *args: str) -> str:
    """The output of a plan (or other command) that must fail with diagnostics only."""
    result = ws.run(*args, "-no-color")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output
