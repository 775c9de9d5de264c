"""The schedule's tick over simulated days and weeks: backups at the policy's times only
(time zones and DST, IANA and Windows names), missed slots run once and reported, a tick
repeated for the same instant doing nothing, policy changes from the next slot, stopped and
suspended items, ``stop`` between jobs, and tiering into the vault's store (VLT tiers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.protection import (
    Backup,
    BackupPolicy,
    RetentionDaily,
    RetentionWeekly,
    VaultSettings,
)
from tests.core import fixtures_protection
from tests.core.fixtures_protection import DAILY, Site, utc

site = fixtures_protection.site  # the fixture


def ticks(site: Site, start: datetime, end: datetime, step: timedelta) -> list:
    reports = []
    at = start
    while at <= end:
        reports.append(site.p.tick(at))
        at += step
    return reports


def backup_times(reports) -> list[datetime]:
    return [j.scheduled_start for r in reports for j in r.jobs]


def test_daily_backups_at_the_policy_time_only(site: Site) -> None:
    _vault, _policy, item_id = site.setup(at=utc(2025, 3, 1))
    reports = ticks(site, utc(2025, 3, 1, 0, 30), utc(2025, 3, 4, 23, 30), timedelta(hours=1))
    assert backup_times(reports) == [utc(2025, 3, d, 2) for d in (1, 2, 3, 4)]
    assert all(r.missed == () for r in reports)
    assert site.p.get_item(item_id).last_backup_at == utc(2025, 3, 4, 2)
    again = site.p.tick(utc(2025, 3, 4, 23, 30))  # the same instant again: nothing twice
    assert again.jobs == () and again.missed == ()


def test_berlin_across_the_spring_and_autumn_changes(site: Site) -> None:
    berlin = BackupPolicy(
        backup=Backup("Daily", "02:30"), timezone="Europe/Berlin", retention_daily=RetentionDaily(7)
    )
    site.setup(policy=berlin, at=utc(2025, 3, 28))
    reports = ticks(site, utc(2025, 3, 28, 0, 15), utc(2025, 3, 31, 23, 45), timedelta(minutes=30))
    # 02:30 local: CET is UTC+1, CEST UTC+2; on 30 March 02:30 does not exist -> 03:00 CEST
    assert backup_times(reports) == [
        utc(2025, 3, 28, 1, 30),
        utc(2025, 3, 29, 1, 30),
        utc(2025, 3, 30, 1, 0),
        utc(2025, 3, 31, 0, 30),
    ]


def test_new_york_by_its_windows_name_in_the_autumn(site: Site) -> None:
    eastern = BackupPolicy(
        backup=Backup("Daily", "01:30"),
        timezone="Eastern Standard Time",
        retention_daily=RetentionDaily(7),
    )
    site.setup(policy=eastern, at=utc(2025, 11, 1))
    reports = ticks(site, utc(2025, 11, 1, 0, 10), utc(2025, 11, 3, 23, 10), timedelta(hours=1))
    # 01:30 EDT (UTC-4) on 1 and 2 November (the first of the two 01:30s), then EST (UTC-5)
    assert backup_times(reports) == [
        utc(2025, 11, 1, 5, 30),
        utc(2025, 11, 2, 5, 30),
        utc(2025, 11, 3, 6, 30),
    ]


def test_weekly_backups_over_weeks(site: Site) -> None:
    weekly = BackupPolicy(
        backup=Backup("Weekly", "23:00", weekdays=("Wednesday", "Sunday")),
        retention_weekly=RetentionWeekly(4, ("Wednesday", "Sunday")),
    )
    site.setup(policy=weekly, at=utc(2025, 6, 1))  # a Sunday
    reports = ticks(site, utc(2025, 6, 1, 12), utc(2025, 6, 22, 12), timedelta(hours=12))
    got = backup_times(reports)
    assert [f"{t:%a %d}" for t in got] == [
        "Sun 01", "Wed 04", "Sun 08", "Wed 11", "Sun 15", "Wed 18",
    ]  # fmt: skip
    assert {t.hour for t in got} == {23}


def test_missed_slots_run_once_and_are_reported(site: Site) -> None:
    _vault, _policy, item_id = site.setup(at=utc(2025, 1, 1))
    first = site.p.tick(utc(2025, 1, 1, 3))
    assert backup_times([first]) == [utc(2025, 1, 1, 2)]
    late = site.p.tick(utc(2025, 1, 5, 9))  # down for four days
    assert backup_times([late]) == [utc(2025, 1, 5, 2)]
    assert late.missed == ((item_id, 3),)
    assert site.p.tick(utc(2025, 1, 5, 9)).jobs == ()


def test_a_policy_change_applies_from_the_next_slot(site: Site) -> None:
    vault, _policy, item_id = site.setup(at=utc(2025, 1, 1))
    site.p.tick(utc(2025, 1, 1, 12))
    late = f"{vault}/backupPolicies/late"
    site.p.put_policy(
        late,
        vault,
        BackupPolicy(backup=Backup("Daily", "20:00"), retention_daily=RetentionDaily(7)),
    )
    site.p.update_item(
        item_id, policy_id=late, exclude_disk_luns=(), include_disk_luns=(), state="Protected"
    )
    reports = ticks(site, utc(2025, 1, 1, 13), utc(2025, 1, 3, 1), timedelta(hours=4))
    assert backup_times(reports) == [utc(2025, 1, 1, 20), utc(2025, 1, 2, 20)]
    assert all(r.missed == () for r in reports)


def test_stopped_and_suspended_items_take_no_backups(site: Site) -> None:
    settings = VaultSettings("LocallyRedundant", immutability="Unlocked")
    _vault, policy_id, item_id = site.setup(settings=settings, at=utc(2025, 1, 1))
    for state in ("ProtectionStopped", "BackupsSuspended"):
        site.p.update_item(
            item_id, policy_id=policy_id, exclude_disk_luns=(), include_disk_luns=(), state=state
        )
        start = site.p.tick(
            utc(2025, 1, 1, 12) if state == "ProtectionStopped" else utc(2025, 1, 3, 12)
        )
        assert start.jobs == ()
    site.p.update_item(
        item_id, policy_id=policy_id, exclude_disk_luns=(), include_disk_luns=(), state="Protected"
    )
    resumed = site.p.tick(utc(2025, 1, 4, 12))
    assert backup_times([resumed]) == [utc(2025, 1, 4, 2)]
    assert resumed.missed == ()  # the slots it was stopped for are not "missed"


def test_stop_is_honoured_between_jobs(site: Site) -> None:
    vault, policy_id, _item = site.setup(at=utc(2025, 1, 1))
    other = site.vm("db")
    site.p.protect(vault, other, policy_id, at=utc(2025, 1, 1))
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 1  # true after the first job

    report = site.p.tick(utc(2025, 1, 1, 3), stop=stop)
    assert len(report.jobs) == 1 and report.stopped
    rest = site.p.tick(utc(2025, 1, 1, 3))  # the next tick runs the other one
    assert len(rest.jobs) == 1 and rest.jobs[0].item_id != report.jobs[0].item_id


def test_tiering_moves_points_into_the_vault_store_and_restores_stay_identical(site: Site) -> None:
    policy = BackupPolicy(
        backup=Backup("Daily", "02:00"),
        retention_daily=RetentionDaily(7),
        instant_restore_retention_days=2,
    )
    _vault, _policy, item_id = site.setup(policy=policy, at=utc(2025, 1, 1))
    vm_id = site.p.get_item(item_id).vm_id
    data_disk = site.fabric.get_resource(vm_id)["properties"]["data_disk_ids"][0]
    original = site.disks.get(data_disk).path.read_bytes()
    (job,) = site.p.tick(utc(2025, 1, 1, 2)).jobs
    site.disks.write(data_disk, 65536, b"day two" * 1000)  # one block changes
    site.p.tick(utc(2025, 1, 2, 2))
    rp_id = job.recovery_point_id
    (point,) = [i for i in site.p.recovery_points(item_id) if i.id == rp_id]
    assert point.tier == "Snapshot"
    report = site.p.tick(utc(2025, 1, 3, 2))  # the first point's two instant days are over
    assert report.tiered == (rp_id,)
    rp = site.rps.get(rp_id)
    assert rp.id == rp_id and rp.store == "vaults/bk/vault1"
    (point,) = [i for i in site.p.recovery_points(item_id) if i.id == rp_id]
    assert point.tier == "VaultStandard"
    drp = [d for d in rp.disk_restore_points if d.disk_id == data_disk][0]
    # the vault store holds every block; the snapshot tier no longer names the point (its
    # gc keeps only what the points still there use)
    vault_store = site.rps.stores.get("eastus", site.sub, "vaults/bk/vault1")
    _size, ids = vault_store.get_manifest(drp.manifest, drp.size_bytes)
    assert vault_store.lacking(ids)[0] == []
    in_snapshot = {row[2] for row in site.rps.catalog.manifests("eastus", site.sub)}
    assert rp_id not in in_snapshot and len(in_snapshot) == 2
    restored = site.rps.restore_disk(
        drp.id, subscription=site.sub, resource_group="rg", region="eastus", name="tiered"
    )
    assert restored.path.read_bytes() == original
    # the second point tiers next: only the blocks the vault store lacks are sent
    second = site.p.tick(utc(2025, 1, 4, 2))
    assert len(second.tiered) == 1
    vault_store = site.fabric.store_dir("eastus", site.sub, "vaults/bk/vault1")
    assert (vault_store / "index.db").exists()
    assert site.rps.maintenance.verify().problems == []


def test_next_due(site: Site) -> None:
    assert site.p.next_due(utc(2025, 1, 1)) is None
    site.setup(policy=DAILY, at=utc(2025, 1, 1))
    assert site.p.next_due(utc(2025, 1, 1, 3)) == utc(2025, 1, 2, 2)
    assert site.p.next_due(datetime(2025, 1, 1, 1, tzinfo=UTC)) == utc(2025, 1, 1, 2)
