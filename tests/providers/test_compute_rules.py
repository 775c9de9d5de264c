"""The restore point rules bcdr checks at plan time, one test per rule, each naming its id.

Each refused spec is a plan error with the file:line, the rule id and the fix, and nothing is
applied (the state file keeps its bytes)."""

from __future__ import annotations

from pathlib import Path

from tests.providers.conftest import Workspace
from tests.providers.fixtures_restore import RP1, disk_bytes, drp_bytes, setup


def _world(ws: Workspace) -> tuple:
    """What an apply would change: the state (serial, instances) and the platform's objects.

    (The state file's bytes move on every plan: the plan takes and releases the state lock.)
    """
    from state import StateStore

    path = ws.dir / ".bcdr" / "state.db"
    state: tuple = ()
    if path.exists():
        with StateStore.open(path) as store:
            state = (store.serial, [(r.address, r.attributes) for r in store.instances()])
    with ws.fabric() as fab:
        from core.disks import Disks

        ids = [r["id"] for r in fab.list_resources()]
        disks = [d.id for d in Disks(fab).list()]
    return state, ids, disks


def _refused(ws: Workspace, *needles: str) -> str:
    """Plan and apply both fail naming ``needles``; the state file is unchanged."""
    before = _world(ws)
    plan = ws.run("plan", "-no-color")
    assert plan.exit_code == 1, plan.output
    assert "Traceback" not in plan.output
    for needle in needles:
        assert needle in plan.output, plan.output
    assert "on main.hcl line" in plan.output, plan.output
    apply = ws.run("apply", "-auto-approve", "-no-color")
    assert apply.exit_code == 1, apply.output
    assert _world(ws) == before
    return plan.output


def _append(ws: Workspace, text: str) -> None:
    path: Path = ws.dir / "main.hcl"
    path.write_text(path.read_text() + text)


def test_rp1_replacing_a_collection_says_how_many_restore_points_it_destroys(
    ws: Workspace,
) -> None:
    setup(ws, RP1 + RP1.replace('"rp1"', '"rp2"'))
    ws.apply()
    path = ws.dir / "main.hcl"
    text = path.read_text()
    path.write_text(
        text.replace(
            '  location       = "eastus"\n  source_vm_id',
            '  location       = "westus"\n  source_vm_id',
        )
    )
    out = ws.ok("plan", "-no-color")
    assert "replacing restore_point_collection.daily destroys its 2 restore points" in out
    # the restore points are replaced with their collection (its id is known after apply)
    assert "restore_point.rp1 must be replaced" in out and "3 to add" in out
    ws.apply()  # the collection and its restore points are made anew in westus (RP-11)
    with ws.fabric() as fab:
        from core.disks import Disks
        from core.restorepoints import RestorePoints

        rps = RestorePoints(fab, Disks(fab))
        try:
            assert sorted((rp.name, rp.region) for rp in rps.list()) == [
                ("rp1", "westus"),
                ("rp2", "westus"),
            ]
        finally:
            rps.close()
    ws.plan_is_clean()
    text = path.read_text()
    # tags alone update in place
    path.write_text(
        text.replace("  source_vm_id", '  tags           = { tier = "gold" }\n  source_vm_id')
    )
    out = ws.ok("plan", "-no-color")
    assert "1 to change" in out and "0 to destroy" in out and "destroys" not in out


def test_rp1_collection_of_a_vm_that_does_not_exist_is_refused(ws: Workspace) -> None:
    setup(ws)
    path = ws.dir / "main.hcl"
    path.write_text(
        path.read_text().replace(
            "virtual_machine.web.id",
            '"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/prod/providers/'
            'Microsoft.Compute/virtualMachines/ghost"',
        )
    )
    _refused(ws, "virtualMachines/ghost does not exist", "declare the VM")


def test_rp5_excluding_a_disk_that_is_not_the_vms_is_refused(ws: Workspace) -> None:
    setup(ws)
    _append(
        ws,
        """
resource "restore_point" "rp1" {
  name             = "rp1"
  collection_id    = restore_point_collection.daily.id
  exclude_disk_ids = ["/subscriptions/x/resourceGroups/prod/providers/Microsoft.Compute/disks/nope"]
}
""",
    )
    _refused(ws, "RP-5", "not a disk of the VM", "exclude_disk_ids")


def test_rp5_the_os_disk_cannot_be_excluded(ws: Workspace) -> None:
    setup(ws)
    _append(
        ws,
        """
resource "restore_point" "rp1" {
  name             = "rp1"
  collection_id    = restore_point_collection.daily.id
  exclude_disk_ids = [managed_disk.os.id]
}
""",
    )
    _refused(ws, "RP-5", "OS disk", "cannot be excluded")


def test_rp5_an_excluded_disk_gets_no_disk_restore_point(ws: Workspace) -> None:
    setup(ws)
    _append(
        ws,
        """
resource "restore_point" "rp1" {
  name             = "rp1"
  collection_id    = restore_point_collection.daily.id
  exclude_disk_ids = [managed_disk.data.id]
}
""",
    )
    ws.apply()
    drps = ws.state("restore_point.rp1")["disk_restore_points"]
    assert [d["disk_id"] for d in drps] == [ws.state("managed_disk.os")["id"]]


def test_rp6_ultra_disk_refused_unless_excluded(ws: Workspace) -> None:
    setup(ws, RP1, data_extra='sku = "UltraSSD_LRS"')
    out = _refused(ws, "RP-6: disk web-data is an ultra disk", "add it to exclude_disk_ids")
    assert "restore points do not support ultra disks" in out
    text = (ws.dir / "main.hcl").read_text()
    (ws.dir / "main.hcl").write_text(
        text.replace(
            "  collection_id = restore_point_collection.daily.id\n",
            "  collection_id = restore_point_collection.daily.id\n"
            "  exclude_disk_ids = [managed_disk.data.id]\n",
        )
    )
    ws.apply()
    assert len(ws.state("restore_point.rp1")["disk_restore_points"]) == 1


def test_rp6_shared_disk_refused(ws: Workspace) -> None:
    setup(ws, RP1, data_extra="shared = true")
    _refused(ws, "RP-6", "a shared disk", "add it to exclude_disk_ids")


def test_rp6_ephemeral_os_disk_refused_and_cannot_be_excluded(ws: Workspace) -> None:
    setup(ws, RP1, ephemeral="true")
    _refused(ws, "RP-6", "an ephemeral OS disk", "OS disk cannot be excluded")


def test_rp6_checked_against_existing_disks_too(ws: Workspace) -> None:
    """RP-6 with the VM and disks already applied: the plan reads them from the platform."""
    setup(ws, data_extra='sku = "UltraSSD_LRS"')
    ws.apply()
    _append(ws, RP1)
    _refused(ws, "RP-6", "an ultra disk")


def test_rp7_a_restore_point_is_replaced_not_updated(ws: Workspace) -> None:
    setup(ws, RP1)
    ws.apply()
    path = ws.dir / "main.hcl"
    path.write_text(
        path.read_text().replace(
            "  collection_id = restore_point_collection.daily.id\n",
            "  collection_id = restore_point_collection.daily.id\n"
            '  consistency_mode = "CrashConsistent"\n',
        )
    )
    out = ws.ok("plan", "-no-color")
    assert (
        "restore_point.rp1 must be replaced" in out and "1 to add" in out and "1 to destroy" in out
    )
    assert "replacing restore_point.rp1 destroys restore point" in out
    ws.apply()
    assert ws.state("restore_point.rp1")["consistency_achieved"] == "CrashConsistent"
    ws.plan_is_clean()


def test_rp9_restore_outside_the_region_pair_is_refused(ws: Workspace) -> None:
    setup(ws, RP1)
    _append(
        ws,
        """
resource "resource_group" "eu" {
  name     = "eu"
  location = "northeurope"
}

resource "vm_restore" "back" {
  restore_point_id      = restore_point.rp1.id
  name                  = "web-back"
  target_resource_group = resource_group.eu.name
  target_location       = "northeurope"
}
""",
    )
    _refused(ws, "RP-9", "neither eastus nor its paired region", "copy the restore point")


def test_rp9_restore_of_a_restore_point_that_does_not_exist_is_refused(ws: Workspace) -> None:
    setup(ws)
    _append(
        ws,
        """
resource "vm_restore" "back" {
  restore_point_id      = "${restore_point_collection.daily.id}/restorePoints/nope"
  name                  = "web-back"
  target_resource_group = resource_group.rg.name
}
""",
    )
    _refused(ws, "restorePoints/nope does not exist")


def test_rp10_copy_into_a_collection_of_the_same_region_is_refused(ws: Workspace) -> None:
    setup(ws, RP1)
    _append(
        ws,
        """
resource "restore_point_collection" "again" {
  name           = "again"
  resource_group = resource_group.rg.name
  location       = "eastus"
  source_vm_id   = virtual_machine.web.id
}

resource "restore_point" "copy" {
  name                    = "rp1"
  collection_id           = restore_point_collection.again.id
  source_restore_point_id = restore_point.rp1.id
}
""",
    )
    _refused(ws, "RP-10", "is in eastus already", "another region")


def test_rp11_restore_point_created_directly_in_the_target_region(ws: Workspace) -> None:
    _, data_img = setup(ws, RP1, coll_region="westus")
    out = ws.ok("plan", "-no-color")
    assert "RP-11: created directly in westus from VM web in eastus" in out
    ws.apply()
    ws.plan_is_clean()
    rp = ws.state("restore_point.rp1")
    with ws.fabric() as fab:
        from core.disks import Disks
        from core.restorepoints import RestorePoints

        rps = RestorePoints(fab, Disks(fab))
        assert rps.get(rp["id"]).region == "westus"
        rps.close()
    drp = [d for d in rp["disk_restore_points"] if d["id"].endswith("/web-data")][0]
    assert drp_bytes(ws, drp["id"]) == data_img
    _append(
        ws,
        """
resource "managed_disk" "dr_data" {
  name               = "web-data-dr"
  resource_group     = resource_group.dr.name
  location           = "westus"
  create_option      = "Restore"
  source_resource_id = restore_point.rp1.disk_restore_points[1].id
}
""",
    )
    ws.apply()
    assert disk_bytes(ws, ws.state("managed_disk.dr_data")["id"]) == data_img


def test_rp12_duration_over_the_maximum_is_refused(ws: Workspace) -> None:
    setup(ws, RP1)
    _append(
        ws,
        """
resource "disk_access" "read" {
  disk_restore_point_id = restore_point.rp1.disk_restore_points[0].id
  duration_seconds      = 90000
}
""",
    )
    _refused(ws, "duration_seconds = 90000 is not allowed", "86400")


def test_rp12_grant_for_a_disk_restore_point_that_does_not_exist_is_refused(
    ws: Workspace,
) -> None:
    setup(ws, RP1)
    ws.apply()
    rp_id = ws.state("restore_point.rp1")["id"]
    _append(
        ws,
        f"""
resource "disk_access" "read" {{
  disk_restore_point_id = "{rp_id}/diskRestorePoints/nope"
}}
""",
    )
    _refused(ws, "diskRestorePoints/nope does not exist")
