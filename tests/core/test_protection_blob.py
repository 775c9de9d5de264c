"""Protection with ``block_store = "blob"`` on a real Azurite: the vault's store (the
vault-standard tier) and its job container are on the endpoint, a tiered point restores
byte-identical from there, and the sealed settings are in no local file (EXT-4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from azblob import Container, Credential
from core.blocks.remote import CONTAINER
from core.disks import Disks
from core.fabric import Fabric
from core.fabric.placement import Placement
from core.protection import Backup, BackupPolicy, Protection, RetentionDaily
from core.restorepoints import RestorePoints
from tests.azurite import ACCOUNT, KEY, Azurite
from tests.core.fixtures_protection import Site, utc


def test_a_vault_on_blob_tiers_and_restores(
    tmp_path: Path, azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in azurite.env.items():
        monkeypatch.setenv(key, value)
    fabric = Fabric.open(tmp_path / "fabric", Placement(azurite.endpoint, "blob"))
    disks = Disks(fabric)
    rps = RestorePoints(fabric, disks)
    site = Site(
        fabric, disks, rps, Protection(fabric, disks, rps), tmp_path, fabric.default_subscription
    )
    try:
        policy = BackupPolicy(
            backup=Backup("Daily", "02:00"),
            retention_daily=RetentionDaily(7),
            instant_restore_retention_days=1,
        )
        _vault, _policy, item_id = site.setup(policy=policy, at=utc(2025, 1, 1))
        vm_id = site.p.get_item(item_id).vm_id
        os_disk = fabric.get_resource(vm_id)["properties"]["os_disk_id"]
        original = disks.get(os_disk).path.read_bytes()
        (job,) = site.p.tick(utc(2025, 1, 1, 2)).jobs
        assert job.status == "Succeeded"
        assert site.p.tick(utc(2025, 1, 2, 2)).tiered == (job.recovery_point_id,)
        names = [
            i.name
            for i in Container(azurite.endpoint, CONTAINER, Credential(ACCOUNT, KEY)).list(
                f"{fabric.tenant_id}/"
            )
        ]
        vault_prefix = f"{fabric.tenant_id}/regions/eastus/{site.sub}/vaults/bk/vault1/store/"
        assert any(n.startswith(vault_prefix) and "/packs/" in n for n in names)
        assert not list((tmp_path / "fabric").rglob("packs/*"))  # no pack is local
        rp = rps.get(job.recovery_point_id)
        drp = next(d for d in rp.disk_restore_points if d.disk_id == os_disk)
        restored = rps.restore_disk(
            drp.id, subscription=site.sub, resource_group="rg", region="eastus", name="back"
        )
        assert restored.path.read_bytes() == original
        assert site.p.job_status(job.task_id)["status"] == "Succeeded"  # on Azurite
        assert not list((tmp_path / "fabric").rglob("*.status.json"))
    finally:
        site.p.close()
        rps.close()
        fabric.close()
