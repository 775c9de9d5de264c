"""``bcdr backup now|list|jobs|ack|logs|delete|undelete`` on a real fabric and state.

The protected VM is built by ``protection_world``; time moves with ``schedule tick -at``.
"""

from __future__ import annotations

import json
import random

from core.protection import Backup, BackupPolicy, RetentionDaily, VaultSettings
from state import StateStore
from tests.cli.protection_world import ADDRESS, KiB, build, sha256, utc

DAILY = BackupPolicy(backup=Backup("Daily", "02:00"), retention_daily=RetentionDaily(7))


def test_backup_now_and_list_show_the_point_with_its_expiry(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1))
    out = w.ok("backup", "now", ADDRESS, "-retain-until", "2027-06-30")
    assert f"Backed up {ADDRESS}: task " in out and "Succeeded, ApplicationConsistent" in out
    (point,) = w.json("backup", "list", ADDRESS)
    assert set(point) >= {
        "id",
        "time",
        "consistency",
        "tier",
        "bytes_stored",
        "expires_at",
        "kept_by",
    }
    assert point["expires_at"] == "2027-06-30T00:00:00Z" and point["kept_by"] == ["adhoc"]
    assert point["tier"] == "Snapshot" and point["consistency"] == "ApplicationConsistent"
    assert point["bytes_stored"] > 0
    assert f"Recovery point {point['id']}" in out
    (job,) = w.json("backup", "jobs")
    assert job["kind"] == "OnDemandBackup" and job["recovery_point_id"] == point["id"]
    listed = w.ok("backup", "list", ADDRESS)
    assert "ApplicationConsistent" in listed and "expires 2027-06-30T00:00:00Z  kept by adhoc" in (
        listed
    )
    assert "1 recovery point." in listed


def test_an_unknown_address_is_an_error_listing_the_known_ones(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1))
    for verb in ("now", "list"):
        out = w.ok("backup", verb, "backup_protected_vm.db", code=1)
        assert "No backup_protected_vm 'backup_protected_vm.db' in the state" in out
        assert f"(known: {ADDRESS})" in out
    out = w.ok("backup", "jobs", "backup_protected_vm.db", code=1)
    assert f"(known: {ADDRESS})" in out


def test_vlt_12_an_immutable_vault_refuses_to_delete_a_recovery_point(workdir):
    w = build(
        workdir,
        DAILY,
        since=utc(2027, 1, 1),
        settings=VaultSettings("LocallyRedundant", immutability="Unlocked"),
    )
    w.tick("2027-01-01T03:00:00Z")
    (point,) = w.json("backup", "list", ADDRESS)
    out = w.ok("backup", "delete", point["id"], code=1)
    assert "vault v1 is immutable (Unlocked)" in out
    assert "set the vault's immutability to Disabled first" in out
    assert [p["id"] for p in w.json("backup", "list", ADDRESS)] == [point["id"]]


def test_vlt_13_a_soft_deleted_point_is_undeleted(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1))
    w.tick("2027-01-01T03:00:00Z")
    w.tick("2027-01-02T03:00:00Z")
    newest, oldest = w.json("backup", "list", ADDRESS)
    out = w.ok("backup", "delete", oldest["id"])
    assert f"Soft-deleted {oldest['id']}: `bcdr backup undelete` brings it back" in out
    assert [p["id"] for p in w.json("backup", "list", ADDRESS)] == [newest["id"]]
    listed = w.json("backup", "list", ADDRESS, "-deleted")
    assert [p["id"] for p in listed if p["deleted_at"]] == [oldest["id"]]
    assert "is deleted already" in w.ok("backup", "delete", oldest["id"], code=1)
    out = w.ok("backup", "undelete", oldest["id"])
    assert f"Undeleted {oldest['id']} (taken 2027-01-01T02:00:00Z)." in out
    assert [p["id"] for p in w.json("backup", "list", ADDRESS)] == [newest["id"], oldest["id"]]
    assert "is not deleted" in w.ok("backup", "undelete", oldest["id"], code=1)


def _recovered(w, point_id: str, folder: str) -> dict[str, str]:
    w.ok("platform", "recover-files", point_id, "-output", folder)
    return {f.name: sha256(f.read_bytes()) for f in (w.workdir / folder).iterdir()}


def test_a_failed_job_alerts_until_acknowledged_and_points_outlive_the_vm(workdir):
    got = workdir / "notified.json"
    w = build(
        workdir,
        DAILY,
        since=utc(2027, 1, 1),
        settings=VaultSettings("LocallyRedundant", notify_command=f"cat > {got}"),
    )
    w.tick("2027-01-01T03:00:00Z")
    (point,) = w.json("backup", "list", ADDRESS)
    assert w.ok("backup", "jobs", "-failed").strip().endswith("0 failed jobs.")
    # the VM goes (its disks stay): the next backup fails, and says why
    w.ok("platform", "delete", w.vm_id)
    out = w.ok("schedule", "tick", "-at", "2027-01-02 03:00", code=2)
    assert "backup of 2027-01-02T02:00:00Z Failed" in out and "does not exist any more" in out
    (failed,) = w.json("backup", "jobs", "-failed", code=2)
    assert failed["status"] == "Failed" and failed["address"] == ADDRESS
    notified = json.loads(got.read_text())
    assert notified["task_id"] == failed["task_id"] and notified["status"] == "Failed"
    assert notified["error"] == failed["error"]
    text = w.ok("backup", "jobs", "-failed", code=2)
    assert "1 failure not acknowledged: bcdr backup ack [TASK_ID] acknowledges." in text
    assert "Acknowledged 1 failed job." in w.ok("backup", "ack")
    (acked,) = w.json("backup", "jobs", "-failed")  # exit 0 now
    assert acked["acknowledged"] is True
    assert "Acknowledged 0 failed jobs." in w.ok("backup", "ack", failed["task_id"])
    # the recovery point outlived its VM, and restores byte-identical to the disks it took
    assert [p["id"] for p in w.json("backup", "list", ADDRESS)] == [point["id"]]
    expected = {
        "web-os.img": sha256(list(w.disks.values())[0]),
        "web-data0.img": sha256(list(w.disks.values())[1]),
    }
    assert _recovered(w, point["id"], "restored") == expected


def test_points_outlive_the_protection_and_restore_byte_identical(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1), size=512 * KiB)
    w.tick("2027-01-01T03:00:00Z")
    # the guest changes a block; the next backup takes only it
    change = workdir / "change.bin"
    change.write_bytes(random.Random(7).randbytes(64 * KiB))
    os_id = next(iter(w.disks))
    w.ok("platform", "disk", "write", os_id, "-offset", "128K", "-input", str(change))
    w.tick("2027-01-02T03:00:00Z")
    second, first = w.json("backup", "list", ADDRESS)
    assert 0 < second["bytes_stored"] <= 64 * KiB < first["bytes_stored"]
    # protection stops, keeping the data (the resource's destroy), and the resource leaves
    p = w.protection()
    try:
        p.unprotect(w.item_id, retain_data=True)
    finally:
        p.fabric.close()
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        store.remove(ADDRESS)
    assert "(known: none: this state has no backup_protected_vm)" in w.ok(
        "backup", "list", ADDRESS, code=1
    )
    kept = w.json("backup", "list", w.item_id)
    assert [(p["id"], p["kept_by"]) for p in kept] == [
        (second["id"], ["retain_data"]),
        (first["id"], ["retain_data"]),
    ]
    w.tick("2027-02-01T03:00:00Z")  # no rule prunes them any more
    assert len(w.json("backup", "list", w.item_id)) == 2
    before = dict(w.disks)
    changed = bytearray(before[os_id])
    changed[128 * KiB : 192 * KiB] = change.read_bytes()
    assert _recovered(w, second["id"], "second")["web-os.img"] == sha256(bytes(changed))
    assert _recovered(w, first["id"], "first")["web-os.img"] == sha256(before[os_id])
