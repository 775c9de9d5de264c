"""Running a user's shell command on this machine: snapshot hooks, notify commands.

What always holds: the command runs with ``/bin/sh -c`` in its own process group and never
outlives its timeout (the whole group, children included, is killed); a failure comes back
as a phrase saying what happened, never as an exception, so each caller decides what a
failed command means (a crash-consistent capture, a warning on a job).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping

_TAIL = 400


def run_command(
    command: str,
    timeout_seconds: float,
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> str | None:
    """Run ``command``; None on success, else why it failed ("failed with exit status 3: …",
    "did not finish within 5 s and was killed", "could not start: …")."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=full_env,
            start_new_session=True,
        )
    except OSError as exc:
        return f"could not start: {exc.strerror}"
    try:
        _, err = proc.communicate(stdin, timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return f"did not finish within {timeout_seconds:g} s and was killed"
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()[-_TAIL:]
        return f"failed with exit status {proc.returncode}" + (f": {detail}" if detail else "")
    return None


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    # The group is dead; a grandchild that held stderr open is gone too, so this returns.
    proc.communicate()
