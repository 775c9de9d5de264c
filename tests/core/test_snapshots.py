"""Restore points: round trip, incremental capture (RP-4), exclusion (RP-5), unsupported disks
(RP-6), consistency and hooks (RP-3, EXT-1), crash safety, metadata (RP-2) and RP-11."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from core.disks import BLOCK_SIZE
from core.errors import AlreadyExists, CoreError, NotFound
from core.restorepoints import HookSpec, restore_managed_disk
from tests.core import fixtures_snap
from tests.core.fixtures_snap import (
    MiB,
    collection,
    image_bytes,
    import_disk,
    restored_bytes,
    store_bytes,
    vm,
)

rps = fixtures_snap.rps  # the fixture


def test_round_trip_is_byte_identical_and_sparse(fabric, disks, rps, tmp_path) -> None:
    os_data, data_data = image_bytes(3 * MiB, 1), image_bytes(2 * MiB + 4096, 2)
    os_disk = import_disk(disks, fabric, tmp_path, "os", os_data)
    data_disk = import_disk(disks, fabric, tmp_path, "data", data_data)
    cid = collection(rps, fabric)
    rp = rps.create(cid, "rp1", vm(fabric, os_disk, [data_disk]))
    assert [d.disk_name for d in rp.disk_restore_points] == ["os", "data"]
    assert rp.disk_restore_points[0].id == f"{rp.id}/diskRestorePoints/os"
    for drp, want in zip(rp.disk_restore_points, [os_data, data_data], strict=True):
        assert restored_bytes(rps, fabric, drp.id, f"r-{drp.disk_name}") == want
    restored = disks.get(disks.list()[-1].id)
    st = os.stat(restored.path)
    assert st.st_blocks * 512 < st.st_size  # zero blocks left as holes


def test_reader_reads_any_range(fabric, disks, rps, tmp_path) -> None:
    data = image_bytes(1 * MiB + 100, 3)
    d = import_disk(disks, fabric, tmp_path, "os", data)
    rp = rps.create(collection(rps, fabric), "rp1", vm(fabric, d))
    with rps.open_disk_restore_point(rp.disk_restore_points[0].id) as reader:
        assert reader.size_bytes == len(data)
        for off, ln in [(0, 10), (BLOCK_SIZE - 5, 10), (123456, 300000), (len(data) - 50, 500)]:
            assert reader.read(off, ln) == data[off : off + ln]


def test_rp4_first_full_then_only_changed_blocks_from_cbt(fabric, disks, rps, tmp_path) -> None:
    data = image_bytes(4 * MiB, 4)
    d = import_disk(disks, fabric, tmp_path, "os", data)
    cid = collection(rps, fabric)
    nonzero = sum(
        data[i : i + BLOCK_SIZE] != bytes(BLOCK_SIZE) for i in range(0, len(data), BLOCK_SIZE)
    )
    rp1 = rps.create(cid, "rp1", vm(fabric, d))
    first = rp1.disk_restore_points[0]
    assert first.blocks_new == first.blocks_total == nonzero
    assert abs(store_bytes(fabric) - first.bytes_stored) < 16 * 1024  # footers and manifest
    assert disks.changed_blocks(d.id) is not None  # CBT is tracking from this instant
    before = store_bytes(fabric)
    changed = [os.urandom(BLOCK_SIZE) for _ in range(3)]
    for i, blk in zip([2, 30, 61], changed, strict=True):
        disks.write(d.id, i * BLOCK_SIZE, blk)
    rp2 = rps.create(cid, "rp2", vm(fabric, d))
    second = rp2.disk_restore_points[0]
    assert second.blocks_new == 3
    assert second.bytes_changed == 3 * BLOCK_SIZE
    assert 3 * BLOCK_SIZE <= second.bytes_stored <= 3 * BLOCK_SIZE + 100  # random: stored raw
    assert store_bytes(fabric) - before <= second.bytes_stored * 1.05 + 8 * 1024
    want = bytearray(data)
    for i, blk in zip([2, 30, 61], changed, strict=True):
        want[i * BLOCK_SIZE : (i + 1) * BLOCK_SIZE] = blk
    assert restored_bytes(rps, fabric, second.id, "r2") == bytes(want)
    assert restored_bytes(rps, fabric, first.id, "r1") == data


def test_rp4_cbt_incremental_reads_only_the_changed_blocks(fabric, disks, rps, tmp_path):
    """Proof that CBT is used: a change hidden from CBT (stat restored) is not captured."""
    data = image_bytes(2 * MiB, 6)
    d = import_disk(disks, fabric, tmp_path, "os", data)
    cid = collection(rps, fabric)
    rps.create(cid, "rp1", vm(fabric, d))
    disks.write(d.id, 2 * BLOCK_SIZE, b"a" * BLOCK_SIZE)
    st = os.stat(d.path)
    with open(d.path, "r+b") as f:
        f.seek(10 * BLOCK_SIZE)
        f.write(b"h" * BLOCK_SIZE)
    os.utime(d.path, ns=(st.st_atime_ns, st.st_mtime_ns))
    rp2 = rps.create(cid, "rp2", vm(fabric, d))
    assert rp2.disk_restore_points[0].blocks_new == 1
    got = restored_bytes(rps, fabric, rp2.disk_restore_points[0].id, "r2")
    assert got[2 * BLOCK_SIZE : 3 * BLOCK_SIZE] == b"a" * BLOCK_SIZE
    assert got[10 * BLOCK_SIZE : 11 * BLOCK_SIZE] == data[10 * BLOCK_SIZE : 11 * BLOCK_SIZE]
    os.utime(d.path)  # now CBT is unusable, and a re-hash finds the hidden change
    rp3 = rps.create(cid, "rp3", vm(fabric, d))
    got = restored_bytes(rps, fabric, rp3.disk_restore_points[0].id, "r3")
    assert got[10 * BLOCK_SIZE : 11 * BLOCK_SIZE] == b"h" * BLOCK_SIZE


def test_rp4_incremental_by_rehash_when_written_outside_the_core(fabric, disks, rps, tmp_path):
    data = image_bytes(2 * MiB, 5)
    d = import_disk(disks, fabric, tmp_path, "os", data)
    cid = collection(rps, fabric)
    rps.create(cid, "rp1", vm(fabric, d))
    new = os.urandom(BLOCK_SIZE)
    with open(d.path, "r+b") as f:  # behind the core's back: CBT becomes unusable
        f.seek(5 * BLOCK_SIZE)
        f.write(new)
        f.seek(7 * BLOCK_SIZE)
        f.write(bytes(BLOCK_SIZE))  # and one block zeroed
    assert disks.changed_blocks(d.id) is None
    rp2 = rps.create(cid, "rp2", vm(fabric, d))
    second = rp2.disk_restore_points[0]
    assert second.blocks_new == 1
    was_zero = data[7 * BLOCK_SIZE : 8 * BLOCK_SIZE] == bytes(BLOCK_SIZE)
    assert second.bytes_changed == (1 if was_zero else 2) * BLOCK_SIZE
    want = bytearray(data)
    want[5 * BLOCK_SIZE : 6 * BLOCK_SIZE] = new
    want[7 * BLOCK_SIZE : 8 * BLOCK_SIZE] = bytes(BLOCK_SIZE)
    assert restored_bytes(rps, fabric, second.id, "r2") == bytes(want)


def test_rp4_zero_blocks_take_no_space(fabric, disks, rps) -> None:
    d = disks.create_empty(
        subscription=fabric.default_subscription,
        resource_group="rg",
        region="eastus",
        name="os",
        size_bytes=16 * MiB,
    )
    disks.write(d.id, 3 * BLOCK_SIZE, b"x" * BLOCK_SIZE)
    disks.write(d.id, 9 * BLOCK_SIZE, bytes(BLOCK_SIZE))  # written, but zeros
    rp = rps.create(collection(rps, fabric), "rp1", vm(fabric, d))
    drp = rp.disk_restore_points[0]
    assert (drp.blocks_total, drp.blocks_new) == (1, 1)
    assert drp.bytes_stored < 1024
    assert store_bytes(fabric) < 4096


def test_rp5_excluded_disk_has_no_disk_restore_point(fabric, disks, rps, tmp_path) -> None:
    os_disk = import_disk(disks, fabric, tmp_path, "os", image_bytes(MiB, 1))
    d1 = import_disk(disks, fabric, tmp_path, "d1", image_bytes(MiB, 2))
    d2 = import_disk(disks, fabric, tmp_path, "d2", image_bytes(MiB, 3))
    rp = rps.create(
        collection(rps, fabric), "rp1", vm(fabric, os_disk, [d1, d2]), exclude_disk_ids=[d1.id]
    )
    assert [d.disk_id for d in rp.disk_restore_points] == [os_disk.id, d2.id]


@pytest.mark.parametrize(
    "kind", [{"sku": "UltraSSD_LRS"}, {"shared": True}, {"ephemeral": True}], ids=str
)
def test_rp6_unsupported_data_disk_refused_unless_excluded(fabric, disks, rps, tmp_path, kind):
    os_disk = import_disk(disks, fabric, tmp_path, "os", image_bytes(MiB, 1))
    bad = import_disk(disks, fabric, tmp_path, "bad", image_bytes(MiB, 2), **kind)
    cid = collection(rps, fabric)
    with pytest.raises(CoreError, match=r"disk bad .*exclude_disk_ids"):
        rps.create(cid, "rp1", vm(fabric, os_disk, [bad]))
    assert rps.list(cid) == []
    rp = rps.create(cid, "rp1", vm(fabric, os_disk, [bad]), exclude_disk_ids=[bad.id])
    assert [d.disk_name for d in rp.disk_restore_points] == ["os"]


def test_rp6_ephemeral_os_disk_refused_and_cannot_be_excluded(fabric, disks, rps, tmp_path):
    os_disk = import_disk(disks, fabric, tmp_path, "os", image_bytes(MiB, 1), ephemeral=True)
    cid = collection(rps, fabric)
    with pytest.raises(CoreError, match="ephemeral OS disk.*cannot be excluded"):
        rps.create(cid, "rp1", vm(fabric, os_disk))
    with pytest.raises(CoreError, match="OS disk .* cannot be excluded"):
        rps.create(cid, "rp1", vm(fabric, os_disk), exclude_disk_ids=[os_disk.id])


def _vm_with_hooks(fabric, disks, rps, tmp_path, pre, post, timeout=5.0, **kw):
    d = import_disk(disks, fabric, tmp_path, "os", image_bytes(MiB, 1))
    return vm(fabric, d, hooks=HookSpec(pre, post, timeout), **kw), collection(rps, fabric)


def test_rp3_ext1_hooks_succeed_application_consistent(fabric, disks, rps, tmp_path) -> None:
    log = tmp_path / "hooks.log"
    source, cid = _vm_with_hooks(
        fabric, disks, rps, tmp_path, f"echo pre $BCDR_VM_NAME >> {log}", f"echo post >> {log}"
    )
    rp = rps.create(cid, "rp1", source)
    assert rp.consistency_mode == rp.consistency_achieved == "ApplicationConsistent"
    assert rp.warnings == []
    assert log.read_text() == "pre web\npost\n"


def test_rp3_failing_pre_hook_gives_crash_consistent_with_warning(fabric, disks, rps, tmp_path):
    source, cid = _vm_with_hooks(fabric, disks, rps, tmp_path, "echo no fsfreeze >&2; exit 3", None)
    rp = rps.create(cid, "rp1", source)
    assert rp.consistency_achieved == "CrashConsistent"
    assert "exit status 3" in rp.warnings[0] and "no fsfreeze" in rp.warnings[0]


def test_rp3_failing_post_hook_gives_crash_consistent(fabric, disks, rps, tmp_path) -> None:
    source, cid = _vm_with_hooks(fabric, disks, rps, tmp_path, "true", "false")
    rp = rps.create(cid, "rp1", source)
    assert rp.consistency_achieved == "CrashConsistent"
    assert "post-snapshot hook" in rp.warnings[0]


def test_rp3_hanging_hook_killed_at_timeout_with_its_children(fabric, disks, rps, tmp_path):
    pidfile = tmp_path / "child.pid"
    source, cid = _vm_with_hooks(
        fabric, disks, rps, tmp_path, f"sleep 60 & echo $! > {pidfile}; wait", None, timeout=0.5
    )
    t0 = time.monotonic()
    rp = rps.create(cid, "rp1", source)
    assert time.monotonic() - t0 < 10
    assert rp.consistency_achieved == "CrashConsistent"
    assert "did not finish within 0.5 s" in rp.warnings[0]
    child = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # a killed child may linger as a zombie of init for a moment
            os.kill(child, 0)
            time.sleep(0.05)
            if not os.path.exists(f"/proc/{child}") or "Z" in _state(child):
                raise ProcessLookupError


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "Z"


def test_rp3_stopped_vm_or_crash_mode_is_crash_consistent_without_hooks(
    fabric, disks, rps, tmp_path
):
    log = tmp_path / "ran"
    source, cid = _vm_with_hooks(fabric, disks, rps, tmp_path, f"touch {log}", None)
    rp = rps.create(cid, "rp1", source, consistency_mode="CrashConsistent")
    assert rp.consistency_achieved == "CrashConsistent" and rp.warnings == []
    source.power_state = "stopped"
    rp2 = rps.create(cid, "rp2", source)
    assert rp2.consistency_achieved == "CrashConsistent"
    assert "stopped" in rp2.warnings[0]
    assert not log.exists()


def test_rp2_source_metadata_recorded(fabric, disks, rps, tmp_path) -> None:
    os_disk = import_disk(disks, fabric, tmp_path, "os", image_bytes(MiB, 1), sku="Premium_LRS")
    rp = rps.create(collection(rps, fabric), "rp1", vm(fabric, os_disk))
    meta = rps.get(rp.id).source_metadata
    assert meta["size"] == "Standard_D2s_v5" and meta["os_type"] == "linux"
    assert meta["disks"] == [
        {"id": os_disk.id, "name": "os", "size_bytes": MiB, "sku": "Premium_LRS", "os_disk": True}
    ]
    assert meta["network"]["nics"][0]["private_ip"] == "10.0.0.4"


def test_rp11_restore_point_lands_in_the_collections_region(fabric, disks, rps, tmp_path):
    data = image_bytes(MiB, 7)
    d = import_disk(disks, fabric, tmp_path, "os", data)
    cid = collection(rps, fabric, "dr", region="westus")
    rp = rps.create(cid, "rp1", vm(fabric, d))
    assert rp.region == "westus"
    assert store_bytes(fabric, "westus") > 0
    assert restored_bytes(rps, fabric, rp.disk_restore_points[0].id, "r", "westus") == data


def test_bad_names_and_duplicates_are_clear_errors(fabric, disks, rps, tmp_path) -> None:
    d = import_disk(disks, fabric, tmp_path, "os", image_bytes(MiB, 1))
    cid = collection(rps, fabric)
    for bad in ["../x", "a/b", ".."]:
        with pytest.raises(CoreError):
            rps.create(cid, bad, vm(fabric, d))
    rp = rps.create(cid, "rp1", vm(fabric, d))
    with pytest.raises(AlreadyExists, match="rp1"):
        rps.create(cid, "rp1", vm(fabric, d))
    with pytest.raises(NotFound):
        rps.create(cid + "x", "rp2", vm(fabric, d))
    drp = rp.disk_restore_points[0].id
    kw = {"subscription": fabric.default_subscription, "resource_group": "rg", "region": "eastus"}
    with pytest.raises(AlreadyExists):
        rps.restore_disk(drp, name="os", **kw)
    with pytest.raises(CoreError):
        rps.restore_disk(drp, name="../os", **kw)
    with pytest.raises(CoreError, match="attached twice"):
        rps.create(cid, "rp3", vm(fabric, d, [d]))
    with pytest.raises(CoreError, match="consistency_mode"):
        rps.create(cid, "rp3", vm(fabric, d), consistency_mode="Sometimes")


CRASHER = """
import json, os, sys
from core.disks import Disks
from core.fabric import Fabric
from core.restorepoints import RestorePoints, VmSource
fabric = Fabric.open(sys.argv[1])
rps = RestorePoints(fabric, Disks(fabric))
def die(step):
    if step == sys.argv[2]:
        os._exit(9)
rps.fault_hook = die
rps.create(sys.argv[3], "crashed", VmSource(**json.loads(sys.argv[4])))
"""


@pytest.mark.parametrize("step", ["blocks", "manifests"])
def test_crash_before_the_row_leaves_no_restore_point_and_gc_reclaims(
    fabric, disks, rps, tmp_path, step
):
    d = import_disk(disks, fabric, tmp_path, "os", image_bytes(2 * MiB, 8))
    cid = collection(rps, fabric)
    source = vm(fabric, d)
    rp0 = rps.create(cid, "rp0", source)
    clean = store_bytes(fabric)
    disks.write(d.id, 4 * BLOCK_SIZE, os.urandom(BLOCK_SIZE))
    args = [sys.executable, "-c", CRASHER, str(fabric.home), step, cid]
    proc = subprocess.run([*args, json.dumps(source.__dict__)], cwd=os.getcwd())
    assert proc.returncode == 9
    assert [rp.id for rp in rps.list()] == [rp0.id]
    leftovers = store_bytes(fabric) - clean
    assert leftovers >= BLOCK_SIZE
    assert rps.maintenance.gc().bytes_freed == leftovers
    assert store_bytes(fabric) == clean
    # The change tracking still covers rp0, so the next restore point holds the write.
    assert disks.changed_blocks(d.id).blocks == [4]
    rp1 = rps.create(cid, "rp1", source)
    assert rp1.disk_restore_points[0].blocks_new == 1
    assert restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "r1") == d.path.read_bytes()


def test_rp9_restore_outside_the_region_pair_is_refused_by_the_core(fabric, disks, rps, tmp_path):
    """The apply-time check is the plan's own RP-9 function: the pair is allowed, another
    region is refused before any disk is made."""
    d = import_disk(disks, fabric, tmp_path, "os", image_bytes(MiB, 1))
    rp = rps.create(collection(rps, fabric), "rp1", vm(fabric, d))
    drp = rp.disk_restore_points[0].id
    assert restored_bytes(rps, fabric, drp, "in-pair", "westus") == d.path.read_bytes()
    with pytest.raises(CoreError, match="neither eastus nor its paired region"):
        restored_bytes(rps, fabric, drp, "far", "northeurope")
    assert sorted(x.name for x in disks.list()) == ["in-pair", "os"]


def test_rp8_a_managed_disk_from_a_disk_restore_point_is_checked_by_the_core(
    fabric, disks, rps, tmp_path
):
    """The apply-time check is the plan's own RP-8 function: the restore point's region and
    subscription only (a VM restore's pair is not enough), an id that names a disk restore
    point, one that exists; nothing is made when it refuses."""
    d = import_disk(disks, fabric, tmp_path, "os", image_bytes(MiB, 1))
    rp = rps.create(collection(rps, fabric), "rp1", vm(fabric, d))
    drp = rp.disk_restore_points[0].id
    sub = fabric.default_subscription
    other = fabric.create_subscription(None, "other").id
    kw = {"resource_group": "rg", "name": "restored"}
    refused = [
        ({"subscription": sub, "region": "westus"}, drp, "is in eastus, the disk in westus"),
        ({"subscription": other, "region": "eastus"}, drp, f"belongs to subscription {sub}"),
        ({"subscription": sub, "region": "eastus"}, rp.id, "is not a disk restore point id"),
        ({"subscription": sub, "region": "eastus"}, drp + "x", "does not exist"),
    ]
    for where, source, why in refused:
        with pytest.raises(CoreError, match=why):
            restore_managed_disk(rps, source, **where, **kw)
    assert [x.name for x in disks.list()] == ["os"]
    disk = restore_managed_disk(rps, drp, subscription=sub, region="East US", **kw)
    assert disk.path.read_bytes() == d.path.read_bytes()


def test_disk2_a_copy_is_made_in_the_sources_region_by_the_core(fabric, disks, tmp_path):
    d = import_disk(disks, fabric, tmp_path, "os", image_bytes(MiB, 1))
    kw = {"subscription": fabric.default_subscription, "resource_group": "rg", "name": "copy"}
    with pytest.raises(CoreError, match="^disk .* is in eastus, the copy in westus; copy a disk"):
        disks.copy(d.id, region="westus", **kw)
    copy = disks.copy(d.id, region="eastus", size_bytes=2 * MiB, sku="Premium_LRS", **kw)
    assert (copy.size_bytes, copy.sku) == (2 * MiB, "Premium_LRS")
    assert copy.path.read_bytes()[:MiB] == d.path.read_bytes()
