"""A user's shell command never outlives its timeout, and its failure is a phrase."""

from __future__ import annotations

import time
from pathlib import Path

from core.shellcommand import run_command


def test_success_is_none_and_stdin_reaches_the_command(tmp_path: Path) -> None:
    out = tmp_path / "got"
    assert run_command(f"cat > {out}", 10, stdin=b'{"state": "Failed"}') is None
    assert out.read_bytes() == b'{"state": "Failed"}'


def test_a_failure_says_the_exit_status_and_the_end_of_stderr() -> None:
    failure = run_command("echo 'disk quota exceeded' >&2; exit 3", 10)
    assert failure == "failed with exit status 3: disk quota exceeded"


def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    # The child backgrounds a grandchild that would write a file after the timeout: killing
    # only the shell would leave it running.
    late = tmp_path / "late"
    started = time.monotonic()
    failure = run_command(f"(sleep 1.5; touch {late}) & sleep 30", 0.3)
    assert failure == "did not finish within 0.3 s and was killed"
    assert time.monotonic() - started < 5
    time.sleep(2)
    assert not late.exists()
