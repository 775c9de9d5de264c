"""A stdout whose reader went away (``bcdr … | head``), through real pipes to a real process.

Like git or Terraform, a command whose output nobody reads any more exits 141 (128 +
SIGPIPE, what a shell reports) without a word; a failing one keeps its own code; an apply
goes on to its end, saves every step, and says on stderr how it ended.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from state import StateStore
from tests.cli.conftest import REPO, write

SPEC = """
resource "bcdr_data" "item" {
  count = 60
  input = { n = count.index, note = join(" ", [for i in range(300) : "word${i}"]) }
}
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}


def _closed_stdout(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run bcdr with stdout a pipe whose read end is closed before it starts."""
    read, write_end = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "engine.cli", *args],
            cwd=workdir,
            env=_env(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)


def _instances(workdir: Path) -> list[str]:
    store = StateStore.open(workdir / ".bcdr" / "state.db", create=False)
    try:
        return [r.address for r in store.instances()]
    finally:
        store.close()


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    write(tmp_path, SPEC)
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "apply", "-auto-approve"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return tmp_path


@pytest.mark.parametrize(
    "args", [("state", "list"), ("graph",), ("show",), ("output", "-json"), ("version",)]
)
def test_a_reader_gone_is_a_quiet_141_not_an_internal_error(applied, args):
    result = _closed_stdout(applied, *args)
    assert result.stderr == ""  # no "internal error: BrokenPipeError", no traceback
    assert result.returncode == 141


def test_a_failure_keeps_its_own_code(applied):
    write(applied, SPEC.replace("60", "61"))
    result = _closed_stdout(applied, "plan", "-detailed-exitcode")
    assert result.returncode == 2  # "there are changes", as with a reader
    assert result.stderr == ""


def test_an_apply_whose_stdout_closes_finishes_and_saves_every_step(tmp_path):
    write(tmp_path, SPEC)
    result = _closed_stdout(tmp_path, "apply", "-auto-approve")
    assert result.returncode == 141
    assert "Apply complete! Resources: 60 added, 0 changed, 0 destroyed." in result.stderr
    assert len(_instances(tmp_path)) == 60


def test_apply_piped_into_head_runs_to_its_end(tmp_path):
    """``bcdr apply -auto-approve | head -3``: the reader leaves after three lines."""
    write(tmp_path, SPEC)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "apply", "-auto-approve"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()  # some 150 KiB of plan are still to come
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141
    assert first[0] == b"\n" and b"execution plan" in first[1]
    assert "Apply complete! Resources: 60 added" in err
    assert "internal error" not in err
    assert len(_instances(tmp_path)) == 60
