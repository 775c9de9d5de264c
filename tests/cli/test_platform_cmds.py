"""``bcdr platform`` against a real fabric built with the core directly (no resource types).

The fabric lives where the CLI looks by default (``.bcdr/fabric`` in the working directory)
and holds what the compute types would make: a group, two disks, a VM (inventory rows with
tags and properties), a collection and a restore point.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.disks import Disks
from core.fabric import Fabric, ResourceId
from core.restorepoints import RestorePoints, VmSource
from tests.cli.conftest import write

MiB = 1 << 20
BLOCK = 64 * 1024
GROUP = "Microsoft.Resources/resourceGroups"
DISK = "Microsoft.Compute/disks"
VM = "Microsoft.Compute/virtualMachines"
COLL = "Microsoft.Compute/restorePointCollections"
RP = COLL + "/restorePoints"


@dataclass
class World:
    home: Path
    sub: str
    group: str
    os_disk: str
    data_disk: str
    vm: str
    coll: str
    rp: str
    data: bytes


def _vm_source(w: World) -> VmSource:
    return VmSource(
        vm_id=w.vm,
        name="web",
        region="eastus",
        subscription=w.sub,
        size="Standard_D2s_v5",
        os_type="linux",
        power_state="running",
        os_disk_id=w.os_disk,
        data_disk_ids=[w.data_disk],
    )


def build(home: Path) -> World:
    rng = random.Random(5)
    data = rng.randbytes(MiB) + bytes(MiB)
    home.mkdir(parents=True, exist_ok=True)
    image = home.parent / "data.img"
    image.write_bytes(data)
    with Fabric.open(home) as fabric:
        sub = fabric.default_subscription
        disks = Disks(fabric)
        group = f"/subscriptions/{sub}/resourceGroups/demo"
        fabric.put_resource(group, GROUP, "eastus", {"name": "demo", "tags": {"env": "test"}})
        ids = {}
        for name in ("os", "data"):
            disk = disks.import_image(
                subscription=sub, resource_group="demo", region="eastus", name=name, source=image
            )
            fabric.put_resource(disk.id, DISK, "eastus", {"name": name, "tags": None})
            ids[name] = disk.id
        vm = str(ResourceId(sub, "demo", "Microsoft.Compute", "virtualMachines", "web"))
        props = {
            "name": "web",
            "power_state": "running",
            "os_disk_id": ids["os"],
            "data_disk_ids": [ids["data"]],
            "tags": {"role": "web"},
        }
        fabric.put_resource(vm, VM, "eastus", props)
        coll = str(ResourceId(sub, "demo", "Microsoft.Compute", "restorePointCollections", "c"))
        w = World(
            home, sub, group, ids["os"], ids["data"], vm, coll, f"{coll}/restorePoints/rp1", data
        )
        points = RestorePoints(fabric, disks)
        try:
            points.collections.create(coll, region="eastus", source_vm_id=vm)
            fabric.put_resource(coll, COLL, "eastus", {"name": "c", "tags": None})
            points.create(coll, "rp1", _vm_source(w))
            fabric.put_resource(w.rp, RP, "eastus", {"name": "rp1", "tags": None})
        finally:
            points.close()
    return w


@pytest.fixture
def world(workdir: Path) -> World:
    return build(workdir / ".bcdr" / "fabric")


def ok(bcdr, *args: str) -> str:
    result = bcdr(*args, "-no-color")
    assert result.exit_code == 0, result.output
    return result.output


def fails(bcdr, *args: str, code: int = 1, env: dict | None = None) -> str:
    result = bcdr(*args, "-no-color", env=env)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_list_shows_every_object_and_filters_by_type(bcdr, world):
    out = ok(bcdr, "platform", "list")
    for id in (world.group, world.os_disk, world.data_disk, world.vm, world.coll, world.rp):
        assert id in out
    assert "6 objects." in out
    assert "role=web" in out and "running" in out
    vms = json.loads(ok(bcdr, "platform", "list", "--type", "vm", "-json"))
    assert [v["id"] for v in vms] == [world.vm]
    assert vms[0]["tags"] == {"role": "web"}
    assert "unknown type 'nope'" in fails(bcdr, "platform", "list", "--type", "nope")


def test_show_a_disk_and_a_restore_point(bcdr, world):
    disk = json.loads(ok(bcdr, "platform", "show", world.data_disk))
    assert disk["type"] == DISK
    assert disk["disk"]["size_bytes"] == 2 * MiB
    assert disk["disk"]["attached_to"] == [world.vm]
    assert disk["disk"]["bytes_changed_since_restore_point"] == 0
    rp = json.loads(ok(bcdr, "platform", "show", world.rp))
    drps = rp["restore_point"]["disk_restore_points"]
    assert [d["disk_id"] for d in drps] == [world.os_disk, world.data_disk]
    out = fails(bcdr, "platform", "show", world.group + "/providers/Microsoft.Compute/disks/x")
    assert "nothing on the platform has the id" in out and "bcdr platform list" in out
    assert "is not a resource id" in fails(bcdr, "platform", "show", "disk1")


def test_disk_write_is_tracked_and_the_next_restore_point_stores_only_it(bcdr, world, workdir):
    payload = random.Random(9).randbytes(BLOCK + 10)
    (workdir / "note.bin").write_bytes(payload)
    out = ok(
        bcdr,
        "platform",
        "disk",
        "write",
        world.data_disk,
        "--offset",
        "1MiB",
        "--input",
        "note.bin",
    )
    assert f"Wrote {len(payload)} bytes at offset {MiB}" in out
    assert "(2 blocks of 64 KiB changed)" in out
    with Fabric.open(world.home) as fabric:
        disks = Disks(fabric)
        assert disks.read(world.data_disk, MiB, len(payload)) == payload
        changed = disks.changed_blocks(world.data_disk)
        assert changed is not None and changed.blocks == [16, 17]
        points = RestorePoints(fabric, disks)
        try:
            rp2 = points.create(world.coll, "rp2", _vm_source(world))
        finally:
            points.close()
    by_disk = {d.disk_id: d for d in rp2.disk_restore_points}
    assert by_disk[world.data_disk].bytes_changed == 2 * BLOCK
    assert by_disk[world.os_disk].bytes_changed == 0


def test_disk_write_refuses_what_does_not_fit(bcdr, world, workdir):
    (workdir / "big.bin").write_bytes(b"x" * 100)
    out = fails(
        bcdr,
        "platform",
        "disk",
        "write",
        world.data_disk,
        "--offset",
        str(2 * MiB - 50),
        "--input",
        "big.bin",
    )
    assert "the write does not fit disk data" in out and "lower --offset" in out
    out = fails(bcdr, "platform", "disk", "write", world.vm, "--offset", "0", "--input", "big.bin")
    assert "is not a disk" in out
    out = fails(
        bcdr,
        "platform",
        "disk",
        "write",
        world.data_disk,
        "--offset",
        "0",
        "--input",
        "missing.bin",
    )
    assert "cannot read" in out
    out = fails(
        bcdr,
        "platform",
        "disk",
        "write",
        world.data_disk,
        "--offset",
        "1X",
        "--input",
        "big.bin",
        code=2,
    )
    assert "is not a byte count" in out


def test_disk_export_copies_the_bytes_sparse_and_never_overwrites(bcdr, world, workdir):
    out = ok(bcdr, "platform", "disk", "export", world.data_disk, "--output", "copy.img")
    copy = workdir / "copy.img"
    assert copy.read_bytes() == world.data
    assert copy.stat().st_blocks * 512 <= MiB + BLOCK  # the zero half is a hole
    import hashlib

    assert f"sha256 {hashlib.sha256(world.data).hexdigest()}" in out
    copy.write_bytes(b"mine")
    out = fails(bcdr, "platform", "disk", "export", world.data_disk, "--output", "copy.img")
    assert "copy.img exists already" in out
    assert copy.read_bytes() == b"mine"


def test_vm_power_changes_the_inventory_row(bcdr, world):
    assert "running -> stopped" in ok(bcdr, "platform", "vm", "power", world.vm, "stopped")
    assert "is stopped already" in ok(bcdr, "platform", "vm", "power", world.vm, "stopped")
    with Fabric.open(world.home) as fabric:
        row = fabric.get_resource(world.vm)
    assert row["properties"]["power_state"] == "stopped"
    assert row["properties"]["tags"] == {"role": "web"}
    fails(bcdr, "platform", "vm", "power", world.vm, "paused", code=2)
    assert "no VM has the id" in fails(bcdr, "platform", "vm", "power", world.os_disk, "running")


def test_tag_sets_and_removes(bcdr, world):
    out = ok(bcdr, "platform", "tag", world.vm, "role=", "owner=ops", "tier=1")
    assert "owner=ops, tier=1" in out
    ok(bcdr, "platform", "tag", world.os_disk, "backup=daily")
    with Fabric.open(world.home) as fabric:
        assert fabric.get_resource(world.vm)["properties"]["tags"] == {"owner": "ops", "tier": "1"}
        assert fabric.get_resource(world.os_disk)["properties"] == {
            "name": "os",
            "tags": {"backup": "daily"},
        }
    assert "is not KEY=VALUE" in fails(bcdr, "platform", "tag", world.vm, "nokey", code=2)


def test_delete_refuses_what_is_in_use_then_deletes(bcdr, world):
    out = fails(bcdr, "platform", "delete", world.data_disk)
    assert f"is attached to VM {world.vm}" in out
    out = fails(bcdr, "platform", "delete", world.group)
    assert "is not empty" in out and "delete those first" in out
    assert f"Deleted {world.vm}" in ok(bcdr, "platform", "delete", world.vm)
    ok(bcdr, "platform", "delete", world.data_disk)
    out = ok(bcdr, "platform", "delete", world.coll)
    assert f"Deleted {world.coll}" in out and f"Deleted {world.rp}" in out
    with Fabric.open(world.home) as fabric:
        disks = Disks(fabric)
        assert [d.id for d in disks.list()] == [world.os_disk]
        assert fabric.get_resource(world.rp) is None
        points = RestorePoints(fabric, disks)
        try:
            assert points.list() == []
        finally:
            points.close()
    ok(bcdr, "platform", "delete", world.os_disk)
    assert f"Deleted {world.group}" in ok(bcdr, "platform", "delete", world.group)
    assert "No objects." in ok(bcdr, "platform", "list")


def test_the_home_comes_from_the_provider_block(bcdr, workdir):
    w = build(workdir / "elsewhere" / "fabric")
    write(
        workdir,
        """
        variable "where" {
          default = "elsewhere"
        }
        provider "platform" {
          home = "${var.where}/fabric"
        }
        """,
    )
    assert w.vm in ok(bcdr, "platform", "list", "--type", "vm")
    out = fails(bcdr, "platform", "list", env={"BCDR_FABRIC_HOME": str(workdir / "none")})
    assert "no embedded platform at" in out


def test_without_a_fabric_the_commands_say_what_to_do(bcdr, workdir):
    out = fails(bcdr, "platform", "list")
    assert "no embedded platform at" in out and "bcdr apply" in out


def test_list_speaks_bcdr_type_names_human_sizes_and_restore_point_facts(bcdr, world):
    """Issue 10.12: one type vocabulary (bcdr's), sizes in human units, a restore point's
    time, size and consistency, and a key vault recovered after bcdr dropped its row."""
    from core.keystore import KeyStore

    with Fabric.open(world.home) as fabric:
        vault = str(ResourceId(world.sub, "demo", "Microsoft.KeyVault", "vaults", "kvdemo"))
        ks = KeyStore(fabric)
        ks.vaults.create(vault, name="kvdemo", region="eastus", subscription=world.sub)
        ks.vaults.delete(vault)  # what a destroy does: the vault soft-deleted, no inventory row
    assert "soft-deleted" in ok(bcdr, "platform", "list", "--type", "key_vault")
    ok(bcdr, "platform", "recover", vault)
    out = ok(bcdr, "platform", "list")
    items = dict(zip(out.splitlines()[0:-1:2], out.splitlines()[1:-1:2], strict=True))
    assert items[vault].split() == ["key_vault", "eastus", "not", "in", "the", "inventory"]
    assert [line.split()[0] for line in items.values()] == [
        "resource_group",
        "managed_disk",
        "managed_disk",
        "restore_point_collection",
        "restore_point",
        "virtual_machine",
        "key_vault",
    ]
    assert items[world.data_disk].split("  ")[-1] == "2.0 MiB, Standard_LRS"
    rp = json.loads(ok(bcdr, "platform", "show", world.rp))["restore_point"]
    assert items[world.rp].strip().split("  ")[2] == (
        f"taken {rp['created_at']}, 4.0 MiB in 2 disks, {rp['consistency_achieved']}"
    )
    assert " bytes" not in out and "Microsoft." not in "".join(items.values())
    assert rp["size"] == "4.0 MiB" and rp["disk_restore_points"][0]["size"] == "2.0 MiB"
    shown = json.loads(ok(bcdr, "platform", "show", vault))
    assert (shown["type_name"], shown["key_vault"]["deleted_at"]) == ("key_vault", None)
