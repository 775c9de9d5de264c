"""Retention through the service: a simulated year of daily ticks keeps exactly the
hand-worked table of the pure retention's tests; soft delete (VLT-13) and immutability
(VLT-12) refusing and recovering; recovery points surviving their protection and their VM."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import CoreError, NotFound
from core.protection import Backup, BackupPolicy, RetentionDaily, VaultSettings
from tests.core import fixtures_protection
from tests.core.fixtures_protection import KiB, Site, utc
from tests.core.test_protection_retention import SMALL, YEAR_END

site = fixtures_protection.site  # the fixture


def days(infos) -> dict[str, set[str]]:
    return {f"{i.time:%Y-%m-%d}": set(i.kept_by) for i in infos}


def test_a_year_of_daily_ticks_keeps_the_hand_worked_table(site: Site) -> None:
    settings = VaultSettings("LocallyRedundant", soft_delete=True)
    _vault, _policy, item_id = site.setup(
        policy=SMALL, settings=settings, at=utc(2024, 12, 31, 12), data_disks=0, size=64 * KiB
    )
    vm_id = site.p.get_item(item_id).vm_id
    os_disk = site.fabric.get_resource(vm_id)["properties"]["os_disk_id"]
    at, pruned, purged, tiered = utc(2025, 1, 1, 2), 0, 0, 0
    while at <= utc(2025, 12, 31, 2):  # one tick a day, as `schedule tick --at` would
        site.disks.write(os_disk, 0, f"{at:%Y-%m-%d}".encode())  # each day's own bytes
        report = site.p.tick(at)
        assert len(report.jobs) == 1 and report.jobs[0].status == "Succeeded"
        pruned, purged = pruned + len(report.pruned), purged + len(report.purged)
        tiered += len(report.tiered)
        at += timedelta(days=1)
    now = utc(2025, 12, 31, 12)
    kept = site.p.recovery_points(item_id, now=now)
    assert days(kept) == YEAR_END
    assert [f"{i.time:%m-%d}" for i in kept if i.tier == "Snapshot"] == ["12-31", "12-30"]
    assert tiered == 363  # every point but the last two left the snapshot tier
    # the pruned points were soft-deleted and purged 14 days later
    assert pruned == 365 - len(YEAR_END)
    deleted = [i for i in site.p.recovery_points(item_id, include_deleted=True, now=now)]
    assert len(deleted) - len(kept) == pruned - purged == 14
    assert len(site.rps.list(site.p.get_item(item_id).collection_id)) == len(deleted)
    # the newest point restores the last day's bytes, from the snapshot tier
    newest = site.rps.get(kept[0].id).disk_restore_points[0]
    with site.rps.open_disk_restore_point(newest.id) as reader:
        assert reader.read(0, 10) == b"2025-12-31"
    oldest = site.rps.get(kept[-1].id).disk_restore_points[0]  # 5 January, vault tier
    with site.rps.open_disk_restore_point(oldest.id) as reader:
        assert reader.read(0, 10) == b"2025-01-05"


def test_soft_delete_keeps_a_deleted_point_14_days(site: Site) -> None:
    _vault, _policy, item_id = site.setup()
    job = site.p.backup_now(item_id, at=utc(2025, 1, 1, 12))
    rp_id = job.recovery_point_id
    site.p.delete_recovery_point(rp_id, at=utc(2025, 1, 2))
    assert site.p.recovery_points(item_id, now=utc(2025, 1, 2)) == []
    (gone,) = site.p.recovery_points(item_id, include_deleted=True, now=utc(2025, 1, 2))
    assert gone.deleted_at == utc(2025, 1, 2)
    with pytest.raises(CoreError, match="deleted already"):
        site.p.delete_recovery_point(rp_id, at=utc(2025, 1, 3))
    back = site.p.undelete(rp_id, at=utc(2025, 1, 15, 23))  # within the 14 days
    assert back.deleted_at is None and back.retain_until == utc(2025, 1, 31, 12)
    site.p.delete_recovery_point(rp_id, at=utc(2025, 1, 16))
    assert site.p.tick(utc(2025, 1, 29, 23)).purged == ()
    with pytest.raises(CoreError, match="14 days of soft delete are over"):  # VLT-13
        site.p.undelete(rp_id, at=utc(2025, 1, 30, 1))
    assert site.p.tick(utc(2025, 1, 30, 1)).purged == (rp_id,)
    with pytest.raises(NotFound):
        site.rps.get(rp_id)
    left = site.p.recovery_points(item_id, include_deleted=True, now=utc(2025, 2, 1))
    assert rp_id not in {i.id for i in left}  # (the ticks took scheduled backups meanwhile)


def test_without_soft_delete_a_delete_is_final(site: Site) -> None:
    settings = VaultSettings("LocallyRedundant", soft_delete=False)
    _vault, _policy, item_id = site.setup(settings=settings)
    job = site.p.backup_now(item_id, at=utc(2025, 1, 1, 12))
    site.p.delete_recovery_point(job.recovery_point_id)
    with pytest.raises(NotFound):
        site.rps.get(job.recovery_point_id)
    with pytest.raises(NotFound):
        site.p.undelete(job.recovery_point_id)


def test_an_immutable_vault_refuses_deletes_and_never_prunes_early(site: Site) -> None:
    settings = VaultSettings("LocallyRedundant", immutability="Locked")
    vault, policy_id, item_id = site.setup(settings=settings, at=utc(2025, 1, 1))
    first = site.p.tick(utc(2025, 1, 1, 2)).jobs[0].recovery_point_id
    with pytest.raises(CoreError, match="is immutable"):  # VLT-12
        site.p.delete_recovery_point(first)
    with pytest.raises(CoreError, match="is immutable"):
        site.p.unprotect(item_id, retain_data=False)
    # a shorter retention applies to new points; the one taken stays until its first expiry
    long = BackupPolicy(backup=Backup("Daily", "02:00"), retention_daily=RetentionDaily(30))
    site.p.put_policy(policy_id, vault, long)
    site.p.tick(utc(2025, 1, 2, 2))  # promised: kept until 31 January 02:00
    site.p.put_policy(policy_id, vault, fixtures_protection.DAILY)  # 7 days
    at = utc(2025, 1, 3, 2)
    while at <= utc(2025, 1, 30, 2):
        report = site.p.tick(at)
        assert first not in report.pruned
        at += timedelta(days=1)
    (info,) = [i for i in site.p.recovery_points(item_id, now=at) if i.id == first]
    assert info.expires_at == utc(2025, 1, 31, 2)
    assert first in site.p.tick(utc(2025, 1, 31, 2)).pruned  # at its promised expiry
    # BackupsSuspended: no backups, retention still runs (an immutable vault allows it)
    site.p.update_item(
        item_id, policy_id=policy_id, exclude_disk_luns=(), include_disk_luns=(),
        state="BackupsSuspended",
    )  # fmt: skip
    assert site.p.tick(utc(2025, 2, 1, 2)).jobs == ()


def test_points_outlive_the_protection_and_the_vm(site: Site) -> None:
    vault, _policy, item_id = site.setup(at=utc(2025, 1, 1))
    item = site.p.get_item(item_id)
    props = site.fabric.get_resource(item.vm_id)["properties"]
    data_disk = props["data_disk_ids"][0]
    original = site.disks.get(data_disk).path.read_bytes()
    job = site.p.tick(utc(2025, 1, 1, 2)).jobs[0]
    site.p.unprotect(item_id)  # retain_data: the points stay, kept until deleted
    with pytest.raises(NotFound):
        site.p.get_item(item_id)
    # the VM and its disks go
    site.fabric.delete_resource(item.vm_id)
    for disk_id in [props["os_disk_id"], *props["data_disk_ids"]]:
        site.disks.delete(disk_id)
    report = site.p.tick(utc(2026, 6, 1, 2))  # long after any retention
    assert report.pruned == () and report.jobs == ()
    (point,) = site.p.recovery_points(item_id, now=utc(2026, 6, 1, 3))
    assert point.id == job.recovery_point_id and point.kept_by == ("retain_data",)
    assert point.tier == "VaultStandard"
    drp = [d for d in site.rps.get(point.id).disk_restore_points if d.disk_id == data_disk][0]
    restored = site.rps.restore_disk(
        drp.id, subscription=site.sub, resource_group="rg", region="eastus", name="after"
    )
    assert restored.path.read_bytes() == original
    with pytest.raises(CoreError, match="still holds 1 recovery point"):
        site.p.delete_vault(vault)
    site.p.delete_recovery_point(point.id, at=utc(2026, 6, 2))
    site.p.tick(utc(2026, 6, 17))  # purged after 14 days
    site.p.delete_vault(vault)


def test_unprotect_without_data_deletes_the_points_softly(site: Site) -> None:
    vault, _policy, item_id = site.setup(at=utc(2025, 1, 1))
    job = site.p.tick(utc(2025, 1, 1, 2)).jobs[0]
    site.p.unprotect(item_id, retain_data=False, at=utc(2025, 1, 1, 3))
    (gone,) = site.p.recovery_points(item_id, include_deleted=True, now=utc(2025, 1, 2))
    assert gone.deleted_at == utc(2025, 1, 1, 3)
    site.p.undelete(job.recovery_point_id, at=utc(2025, 1, 2))
    assert [i.id for i in site.p.recovery_points(item_id)] == [job.recovery_point_id]


def test_a_failed_vm_keeps_its_points_restorable(site: Site) -> None:
    """A protected VM that is deleted fails its jobs; its points stay."""
    _vault, _policy, item_id = site.setup(at=utc(2025, 1, 1))
    item = site.p.get_item(item_id)
    site.p.tick(utc(2025, 1, 1, 2))
    site.fabric.delete_resource(item.vm_id)
    failed = site.p.tick(utc(2025, 1, 2, 2)).jobs[0]
    assert failed.status == "Failed" and "does not exist any more" in failed.error
    assert len(site.p.recovery_points(item_id, now=utc(2025, 1, 2, 3))) == 1
