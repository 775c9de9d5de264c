"""A working directory with scheduled VM protection, for the ``schedule`` and ``backup`` CLI.

``build`` makes, with the core, what the protection resource types make on apply: a VM with
an OS disk and a data disk holding real bytes (and inventory rows as the compute types
write them), a vault, a policy and the VM protected from a given instant, in the fabric
where the CLI looks (``.bcdr/fabric``); and it records them in the working directory's real
state (``.bcdr/state.db``) at the addresses a spec would give them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from click.testing import Result

from core.disks import Disks
from core.fabric import Fabric, ResourceId
from core.protection import BackupPolicy, Protection, VaultSettings
from core.restorepoints import RestorePoints
from state import InstanceRecord, StateStore
from tests.cli.conftest import run_in
from tests.core.fixtures_snap import image_bytes

KiB = 1024
VM_TYPE = "Microsoft.Compute/virtualMachines"
DISK_TYPE = "Microsoft.Compute/disks"
ADDRESS = "backup_protected_vm.web"
# what a job's protected settings look like in plaintext (rule EXT-4): the keys of the
# extension's protected settings, and the signature of a SAS URI
SECRET_MARKERS = (b"objectStr", b"blobSASUri", b"logsBlobUri", b"statusBlobUri", b"sig=")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class World:
    workdir: Path
    home: Path
    vault_id: str
    policy_id: str
    vm_id: str
    item_id: str
    disks: dict[str, bytes]  # disk id -> the bytes it holds

    def bcdr(self, *args: str, input: str | None = None) -> Result:
        return run_in(self.workdir, *args, "-no-color", input=input)

    def ok(self, *args: str, code: int = 0) -> str:
        result = self.bcdr(*args)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result.output

    def json(self, *args: str, code: int = 0) -> object:
        return json.loads(self.ok(*args, "-json", code=code))

    def tick(self, at: str, code: int = 0) -> dict:
        return self.json("schedule", "tick", "-at", at, code=code)  # type: ignore[return-value]

    def protection(self) -> Protection:
        """The core's service over this fabric (the caller closes ``.fabric``)."""
        fabric = Fabric.open(self.home)
        disks = Disks(fabric)
        return Protection(fabric, disks, RestorePoints(fabric, disks))


def _disk(fabric: Fabric, disks: Disks, tmp: Path, sub: str, name: str, data: bytes) -> str:
    src = tmp / f"{name}.raw"
    src.write_bytes(data)
    disk = disks.import_image(
        subscription=sub, resource_group="rg", region="eastus", name=name, source=src
    )
    fabric.put_resource(disk.id, DISK_TYPE, "eastus", {"name": name, "tags": None})
    return disk.id


def build(
    workdir: Path,
    policy: BackupPolicy,
    *,
    since: datetime,
    settings: VaultSettings | None = None,
    guest_hooks: dict | None = None,
    size: int = 256 * KiB,
) -> World:
    """A VM protected from ``since`` by ``policy`` in a vault with ``settings``."""
    home = workdir / ".bcdr" / "fabric"
    home.mkdir(parents=True, exist_ok=True)
    images = workdir / "images"
    images.mkdir(exist_ok=True)
    with Fabric.open(home) as fabric:
        sub = fabric.default_subscription
        disks = Disks(fabric)
        points = RestorePoints(fabric, disks)
        p = Protection(fabric, disks, points)
        try:
            held = {
                _disk(fabric, disks, images, sub, "web-os", image_bytes(size, seed=1)): b"",
                _disk(fabric, disks, images, sub, "web-data0", image_bytes(size, seed=2)): b"",
            }
            os_id, data_id = list(held)
            held = {os_id: image_bytes(size, seed=1), data_id: image_bytes(size, seed=2)}
            vm_id = str(ResourceId(sub, "rg", "Microsoft.Compute", "virtualMachines", "web"))
            props = {
                "name": "web",
                "subscription": sub,
                "resource_group": "rg",
                "os_disk_id": os_id,
                "data_disk_ids": [data_id],
                "power_state": "running",
                **({"guest_hooks": guest_hooks} if guest_hooks else {}),
            }
            fabric.put_resource(vm_id, VM_TYPE, "eastus", props)
            vault_id = str(ResourceId(sub, "bk", "Microsoft.RecoveryServices", "vaults", "v1"))
            p.create_vault(vault_id, "eastus", settings or VaultSettings("LocallyRedundant"))
            policy_id = f"{vault_id}/backupPolicies/daily"
            p.put_policy(policy_id, vault_id, policy)
            item = p.protect(vault_id, vm_id, policy_id, at=since)
        finally:
            p.close()
            points.close()
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        for address, id in (
            ("virtual_machine.web", vm_id),
            ("recovery_services_vault.v1", vault_id),
            ("backup_policy_vm.daily", policy_id),
            (ADDRESS, item.id),
        ):
            type_, name = address.split(".")
            store.put(InstanceRecord(address, type_, name, None, "platform", id, {"id": id}))
    return World(workdir, home, vault_id, policy_id, vm_id, item.id, held)


def files_under(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file()]


def secrets_in(data: bytes) -> list[bytes]:
    """The markers of protected settings in ``data`` (none, when they stay sealed)."""
    return [m for m in SECRET_MARKERS if m in data]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_\d+$")
