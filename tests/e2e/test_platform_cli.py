"""``bcdr platform`` changes show as drift, and ``bcdr apply`` reconciles them.

The quickstart's specs (images of 2 MiB) are applied; then each change a user can make
by hand with ``bcdr platform`` (power, tags, a guest write, deleting a VM, a disk or a
restore point) must make ``bcdr drift`` exit 2 and ``plan -refresh-only`` report it, and the
next ``bcdr apply`` must put things back so that ``bcdr drift`` exits 0. A guest write is not
undone: ``bcdr apply`` leaves the bytes alone and records the disk's new ``modified_at``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e import Work, demo


@pytest.fixture
def applied(tmp_path: Path) -> Work:
    work = Work(tmp_path / "quickstart")
    demo.prepare(work.dir, size_mib=2)
    work.ok("init")
    work.apply()
    code, out = work.drift()
    assert code == 0, out
    return work


def _reported(work: Work, *fragments: str) -> None:
    code, out = work.drift()
    assert code == 2, out
    for fragment in fragments:
        assert fragment in out, out
    refresh = work.ok("plan", "-refresh-only")
    for fragment in fragments:
        assert fragment in refresh, refresh


def _reconciled(work: Work, summary: str) -> None:
    out = work.apply()
    assert summary in out, out
    code, out = work.drift()
    assert code == 0, out
    work.plan_is_clean()


def test_power_and_tags_are_put_back(applied: Work) -> None:
    work = applied
    vm = work.output("vm_id")
    data2 = work.output("data2_disk_id")
    work.ok("platform", "vm", "power", vm, "stopped")
    work.ok("platform", "tag", data2, "role=", "owner=someone")
    _reported(work, "virtual_machine.web has changed", "managed_disk.data2 has changed")
    _reported(work, '~ power_state = "running" -> "stopped"')
    _reported(work, 'owner = "someone"')
    plan = work.ok("plan")
    assert "Plan: 0 to add, 2 to change, 0 to destroy." in plan
    _reconciled(work, "Resources: 0 added, 2 changed, 0 destroyed.")
    shown = json.loads(work.ok("platform", "show", vm))
    assert shown["properties"]["power_state"] == "running"
    assert json.loads(work.ok("platform", "show", data2))["properties"]["tags"] == {"role": "logs"}


def test_a_guest_write_is_accepted_as_drift_of_modified_at(applied: Work) -> None:
    work = applied
    data1 = work.output("data1_disk_id")
    note = b"guest data\n" * 10
    (work.dir / "note.txt").write_bytes(note)
    work.ok("platform", "disk", "write", data1, "--offset", "4096", "--input", "note.txt")
    _reported(work, "managed_disk.data1 has changed", "modified_at")
    out = work.apply()
    assert "No changes." in out and "Resources: 0 added, 0 changed, 0 destroyed." in out
    code, out = work.drift()
    assert code == 0, out
    work.plan_is_clean()
    work.ok("platform", "disk", "export", data1, "--output", "data1.img")
    assert (work.dir / "data1.img").read_bytes()[4096 : 4096 + len(note)] == note


def test_a_deleted_vm_is_created_again(applied: Work) -> None:
    work = applied
    vm = work.output("vm_id")
    data1 = work.output("data1_disk_id")
    code, out = work.code("platform", "delete", data1)
    assert code == 1 and "is attached to VM" in out
    assert f"Deleted {vm}" in work.ok("platform", "delete", vm)
    _reported(work, "virtual_machine.web has been deleted")
    _reconciled(work, "Resources: 1 added, 0 changed, 0 destroyed.")
    assert vm in work.ok("platform", "list", "--type", "vm")


def test_a_deleted_restore_point_is_taken_again(applied: Work) -> None:
    work = applied
    rp = work.output("first_disk_restore_point_ids")[0].split("/diskRestorePoints/")[0]
    assert f"Deleted {rp}" in work.ok("platform", "delete", rp)
    _reported(work, "restore_point.first has been deleted")
    _reconciled(work, "Resources: 1 added, 0 changed, 0 destroyed.")
    shown = json.loads(work.ok("platform", "show", rp))
    assert len(shown["restore_point"]["disk_restore_points"]) == 3


def test_a_deleted_disk_is_imported_again(tmp_path: Path) -> None:
    work = Work(tmp_path / "disk")
    demo.prepare(work.dir, size_mib=2)
    for name in ("main.hcl", "steps"):
        path = work.dir / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    (work.dir / "main.hcl").write_text(
        """
resource "resource_group" "rg" {
  name     = "loose"
  location = "eastus"
}
resource "managed_disk" "spare" {
  name           = "spare"
  resource_group = resource_group.rg.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "images/data2.img"
}
output "spare_id" {
  value = managed_disk.spare.id
}
""",
        encoding="utf-8",
    )
    work.ok("init")
    work.apply()
    spare = work.output("spare_id")
    work.ok("platform", "delete", spare)
    _reported(work, "managed_disk.spare has been deleted")
    _reconciled(work, "Resources: 1 added, 0 changed, 0 destroyed.")
    copy = work.dir / "spare.img"
    work.ok("platform", "disk", "export", spare, "--output", copy.name)
    assert copy.read_bytes() == (work.dir / "images" / "data2.img").read_bytes()


def test_tags_of_a_group_a_collection_and_a_restore_point_are_put_back(applied: Work) -> None:
    work = applied
    rp = work.output("first_disk_restore_point_ids")[0].split("/diskRestorePoints/")[0]
    collection = rp.split("/restorePoints/")[0]
    group = "/".join(collection.split("/")[:5])
    for id in (rp, collection, group):
        assert "Tags of" in work.ok("platform", "tag", id, "found=by-hand")
    _reported(
        work,
        "resource_group.demo has changed",
        "restore_point_collection.web has changed",
        "restore_point.first has changed",
    )
    _reconciled(work, "Resources: 0 added, 3 changed, 0 destroyed.")
    for id in (rp, collection, group):
        assert "found" not in work.ok("platform", "show", id)
