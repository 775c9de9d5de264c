"""The state lock against real holders in other processes: refusal, staleness, force-unlock."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from state import StateError, StateLocked, StateStore
from state.lock import boot_id, lock_path, pid_namespace, process_start
from state.records import cleared_message
from tests.state import python

HOLDER = """
import sys
from pathlib import Path
from state import StateStore
with StateStore.open(Path(sys.argv[1])) as store:
    with store.lock(sys.argv[2], info="held by test") as held:
        print(held.lock_id, flush=True)
        sys.stdin.readline()
print("released", flush=True)
"""


@pytest.fixture
def store(tmp_path):
    s = StateStore.open(tmp_path / "state.db")
    yield s
    s.close()


def start_holder(path, operation="apply") -> tuple[subprocess.Popen, str]:
    proc = python(HOLDER, str(path), operation)
    line = proc.stdout.readline().strip()
    assert line, proc.stderr.read()
    return proc, line


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    out, err = proc.communicate(timeout=30)
    return out, err


def test_second_lock_from_another_process_fails_at_once_naming_holder(store):
    proc, lock_id = start_holder(store.path, "apply")
    try:
        started = time.monotonic()
        with pytest.raises(StateLocked) as caught:
            with store.lock("plan"):
                pytest.fail("took a lock someone else holds")
        assert time.monotonic() - started < 1.0, "must not wait for the holder"
        err = caught.value
        assert (err.lock_id, err.pid, err.host, err.operation) == (
            lock_id,
            proc.pid,
            socket.gethostname(),
            "apply",
        )
        assert err.stale is False
        text = str(err)
        for part in (lock_id, str(proc.pid), socket.gethostname(), "apply", err.created_at):
            assert part in text
        assert store.current_lock().pid == proc.pid
    finally:
        proc.stdin.write("\n")
        proc.stdin.flush()
        out, _ = stop(proc)
    assert "released" in out
    assert store.current_lock() is None
    with store.lock("plan") as mine:
        assert mine.pid == os.getpid()


def test_lock_of_a_killed_holder_is_cleared_automatically_with_a_note(store):
    proc, lock_id = start_holder(store.path, "apply")
    proc.send_signal(signal.SIGKILL)
    stop(proc)  # reaped: the pid is gone
    held = store.current_lock()
    assert held.lock_id == lock_id and held.stale is True
    notes = []
    with store.lock("apply", on_cleared=notes.append) as mine:
        assert mine.pid == os.getpid()
        assert store.current_lock().lock_id == mine.lock_id
    assert [n.lock_id for n in notes] == [lock_id]
    assert lock_id in cleared_message(str(store.path), notes[0])
    assert str(proc.pid) in cleared_message(str(store.path), notes[0])
    assert store.current_lock() is None


def test_lock_of_a_killed_unreaped_holder_is_cleared_too(store):
    # a zombie keeps its pid until its parent waits for it, but it runs no more
    proc, lock_id = start_holder(store.path, "apply")
    proc.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _state_of(proc.pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        notes = []
        with store.lock("apply", on_cleared=notes.append):
            pass
        assert [n.lock_id for n in notes] == [lock_id]
    finally:
        stop(proc)


def _state_of(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rpartition(")")[2].split()[0]


def _plant(store, **fields) -> dict:
    """A lock file as another bcdr process would leave it; ``fields`` override ours."""
    mine = {
        "id": "L1",
        "operation": "apply",
        "user": "ann",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "created_at": "2026-01-01T00:00:00.000Z",
        "info": "",
        "boot_id": boot_id(),
        "pid_ns": pid_namespace(),
        "start_time": process_start(os.getpid())[0],
    }
    mine.update(fields)
    lock_path(store.path).write_text(json.dumps(mine), encoding="utf-8")
    return mine


def _dead_pid() -> int:
    dead = subprocess.Popen(["true"])
    dead.wait()
    return dead.pid


def test_lock_of_a_live_process_is_refused_and_kept(store):
    _plant(store)  # this very process, with its real start time: alive
    with pytest.raises(StateLocked) as caught:
        with store.lock("plan"):
            pytest.fail("took a lock a live process holds")
    assert caught.value.stale is False
    assert lock_path(store.path).exists()


def test_lock_whose_pid_now_belongs_to_another_process_is_cleared(store):
    # pid reuse: the pid runs, but it started at another time than the lock's holder
    _plant(store, start_time=process_start(os.getpid())[0] - 1)
    notes = []
    with store.lock("apply", on_cleared=notes.append):
        pass
    assert [n.lock_id for n in notes] == ["L1"]


def test_dead_pid_of_another_boot_or_host_is_not_cleared(store):
    # another boot of this host name may be another machine: reported, never cleared
    _plant(store, pid=_dead_pid(), boot_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(StateLocked) as caught:
        with store.lock("apply"):
            pass
    assert caught.value.stale is True
    assert "bcdr force-unlock L1" in str(caught.value)
    _plant(store, pid=_dead_pid(), host="elsewhere.example")
    with pytest.raises(StateLocked) as caught:
        with store.lock("apply"):
            pass
    assert caught.value.stale is False
    assert "elsewhere.example" in str(caught.value)
    store.force_unlock("L1")
    assert not lock_path(store.path).exists()
    with store.lock("apply"):
        pass


def test_lock_file_exists_only_while_the_lock_is_held(store):
    before = sorted(p.name for p in store.path.parent.iterdir())
    with store.lock("plan"):
        assert lock_path(store.path).is_file()
    assert sorted(p.name for p in store.path.parent.iterdir()) == before
    assert not lock_path(store.path).exists()


def test_lock_timeout_waits_for_a_live_holder_then_takes_the_lock(store):
    proc, lock_id = start_holder(store.path, "apply")
    threading.Timer(0.6, lambda: (proc.stdin.write("\n"), proc.stdin.flush())).start()
    started = time.monotonic()
    with store.lock("apply", timeout=10.0) as mine:
        waited = time.monotonic() - started
        assert mine.pid == os.getpid()
    stop(proc)
    assert 0.5 < waited < 5.0


def test_lock_timeout_runs_out_naming_the_holder(store):
    proc, lock_id = start_holder(store.path, "apply")
    try:
        started = time.monotonic()
        with pytest.raises(StateLocked) as caught:
            with store.lock("plan", timeout=0.7):
                pass
        assert 0.7 <= time.monotonic() - started < 2.0
        assert caught.value.lock_id == lock_id and caught.value.pid == proc.pid
    finally:
        proc.stdin.write("\n")
        proc.stdin.flush()
        stop(proc)


def test_force_unlock_needs_the_matching_id(store):
    with pytest.raises(StateError, match="not locked"):
        store.force_unlock("anything")
    proc, lock_id = start_holder(store.path)
    try:
        with pytest.raises(StateError, match=f"does not match.*{lock_id}"):
            store.force_unlock("wrong-id")
        assert store.current_lock().lock_id == lock_id
        store.force_unlock(lock_id)
        assert store.current_lock() is None
    finally:
        proc.stdin.write("\n")
        proc.stdin.flush()
        out, err = stop(proc)
    assert proc.returncode == 0, err  # releasing a force-unlocked lock is harmless


def test_lock_released_on_exception_and_keyboard_interrupt(store):
    with pytest.raises(RuntimeError):
        with store.lock("apply"):
            raise RuntimeError("step failed")
    assert store.current_lock() is None
    with pytest.raises(KeyboardInterrupt):
        with store.lock("apply"):
            raise KeyboardInterrupt
    assert store.current_lock() is None


def test_release_never_drops_someone_elses_lock(store):
    with store.lock("apply") as first:
        store.force_unlock(first.lock_id)
        proc, theirs = start_holder(store.path, "destroy")
    try:
        assert store.current_lock().lock_id == theirs
    finally:
        proc.stdin.write("\n")
        proc.stdin.flush()
        stop(proc)


def test_racing_processes_get_exactly_one_lock(store):
    racer = """
import sys, time
from pathlib import Path
from state import StateLocked, StateStore
with StateStore.open(Path(sys.argv[1])) as store:
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        with store.lock("apply"):
            print("won", flush=True)
            time.sleep(1.0)
    except StateLocked:
        print("lost", flush=True)
"""
    procs = [python(racer, str(store.path)) for _ in range(6)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:  # release them together
        p.stdin.write("\n")
        p.stdin.flush()
    results = [stop(p) for p in procs]
    outcomes = sorted(out.strip() for out, _ in results)
    assert outcomes == ["lost"] * 5 + ["won"], [err for _, err in results]


def test_processes_creating_the_same_new_state_share_one_lineage(tmp_path):
    opener = """
import sys
from pathlib import Path
from state import StateStore
sys.stdin.readline()
with StateStore.open(Path(sys.argv[1])) as store:
    print(store.lineage, flush=True)
"""
    path = tmp_path / ".bcdr" / "state.db"
    procs = [python(opener, str(path)) for _ in range(6)]
    for p in procs:
        p.stdin.write("\n")
        p.stdin.flush()
    results = [stop(p) for p in procs]
    lineages = {out.strip() for out, _ in results}
    assert len(lineages) == 1 and "" not in lineages, [err for _, err in results]
    # no temp file of a losing creator is left; SQLite's own -wal/-shm may stay when two
    # connections close at once (the last closer deletes them only if it gets the lock)
    left = sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(("-wal", "-shm")))
    assert left == ["state.db"]
