"""Verify (a flipped byte is found and named; restore refuses it), gc, and RP-13 deletes."""

from __future__ import annotations

import pytest

from core.errors import IntegrityError
from tests.core import fixtures_snap
from tests.core.fixtures_snap import (
    flip_byte_in_a_pack,
    restored_bytes,
    store_bytes,
)

rps = fixtures_snap.rps  # the fixture


@pytest.fixture
def two_rps(fabric, disks, rps, tmp_path):
    """rp1 (full) and rp2 (3 blocks rewritten) of one disk; returns (disk, data, rp1, rp2)."""
    return fixtures_snap.two_restore_points(fabric, disks, rps, tmp_path)


def test_verify_clean_store(rps, two_rps) -> None:
    report = rps.maintenance.verify()
    assert report.ok, report.problems
    assert report.blocks_checked == sum(
        d.blocks_new for rp in two_rps[2:] for d in rp.disk_restore_points
    )
    sample = rps.maintenance.verify(sample_percent=10)
    assert sample.ok and 0 < sample.blocks_checked < report.blocks_checked


def test_flipped_byte_found_by_verify_and_refused_by_restore(fabric, rps, two_rps) -> None:
    _, _, rp1, rp2 = two_rps
    pack = flip_byte_in_a_pack(fabric)
    report = rps.maintenance.verify()
    assert not report.ok
    (problem,) = report.problems
    assert problem.reason == "corrupted" and problem.pack == f"packs/{pack.name}"
    # The first block of the largest pack (rp1's) is unchanged, so both restore points use it.
    assert report.affected_restore_points() == sorted([rp1.id, rp2.id])
    assert rp1.disk_restore_points[0].id in str(problem)
    with pytest.raises(IntegrityError, match=problem.name) as refused:
        restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "r1")
    assert rp1.disk_restore_points[0].id in str(refused.value)
    assert not (fabric.disks_dir("eastus", fabric.default_subscription) / "rg" / "r1.img").exists()
    with rps.open_disk_restore_point(rp2.disk_restore_points[0].id) as reader:
        with pytest.raises(IntegrityError):
            reader.read(0, 100)


def test_missing_pack_and_manifest_are_named(fabric, rps, two_rps) -> None:
    _, _, rp1, _ = two_rps
    objects = fabric.store_dir("eastus", fabric.default_subscription) / "objects"
    (objects / rp1.disk_restore_points[0].manifest).unlink()
    next((objects / "packs").iterdir()).unlink()
    report = rps.maintenance.verify()
    kinds = {(p.what, p.reason) for p in report.problems}
    assert ("manifest", "missing") in kinds and ("block", "missing") in kinds
    assert rp1.id in report.affected_restore_points()
    with pytest.raises(IntegrityError, match="missing"):
        rps.maintenance.gc()  # gc refuses to sweep with a manifest it cannot read


def test_rp13_delete_frees_only_unshared_blocks(fabric, rps, two_rps) -> None:
    d, data, rp1, rp2 = two_rps
    before = store_bytes(fabric)
    assert rps.maintenance.gc().bytes_freed == 0
    # rp1 alone uses the old versions of the blocks rp2 rewrote, and its manifest.
    with rps.stores.open("eastus", fabric.default_subscription) as store:
        ids = [store.get_manifest(r.disk_restore_points[0].manifest)[1] for r in (rp1, rp2)]
        only1 = {ids[0][i : i + 16] for i in range(0, len(ids[0]), 16)}
        only1 -= {ids[1][i : i + 16] for i in range(0, len(ids[1]), 16)} | {bytes(16)}
        assert len(only1) == 3
        unshared = sum(loc[2] for loc in store.locations(only1).values())
        unshared += store.backend.size(rp1.disk_restore_points[0].manifest)
    freed = rps.delete(rp1.id)
    assert unshared + 16 * len(only1) <= freed  # the blocks, their footer entries, manifest
    assert freed <= unshared + 16 * len(only1) + 4096  # and at most a rewritten pack's slack
    assert store_bytes(fabric) == before - freed
    assert [rp.id for rp in rps.list()] == [rp2.id]
    with open(d.path, "rb") as f:
        assert restored_bytes(rps, fabric, rp2.disk_restore_points[0].id, "r2") == f.read()
    assert rps.maintenance.verify().ok
    freed2 = rps.delete(rp2.id)
    assert freed2 == before - freed
    assert store_bytes(fabric) == 0


def test_rp13_delete_collection_deletes_its_restore_points(fabric, rps, two_rps) -> None:
    _, _, rp1, _ = two_rps
    freed = rps.collections.delete(rp1.collection_id)
    assert rps.list() == [] and freed > 0
    assert store_bytes(fabric) == 0
