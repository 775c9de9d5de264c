"""restore_point_collection and restore_point through the real CLI: incremental restore points,
their planned cost, restores byte-identical to the disk at the restore point, cross-region
copies that move only missing blocks, drift and import."""

from __future__ import annotations

from tests.providers.conftest import Workspace
from tests.providers.fixtures_restore import (
    RP1,
    change_of,
    disk_bytes,
    drp_bytes,
    plan_json,
    setup,
    write_disk,
)

BLOCK = 64 * 1024
RP2 = RP1.replace('"rp1"', '"rp2"')


def _drp(ws: Workspace, rp: str, disk: str) -> dict:
    disk_id = ws.state(f"managed_disk.{disk}")["id"]
    (found,) = [d for d in ws.state(rp)["disk_restore_points"] if d["disk_id"] == disk_id]
    return found


def test_second_restore_point_stores_only_the_written_blocks(ws: Workspace) -> None:
    os_img, data_img = setup(ws, RP1)
    ws.apply()
    ws.plan_is_clean()
    rp1 = ws.state("restore_point.rp1")
    assert rp1["consistency_achieved"] == "ApplicationConsistent"
    assert rp1["created_at"].endswith("Z")
    assert _drp(ws, "restore_point.rp1", "data")["size_bytes"] == len(data_img)
    assert drp_bytes(ws, _drp(ws, "restore_point.rp1", "data")["id"]) == data_img

    data_id = ws.state("managed_disk.data")["id"]
    written = write_disk(ws, data_id, 3 * BLOCK, 3 * BLOCK)
    ws.write((ws.dir / "main.hcl").read_text() + RP2)
    plan = plan_json(ws)
    change = change_of(plan, "restore_point.rp2")
    assert change["cost"] == {"bytes_to_snapshot": len(written)}
    assert change["notes"] == ["expects to snapshot 192.0 KiB (changed-block tracking)"]
    out = ws.ok("plan", "-no-color")
    assert "Cost: 192.0 KiB to snapshot." in out
    ws.apply()
    data_drp = _drp(ws, "restore_point.rp2", "data")
    os_drp = _drp(ws, "restore_point.rp2", "os")
    assert os_drp["bytes_stored"] == 0
    # random bytes do not compress: what is stored is what was written (plus pack framing)
    assert len(written) <= data_drp["bytes_stored"] <= len(written) + 4096
    assert drp_bytes(ws, data_drp["id"]) == disk_bytes(ws, data_id)
    assert drp_bytes(ws, _drp(ws, "restore_point.rp1", "data")["id"]) == data_img


def test_first_restore_point_plans_the_allocated_bytes(ws: Workspace) -> None:
    setup(ws)
    ws.apply()
    ws.write((ws.dir / "main.hcl").read_text() + RP1)
    change = change_of(plan_json(ws), "restore_point.rp1")
    with ws.fabric() as fab:
        from core.disks import Disks

        disks = Disks(fab)
        allocated = sum(
            disks.file_info(ws.state(f"managed_disk.{d}")["id"]).allocated_bytes
            for d in ("os", "data")
        )
    assert change["cost"] == {"bytes_to_snapshot": allocated}
    assert "first restore point" in change["notes"][0]


def test_rehash_when_change_tracking_is_unusable_plans_the_whole_disk(ws: Workspace) -> None:
    setup(ws, RP1)
    ws.apply()
    data_id = ws.state("managed_disk.data")["id"]
    with ws.fabric() as fab:  # a write that bypasses the core: tracking cannot vouch for it
        from core.disks import Disks

        path = Disks(fab).get(data_id).path
    with open(path, "r+b") as f:
        f.seek(BLOCK)
        f.write(b"x" * 100)
    ws.write((ws.dir / "main.hcl").read_text() + RP2)
    change = change_of(plan_json(ws), "restore_point.rp2")
    assert change["cost"]["bytes_to_snapshot"] == 1 << 20  # the data disk re-hashed whole
    assert "re-hashed" in change["notes"][0] and "changed-block tracking" in change["notes"][0]
    ws.apply()
    assert drp_bytes(ws, _drp(ws, "restore_point.rp2", "data")["id"]) == disk_bytes(ws, data_id)


def test_disk_restored_from_a_restore_point_is_byte_identical(ws: Workspace) -> None:
    _, data_img = setup(ws, RP1)
    ws.apply()
    data_id = ws.state("managed_disk.data")["id"]
    write_disk(ws, data_id, 0, BLOCK)  # the disk moves on; the restore must not
    restored = """
resource "managed_disk" "back" {
  name               = "web-data-back"
  resource_group     = resource_group.rg.name
  location           = "eastus"
  create_option      = "Restore"
  source_resource_id = restore_point.rp1.disk_restore_points[1].id
}
"""
    ws.write((ws.dir / "main.hcl").read_text() + restored)
    ws.apply()
    back = ws.state("managed_disk.back")
    assert back["size_bytes"] == len(data_img)
    assert disk_bytes(ws, back["id"]) == data_img
    assert disk_bytes(ws, data_id) != data_img


def test_cross_region_copy_moves_only_missing_blocks(ws: Workspace) -> None:
    copies = """
resource "restore_point_collection" "dr" {
  name           = "dr-daily"
  resource_group = resource_group.dr.name
  location       = "westus"
  source_vm_id   = virtual_machine.web.id
}

resource "restore_point" "rp1_dr" {
  name                    = "rp1"
  collection_id           = restore_point_collection.dr.id
  source_restore_point_id = restore_point.rp1.id
}
"""
    _, data_img = setup(ws, RP1 + copies)
    ws.apply()
    ws.plan_is_clean()
    full = ws.state("restore_point.rp1_dr")
    assert "/resourceGroups/dr/" in full["id"]
    source_stored = sum(
        d["bytes_stored"] for d in ws.state("restore_point.rp1")["disk_restore_points"]
    )
    assert sum(d["bytes_stored"] for d in full["disk_restore_points"]) == source_stored
    copied_data = [d for d in full["disk_restore_points"] if d["id"].endswith("/web-data")][0]
    assert drp_bytes(ws, copied_data["id"]) == data_img

    written = write_disk(ws, ws.state("managed_disk.data")["id"], 5 * BLOCK, 2 * BLOCK)
    ws.write((ws.dir / "main.hcl").read_text() + RP2)
    ws.apply()
    incremental = """
resource "restore_point" "rp2_dr" {
  name                    = "rp2"
  collection_id           = restore_point_collection.dr.id
  source_restore_point_id = restore_point.rp2.id
}
"""
    ws.write((ws.dir / "main.hcl").read_text() + incremental)
    change = change_of(plan_json(ws), "restore_point.rp2_dr")
    assert change["cost"] == {"bytes_to_copy": len(written)}
    assert "expects to copy 128.0 KiB to westus" in change["notes"][0]
    ws.apply()
    sent = sum(d["bytes_stored"] for d in ws.state("restore_point.rp2_dr")["disk_restore_points"])
    assert len(written) <= sent <= len(written) + 4096
    ws.plan_is_clean()


def test_restore_point_deleted_outside_is_drift_and_apply_recreates_it(ws: Workspace) -> None:
    setup(ws, RP1)
    ws.apply()
    rp_id = ws.state("restore_point.rp1")["id"]
    with ws.fabric() as fab:  # what `bcdr platform delete RP_ID` does
        from core.disks import Disks
        from core.restorepoints import RestorePoints

        rps = RestorePoints(fab, Disks(fab))
        rps.delete(rp_id)
        rps.close()
        fab.delete_resource(rp_id)
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2 and "restore_point.rp1" in drift.output
    assert "1 to add" in ws.ok("plan", "-no-color")
    ws.apply()
    ws.plan_is_clean()


def test_tags_update_in_place_and_show_drift(ws: Workspace) -> None:
    setup(ws, RP1)
    ws.apply()
    text = (ws.dir / "main.hcl").read_text()
    ws.write(
        text.replace('  name          = "rp1"\n', '  name          = "rp1"\n  tags = { k = "v" }\n')
    )
    out = ws.ok("plan", "-no-color")
    assert "1 to change" in out and "0 to destroy" in out
    ws.apply()
    rp_id = ws.state("restore_point.rp1")["id"]
    with ws.fabric() as fab:  # what `bcdr platform tag RP_ID k=w` does
        row = fab.get_resource(rp_id)
        fab.put_resource(
            rp_id, row["type"], row["region"], dict(row["properties"], tags={"k": "w"})
        )
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2 and '"w"' in drift.output
    ws.apply()
    ws.plan_is_clean()


def test_import_restore_point_and_collection(ws: Workspace) -> None:
    setup(ws, RP1)
    ws.apply()
    rp_id = ws.state("restore_point.rp1")["id"]
    coll_id = ws.state("restore_point_collection.daily")["id"]
    ws.ok("state", "rm", "restore_point.rp1")
    ws.ok("state", "rm", "restore_point_collection.daily")
    ws.ok("import", "restore_point_collection.daily", coll_id)
    ws.ok("import", "restore_point.rp1", rp_id)
    assert ws.state("restore_point.rp1")["id"] == rp_id
    ws.plan_is_clean()


def test_stopped_vm_gets_a_crash_consistent_restore_point_and_the_plan_says_so(
    ws: Workspace,
) -> None:
    setup(ws, RP1, ephemeral='false\n  power_state = "stopped"')
    assert "VM web is stopped: the restore point will be crash-consistent" in ws.ok(
        "plan", "-no-color"
    )
    ws.apply()
    rp = ws.state("restore_point.rp1")
    assert rp["consistency_mode"] == "ApplicationConsistent"
    assert rp["consistency_achieved"] == "CrashConsistent"
    assert any("stopped" in w for w in rp["warnings"])
    ws.plan_is_clean()


def test_destroy_removes_restore_points_collection_and_their_blocks(ws: Workspace) -> None:
    setup(ws, RP1 + RP2)
    ws.apply()
    ws.ok("destroy", "-auto-approve", "-no-color")
    with ws.fabric() as fab:
        from core.disks import Disks
        from core.restorepoints import RestorePoints

        rps = RestorePoints(fab, Disks(fab))
        try:
            assert rps.list() == []
            assert fab.list_resources() == []
            store = rps.stores.get("eastus", fab.default_subscription)
            assert store.block_count() == 0  # RP-13: the blocks went with them
        finally:
            rps.close()


def test_restore_points_made_by_bcdr_are_not_drift_but_one_taken_outside_is(
    ws: Workspace,
) -> None:
    setup(ws, RP1)
    ws.apply()
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 0, drift.output
    assert ws.state("restore_point_collection.daily")["restore_point_ids"] == []
    coll = ws.state("restore_point_collection.daily")["id"]
    with ws.fabric() as fab:  # a restore point taken outside bcdr, straight through the core
        from core.disks import Disks
        from core.restorepoints import RestorePoints
        from providers.platform.compute.vms import vm_source
        from providers.platform.frame import PlatformSession

        s = PlatformSession(ws.dir / ".bcdr" / "fabric")
        try:
            vm = vm_source(s, ws.state("virtual_machine.web")["id"])
        finally:
            s.close()
        rps = RestorePoints(fab, Disks(fab))
        outside = rps.create(coll, "by-hand", vm).id
        rps.close()
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2 and "by-hand" in drift.output
    ws.ok("apply", "-refresh-only", "-auto-approve")
    assert ws.state("restore_point_collection.daily")["restore_point_ids"] == [outside]
    assert ws.run("drift").exit_code == 0


def _two_at_once(tmp_path, trial: int) -> list[BaseException]:
    import random
    import threading

    from core.disks import Disks
    from core.fabric import Fabric
    from core.restorepoints import RestorePoints, VmSource

    fab = Fabric.open(tmp_path / f"t{trial}")
    try:
        disks = Disks(fab)
        sub = fab.default_subscription
        img = tmp_path / f"os{trial}.raw"
        img.write_bytes(random.Random(trial).randbytes(256 * 1024))
        disk = disks.import_image(
            subscription=sub, resource_group="rg", region="eastus", name="os", source=img
        )
        rps = RestorePoints(fab, disks)
        base = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute"
        coll = f"{base}/restorePointCollections/c"
        rps.collections.create(coll, region="eastus", source_vm_id=f"{base}/virtualMachines/v")
        vm = VmSource(
            f"{base}/virtualMachines/v", "v", "eastus", sub, "s", "linux", "running", disk.id, []
        )
        errors: list[BaseException] = []

        def take(name: str) -> None:
            try:
                rps.create(coll, name, vm)
            except BaseException as exc:  # reported by the caller
                errors.append(exc)

        threads = [threading.Thread(target=take, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rps.close()
        return errors
    finally:
        fab.close()


def test_restore_points_applied_in_parallel_open_a_new_store_safely(tmp_path) -> None:
    """Two restore points of one collection, captured at once into a store not yet made (what
    an apply of rp1 and rp2 together does): both succeed, none sees "database is locked"."""
    for trial in range(20):
        assert _two_at_once(tmp_path, trial) == []
