"""Fixtures for the protection service's tests: a real fabric with a VM whose disks hold
bytes, a vault, a policy and the service over them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.disks import Disk, Disks
from core.fabric import Fabric, ResourceId
from core.protection import (
    Backup,
    BackupPolicy,
    Protection,
    RetentionDaily,
    VaultSettings,
)
from core.restorepoints import RestorePoints
from tests.core.fixtures_snap import image_bytes

KiB = 1024
VM_TYPE = "Microsoft.Compute/virtualMachines"
DAILY = BackupPolicy(backup=Backup("Daily", "02:00"), retention_daily=RetentionDaily(7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Site:
    fabric: Fabric
    disks: Disks
    rps: RestorePoints
    p: Protection
    tmp: Path
    sub: str

    def vault_id(self, name: str = "vault1") -> str:
        return str(ResourceId(self.sub, "bk", "Microsoft.RecoveryServices", "vaults", name))

    def disk(self, name: str, data: bytes) -> Disk:
        src = self.tmp / f"{name}.raw"
        src.write_bytes(data)
        return self.disks.import_image(
            subscription=self.sub, resource_group="rg", region="eastus", name=name, source=src
        )

    def vm(self, name: str = "web", data_disks: int = 1, size: int = 256 * KiB, **props) -> str:
        """A VM row (as the platform provider writes it) with an OS disk and data disks."""
        os_disk = self.disk(f"{name}-os", image_bytes(size, seed=1))
        data = [
            self.disk(f"{name}-data{i}", image_bytes(size, seed=2 + i)) for i in range(data_disks)
        ]
        vm_id = str(ResourceId(self.sub, "rg", "Microsoft.Compute", "virtualMachines", name))
        self.fabric.put_resource(
            vm_id,
            VM_TYPE,
            "eastus",
            {
                "name": name,
                "subscription": self.sub,
                "resource_group": "rg",
                "os_disk_id": os_disk.id,
                "data_disk_ids": [d.id for d in data],
                "power_state": "running",
                **props,
            },
        )
        return vm_id

    def setup(
        self,
        policy: BackupPolicy = DAILY,
        settings: VaultSettings | None = None,
        at: datetime | None = None,
        **vm_props,
    ) -> tuple[str, str, str]:
        """(vault id, policy id, item id) of a VM protected from ``at``."""
        vault = self.vault_id()
        self.p.create_vault(vault, "eastus", settings or VaultSettings("LocallyRedundant"))
        policy_id = f"{vault}/backupPolicies/daily"
        self.p.put_policy(policy_id, vault, policy)
        vm_id = self.vm(**vm_props)
        item = self.p.protect(vault, vm_id, policy_id, at=at or utc(2025, 1, 1))
        return vault, policy_id, item.id


@pytest.fixture
def site(fabric: Fabric, disks: Disks, tmp_path: Path) -> Iterator[Site]:
    rps = RestorePoints(fabric, disks)
    p = Protection(fabric, disks, rps)
    yield Site(fabric, disks, rps, p, tmp_path, fabric.default_subscription)
    p.close()
    rps.close()
