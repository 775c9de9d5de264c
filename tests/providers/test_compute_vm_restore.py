"""vm_restore through the real CLI (rule RP-9): a VM and its disks from a restore point, in the
same region or the paired one, byte-identical to the disks at the restore point; the new VM
carries the source metadata (RP-2) and can itself be protected; destroy removes it all."""

from __future__ import annotations

from tests.providers.conftest import Workspace
from tests.providers.fixtures_restore import (
    RP1,
    change_of,
    disk_bytes,
    plan_json,
    setup,
    write_disk,
)

RESTORE = """
resource "vm_restore" "back" {
  restore_point_id      = restore_point.rp1.id
  name                  = "web-back"
  target_resource_group = resource_group.GROUP.name
  LOCATION
}
"""


def _restore(group: str = "rg", location: str = "") -> str:
    return RESTORE.replace("GROUP", group).replace("LOCATION", location)


def test_rp9_vm_restored_in_the_paired_region_is_byte_identical(ws: Workspace) -> None:
    os_img, data_img = setup(ws, RP1)
    ws.apply()
    data_id = ws.state("managed_disk.data")["id"]
    write_disk(ws, data_id, 0, 64 * 1024)  # after the restore point: not restored
    ws.write((ws.dir / "main.hcl").read_text() + _restore("dr", 'target_location = "westus"'))
    change = change_of(plan_json(ws), "vm_restore.back")
    assert change["cost"]["blocks_to_restore"] > 0
    after = change["change"]["after"]
    assert after["id"].endswith(
        "/resourceGroups/dr/providers/Microsoft.Compute/virtualMachines/web-back"
    )
    assert after["os_disk_id"].endswith("/disks/web-back-osdisk")
    assert after["data_disk_ids"][0].endswith("/disks/web-back-datadisk-0")
    ws.apply()
    ws.plan_is_clean()
    state = ws.state("vm_restore.back")
    assert state["target_location"] == "westus" and state["key_vault_id"] is None
    assert disk_bytes(ws, state["os_disk_id"]) == os_img
    assert disk_bytes(ws, state["data_disk_ids"][0]) == data_img
    with ws.fabric() as fab:
        row = fab.get_resource(state["id"])
        assert row["region"] == "westus"
        props = row["properties"]
        assert props["source_metadata"]["name"] == "web"  # RP-2: the source's configuration
        assert props["os_type"] == "linux" and props["power_state"] == "running"
        assert fab.get_resource(state["os_disk_id"])["properties"]["create_option"] == "Restore"


def test_rp9_restore_planned_with_its_restore_point_then_protected_then_destroyed(
    ws: Workspace,
) -> None:
    os_img, _ = setup(ws, RP1 + _restore())
    plan = ws.ok("plan", "-no-color")
    assert "vm_restore.back will be created" in plan
    ws.apply()
    state = ws.state("vm_restore.back")
    assert state["target_location"] == "eastus"
    assert disk_bytes(ws, state["os_disk_id"]) == os_img
    protect = """
resource "restore_point_collection" "back" {
  name           = "back"
  resource_group = resource_group.rg.name
  location       = "eastus"
  source_vm_id   = vm_restore.back.id
}

resource "restore_point" "back1" {
  name          = "back1"
  collection_id = restore_point_collection.back.id
}
"""
    ws.write((ws.dir / "main.hcl").read_text() + protect)
    ws.apply()
    assert len(ws.state("restore_point.back1")["disk_restore_points"]) == 2
    ws.write((ws.dir / "main.hcl").read_text().split('resource "vm_restore"')[0])
    ws.apply()
    with ws.fabric() as fab:
        from core.disks import Disks

        assert fab.get_resource(state["id"]) is None
        names = [d.name for d in Disks(fab).list()]
    assert not [n for n in names if n.startswith("web-back")]


def test_rp9_vm_deleted_outside_is_drift_and_apply_restores_it_again(ws: Workspace) -> None:
    setup(ws, RP1 + _restore())
    ws.apply()
    vm = ws.state("vm_restore.back")["id"]
    with ws.fabric() as fab:  # what `bcdr platform delete VM_ID` does
        fab.delete_resource(vm)
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2 and "vm_restore.back" in drift.output
    assert "1 to add" in ws.ok("plan", "-no-color")
    ws.apply()  # the disks the lost VM left behind are made anew from the restore point
    state = ws.state("vm_restore.back")
    with ws.fabric() as fab:
        assert fab.get_resource(state["id"])["properties"]["os_disk_id"] == state["os_disk_id"]
    ws.plan_is_clean()
