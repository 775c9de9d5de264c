"""recovery_services_vault, backup_policy_vm and backup_protected_vm through the real CLI:
apply makes them and a second plan is clean; ``bcdr schedule tick`` backs the VM up,
``bcdr backup list`` and the refreshed ``recovery_points`` name the point and a
``vm_restore`` of ``recovery_points[0].id`` is byte-identical; a new policy is an update in
place; destroy keeps the points (restorable after the VM and the protection are gone) or,
with ``retain_data_on_destroy = false``, soft-deletes them; ``bcdr platform`` knows the
types."""

from __future__ import annotations

import json

from tests.providers.conftest import Workspace
from tests.providers.fixtures_protection import (
    ADDRESS,
    as_json,
    disk_bytes,
    setup,
    spec,
)

RESTORE = """
resource "vm_restore" "back" {
  restore_point_id      = POINT
  name                  = "web-back"
  target_resource_group = resource_group.rg.name
}
"""

HOURLY = """
resource "backup_policy_vm" "hourly" {
  name        = "hourly"
  vault_id    = recovery_services_vault.v.id
  policy_type = "V2"
  timezone    = "Europe/Berlin"
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


def _tick(ws: Workspace, at: str) -> dict:
    return as_json(ws, "schedule", "tick", "-at", at)


def test_apply_protects_the_vm_and_a_tick_backs_it_up_and_restores_the_latest(
    ws: Workspace,
) -> None:
    os_img, data_img = setup(ws, spec())
    ws.apply()
    ws.plan_is_clean()
    vault = ws.state("recovery_services_vault.v")
    policy = ws.state("backup_policy_vm.daily")
    item = ws.state(ADDRESS)
    assert vault["id"].endswith(
        "/resourceGroups/prod/providers/Microsoft.RecoveryServices/vaults/vault1"
    )
    assert (vault["soft_delete_enabled"], vault["immutability"]) == (True, "Disabled")
    assert policy["id"] == f"{vault['id']}/backupPolicies/daily"
    assert item["id"] == (
        f"{vault['id']}/backupFabrics/Azure/protectionContainers/"
        "iaasvmcontainer;iaasvmcontainerv2;prod;web/protectedItems/vm;iaasvmcontainerv2;prod;web"
    )
    assert item["recovery_points"] == [] and item["retain_data_on_destroy"] is True
    with ws.fabric() as fab:
        from core.disks import Disks
        from core.protection import Protection
        from core.restorepoints import RestorePoints

        disks = Disks(fab)
        rps = RestorePoints(fab, disks)
        try:
            core_item = Protection(fab, disks, rps).get_item(item["id"])
            assert (core_item.policy_id, core_item.state) == (policy["id"], "Protected")
        finally:
            rps.close()
    # the schedule backs it up, the CLI lists the point
    report = _tick(ws, "2030-01-01T03:00:00Z")
    (job,) = report["jobs"]
    assert job["status"] == "Succeeded" and job["address"] == ADDRESS
    (point,) = as_json(ws, "backup", "list", ADDRESS)
    assert point["time"] == "2030-01-01T02:00:00Z" and point["id"] == job["recovery_point_id"]
    # a refresh brings it into the computed recovery_points, newest first
    _tick(ws, "2030-01-02T03:00:00Z")
    newest, oldest = as_json(ws, "backup", "list", ADDRESS)
    # new points are what the schedule is for: not drift (recovery_points is observed)
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 0 and "No drift." in drift.output, drift.output
    assert "recovery_points" in ws.ok("plan", "-refresh-only", "-no-color")  # but refreshed
    ws.ok("apply", "-refresh-only", "-auto-approve", "-no-color")
    points = ws.state(ADDRESS)["recovery_points"]
    assert (
        [p["id"] for p in points]
        == [newest["id"], oldest["id"]]
        == [
            newest["id"],
            point["id"],
        ]
    )
    assert points[0] == {
        key: newest[key]
        for key in ("id", "time", "consistency", "tier", "bytes_stored", "expires_at")
    }
    ws.plan_is_clean()
    # the latest recovery point restores declaratively, byte-identical
    restore = RESTORE.replace("POINT", f"{ADDRESS}.recovery_points[0].id")
    ws.write(spec() + restore)
    ws.apply()
    back = ws.state("vm_restore.back")
    assert back["restore_point_id"] == newest["id"]
    assert disk_bytes(ws, back["os_disk_id"]) == os_img
    assert disk_bytes(ws, back["data_disk_ids"][0]) == data_img


def test_a_new_policy_is_an_update_in_place_from_the_next_slot(ws: Workspace) -> None:
    setup(ws, spec() + HOURLY)
    ws.apply()
    item_id = ws.state(ADDRESS)["id"]
    _tick(ws, "2030-01-01T03:00:00Z")
    ws.write(
        spec(item="backup_policy_id = backup_policy_vm.hourly.id").replace(
            "  backup_policy_id = backup_policy_vm.daily.id\n", ""
        )
        + HOURLY
    )
    plan = ws.ok("plan", "-no-color")
    assert f"{ADDRESS} will be updated in-place" in plan and "0 to destroy" in plan
    ws.apply()
    state = ws.state(ADDRESS)
    assert state["id"] == item_id
    assert state["backup_policy_id"] == ws.state("backup_policy_vm.hourly")["id"]
    assert len(state["recovery_points"]) == 1  # the point of the old policy stays
    # the hourly policy's slots: 08:00, 12:00, 16:00 Berlin (07:00, 11:00, 15:00 UTC)
    report = _tick(ws, "2030-01-01T11:30:00Z")
    assert [j["scheduled_start"] for j in report["jobs"]] == ["2030-01-01T11:00:00Z"]
    ws.plan_is_clean()


def test_a_policy_change_is_in_place_and_read_back_as_applied(ws: Workspace) -> None:
    setup(ws, spec())
    ws.apply()
    ws.write(spec(policy='timezone = "W. Europe Standard Time"').replace("count = 7", "count = 30"))
    plan = ws.ok("plan", "-no-color")
    assert "backup_policy_vm.daily will be updated in-place" in plan
    ws.apply()
    ws.plan_is_clean()
    with ws.fabric() as fab:
        from core.protection.policies import Policies

        stored = Policies(fab).get(ws.state("backup_policy_vm.daily")["id"])
    assert stored.timezone == "W. Europe Standard Time" and stored.retention_daily.count == 30


def test_destroy_keeps_the_points_and_one_restores_after_the_vm_is_gone(ws: Workspace) -> None:
    os_img, data_img = setup(ws, spec())
    ws.apply()
    item_id = ws.state(ADDRESS)["id"]
    _tick(ws, "2030-01-01T03:00:00Z")
    (point,) = as_json(ws, "backup", "list", ADDRESS)
    # the VM, its disks and its protection leave the configuration; the vault stays
    ws.write(spec(vm=False, item=None))
    plan = ws.ok("plan", "-no-color")
    assert f"Warning: Destroying {ADDRESS} keeps its 1 recovery point" in plan
    assert "the 1 recovery point is kept (retain_data_on_destroy = true)" in plan
    out = ws.apply()
    assert "4 destroyed" in out
    assert ws.state(ADDRESS) is None and ws.state("virtual_machine.web") is None
    (kept,) = as_json(ws, "backup", "list", item_id)
    assert (kept["id"], kept["kept_by"]) == (point["id"], ["retain_data"])
    ws.write(spec(vm=False, item=None) + RESTORE.replace("POINT", f'"{point["id"]}"'))
    ws.apply()
    back = ws.state("vm_restore.back")
    assert disk_bytes(ws, back["os_disk_id"]) == os_img
    assert disk_bytes(ws, back["data_disk_ids"][0]) == data_img
    # the vault still holds the point: its destroy is said to be refused, and is
    plan = ws.ok("plan", "-destroy", "-no-color")
    assert "Warning: recovery_services_vault.v holds 1 recovery point" in plan


def test_retain_data_on_destroy_false_soft_deletes_the_points(ws: Workspace) -> None:
    setup(ws, spec(item="retain_data_on_destroy = false"))
    ws.apply()
    item_id = ws.state(ADDRESS)["id"]
    _tick(ws, "2030-01-01T03:00:00Z")
    (point,) = as_json(ws, "backup", "list", ADDRESS)
    ws.write(spec(item=None))
    plan = ws.ok("plan", "-no-color")
    assert f"Warning: Destroying {ADDRESS} deletes its 1 recovery point" in plan
    assert "soft-deleted (`bcdr backup undelete` brings one back for 14 days)" in plan
    ws.apply()
    assert as_json(ws, "backup", "list", item_id) == []
    (gone,) = as_json(ws, "backup", "list", item_id, "-deleted")
    assert gone["id"] == point["id"] and gone["deleted_at"] is not None


def test_platform_list_show_and_delete_know_the_types(ws: Workspace) -> None:
    setup(ws, spec())
    ws.apply()
    item_id = ws.state(ADDRESS)["id"]
    listed = {o["type_name"]: o for o in as_json(ws, "platform", "list")}
    assert listed["recovery_services_vault"]["summary"] == "LocallyRedundant, 1 protected VM"
    assert listed["backup_policy_vm"]["summary"] == "1 protected VM"
    assert listed[ADDRESS.split(".")[0]]["summary"] == "Protected, 0 recovery points"
    shown = json.loads(ws.ok("platform", "show", item_id))
    assert shown["protected_item"]["policy_id"] == ws.state("backup_policy_vm.daily")["id"]
    out = ws.ok("platform", "list", "--type", "protected_vm", "-no-color")
    assert item_id in out
    ws.ok("platform", "delete", item_id)
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2 and ADDRESS in drift.output
    plan = ws.ok("plan", "-no-color")
    assert f"{ADDRESS} will be created" in plan
    ws.apply()
    ws.plan_is_clean()


def test_protection_stopped_takes_no_backups_and_a_policy_changed_outside_is_drift(
    ws: Workspace,
) -> None:
    setup(ws, spec(item='protection_state = "ProtectionStopped"'))
    ws.apply()
    assert _tick(ws, "2030-01-01T03:00:00Z")["jobs"] == []
    ws.write(spec())
    assert f"{ADDRESS} will be updated in-place" in ws.ok("plan", "-no-color")
    ws.apply()
    (job,) = _tick(ws, "2030-01-02T03:00:00Z")["jobs"]
    assert job["status"] == "Succeeded"
    # someone changes the policy on the platform: drift, and apply puts it back
    policy_id = ws.state("backup_policy_vm.daily")["id"]
    with ws.fabric() as fab:
        from core.protection import Backup, BackupPolicy, RetentionDaily
        from core.protection.policies import Policies

        late = BackupPolicy(backup=Backup("Daily", "05:00"), retention_daily=RetentionDaily(9))
        Policies(fab).put(policy_id, policy_id.rsplit("/backupPolicies/", 1)[0], late)
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2 and '"05:00"' in drift.output, drift.output
    ws.apply()
    with ws.fabric() as fab:
        from core.protection.policies import Policies

        assert Policies(fab).get(policy_id).backup.time == "02:00"
    ws.plan_is_clean()
