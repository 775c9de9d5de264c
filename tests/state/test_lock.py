"""The state lock against real holders in other processes: refusal, staleness, force-unlock."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import time

import pytest

from state import StateError, StateLocked, StateStore
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


def test_holder_killed_leaves_stale_lock_reported_with_force_unlock_hint(store):
    proc, lock_id = start_holder(store.path, "apply")
    proc.send_signal(signal.SIGKILL)
    stop(proc)
    held = store.current_lock()
    assert held.lock_id == lock_id and held.stale is True
    with pytest.raises(StateLocked) as caught:
        with store.lock("apply"):
            pass
    assert caught.value.stale is True
    assert "stale" in str(caught.value)
    assert f"bcdr force-unlock {lock_id}" in str(caught.value)
    store.force_unlock(lock_id)
    assert store.current_lock() is None
    with store.lock("apply"):
        pass


def test_lock_of_dead_pid_on_another_host_is_not_called_stale(store):
    dead = subprocess.Popen(["true"])
    dead.wait()
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "INSERT INTO lock (id, user, pid, host, operation, created_at) "
            "VALUES ('L1', 'ann', ?, 'elsewhere.example', 'apply', '2026-01-01T00:00:00Z')",
            [dead.pid],
        )
    conn.close()
    assert store.current_lock().stale is False
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE lock SET host = ?", [socket.gethostname()])
    conn.close()
    assert store.current_lock().stale is True


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
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.db"]
