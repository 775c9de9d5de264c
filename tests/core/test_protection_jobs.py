"""Backup jobs: the extension at the first backup (EXT-2), task ids, ticks and the status
and log blobs (EXT-3), sealed protected settings absent from every file (EXT-4), guest-hook
consistency (EXT-1), disk selection by LUN, a failed job's alert and notify_command, and
restores from a recovery point byte-identical."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from core.errors import CoreError
from core.protection import dotnet_ticks
from core.protection.runner import _open
from tests.core import fixtures_protection
from tests.core.fixtures_protection import Site, utc

site = fixtures_protection.site  # the fixture
TASK = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_(\d+)$")


def test_dotnet_ticks() -> None:
    assert dotnet_ticks(utc(1970, 1, 1)) == 621_355_968_000_000_000
    # the seed's example is "6.36458E+17" for a task of 9 November 2017
    at = utc(2017, 11, 9, 14, 23, 28)
    assert dotnet_ticks(at) == (at - utc(1, 1, 1)) // timedelta(microseconds=1) * 10
    assert f"{dotnet_ticks(at):.5E}" == "6.36458E+17"
    assert dotnet_ticks(utc(1, 1, 1)) == 0


def test_first_backup_installs_the_extension_and_writes_status_and_log(site: Site) -> None:
    _vault, _policy, item_id = site.setup()
    vm_id = site.p.get_item(item_id).vm_id
    assert site.p.extensions(vm_id) == []  # EXT-2: not at protect, at the first backup
    at = utc(2025, 1, 2, 2)
    report = site.p.tick(at)
    (job,) = report.jobs
    (ext,) = site.p.extensions(vm_id)
    assert (ext.name, ext.publisher, ext.type, ext.type_handler_version, ext.state) == (
        "VMSnapshot",
        "Microsoft.Azure.RecoveryServices",
        "VMSnapshot",
        "1.9",
        "Succeeded",
    )
    row = site.fabric.get_resource(f"{vm_id}/extensions/VMSnapshot")
    assert row["type"] == "Microsoft.Compute/virtualMachines/extensions"
    # EXT-3: task id <guid>_<n>, ticks of the scheduled start, status and log blobs
    assert TASK.match(job.task_id).group(1) == "1"
    assert (job.kind, job.status, job.scheduled_start) == ("Backup", "Succeeded", at)
    assert job.scheduled_start_ticks == dotnet_ticks(at)
    assert job.bytes_stored > 0 and job.consistency == "ApplicationConsistent"
    status = site.p.job_status(job.task_id)
    assert (status["taskId"], status["status"]) == (job.task_id, "Succeeded")
    assert status["scheduledStartTicks"] == job.scheduled_start_ticks
    assert status["recoveryPointId"] == job.recovery_point_id
    log = site.p.job_log(job.task_id)
    assert "VMSnapshot extension 1.9 installed" in log and "finished: Succeeded" in log
    second = site.p.backup_now(item_id, at=at + timedelta(hours=5))
    assert TASK.match(second.task_id).group(1) == "2"
    assert second.task_id.split("_")[0] == job.task_id.split("_")[0]
    assert second.kind == "OnDemandBackup"
    assert "installed" not in site.p.job_log(second.task_id)  # once, at the first
    assert len(site.p.extensions(vm_id)) == 1
    settings = site.p.job_rows.settings(job.task_id)
    assert settings == {
        "taskId": job.task_id,
        "commandStartTimeUTCTicks": str(job.scheduled_start_ticks),
        "locale": "en-us",
        "commandToExecute": "snapshot",
        "vmType": "microsoft.compute/virtualmachines",
    }


def test_protected_settings_are_sealed_and_in_no_file(site: Site) -> None:
    """EXT-4: objectStr (real SAS URIs), logsBlobUri and statusBlobUri are sealed at rest."""
    _vault, _policy, item_id = site.setup()
    job = site.p.backup_now(item_id, at=utc(2025, 1, 1, 12))
    opened = _open(site.p, job.task_id)  # what only the job runner does
    uris = json.loads(opened["objectStr"])["blobSASUri"]
    assert len(uris) == 2  # OS disk and the data disk
    secrets = [*uris, opened["logsBlobUri"], opened["statusBlobUri"]]
    signatures = [re.search(r"sig=([^&]+)", u).group(1) for u in secrets]
    assert all(len(s) > 20 for s in signatures)
    site.fabric.db().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files = [f for f in site.fabric.home.rglob("*") if f.is_file()]
    assert any(f.name == f"{job.task_id}.status.json" for f in files)
    for f in files:
        data = f.read_bytes()
        for needle in [*secrets, *signatures]:
            assert needle.encode() not in data, f"{needle[:30]}... is in {f}"
    text = json.dumps(job.to_json()) + site.p.job_log(job.task_id)
    text += json.dumps(site.p.job_status(job.task_id))
    assert not any(s in text for s in signatures) and "blob.core" not in text
    # the disk URIs were real SAS grants of the new point, revoked when the task ended
    drp_ids = {d.id for d in site.rps.get(job.recovery_point_id).disk_restore_points}
    assert {site.p.access.ended(d) for d in drp_ids} == {"revoked"}


def test_hooks_give_the_consistency_on_job_and_point(site: Site, tmp_path) -> None:
    """EXT-1: hooks quiesce and resume; a failing hook gives crash-consistent with a warning."""
    marks = tmp_path / "marks"
    hooks = {
        "pre_snapshot": f"echo pre >> {marks}",
        "post_snapshot": f"echo post >> {marks}",
        "timeout_seconds": 5,
    }
    _vault, _policy, item_id = site.setup(guest_hooks=hooks)
    job = site.p.backup_now(item_id, at=utc(2025, 1, 1, 12))
    assert marks.read_text().split() == ["pre", "post"]
    assert (job.status, job.consistency, job.warnings) == ("Succeeded", "ApplicationConsistent", ())
    vm_id = site.p.get_item(item_id).vm_id
    row = site.fabric.get_resource(vm_id)
    row["properties"]["guest_hooks"] = {"pre_snapshot": "exit 3", "timeout_seconds": 5}
    site.fabric.put_resource(vm_id, row["type"], row["region"], row["properties"])
    failed_hook = site.p.backup_now(item_id, at=utc(2025, 1, 1, 13))
    assert (failed_hook.status, failed_hook.consistency) == (
        "CompletedWithWarnings",
        "CrashConsistent",
    )
    assert "exit status 3" in failed_hook.warnings[0]
    (point, _) = site.p.recovery_points(item_id, now=utc(2025, 1, 1, 14))
    assert point.consistency == "CrashConsistent"
    assert site.rps.get(point.id).warnings == list(failed_hook.warnings)


def test_disks_are_chosen_by_lun(site: Site) -> None:
    _vault, policy_id, item_id = site.setup(data_disks=3)
    item = site.p.update_item(
        item_id,
        policy_id=policy_id,
        exclude_disk_luns=(1,),
        include_disk_luns=(),
        state="Protected",
    )
    job = site.p.backup_now(item.id, at=utc(2025, 1, 1, 12))
    names = [d.disk_name for d in site.rps.get(job.recovery_point_id).disk_restore_points]
    assert names == ["web-os", "web-data0", "web-data2"]
    site.p.update_item(
        item_id,
        policy_id=policy_id,
        exclude_disk_luns=(),
        include_disk_luns=(2,),
        state="Protected",
    )
    job = site.p.backup_now(item.id, at=utc(2025, 1, 1, 13))
    names = [d.disk_name for d in site.rps.get(job.recovery_point_id).disk_restore_points]
    assert names == ["web-os", "web-data2"]


def test_a_recovery_point_restores_byte_identical(site: Site) -> None:
    _vault, _policy, item_id = site.setup()
    vm_id = site.p.get_item(item_id).vm_id
    data_disk = site.fabric.get_resource(vm_id)["properties"]["data_disk_ids"][0]
    before = site.disks.get(data_disk).path.read_bytes()
    job = site.p.backup_now(item_id, at=utc(2025, 1, 1, 12))
    site.disks.write(data_disk, 0, b"changed after the backup" * 100)
    drp = [
        d for d in site.rps.get(job.recovery_point_id).disk_restore_points if d.disk_id == data_disk
    ][0]
    restored = site.rps.restore_disk(
        drp.id, subscription=site.sub, resource_group="rg", region="eastus", name="back"
    )
    assert restored.path.read_bytes() == before


def test_a_failed_job_is_an_alert_and_runs_notify_command(site: Site, tmp_path) -> None:
    out = tmp_path / "notified.json"
    settings = fixtures_protection.VaultSettings("LocallyRedundant", notify_command=f"cat > {out}")
    vault, _policy, item_id = site.setup(settings=settings)
    item = site.p.get_item(item_id)
    os_disk = site.fabric.get_resource(item.vm_id)["properties"]["os_disk_id"]
    site.disks.delete(os_disk)  # the VM's disk is gone
    report = site.p.tick(utc(2025, 1, 2, 2))  # never raises
    (job,) = report.jobs
    assert job.status == "Failed" and "does not exist" in job.error
    assert not job.acknowledged and job.recovery_point_id is None
    assert [j.task_id for j in site.p.jobs(failed_only=True)] == [job.task_id]
    notified = json.loads(out.read_text())
    assert (notified["task_id"], notified["status"]) == (job.task_id, "Failed")
    assert notified["error"] == job.error
    assert site.p.job_status(job.task_id)["status"] == "Failed"
    assert "failed:" in site.p.job_log(job.task_id)
    (ext,) = site.p.extensions(item.vm_id)
    assert ext.state == "Failed"
    assert site.p.acknowledge() == 1 and site.p.acknowledge() == 0
    assert site.p.job(job.task_id).acknowledged
    # a failing notify_command is a warning on the job, not a failure of the tick
    site.p.update_vault(
        vault, fixtures_protection.VaultSettings("LocallyRedundant", notify_command="exit 7")
    )
    (again,) = site.p.tick(utc(2025, 1, 3, 2)).jobs
    assert again.status == "Failed"
    assert any("notify_command failed with exit status 7" in w for w in again.warnings)
    with pytest.raises(CoreError):
        site.p.job("nope_1")
