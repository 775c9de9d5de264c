"""Running a VM's pre/post snapshot hooks (rule EXT-1).

A hook is a shell command run on this machine in its own process group, with a timeout. What
always holds: a hook never outlives its timeout (the whole process group, children included,
is killed), and a failure is returned as a warning string, never raised, so the caller can
fall back to a crash-consistent capture.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping

_TAIL = 400


def run_hook(
    kind: str, command: str, timeout_seconds: float, env: Mapping[str, str] | None = None
) -> str | None:
    """Run ``command`` with ``sh -c``; None on success, else a warning naming the failure."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=full_env,
            start_new_session=True,
        )
    except OSError as exc:
        return f"{kind}-snapshot hook could not start: {exc.strerror}"
    try:
        _, err = proc.communicate(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return (
            f"{kind}-snapshot hook {command!r} did not finish within {timeout_seconds:g} s "
            "and was killed; the restore point is crash-consistent"
        )
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()[-_TAIL:]
        tail = f": {detail}" if detail else ""
        return (
            f"{kind}-snapshot hook {command!r} failed with exit status {proc.returncode}{tail}; "
            "the restore point is crash-consistent"
        )
    return None


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    # The group is dead; a grandchild that held stderr open is gone too, so this returns.
    proc.communicate()
