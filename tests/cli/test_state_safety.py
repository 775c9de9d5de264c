"""The state through the CLI: the lock never hurts its holder, a plan writes nothing, a
damaged state says how to get back, and the history of runs.

Real ``bcdr`` commands (CliRunner, and a real ``bcdr apply`` in another process holding
the lock) against real ``.bcdr/state.db`` files.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from state import StateStore
from tests.cli.conftest import (
    hold_lock,
    register_test_provider,
    release,
    run_in,
    subprocess_env,
    write,
)

SPEC = """
resource "bcdr_data" "a" {
  input = "one"
}

resource "bcdr_data" "b" {
  input = bcdr_data.a.output
}
"""

MAIN = "from engine.cli.app import main; main()"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def state_files(workdir: Path) -> list[str]:
    """What is in .bcdr/ but the parse cache (``cache/``, which only saves time)."""
    return [name for name in files(workdir / ".bcdr") if name != "cache"]


# ------------------------------------------------------------ a plan writes nothing
def test_plan_in_a_fresh_folder_creates_no_state(bcdr, workdir):
    write(workdir, SPEC)
    result = bcdr("plan", "-no-color")
    assert result.exit_code == 0, result.output
    assert "2 to add" in result.output
    assert state_files(workdir) == []  # no state.db, no lock file
    assert bcdr("drift").exit_code == 0
    assert state_files(workdir) == []
    saved = bcdr("plan", "-out", "tfplan")
    assert saved.exit_code == 0, saved.output
    assert state_files(workdir) == []
    assert files(workdir) == ["main.hcl", "tfplan"]  # the -out file: no .bcdr/ (not a cache)
    applied = bcdr("apply", "-no-color", "tfplan")  # bound to "no state yet": still none
    assert applied.exit_code == 0, applied.output
    assert "Apply complete! Resources: 2 added" in applied.output


def test_plan_out_into_a_missing_folder_says_so_and_writes_nothing(bcdr, workdir):
    write(workdir, SPEC)
    result = bcdr("plan", "-no-color", "-out", "plans/tfplan")
    assert result.exit_code == 1
    assert "Failed to write plan file" in result.output
    assert "Cannot write plans/tfplan: No such file or directory" in result.output
    assert "internal error" not in result.output
    assert files(workdir) == ["main.hcl"]


def test_plan_made_before_any_state_is_refused_once_a_state_appeared(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("plan", "-out", "tfplan").exit_code == 0
    assert bcdr("apply", "-auto-approve").exit_code == 0  # a state appears meanwhile
    refused = bcdr("apply", "-no-color", "tfplan")
    assert refused.exit_code == 1
    assert "Saved plan is for a different state" in refused.output
    assert "no state yet" in refused.output
    with StateStore.open(workdir / ".bcdr" / "state.db", read_only=True) as store:
        assert len(store.instances()) == 2  # not applied a second time


def test_plan_and_drift_leave_the_state_bytes_and_folder_as_they_were(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    write(workdir, SPEC.replace('"one"', '"two"'))  # so the plan has something to say
    state = workdir / ".bcdr" / "state.db"
    before, listing = sha(state), files(state.parent)
    for args in (("plan",), ("plan", "-refresh=false"), ("plan", "-out", "p"), ("drift",)):
        result = bcdr(*args)
        assert result.exit_code in (0, 2), result.output
        assert sha(state) == before, args
        assert files(state.parent) == listing, args  # no lock file left, no side file
    assert "state.db.lock.info" not in listing


# ------------------------------------------------------------ the lock and its holder
def _slow_apply(workdir: Path, entry_points: Path, n: int) -> subprocess.Popen:
    body = "\n".join(f'resource "test_thing" "t{i}" {{\n  name = "t{i}"\n}}\n' for i in range(n))
    (workdir / "main.hcl").write_text(body)
    args = ["-chdir", str(workdir), "apply", "-auto-approve", "-parallelism", "2", "-no-color"]
    return subprocess.Popen(
        [sys.executable, "-c", MAIN, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(entry_points, BCDR_TEST_SLEEP="0.15"),
    )


def test_refused_commands_name_the_holder_at_once_and_never_abort_its_apply(
    workdir, tmp_path_factory, test_provider
):
    n = 40
    holder = _slow_apply(workdir, register_test_provider(tmp_path_factory.mktemp("ep")), n)
    assert holder.stdout is not None
    for line in holder.stdout:  # the holder has the lock and is writing the state
        if "Creation complete" in line:
            break
    attempts: dict[str, int] = {}
    slowest = 0.0
    end = time.monotonic() + 1.0  # well inside the holder's 3 s of steps
    commands = [
        ("plan",),
        ("apply", "-auto-approve"),
        ("drift",),
        ("state", "rm", "test_thing.t0"),
        ("plan", "-refresh=false"),
    ]
    while time.monotonic() < end:
        for args in commands:
            started = time.monotonic()
            result = run_in(workdir, *args)
            slowest = max(slowest, time.monotonic() - started)
            assert result.exit_code == 1, (args, result.output)
            assert "Error acquiring the state lock" in result.output, result.output
            assert f"PID:       {holder.pid}" in result.output
            assert "Operation: apply" in result.output and "Created:" in result.output
            attempts[args[0]] = attempts.get(args[0], 0) + 1
    out, err = holder.communicate(timeout=120)
    assert holder.returncode == 0, f"the holder was aborted: {err}"
    assert f"Apply complete! Resources: {n} added" in out
    assert "internal error" not in out + err
    assert slowest < 1.0
    assert set(attempts) == {"plan", "apply", "drift", "state"}
    with StateStore.open(workdir / ".bcdr" / "state.db", read_only=True) as store:
        assert len(store.instances()) == n  # the refused state rm removed nothing
    assert not (workdir / ".bcdr" / "state.db.lock.info").exists()


def test_lock_timeout_waits_for_the_holder_then_plans(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    proc, _ = hold_lock(workdir / ".bcdr" / "state.db", "apply")
    timer = threading.Timer(0.8, release, [proc])
    timer.start()
    started = time.monotonic()
    result = bcdr("plan", "-lock-timeout=10s", "-no-color")
    waited = time.monotonic() - started
    timer.join()
    assert result.exit_code == 0, result.output
    assert "No changes." in result.output
    assert 0.7 < waited < 8


def test_lock_timeout_runs_out_and_names_the_holder(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    proc, lock_id = hold_lock(workdir / ".bcdr" / "state.db", "destroy")
    try:
        started = time.monotonic()
        result = bcdr("apply", "-auto-approve", "-lock-timeout=1s", "-no-color")
        waited = time.monotonic() - started
        assert result.exit_code == 1
        assert lock_id in result.output and "Operation: destroy" in result.output
        assert 1.0 <= waited < 4
        bad = bcdr("plan", "-lock-timeout=soon")
        assert bad.exit_code == 2
        assert "'soon' is not a duration" in bad.output and "10s" in bad.output
    finally:
        release(proc)


# ------------------------------------------------------------ damage and the backup
def test_damaged_state_names_the_file_and_restore_backup_brings_the_last_run_back(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    state = workdir / ".bcdr" / "state.db"
    backup = workdir / ".bcdr" / "state.db.backup"
    with StateStore.open(backup, read_only=True) as copy:
        assert [r.address for r in copy.instances()] == ["bcdr_data.a", "bcdr_data.b"]
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 2])
    for args in (("plan",), ("apply", "-auto-approve"), ("state", "list"), ("show",)):
        result = bcdr(*args, "-no-color") if args[0] != "state" else bcdr(*args)
        assert result.exit_code == 1, (args, result.output)
        assert f"The state file {state} is damaged" in result.output, result.output
        assert "bcdr state restore-backup" in result.output
        assert "internal error" not in result.output and "This is a bug" not in result.output
    refused = bcdr("state", "restore-backup", input="no\n")
    assert refused.exit_code == 1 and state.read_bytes() == data[: len(data) // 2]
    restored = bcdr("state", "restore-backup", "-force")
    assert restored.exit_code == 0, restored.output
    assert "Restored" in restored.output and "state.db.replaced-" in restored.output
    assert bcdr("plan", "-detailed-exitcode").exit_code == 0  # as after the last apply
    kept = [p for p in state.parent.iterdir() if p.name.startswith("state.db.replaced-")]
    main_file = [p for p in kept if not p.name.endswith(("-wal", "-shm"))]
    assert len(main_file) == 1 and main_file[0].read_bytes() == data[: len(data) // 2]


def test_backup_follows_each_successful_state_change(bcdr, workdir):
    write(workdir, SPEC)
    state = workdir / ".bcdr" / "state.db"
    backup = workdir / ".bcdr" / "state.db.backup"

    def backed_up() -> list[str]:
        with StateStore.open(backup, read_only=True) as copy:
            return [r.address for r in copy.instances()]

    assert bcdr("apply", "-auto-approve").exit_code == 0
    assert backed_up() == ["bcdr_data.a", "bcdr_data.b"]
    assert bcdr("state", "rm", "bcdr_data.b").exit_code == 0
    assert backed_up() == ["bcdr_data.a"]
    assert bcdr("state", "mv", "bcdr_data.a", "bcdr_data.c").exit_code == 0
    assert backed_up() == ["bcdr_data.c"]
    assert bcdr("destroy", "-auto-approve").exit_code == 0
    assert backed_up() == []
    with StateStore.open(state, read_only=True) as now, StateStore.open(backup) as copy:
        assert (now.lineage, now.serial) == (copy.lineage, copy.serial)


# ------------------------------------------------------------ state history
def test_state_history_lists_the_runs_newest_first(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("state", "history").output.startswith("No runs recorded")
    assert json.loads(bcdr("state", "history", "-json").output)["history"] == []
    assert bcdr("apply", "-auto-approve").exit_code == 0
    assert bcdr("state", "rm", "bcdr_data.b").exit_code == 0
    text = bcdr("state", "history")
    assert text.exit_code == 0, text.output
    lines = text.output.strip().splitlines()
    assert len(lines) == 2
    assert "state-rm" in lines[0] and "removed bcdr_data.b" in lines[0]
    assert "apply" in lines[1] and "ok" in lines[1] and "2 added, 0 changed" in lines[1]
    data = json.loads(bcdr("state", "history", "-json").output)
    assert [r["operation"] for r in data["history"]] == ["state-rm", "apply"]
    assert data["history"][1]["summary"]["added"] == 2
    assert data["history"][1]["status"] == "ok"
    assert len(json.loads(bcdr("state", "history", "-json", "-limit", "1").output)["history"]) == 1
    helped = bcdr("state", "history", "-help")
    assert "List the latest runs recorded in the state" in helped.output
    assert "-json" in helped.output and "-limit" in helped.output


def test_backup_of_an_encrypted_state_holds_no_plaintext(bcdr, workdir, test_provider):
    from tests.cli.test_state_encryption import KEY_A, SECRET, env, raw
    from tests.cli.test_state_encryption import SPEC as SECRET_SPEC

    write(workdir, SECRET_SPEC)
    keyed = env(BCDR_STATE_KEY=KEY_A)
    applied = bcdr("apply", "-auto-approve", env=keyed)
    assert applied.exit_code == 0, applied.output
    backup = raw(workdir, ".bcdr/state.db.backup")
    assert backup and SECRET.encode() not in backup
    assert b"$bcdr_sealed" in backup  # the same sealed values as the state
    (workdir / ".bcdr" / "state.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    assert bcdr("state", "restore-backup", "-force", env=keyed).exit_code == 0
    assert bcdr("output", "-raw", "pw", env=keyed).output == SECRET


def test_key_rotation_reseals_in_an_apply_that_holds_the_lock(bcdr, workdir, test_provider):
    from tests.cli.test_state_encryption import KEY_A, KEY_B, SECRET, env
    from tests.cli.test_state_encryption import SPEC as SECRET_SPEC

    write(workdir, SECRET_SPEC)
    assert bcdr("apply", "-auto-approve", env=env(BCDR_STATE_KEY=KEY_A)).exit_code == 0
    rotating = env(BCDR_STATE_KEY=KEY_B, BCDR_STATE_KEY_FALLBACK=KEY_A)
    assert bcdr("apply", "-auto-approve", env=rotating).exit_code == 0
    assert bcdr("output", "-raw", "pw", env=env(BCDR_STATE_KEY=KEY_B)).output == SECRET


def test_a_backup_that_cannot_be_written_is_a_warning_not_a_failed_apply(bcdr, workdir):
    write(workdir, SPEC)
    (workdir / ".bcdr" / "state.db.backup").mkdir(parents=True)  # in the way
    result = bcdr("apply", "-auto-approve", "-no-color")
    assert result.exit_code == 0, result.output
    assert "Apply complete! Resources: 2 added" in result.output
    assert "The state's backup was not refreshed" in result.output
    assert "The state itself is saved" in result.output
    with StateStore.open(workdir / ".bcdr" / "state.db", read_only=True) as store:
        assert len(store.instances()) == 2


def test_apply_killed_with_sigkill_leaves_a_lock_the_next_command_clears(
    workdir, tmp_path_factory, test_provider
):
    holder = _slow_apply(workdir, register_test_provider(tmp_path_factory.mktemp("ep")), 12)
    assert holder.stdout is not None
    for line in holder.stdout:
        if "Creation complete" in line:
            break
    holder.kill()
    holder.communicate(timeout=60)
    lock_file = workdir / ".bcdr" / "state.db.lock.info"
    assert json.loads(lock_file.read_text())["pid"] == holder.pid  # left behind
    result = run_in(workdir, "apply", "-auto-approve", "-no-color")
    assert result.exit_code == 0, result.output
    assert "Removed a stale state lock" in result.output
    assert f"process {holder.pid} of" in result.output
    assert not lock_file.exists()
