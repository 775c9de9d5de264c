"""The protection types' refusals through the real CLI: each a plan error (or a validate
error) at the argument's file:line, with the fix, and nothing applied; the core refuses the
same at apply. Each test names the rule it proves."""

from __future__ import annotations

from tests.providers.conftest import Workspace
from tests.providers.fixtures_protection import ADDRESS, line_of, refused, setup, spec

HOURLY_ON_V1 = """
resource "backup_policy_vm" "hourly" {
  name     = "hourly"
  vault_id = recovery_services_vault.v.id
  backup {
    frequency     = "Hourly"
    time          = "08:00"
    hour_interval = 4
    hour_duration = 12
  }
  retention_daily {
    count = 7
  }
}
"""


def _at(out: str, line: int) -> None:
    assert f"on main.hcl line {line}" in out, out


def test_pol_5_an_hourly_policy_on_v1_is_a_plan_error_at_its_backup_block(ws: Workspace) -> None:
    setup(ws, spec(item=None) + HOURLY_ON_V1)
    path = ws.dir / "main.hcl"
    out = refused(ws, "plan")
    _at(out, line_of(path, "backup {", 1))  # the hourly policy's block
    assert out.count("hourly backups need an enhanced policy") == 1  # said once
    assert 'set policy_type = "V2", or back up "Daily"' in out
    assert "backup_policy_vm.hourly" in out
    ws.write(
        spec(item=None) + HOURLY_ON_V1.replace("vault_id = ", 'policy_type = "V2"\n  vault_id = ')
    )
    ws.ok("plan", "-no-color")


def test_pol_rules_are_all_reported_at_once_by_validate(ws: Workspace) -> None:
    # POL-4 (the time), POL-10 (daily retention missing), POL-2 (the zone), POL-9 (instant days)
    bad = spec(
        item=None,
        policy='timezone = "Mars/Olympus"\n  instant_restore_retention_days = 9',
    )
    bad = bad.replace('time      = "02:00"', 'time      = "02:15"').replace(
        "  retention_daily {\n    count = 7\n  }\n", ""
    )
    setup(ws, bad)
    path = ws.dir / "main.hcl"
    out = refused(ws, "validate")
    assert "backup.time = '02:15' is not a backup time" in out
    assert "daily backups need daily retention" in out
    assert "timezone = 'Mars/Olympus' is not a known time zone" in out
    _at(out, line_of(path, "Mars/Olympus"))
    assert "instant_restore_retention_days = 9 is out of range for a V1 policy" in out
    _at(out, line_of(path, "instant_restore_retention_days"))


def test_pol_12_a_retention_count_out_of_range_is_refused(ws: Workspace) -> None:
    setup(ws, spec(item=None).replace("count = 7", "count = 3"))
    out = refused(ws, "plan")
    assert "retention_daily.count = 3 is out of range" in out and "write 7 to 9999" in out
    _at(out, line_of(ws.dir / "main.hcl", "retention_daily {"))


def test_vlt_2_cross_region_restore_needs_geo_redundant_storage(ws: Workspace) -> None:
    setup(ws, spec(vault="cross_region_restore_enabled = true", item=None))
    out = refused(ws, "plan")
    _at(out, line_of(ws.dir / "main.hcl", "cross_region_restore_enabled"))
    assert out.count("cross-region restore needs geo-redundant storage") == 1
    assert 'set storage_mode_type = "GeoRedundant", or cross_region_restore_enabled = false' in out
    assert ws.state("recovery_services_vault.v") is None


def test_vlt_1_and_vlt_4_unknown_storage_mode_and_immutability(ws: Workspace) -> None:
    text = spec(vault='immutability = "Sealed"', item=None).replace('"LocallyRedundant"', '"Zonal"')
    setup(ws, text)
    out = refused(ws, "validate")
    _at(out, line_of(ws.dir / "main.hcl", "Zonal"))
    assert "storage_mode_type 'Zonal' is not a vault storage mode" in out
    _at(out, line_of(ws.dir / "main.hcl", "Sealed"))
    assert "use one of Disabled, Unlocked, Locked" in out


def test_vlt_7_an_empty_notify_command_is_refused(ws: Workspace) -> None:
    setup(ws, spec(vault='notify_command = "  "', item=None))
    out = refused(ws, "validate")
    _at(out, line_of(ws.dir / "main.hcl", "notify_command"))
    assert "notify_command is empty" in out
    assert "give a shell command to run for a failed job, or leave notify_command out" in out


def test_vlt_3_cross_region_restore_cannot_be_turned_off(ws: Workspace) -> None:
    geo = spec(vault="cross_region_restore_enabled = true", item=None).replace(
        '"LocallyRedundant"', '"GeoRedundant"'
    )
    setup(ws, geo)
    ws.apply()
    ws.write(
        geo.replace("cross_region_restore_enabled = true", "cross_region_restore_enabled = false")
    )
    out = refused(ws, "plan")
    _at(out, line_of(ws.dir / "main.hcl", "cross_region_restore_enabled"))
    assert "cross-region restore cannot be turned off once it is on" in out


def test_vlt_5_locked_immutability_cannot_be_turned_off(ws: Workspace) -> None:
    setup(ws, spec(vault='immutability = "Locked"', item=None))
    ws.apply()
    ws.write(spec(vault='immutability = "Disabled"', item=None))
    out = refused(ws, "plan")
    _at(out, line_of(ws.dir / "main.hcl", "immutability"))
    assert "the vault's immutability is Locked, which cannot be undone" in out
    assert 'keep immutability = "Locked"' in out
    assert ws.state("recovery_services_vault.v")["immutability"] == "Locked"
    # written Locked again, nothing changes
    ws.write(spec(vault='immutability = "Locked"', item=None))
    ws.plan_is_clean()


def test_vlt_6_the_storage_mode_is_fixed_once_the_vault_holds_points(ws: Workspace) -> None:
    setup(ws, spec())
    ws.apply()
    ws.write(spec().replace('"LocallyRedundant"', '"GeoRedundant"'))
    assert "will be updated in-place" in ws.ok("plan", "-no-color")  # no points yet
    ws.ok("schedule", "tick", "-at", "2030-01-01T03:00:00Z", "-no-color")
    out = refused(ws, "plan")
    _at(out, line_of(ws.dir / "main.hcl", "storage_mode_type"))
    assert "storage_mode_type cannot change from LocallyRedundant to GeoRedundant" in out


def test_vlt_9_suspending_backups_needs_an_immutable_vault(ws: Workspace) -> None:
    setup(ws, spec(item='protection_state = "BackupsSuspended"'))
    out = refused(ws, "plan")
    _at(out, line_of(ws.dir / "main.hcl", "protection_state"))
    assert out.count("backups can be suspended only in an immutable vault") == 1
    assert ws.state(ADDRESS) is None
    immutable = spec(
        vault='immutability = "Unlocked"', item='protection_state = "BackupsSuspended"'
    )
    ws.write(immutable)
    ws.apply()
    assert ws.state(ADDRESS)["protection_state"] == "BackupsSuspended"
    ws.plan_is_clean()


def test_vlt_8_vlt_10_and_vlt_11_the_items_own_rules_at_validate(ws: Workspace) -> None:
    setup(
        ws,
        spec(
            item='protection_state = "Paused"\n'
            "  exclude_disk_luns = [0, 0]\n"
            "  include_disk_luns = [0]"
        ),
    )
    path = ws.dir / "main.hcl"
    out = refused(ws, "validate")
    _at(out, line_of(path, "protection_state"))
    assert "protection_state 'Paused' is not a protection state" in out
    _at(out, line_of(path, "include_disk_luns"))
    assert "exclude_disk_luns and include_disk_luns are both given" in out
    _at(out, line_of(path, "exclude_disk_luns"))
    assert "exclude_disk_luns: [0] are listed more than once" in out


def test_a_lun_the_vm_lacks_and_a_policy_of_another_vault_are_plan_errors(ws: Workspace) -> None:
    other = """
resource "recovery_services_vault" "w" {
  name           = "vault2"
  resource_group = resource_group.rg.name
  location       = "eastus"
}

resource "backup_policy_vm" "other" {
  name     = "other"
  vault_id = recovery_services_vault.w.id
  backup {
    frequency = "Daily"
    time      = "02:00"
  }
  retention_daily {
    count = 7
  }
}
"""
    text = spec(item="exclude_disk_luns = [3]") + other
    text = text.replace(
        "backup_policy_id = backup_policy_vm.daily.id",
        "backup_policy_id = backup_policy_vm.other.id",
    )
    setup(ws, text)
    path = ws.dir / "main.hcl"
    out = refused(ws, "plan")
    _at(out, line_of(path, "exclude_disk_luns"))
    assert "VM web has 1 data disk (LUNs 0-0); LUN(s) [3] name no disk" in out
    _at(out, line_of(path, "backup_policy_id"))
    assert "The backup policy belongs to another vault" in out


def test_vlt_12_retain_data_on_destroy_false_on_a_locked_vault_is_refused(ws: Workspace) -> None:
    locked = 'immutability = "Locked"'
    setup(ws, spec(vault=locked, item="retain_data_on_destroy = false"))
    out = refused(ws, "plan")
    _at(out, line_of(ws.dir / "main.hcl", "retain_data_on_destroy"))
    assert "Vault vault1 is immutable (Locked): its recovery points cannot be deleted" in out
    assert "Locked immutability cannot be undone: set retain_data_on_destroy = true" in out
    # applied with the default (keep), a destroy keeps the points and is allowed
    ws.write(spec(vault=locked))
    ws.apply()
    ws.ok("schedule", "tick", "-at", "2030-01-01T03:00:00Z", "-no-color")
    item_id = ws.state(ADDRESS)["id"]
    ws.write(spec(vault=locked, item="retain_data_on_destroy = false"))
    assert "retain_data_on_destroy = false would delete" in refused(ws, "plan")
    # the core refuses the same at apply (a delete asked for outside a plan's checks)
    with ws.fabric() as fab:
        import pytest

        from core.disks import Disks
        from core.errors import CoreError
        from core.protection import Protection
        from core.restorepoints import RestorePoints

        disks = Disks(fab)
        rps = RestorePoints(fab, disks)
        try:
            with pytest.raises(CoreError, match=r"vault vault1 is immutable \(Locked\)"):
                Protection(fab, disks, rps).unprotect(item_id, retain_data=False)
        finally:
            rps.close()
    ws.write(spec(vault=locked, item=None))
    assert "keeps its 1 recovery point" in ws.ok("plan", "-no-color")
    ws.apply()
    assert ws.state(ADDRESS) is None


def test_names_the_vault_or_vm_that_does_not_exist(ws: Workspace) -> None:
    vault_id = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/prod/providers/"
        "Microsoft.RecoveryServices/vaults/nope"
    )
    text = spec().replace(
        "vault_id         = recovery_services_vault.v.id", f'vault_id         = "{vault_id}"'
    )
    setup(ws, text)
    out = refused(ws, "plan")
    assert f"Vault {vault_id} does not exist" in out
    _at(out, line_of(ws.dir / "main.hcl", f'"{vault_id}"'))
