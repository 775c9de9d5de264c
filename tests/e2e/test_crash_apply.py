"""kill -9 of the quickstart's ``bcdr apply`` as soon as a collection or restore point exists.

A real ``bcdr apply`` child is killed with SIGKILL the moment the platform has recorded the
object (its row is in ``fabric.db``), before the state could know it. The next plan adopts
it ("adopted an object left by an interrupted apply (tainted)") instead of failing with
"exists already"; one apply converges (platform list ≡ state list) and
``plan -detailed-exitcode`` then exits 0.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from state import StateStore
from tests.e2e import demo

MAIN = "from engine.cli.app import main; main()"


def _bcdr(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", MAIN, "-chdir", str(workdir), *args, "-no-color"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _rows(db: Path, table: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
        try:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:  # not made yet, or busy this instant
        return 0


def _kill_when_made(workdir: Path, table: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN, "-chdir", str(workdir), "apply", "-auto-approve"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = workdir / ".bcdr" / "fabric" / "fabric.db"
    while proc.poll() is None:
        if db.exists() and _rows(db, table):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    assert proc.wait(timeout=300) == -signal.SIGKILL, "the apply ended before the object"


def _state(workdir: Path) -> tuple[list[str], list[str]]:
    """(ids in the state, addresses of intents); a lock left by the kill is cleared."""
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        held = store.current_lock()
        if held is not None:
            store.force_unlock(held.lock_id)
        return sorted(r.id for r in store.instances()), [i.address for i in store.intents()]


def _platform_ids(workdir: Path) -> list[str]:
    listed = _bcdr(workdir, "platform", "list", "-json")
    assert listed.returncode == 0, listed.stderr
    return sorted(item["id"] for item in json.loads(listed.stdout))


@pytest.mark.parametrize(
    ("table", "address"),
    [("rp_collections", "restore_point_collection.web"), ("restore_points", "restore_point.first")],
)
def test_an_object_made_by_a_killed_apply_is_adopted_and_one_apply_converges(
    tmp_path: Path, table: str, address: str
) -> None:
    for trial in range(5):
        work = tmp_path / f"trial{trial}"
        demo.prepare(work, size_mib=2)
        _kill_when_made(work, table)
        ids, intents = _state(work)
        if intents == [address]:
            break  # killed between the object and its state: what this test is about
    else:
        raise AssertionError(f"no trial killed the apply between {address} and its state")
    made = _platform_ids(work)
    assert len(made) == len(ids) + 1, "the platform holds one object the state lacks"

    plan = _bcdr(work, "plan")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert f"{address}: adopted an object left by an interrupted apply (tainted)" in plan.stdout
    applied = _bcdr(work, "apply", "-auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "exists already" not in applied.stdout + applied.stderr
    ids, intents = _state(work)
    assert _platform_ids(work) == ids and intents == []
    again = _bcdr(work, "plan", "-detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
