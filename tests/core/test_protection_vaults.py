"""Vaults, policies and protected items of the protection service: the VLT rules (pure and
enforced), policy storage through POL rules, item ids and states."""

from __future__ import annotations

import pytest

from core.errors import AlreadyExists, CoreError, NotFound
from core.protection import (
    Backup,
    BackupPolicy,
    RetentionDaily,
    VaultSettings,
    item_problems,
    protected_item_id,
    vault_problems,
)
from tests.core import fixtures_protection
from tests.core.fixtures_protection import DAILY, Site, utc

site = fixtures_protection.site  # the fixture

GEO = VaultSettings("GeoRedundant")


def rules(problems) -> list[str]:
    return [p.rule for p in problems]


def test_vault_rules_each_with_a_fix() -> None:
    assert vault_problems(GEO, None) == []
    assert rules(vault_problems(VaultSettings("Zonal"), None)) == ["VLT-1"]
    crr_local = VaultSettings("LocallyRedundant", cross_region_restore=True)
    assert rules(vault_problems(crr_local, None)) == ["VLT-2"]
    crr = VaultSettings("GeoRedundant", cross_region_restore=True)
    assert rules(vault_problems(GEO, crr)) == ["VLT-3"]  # cannot be turned off
    assert rules(vault_problems(VaultSettings(immutability="Sealed"), None)) == ["VLT-4"]
    locked = VaultSettings(immutability="Locked")
    assert rules(vault_problems(VaultSettings(immutability="Unlocked"), locked)) == ["VLT-5"]
    assert vault_problems(locked, VaultSettings(immutability="Unlocked")) == []
    local = VaultSettings("LocallyRedundant")
    assert rules(vault_problems(local, GEO, holds_points=True)) == ["VLT-6"]
    assert vault_problems(local, GEO, holds_points=False) == []
    assert rules(vault_problems(VaultSettings(notify_command="  "), None)) == ["VLT-7"]
    for problem in vault_problems(VaultSettings("Zonal", True, immutability="x"), locked):
        assert problem.fix and problem.about and not problem.cited


def test_item_rules() -> None:
    assert item_problems("Protected", GEO, (1,), ()) == []
    assert rules(item_problems("Paused", GEO, (), ())) == ["VLT-8"]
    assert rules(item_problems("BackupsSuspended", GEO, (), ())) == ["VLT-9"]
    immutable = VaultSettings(immutability="Unlocked")
    assert item_problems("BackupsSuspended", immutable, (), ()) == []
    assert rules(item_problems("Protected", GEO, (0,), (1,))) == ["VLT-10"]
    assert rules(item_problems("Protected", GEO, (0, 0), ())) == ["VLT-11"]
    assert rules(item_problems("Protected", GEO, (), (64,))) == ["VLT-11"]


def test_vault_lifecycle_enforces_the_rules(site: Site) -> None:
    vid = site.vault_id()
    vault = site.p.create_vault(vid, "East US", VaultSettings("GeoRedundant", True))
    assert (vault.name, vault.region, vault.resource_group) == ("vault1", "eastus", "bk")
    assert site.p.get_vault(vid.upper()).id == vid  # ids are case-insensitive
    with pytest.raises(AlreadyExists):
        site.p.create_vault(vid, "eastus", GEO)
    with pytest.raises(CoreError, match="cross-region restore cannot be turned off"):
        site.p.update_vault(vid, GEO)  # VLT-3
    site.p.update_vault(vid, VaultSettings("GeoRedundant", True, immutability="Locked"))
    with pytest.raises(CoreError, match="Locked, which cannot be undone"):  # VLT-5
        site.p.update_vault(vid, VaultSettings("GeoRedundant", True, immutability="Unlocked"))
    with pytest.raises(CoreError, match="needs geo-redundant"):  # VLT-2
        site.p.create_vault(site.vault_id("v2"), "eastus", VaultSettings("LocallyRedundant", True))
    with pytest.raises(CoreError, match="is not a vault id"):
        site.p.create_vault(vid + "/x/y", "eastus", GEO)
    assert [v.id for v in site.p.list_vaults()] == [vid]
    site.p.delete_vault(vid)
    with pytest.raises(NotFound):
        site.p.get_vault(vid)


def test_storage_mode_is_fixed_once_the_vault_holds_points(site: Site) -> None:
    vault, _policy, item = site.setup(settings=GEO)
    site.p.update_vault(vault, VaultSettings("LocallyRedundant"))  # no points yet: allowed
    site.p.update_vault(vault, GEO)
    site.p.backup_now(item, at=utc(2025, 1, 1, 12))
    with pytest.raises(CoreError, match="the vault holds recovery points"):  # VLT-6
        site.p.update_vault(vault, VaultSettings("LocallyRedundant"))


def test_policies_pass_the_policy_rules_and_stay_while_used(site: Site) -> None:
    vault, policy_id, item = site.setup()
    assert site.p.get_policy(policy_id) == DAILY
    hourly_v1 = BackupPolicy(
        backup=Backup("Hourly", "08:00", hour_interval=4, hour_duration=12),
        retention_daily=RetentionDaily(7),
    )
    with pytest.raises(CoreError, match="backup policy"):
        site.p.put_policy(f"{vault}/backupPolicies/h", vault, hourly_v1)  # hourly needs V2
    with pytest.raises(CoreError, match="is not in vault"):
        site.p.put_policy(f"{site.vault_id('other')}/backupPolicies/x", vault, DAILY)
    with pytest.raises(CoreError, match="used by 1 protected item"):
        site.p.delete_policy(policy_id)
    with pytest.raises(CoreError, match="still protects 1 VM"):
        site.p.delete_vault(vault)
    site.p.unprotect(item)
    site.p.delete_policy(policy_id)
    with pytest.raises(NotFound):
        site.p.get_policy(policy_id)


def test_protected_items_ids_states_and_luns(site: Site) -> None:
    vault, policy_id, item_id = site.setup()
    item = site.p.get_item(item_id)
    vm_id = item.vm_id
    assert item_id == protected_item_id(vault, vm_id)
    assert item_id.endswith(
        "/backupFabrics/Azure/protectionContainers/iaasvmcontainer;iaasvmcontainerv2;rg;web"
        "/protectedItems/vm;iaasvmcontainerv2;rg;web"
    )
    assert item.collection_id.endswith(
        "/resourceGroups/bk/providers/Microsoft.Compute/restorePointCollections/"
        "bcdr-vault-vault1-web"
    )
    assert (item.state, item.last_backup_at) == ("Protected", None)
    with pytest.raises(AlreadyExists):
        site.p.protect(vault, vm_id, policy_id)
    with pytest.raises(CoreError, match="immutable vault"):  # VLT-9
        site.p.update_item(
            item_id,
            policy_id=policy_id,
            exclude_disk_luns=(),
            include_disk_luns=(),
            state="BackupsSuspended",
        )
    with pytest.raises(CoreError, match="LUN"):  # one data disk: LUN 0 only
        site.p.update_item(
            item_id,
            policy_id=policy_id,
            exclude_disk_luns=(3,),
            include_disk_luns=(),
            state="Protected",
        )
    changed = site.p.update_item(
        item_id,
        policy_id=policy_id,
        exclude_disk_luns=(0,),
        include_disk_luns=(),
        state="ProtectionStopped",
    )
    assert (changed.exclude_disk_luns, changed.state) == ((0,), "ProtectionStopped")
    assert [i.id for i in site.p.list_items(vault)] == [item_id]
    with pytest.raises(NotFound, match="VM"):
        site.p.protect(vault, vm_id.replace("/web", "/gone"), policy_id)
