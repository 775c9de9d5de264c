"""Ctrl-C during a real apply in another process: graceful first, immediate second.

The child runs ``bcdr apply`` on ``test_thing`` resources whose apply sleeps, so that
steps are running when the signals arrive.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from state import StateStore
from tests.cli.conftest import register_test_provider, subprocess_env

N = 12
MAIN = "from engine.cli.app import main; main()"


def _start_apply(workdir: Path, entry_points: Path) -> subprocess.Popen:
    body = "\n".join(f'resource "test_thing" "t{i}" {{\n  name = "t{i}"\n}}\n' for i in range(N))
    (workdir / "main.hcl").write_text(body)
    args = ["-chdir", str(workdir), "apply", "-auto-approve", "-parallelism", "1", "-no-color"]
    return subprocess.Popen(
        [sys.executable, "-c", MAIN, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(entry_points, BCDR_TEST_SLEEP="1.0"),
    )


def _wait_for_a_running_step(proc: subprocess.Popen) -> None:
    """Return once a step has started after another completed: it is sleeping now."""
    assert proc.stdout is not None
    completed = False
    for line in proc.stdout:
        completed = completed or "Creation complete" in line
        if completed and line.rstrip().endswith("Creating..."):
            return
    raise AssertionError(f"apply ended before a second step started: {proc.stderr.read()}")


def _saved(workdir: Path) -> tuple[int, object]:
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        return len(store.instances()), store.current_lock()


def test_first_ctrl_c_stops_gracefully_and_saves_what_finished(tmp_path, tmp_path_factory):
    proc = _start_apply(tmp_path, register_test_provider(tmp_path_factory.mktemp("ep")))
    _wait_for_a_running_step(proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert "Interrupt received." in err and "Gracefully shutting down..." in err
    assert "Apply interrupted." in out
    saved, lock = _saved(tmp_path)
    assert lock is None
    assert 0 < saved < N
    assert "Creation complete" in out  # the steps running at the signal were let finish


def test_second_ctrl_c_exits_at_once_with_a_warning(tmp_path, tmp_path_factory):
    proc = _start_apply(tmp_path, register_test_provider(tmp_path_factory.mktemp("ep")))
    _wait_for_a_running_step(proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert time.monotonic() - started < 0.8, "did not wait for the running steps"
    assert "Two interrupts received. Exiting immediately." in err
    assert "state may be missing" in err
    assert "Apply interrupted." not in out
    saved, lock = _saved(tmp_path)
    assert lock is None, "the lock is released before exiting"
    assert saved < N
