"""``bcdr schedule tick|run|next`` on a real fabric and state (``protection_world``).

Ticks run in-process (``CliRunner``) with ``-at`` across simulated days and weeks; ``schedule
run`` runs in a subprocess on the real clock and is stopped with SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.protection import (
    Backup,
    BackupPolicy,
    RetentionDaily,
    RetentionWeekly,
    dotnet_ticks,
)
from tests.cli.protection_world import (
    ADDRESS,
    TASK_ID,
    build,
    files_under,
    secrets_in,
    utc,
)

REPO = Path(__file__).resolve().parents[2]
DAILY = BackupPolicy(backup=Backup("Daily", "02:00"), retention_daily=RetentionDaily(7))
Z = "%Y-%m-%dT%H:%M:%SZ"


def z(moment: datetime) -> str:
    return moment.strftime(Z)


def test_backups_run_at_the_policy_times_only_across_a_dst_change(workdir):
    # 02:30 in Berlin: 01:30Z in winter time, 00:30Z in summer time; on 2027-03-28 02:30
    # does not exist and the backup runs at 03:00 local (01:00Z), the instant of the change
    policy = BackupPolicy(
        backup=Backup("Daily", "02:30"), timezone="Europe/Berlin", retention_daily=RetentionDaily(7)
    )
    w = build(workdir, policy, since=utc(2027, 3, 26, 12))
    ran: dict[str, str] = {}
    moment = utc(2027, 3, 26, 12)
    while moment <= utc(2027, 3, 30, 6):
        report = w.tick(z(moment))
        for job in report["jobs"]:
            ran[job["scheduled_start"]] = report["at"]
        assert report["missed"] == []
        moment += timedelta(hours=1)
    assert ran == {  # each slot once, run by the first hourly tick at or after it
        "2027-03-27T01:30:00Z": "2027-03-27T02:00:00Z",
        "2027-03-28T01:00:00Z": "2027-03-28T01:00:00Z",
        "2027-03-29T00:30:00Z": "2027-03-29T01:00:00Z",
        "2027-03-30T00:30:00Z": "2027-03-30T01:00:00Z",
    }
    jobs = w.json("backup", "jobs")
    assert [j["scheduled_start"] for j in jobs] == sorted(ran)


def test_a_second_tick_for_the_same_time_runs_nothing(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1))
    first = w.tick("2027-01-01T03:00:00Z")
    assert [j["scheduled_start"] for j in first["jobs"]] == ["2027-01-01T02:00:00Z"]
    again = w.tick("2027-01-01T03:00:00Z")
    assert again["jobs"] == [] and again["missed"] == []
    assert "No backup due at 2027-01-01T03:00:00Z." in w.ok(
        "schedule", "tick", "-at", "2027-01-01 03:00"
    )
    assert len(w.json("backup", "jobs")) == 1


def test_missed_slots_are_caught_up_once_and_reported(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1))
    out = w.ok("schedule", "tick", "-at", "2027-01-05 03:00")
    assert f"{ADDRESS}: backup of 2027-01-05T02:00:00Z Succeeded" in out
    assert f"{ADDRESS}: 4 earlier slots missed while no scheduler ran; caught up by one" in out
    assert "Next backup due at 2027-01-06T02:00:00Z." in out
    jobs = w.json("backup", "jobs")
    assert [j["scheduled_start"] for j in jobs] == ["2027-01-05T02:00:00Z"]
    assert w.ok("schedule", "next", "-at", "2027-01-05T03:00:00Z").strip() == "2027-01-06T02:00:00Z"


def test_ext_2_the_first_scheduled_backup_installs_the_snapshot_extension(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1))
    assert w.json("platform", "vm", "extensions", w.vm_id) == []
    w.tick("2027-01-01T01:00:00Z")  # nothing due yet: still nothing installed
    assert w.json("platform", "vm", "extensions", w.vm_id) == []
    w.tick("2027-01-01T02:00:00Z")
    (ext,) = w.json("platform", "vm", "extensions", w.vm_id)
    assert {k: ext[k] for k in ("publisher", "type", "type_handler_version", "state")} == {
        "publisher": "Microsoft.Azure.RecoveryServices",
        "type": "VMSnapshot",
        "type_handler_version": "1.9",
        "state": "Succeeded",
    }
    assert ext["installed_at"] == "2027-01-01T02:00:00Z"
    w.tick("2027-01-02T02:00:00Z")
    assert len(w.json("platform", "vm", "extensions", w.vm_id)) == 1  # installed once
    assert "VMSnapshot  Microsoft.Azure.RecoveryServices  VMSnapshot 1.9  Succeeded" in w.ok(
        "platform", "vm", "extensions", w.vm_id
    )


def test_ext_3_each_task_has_an_id_its_ticks_and_status_and_log_blobs(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1))
    for day in (1, 2, 3):
        w.tick(f"2027-01-0{day}T02:00:00Z")
    jobs = w.json("backup", "jobs", ADDRESS)
    assert [j["status"] for j in jobs] == ["Succeeded"] * 3
    guids = {j["task_id"].rpartition("_")[0] for j in jobs}
    assert len(guids) == 1 and all(TASK_ID.match(j["task_id"]) for j in jobs)
    assert [j["task_id"].rpartition("_")[2] for j in jobs] == ["1", "2", "3"]
    for day, job in zip((1, 2, 3), jobs, strict=True):
        assert job["scheduled_start_ticks"] == dotnet_ticks(utc(2027, 1, day, 2))
        assert job["address"] == ADDRESS and job["error"] is None
        assert job["consistency"] == "ApplicationConsistent"
        for key in ("started_at", "finished_at"):
            datetime.strptime(job[key], Z)  # RFC 3339 UTC
    assert jobs[0]["bytes_stored"] > 0  # the first backup stores the disks' blocks
    task = jobs[1]["task_id"]
    log = w.ok("backup", "logs", task)
    assert f"{task} Backup of {w.vm_id} scheduled at 2027-01-02T02:00:00Z started" in log
    assert log.rstrip().endswith(f"{task} finished: Succeeded")
    status = json.loads(w.ok("backup", "logs", "-status", task))
    assert status["taskId"] == task and status["status"] == "Succeeded"
    assert status["scheduledStartTicks"] == jobs[1]["scheduled_start_ticks"]
    unknown = w.ok("backup", "logs", "nope_1", code=1)
    assert "job nope_1 does not exist" in unknown


def test_ext_4_protected_settings_are_in_no_file_of_bcdr_and_no_output(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1))
    outputs = [w.ok("schedule", "tick", "-at", f"2027-01-0{d} 03:00") for d in (1, 2, 3)]
    outputs.append(w.ok("backup", "now", ADDRESS))
    jobs = w.json("backup", "jobs")
    outputs.append(json.dumps(jobs))
    for job in jobs:
        outputs += [w.ok("backup", "logs", job["task_id"])]
        outputs += [w.ok("backup", "logs", "-status", job["task_id"])]
    outputs += [w.ok("backup", "list", ADDRESS), w.ok("backup", "list", ADDRESS, "-json")]
    outputs += [w.ok("backup", "jobs"), w.ok("platform", "vm", "extensions", w.vm_id, "-json")]
    outputs += [w.ok("platform", "show", w.vm_id), w.ok("platform", "list")]
    # what is looked for is really there, sealed: the task's own side opens it
    p = w.protection()
    try:
        sealed = p.job_rows.sealed(jobs[0]["task_id"])
        opened = p.sealer.open(jobs[0]["task_id"], "protectedSettings", sealed)
    finally:
        p.fabric.close()
    assert set(secrets_in(opened)) == {
        b"objectStr",
        b"blobSASUri",
        b"logsBlobUri",
        b"statusBlobUri",
        b"sig=",
    }
    assert secrets_in(sealed) == []
    files = files_under(workdir / ".bcdr")
    assert any(f.name == "fabric.db" for f in files)
    assert {str(f): secrets_in(f.read_bytes()) for f in files if secrets_in(f.read_bytes())} == {}
    assert [o for o in outputs if secrets_in(o.encode())] == []


def test_ext_1_a_failing_guest_hook_gives_a_crash_consistent_point_with_a_warning(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1), guest_hooks={"pre_snapshot": "exit 3"})
    out = w.ok("schedule", "tick", "-at", "2027-01-01 03:00")
    assert "CompletedWithWarnings, task" in out and "CrashConsistent" in out
    (job,) = w.json("backup", "jobs")
    assert job["status"] == "CompletedWithWarnings" and job["consistency"] == "CrashConsistent"
    assert job["warnings"] and "exit" in job["warnings"][0]
    (point,) = w.json("backup", "list", ADDRESS)
    assert point["consistency"] == "CrashConsistent"


def test_retention_after_three_weeks_of_daily_ticks_keeps_the_hand_worked_points(workdir):
    policy = BackupPolicy(
        backup=Backup("Daily", "02:00"),
        instant_restore_retention_days=1,
        retention_daily=RetentionDaily(7),
        retention_weekly=RetentionWeekly(2, ("Sunday",)),
    )
    w = build(workdir, policy, since=utc(2027, 1, 1))
    for day in range(1, 22):  # 2027-01-01 (a Friday) to 2027-01-21, 03:00 UTC
        w.tick(f"2027-01-{day:02d}T03:00:00Z")
    points = w.json("backup", "list", ADDRESS, "-at", "2027-01-21T03:00:00Z")
    # judged on 2027-01-21 03:00: daily 7 keeps a day's point until 02:00 seven days on
    # (the 15th to the 21st); weekly 2 keeps a Sunday's until two weeks on (the 10th, until
    # the 24th; the 17th, until the 31st; the 3rd ended on the 17th); the 21st's is still
    # in the instant tier (one day), the others moved to the vault's store
    table = [
        ("2027-01-21", ["daily"], "Snapshot", "2027-01-28"),
        ("2027-01-20", ["daily"], "VaultStandard", "2027-01-27"),
        ("2027-01-19", ["daily"], "VaultStandard", "2027-01-26"),
        ("2027-01-18", ["daily"], "VaultStandard", "2027-01-25"),
        ("2027-01-17", ["daily", "weekly"], "VaultStandard", "2027-01-31"),
        ("2027-01-16", ["daily"], "VaultStandard", "2027-01-23"),
        ("2027-01-15", ["daily"], "VaultStandard", "2027-01-22"),
        ("2027-01-10", ["weekly"], "VaultStandard", "2027-01-24"),
    ]
    got = [(p["time"][:10], p["kept_by"], p["tier"], p["expires_at"][:10]) for p in points]
    assert got == table
    taken = {j["scheduled_start"]: j["recovery_point_id"] for j in w.json("backup", "jobs")}
    assert [p["id"] for p in points] == [taken[p["time"]] for p in points]
    # the pruned ones are soft-deleted (the vault's default), listed with -deleted
    deleted = w.json("backup", "list", ADDRESS, "-deleted", "-at", "2027-01-21T03:00:00Z")
    gone = sorted(p["time"][:10] for p in deleted if p["deleted_at"])
    assert gone == [f"2027-01-{d:02d}" for d in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14)]


def test_a_state_without_vaults_schedules_nothing(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1))
    (workdir / ".bcdr" / "state.db").unlink()
    out = w.ok("schedule", "tick", "-at", "2027-01-02 03:00")
    assert "This state has no recovery_services_vault: no backups are scheduled." in out
    report = w.tick("2027-01-02T03:00:00Z")
    assert report["jobs"] == [] and report["next_due"] is None
    assert w.json("backup", "jobs") == []  # the fabric's item was not ticked


def test_a_time_that_is_not_one_is_refused_with_the_forms_to_use(workdir):
    w = build(workdir, DAILY, since=utc(2027, 1, 1))
    result = w.bcdr("schedule", "tick", "-at", "tomorrow")
    assert result.exit_code == 2
    assert "'tomorrow' is not a time: give RFC 3339 (2027-03-28T01:00:00Z) or YYYY-MM-DD" in (
        result.output
    )


# ------------------------------------------------------------------ schedule run
def _run(workdir: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "-chdir",
            str(workdir),
            "schedule",
            "run",
            "-no-color",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for(proc: subprocess.Popen, text: str, timeout: float = 30) -> str:
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
        if text in line:
            return seen
    proc.kill()
    raise AssertionError(f"{text!r} never came; output so far:\n{seen}{proc.stderr.read()}")


def _wait_file(path: Path, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError(f"{path} never came: {proc.communicate()}")
        time.sleep(0.05)


def test_schedule_run_stops_promptly_on_sigterm_while_idle(workdir):
    build(workdir, DAILY, since=datetime.now(UTC))  # nothing due for hours
    proc = _run(workdir)
    _wait_for(proc, "Next due:")
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert time.monotonic() - sent < 5
    assert "Stopped: the schedule is not running." in out


def test_schedule_run_lets_the_running_job_finish_on_sigterm(workdir):
    started = workdir / "hook-started"
    w = build(
        workdir,
        DAILY,
        since=datetime.now(UTC) - timedelta(days=2),  # a slot is due at once
        guest_hooks={"pre_snapshot": f"touch {started}; sleep 2", "timeout_seconds": 30},
    )
    proc = _run(workdir)
    _wait_file(started, proc)
    proc.send_signal(signal.SIGTERM)  # during the job's guest hook
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Succeeded, task" in out and "Stopped: the schedule is not running." in out
    (job,) = w.json("backup", "jobs")
    assert job["status"] == "Succeeded" and job["consistency"] == "ApplicationConsistent"
    assert len(w.json("backup", "list", ADDRESS)) == 1


def test_schedule_run_stops_at_once_on_a_second_signal(workdir):
    started = workdir / "hook-started"
    w = build(
        workdir,
        DAILY,
        since=datetime.now(UTC) - timedelta(days=2),
        guest_hooks={"pre_snapshot": f"touch {started}; sleep 8", "timeout_seconds": 60},
    )
    proc = _run(workdir)
    _wait_file(started, proc)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 10
    assert proc.returncode == 130, (out, err)
    assert "Stopped at once (a second signal); interrupted 1 backup, recorded Failed" in out
    (job,) = w.json("backup", "jobs")
    assert job["status"] == "Failed" and "second signal" in job["error"]
    assert w.json("backup", "list", ADDRESS) == []  # nothing half-made is listed
    with sqlite3.connect(w.home / "fabric.db") as db:
        assert db.execute("SELECT COUNT(*) FROM bk_points").fetchone()[0] == 0
