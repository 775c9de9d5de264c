"""Cross-region copy (RP-10): only missing blocks move; a copy is visible only when complete."""

from __future__ import annotations

import os

import pytest

from core.disks import BLOCK_SIZE
from core.errors import AlreadyExists, CoreError
from core.restorepoints import copy_restore_point
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


@pytest.fixture
def source(fabric, disks, rps, tmp_path):
    os_data, data_data = image_bytes(3 * MiB, 21), image_bytes(2 * MiB, 22)
    os_disk = import_disk(disks, fabric, tmp_path, "os", os_data)
    data_disk = import_disk(disks, fabric, tmp_path, "data", data_data)
    cid = collection(rps, fabric)
    target = collection(rps, fabric, "dr", region="westus")
    source_vm = vm(fabric, os_disk, [data_disk])
    rp1 = rps.create(cid, "rp1", source_vm)
    return cid, target, source_vm, rp1, (os_data, data_data)


def test_rp10_copy_sends_all_then_only_missing_blocks(fabric, disks, rps, source) -> None:
    cid, target, source_vm, rp1, datas = source
    total = sum(d.blocks_total for d in rp1.disk_restore_points)
    res = copy_restore_point(fabric, rps, rp1.id, target, "rp1-copy")
    assert (res.blocks_sent, res.blocks_skipped) == (total, 0)
    assert res.bytes_sent == sum(d.bytes_stored for d in rp1.disk_restore_points)
    copy = res.restore_point
    assert copy.region == "westus" and copy.copied_from == rp1.id
    assert copy.source_metadata == rp1.source_metadata
    for drp, want in zip(copy.disk_restore_points, datas, strict=True):
        assert restored_bytes(rps, fabric, drp.id, f"c-{drp.disk_name}", "westus") == want
    # The same restore point again: nothing to send.
    again = copy_restore_point(fabric, rps, rp1.id, target, "rp1-again")
    assert (again.blocks_sent, again.bytes_sent, again.blocks_skipped) == (0, 0, total)
    # An incremental: only the changed blocks cross.
    for i in (3, 9):
        disks.write(source_vm.os_disk_id, i * BLOCK_SIZE, os.urandom(BLOCK_SIZE))
    rp2 = rps.create(cid, "rp2", source_vm)
    grown = store_bytes(fabric, "westus")
    res2 = copy_restore_point(fabric, rps, rp2.id, target, "rp2-copy")
    assert res2.blocks_sent == 2
    assert res2.blocks_skipped == sum(d.blocks_total for d in rp2.disk_restore_points) - 2
    assert store_bytes(fabric, "westus") - grown <= res2.bytes_sent + 8 * 1024
    with open(disks.get(source_vm.os_disk_id).path, "rb") as f:
        want = f.read()
    os_copy = res2.restore_point.disk_restore_points[0]
    assert restored_bytes(rps, fabric, os_copy.id, "c2", "westus") == want


def test_rp10_copy_refusals(fabric, rps, source) -> None:
    cid, target, _, rp1, _ = source
    with pytest.raises(CoreError, match="another region"):
        copy_restore_point(fabric, rps, rp1.id, cid, "same-region")
    copy_restore_point(fabric, rps, rp1.id, target, "c")
    with pytest.raises(AlreadyExists):
        copy_restore_point(fabric, rps, rp1.id, target, "c")
    with pytest.raises(CoreError):
        copy_restore_point(fabric, rps, rp1.id, target, "../c")


def test_rp10_copy_cut_short_is_invisible_and_gc_reclaims(fabric, rps, source) -> None:
    _, target, _, rp1, _ = source

    def crash(step: str) -> None:
        raise KeyboardInterrupt(step)

    rps.fault_hook = crash
    with pytest.raises(KeyboardInterrupt):
        copy_restore_point(fabric, rps, rp1.id, target, "cut")
    rps.fault_hook = None
    assert rps.list(target) == []
    assert store_bytes(fabric, "westus") > 0
    assert rps.maintenance.gc().bytes_freed > 0
    assert store_bytes(fabric, "westus") == 0
    assert rps.maintenance.verify().ok
