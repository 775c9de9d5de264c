"""No silent data loss in a plan, through the real CLI: a disk never shrinks (Azure refuses it
and a replace would wipe it), a replace says what it destroys, sizes Azure would refuse are
plan errors, and ``-refresh-only`` never goes with a destroy."""

from __future__ import annotations

from tests.providers.conftest import MiB, Workspace
from tests.providers.fixtures_restore import RP1, disk_bytes, setup, write_disk

DISK = """
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
}

resource "managed_disk" "data" {
  name           = "data"
  resource_group = resource_group.rg.name
  location       = "eastus"
  size_gb        = SIZE
  sku            = "SKU"
}
"""


def _disk(size: str = "0.015625", sku: str = "Standard_LRS") -> str:
    return DISK.replace("SIZE", size).replace("SKU", sku)


def _with_data(ws: Workspace) -> tuple[str, bytes]:
    """A 16 MiB disk applied, with 1 MiB written by the guest: (its id, what was written)."""
    ws.write(_disk())
    ws.ok("init")
    ws.apply()
    disk_id = ws.state("managed_disk.data")["id"]
    return disk_id, write_disk(ws, disk_id, 4 * MiB, MiB)


def test_shrinking_a_disk_is_a_plan_error_and_apply_keeps_its_data(ws: Workspace) -> None:
    disk_id, written = _with_data(ws)
    ws.write(_disk("0.0078125"))
    for command in (("plan",), ("apply", "-auto-approve")):
        result = ws.run(*command, "-no-color")
        assert result.exit_code == 1, result.output
        out = " ".join(result.output.split())
        assert "Error: A managed disk cannot shrink" in out
        assert "on main.hcl line 10" in out  # the size_gb line
        assert "8.0 MiB) is smaller than the disk's 16.0 MiB" in out
        assert "Azure refuses to shrink a disk" in out
        assert "declare a new managed_disk of that size, copy the data into it" in out
        assert "forces replacement" not in out
    assert ws.state("managed_disk.data")["id"] == disk_id
    assert disk_bytes(ws, disk_id)[4 * MiB : 5 * MiB] == written  # nothing was replaced


def test_growing_a_disk_stays_in_place_with_its_data(ws: Workspace) -> None:
    disk_id, written = _with_data(ws)
    ws.write(_disk("0.03125"))
    plan = ws.ok("plan", "-no-color")
    assert "the disk grows to 32.0 MiB in place" in plan
    assert "0 to add, 1 to change, 0 to destroy" in plan
    ws.apply()
    data = disk_bytes(ws, disk_id)
    assert len(data) == 32 * MiB and data[4 * MiB : 5 * MiB] == written


def test_replacing_a_disk_says_how_many_bytes_of_data_it_destroys(ws: Workspace) -> None:
    _with_data(ws)
    ws.write(_disk(sku="Premium_LRS"))
    plan = " ".join(ws.ok("plan", "-no-color").split())
    assert "forces replacement" in plan
    assert (
        "replacing managed_disk.data destroys the 1.0 MiB of data disk data holds "
        "(the new disk starts empty)" in plan
    )
    # the same for a replace asked for on the command line
    ws.write(_disk())
    plan = " ".join(ws.ok("plan", "-no-color", "-replace", "managed_disk.data").split())
    assert "replacing managed_disk.data destroys the 1.0 MiB of data disk data holds" in plan


def test_vm_restore_can_be_replaced_and_the_plan_says_what_it_destroys(ws: Workspace) -> None:
    restore = """
resource "vm_restore" "back" {
  restore_point_id      = restore_point.rp1.id
  name                  = "web-back"
  target_resource_group = resource_group.rg.name
  tags                  = TAGS
}
"""
    os_img, _ = setup(ws, RP1 + restore.replace("TAGS", "{}"))
    ws.apply()
    old = ws.state("vm_restore.back")
    write_disk(ws, old["os_disk_id"], 0, MiB)  # written after the restore
    result = ws.run("plan", "-no-color", "-replace", "vm_restore.back")
    assert result.exit_code == 0, result.output  # was: "VM ... exists already"
    plan = " ".join(result.output.split())
    assert "replacing vm_restore.back destroys its 2 restored disks and the" in plan
    assert "1 to add, 0 to change, 1 to destroy" in plan
    ws.ok("apply", "-auto-approve", "-no-color", "-replace", "vm_restore.back")
    new = ws.state("vm_restore.back")
    assert new["id"] == old["id"]
    assert disk_bytes(ws, new["os_disk_id"]) == os_img  # restored anew from the restore point
    ws.plan_is_clean()


def test_destroy_with_refresh_only_is_a_usage_error_that_touches_nothing(ws: Workspace) -> None:
    disk_id, written = _with_data(ws)
    state_file = ws.dir / ".bcdr" / "state.db"
    before = state_file.read_bytes()
    for command in (
        ("destroy", "-refresh-only", "-auto-approve"),
        ("apply", "-destroy", "-refresh-only", "-auto-approve"),
        ("plan", "-destroy", "-refresh-only"),
    ):
        result = ws.run(*command, "-no-color")
        assert result.exit_code == 1, (command, result.output)
        out = " ".join(result.output.split())
        assert "Error: Incompatible plan mode options" in out
        assert "-destroy and -refresh-only options are mutually exclusive" in out
        assert "destroyed" not in out
    assert state_file.read_bytes() == before
    assert disk_bytes(ws, disk_id)[4 * MiB : 5 * MiB] == written


def test_a_size_larger_than_azure_allows_is_a_validate_and_plan_error(ws: Workspace) -> None:
    ws.write(_disk("100000"))
    ws.ok("init")
    for command in ("validate", "plan"):
        result = ws.run(command, "-no-color")
        assert result.exit_code == 1, result.output
        out = " ".join(result.output.split())
        assert 'Invalid value for "size_gb"' in out and "main.hcl line 10" in out
        assert "100000 GiB (97.7 TiB) is larger than Azure's largest managed disk" in out
        assert "32,767 GiB (32.0 TiB): give at most 32767" in out
        assert "107374182400000" not in out
    assert not (ws.dir / ".bcdr" / "fabric").exists()


def test_a_size_below_a_mib_rounds_up_to_one_mib(ws: Workspace) -> None:
    ws.write(_disk("0.0000001"))
    ws.ok("init")
    plan = ws.ok("plan", "-no-color")
    assert "size_gb = 1e-07 (107 B) rounds up to 1.0 MiB" in plan
    ws.apply()
    state = ws.state("managed_disk.data")
    assert state["size_bytes"] == MiB
    assert len(disk_bytes(ws, state["id"])) == MiB  # not a 107-byte disk
    ws.plan_is_clean()


def test_a_disk_larger_than_the_free_space_is_a_plan_error_in_human_units(ws: Workspace) -> None:
    ws.write(_disk("30000"))  # within Azure's bound, beyond this machine's free space
    ws.ok("init")
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert "Error: Not enough free space for the disk" in out and "main.hcl line 10" in out
    assert "managed_disk.data: the disk needs 29.3 TiB but only" in out
    assert str(30000 * 1024**3) not in out
    assert ws.state("managed_disk.data") is None
