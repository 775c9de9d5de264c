"""managed_disk through the real CLI: Empty, Import, Restore (RP-8), Copy; plan errors; drift."""

from __future__ import annotations

import re
from pathlib import Path

from tests.providers.conftest import MiB, Workspace, allocated, make_image, sha256_file

GROUP = """
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
}
"""

IMPORTED = (
    GROUP
    + """
resource "managed_disk" "os" {
  name           = "os"
  resource_group = resource_group.rg.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "images/os.raw"
  tags           = { role = "os" }
}
"""
)


def _setup(ws: Workspace, spec: str = IMPORTED, mib: int = 4) -> bytes:
    (ws.dir / "images").mkdir(exist_ok=True)
    data = make_image(ws.dir / "images" / "os.raw", mib)
    ws.write(spec)
    ws.ok("init")
    return data


def _disk_path(ws: Workspace, disk_id: str) -> Path:
    from core.disks import Disks

    with ws.fabric() as fab:
        return Disks(fab).get(disk_id).path


def test_import_is_byte_identical_and_sparse_then_no_changes(ws: Workspace) -> None:
    _setup(ws)
    plan = ws.ok("plan", "-no-color")
    assert "/providers/Microsoft.Compute/disks/os" in plan  # id known at plan
    assert str(4 * MiB) in plan  # size_bytes known at plan from the image
    ws.apply()
    ws.plan_is_clean()
    state = ws.state("managed_disk.os")
    assert state["size_bytes"] == 4 * MiB
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", state["modified_at"])
    path = _disk_path(ws, state["id"])
    assert sha256_file(path) == sha256_file(ws.dir / "images" / "os.raw")
    assert allocated(path) < 4 * MiB  # the zero regions were not written
    with ws.fabric() as fab:
        row = fab.get_resource(state["id"])
        assert row["type"] == "Microsoft.Compute/disks"
        assert row["properties"]["tags"] == {"role": "os"}


def test_empty_disk_grows_in_place_and_destroy_removes_file_and_row(ws: Workspace) -> None:
    spec = (
        GROUP
        + """
resource "managed_disk" "data" {
  name           = "data"
  resource_group = resource_group.rg.name
  location       = "eastus"
  size_gb        = 0.0078125
  sku            = "Premium_LRS"
}
"""
    )
    ws.write(spec)
    ws.ok("init")
    ws.apply()
    ws.plan_is_clean()
    state = ws.state("managed_disk.data")
    assert state["size_bytes"] == 8 * MiB
    path = _disk_path(ws, state["id"])
    assert path.stat().st_size == 8 * MiB and allocated(path) < MiB
    ws.write(spec.replace("0.0078125", "0.015625"))
    plan = ws.ok("plan", "-no-color")
    assert "1 to change" in plan and "0 to destroy" in plan
    ws.apply()
    assert path.stat().st_size == 16 * MiB
    ws.plan_is_clean()
    ws.ok("destroy", "-auto-approve", "-no-color")
    assert not path.exists()
    with ws.fabric() as fab:
        assert fab.get_resource(state["id"]) is None
        assert fab.list_resources() == []


def test_missing_image_is_a_plan_error_with_file_line(ws: Workspace) -> None:
    _setup(ws, IMPORTED.replace("images/os.raw", "images/nope.raw"))
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "images/nope.raw does not exist" in result.output
    assert "main.hcl line 11" in result.output
    assert "Traceback" not in result.output


def test_size_gb_smaller_than_the_image_is_a_plan_error(ws: Workspace) -> None:
    _setup(ws, IMPORTED.replace("  tags", "  size_gb = 0.001\n  tags"))
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "smaller than its source" in result.output
    assert "main.hcl line 12" in result.output


def test_source_without_the_option_is_a_plan_error(ws: Workspace) -> None:
    _setup(ws, IMPORTED.replace('"Import"', '"Empty"'))
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert '"source_uri" does not go with create_option "Empty"' in result.output


def _restore_point(ws: Workspace, disk_id: str) -> tuple[str, str]:
    """A restore point of the disk made with the core API: (rp id, disk restore point id)."""
    from core.disks import Disks
    from core.fabric import ResourceId
    from core.restorepoints import RestorePoints, VmSource

    with ws.fabric() as fab:
        sub = fab.default_subscription
        rps = RestorePoints(fab, Disks(fab))
        try:
            vm = str(ResourceId(sub, "prod", "Microsoft.Compute", "virtualMachines", "web"))
            coll = str(ResourceId(sub, "prod", "Microsoft.Compute", "restorePointCollections", "c"))
            rps.collections.create(coll, region="eastus", source_vm_id=vm)
            source = VmSource(
                vm_id=vm, name="web", region="eastus", subscription=sub, size="Standard_D2s_v5",
                os_type="linux", power_state="stopped", os_disk_id=disk_id, data_disk_ids=[],
            )  # fmt: skip
            rp = rps.create(coll, "rp1", source, consistency_mode="CrashConsistent")
            return rp.id, rp.disk_restore_points[0].id
        finally:
            rps.close()


RESTORED = """
resource "managed_disk" "restored" {
  name               = "restored"
  resource_group     = resource_group.rg.name
  location           = "LOCATION"
  create_option      = "Restore"
  source_resource_id = "DRP"
}
"""


def test_rp8_restore_from_disk_restore_point_is_byte_identical(ws: Workspace) -> None:
    """RP-8: a managed disk is created from a disk restore point."""
    image = _setup(ws)
    ws.apply()
    os_id = ws.state("managed_disk.os")["id"]
    _, drp = _restore_point(ws, os_id)
    from core.disks import Disks

    with ws.fabric() as fab:  # the guest writes after the restore point was taken
        Disks(fab).write(os_id, 0, b"later")
    ws.write(IMPORTED + RESTORED.replace("LOCATION", "eastus").replace("DRP", drp))
    ws.ok("apply", "-auto-approve", "-no-color", "-refresh-only")
    plan = ws.ok("plan", "-no-color")
    assert f"{4 * MiB}" in plan  # the restored size is known at plan
    ws.apply()
    ws.plan_is_clean()
    state = ws.state("managed_disk.restored")
    path = _disk_path(ws, state["id"])
    assert sha256_file(path) == sha256_file(ws.dir / "images" / "os.raw")
    assert path.read_bytes() == image
    assert allocated(path) < 4 * MiB


def test_rp8_other_region_needs_a_copied_restore_point(ws: Workspace) -> None:
    """RP-8: a disk in another region comes from the restore point copied there."""
    from core.disks import Disks
    from core.fabric import ResourceId
    from core.restorepoints import RestorePoints, copy_restore_point

    _setup(ws)
    ws.apply()
    rp_id, drp = _restore_point(ws, ws.state("managed_disk.os")["id"])
    spec = IMPORTED + RESTORED.replace("LOCATION", "westus").replace("DRP", drp)
    ws.write(spec)
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "copy the restore point to a collection in westus" in result.output
    assert "main.hcl line 20" in result.output
    with ws.fabric() as fab:
        sub = fab.default_subscription
        rps = RestorePoints(fab, Disks(fab))
        try:
            dr = str(ResourceId(sub, "prod", "Microsoft.Compute", "restorePointCollections", "dr"))
            rps.collections.create(dr, region="westus", source_vm_id="vm")
            copied = copy_restore_point(fab, rps, rp_id, dr, "rp1").restore_point
        finally:
            rps.close()
    ws.write(spec.replace(drp, copied.disk_restore_points[0].id))
    ws.apply()
    ws.plan_is_clean()
    path = _disk_path(ws, ws.state("managed_disk.restored")["id"])
    assert sha256_file(path) == sha256_file(ws.dir / "images" / "os.raw")
    assert "/westus/" in str(path)


def test_rp8_restore_point_of_another_subscription_is_a_plan_error(ws: Workspace) -> None:
    """RP-8: a disk is restored within the restore point's subscription only."""
    _setup(ws)
    ws.apply()
    _, drp = _restore_point(ws, ws.state("managed_disk.os")["id"])
    with ws.fabric() as fab:
        other = fab.add_subscription()
    spec = IMPORTED + RESTORED.replace("LOCATION", "eastus").replace("DRP", drp)
    spec = spec.replace('"Restore"', f'"Restore"\n  subscription = "{other}"')
    spec += f"""
resource "resource_group" "other" {{
  name         = "prod"
  location     = "eastus"
  subscription = "{other}"
}}
"""
    ws.write(spec)
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1, result.output
    assert "belongs to subscription" in result.output
    assert "main.hcl line 21" in result.output
    with ws.fabric() as fab:
        assert fab.get_resource(f"/subscriptions/{other}/resourceGroups/prod") is None


def test_nonexistent_restore_point_is_a_plan_error(ws: Workspace) -> None:
    _setup(ws)
    with ws.fabric() as fab:
        sub = fab.default_subscription
    drp = (
        f"/subscriptions/{sub}/resourceGroups/prod/providers/Microsoft.Compute/"
        "restorePointCollections/c/restorePoints/nope/diskRestorePoints/os"
    )
    ws.write(IMPORTED + RESTORED.replace("LOCATION", "eastus").replace("DRP", drp))
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert f"disk restore point {drp} does not exist" in result.output


def test_copy_of_a_disk(ws: Workspace) -> None:
    _setup(ws)
    spec = (
        IMPORTED
        + """
resource "managed_disk" "copy" {
  name               = "copy"
  resource_group     = resource_group.rg.name
  location           = "eastus"
  create_option      = "Copy"
  source_resource_id = managed_disk.os.id
}
"""
    )
    ws.write(spec)
    ws.apply()
    ws.plan_is_clean()
    path = _disk_path(ws, ws.state("managed_disk.copy")["id"])
    assert sha256_file(path) == sha256_file(ws.dir / "images" / "os.raw")


def test_guest_write_outside_is_drift_that_refresh_only_accepts(ws: Workspace) -> None:
    from core.disks import Disks

    _setup(ws)
    ws.apply()
    state = ws.state("managed_disk.os")
    with ws.fabric() as fab:
        Disks(fab).write(state["id"], MiB, b"written by the guest")
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2, drift.output
    assert "modified_at" in drift.output
    ws.ok("apply", "-refresh-only", "-auto-approve", "-no-color")
    assert ws.state("managed_disk.os")["modified_at"] != state["modified_at"]
    assert ws.run("drift").exit_code == 0
    ws.plan_is_clean()


def test_disk_deleted_outside_is_recreated(ws: Workspace) -> None:
    from core.disks import Disks

    _setup(ws)
    ws.apply()
    disk_id = ws.state("managed_disk.os")["id"]
    with ws.fabric() as fab:
        Disks(fab).delete(disk_id)
        fab.delete_resource(disk_id)
    assert ws.run("drift").exit_code == 2
    plan = ws.ok("plan", "-no-color")
    assert "1 to add" in plan
    ws.apply()
    assert sha256_file(_disk_path(ws, disk_id)) == sha256_file(ws.dir / "images" / "os.raw")
    ws.plan_is_clean()


def test_import_by_id(ws: Workspace) -> None:
    _setup(ws)
    ws.apply()
    disk_id = ws.state("managed_disk.os")["id"]
    ws.ok("state", "rm", "managed_disk.os")
    ws.ok("import", "managed_disk.os", disk_id)
    assert ws.state("managed_disk.os")["id"] == disk_id
    ws.plan_is_clean()


def test_import_of_a_disk_made_outside_bcdr_adopts_its_source(ws: Workspace) -> None:
    from core.disks import Disks

    _setup(ws)
    ws.ok("apply", "-auto-approve", "-no-color", "-target", "resource_group.rg")
    with ws.fabric() as fab:
        disk = Disks(fab).import_image(
            subscription=fab.default_subscription, resource_group="prod", region="eastus",
            name="os", source=ws.dir / "images" / "os.raw",
        )  # fmt: skip
    ws.ok("import", "managed_disk.os", disk.id)
    plan = ws.ok("plan", "-no-color")
    assert "0 to add" in plan and "0 to destroy" in plan
    ws.apply()
    ws.plan_is_clean()


def test_disk_in_an_undeclared_group_is_a_plan_error(ws: Workspace) -> None:
    _setup(ws, IMPORTED.replace("resource_group.rg.name", '"nowhere"'))
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "Resource group 'nowhere' does not exist" in result.output
    assert "main.hcl line 8" in result.output


def test_rp8_restore_into_a_larger_disk(ws: Workspace) -> None:
    """RP-8: a restored disk may be larger than its restore point; the rest reads as zeros."""
    image = _setup(ws)
    ws.apply()
    _, drp = _restore_point(ws, ws.state("managed_disk.os")["id"])
    restored = RESTORED.replace("LOCATION", "eastus").replace("DRP", drp)
    ws.write(IMPORTED + restored.replace('"Restore"', '"Restore"\n  size_gb = 0.0078125'))
    ws.apply()
    ws.plan_is_clean()
    state = ws.state("managed_disk.restored")
    assert state["size_bytes"] == 8 * MiB
    data = _disk_path(ws, state["id"]).read_bytes()
    assert data[: 4 * MiB] == image and data[4 * MiB :] == bytes(4 * MiB)


def test_a_create_that_fails_half_way_is_tainted_and_replaced(ws: Workspace, monkeypatch) -> None:
    """The disk file is made, then recording it fails: the half-made disk is kept in state
    as tainted (not forgotten), the next plan replaces it and that apply succeeds."""
    from core.errors import CoreError
    from core.fabric import Fabric

    _setup(ws)
    real = Fabric.put_resource

    def failing(self, id, type, region, properties):
        if type == "Microsoft.Compute/disks":
            raise CoreError("the platform refused to record the disk (injected)")
        return real(self, id, type, region, properties)

    monkeypatch.setattr(Fabric, "put_resource", failing)
    result = ws.run("apply", "-auto-approve", "-no-color")
    assert result.exit_code == 1 and "injected" in result.output, result.output
    monkeypatch.setattr(Fabric, "put_resource", real)
    from state import StateStore

    with StateStore.open(ws.dir / ".bcdr" / "state.db") as store:
        rec = store.get("managed_disk.os")
        assert rec is not None and rec.status == "tainted"
    plan = ws.ok("plan", "-no-color")
    assert "managed_disk.os is tainted, so must be replaced" in plan
    ws.apply()
    ws.plan_is_clean()
