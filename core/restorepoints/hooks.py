"""Running a VM's pre/post snapshot hooks (rule EXT-1).

What always holds: a hook never outlives its timeout (core.shellcommand kills its whole
process group), and a failure is returned as a warning string, never raised, so the caller
can fall back to a crash-consistent capture.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.shellcommand import run_command


def run_hook(
    kind: str, command: str, timeout_seconds: float, env: Mapping[str, str] | None = None
) -> str | None:
    """Run ``command`` with ``sh -c``; None on success, else a warning naming the failure."""
    failure = run_command(command, timeout_seconds, env=env)
    if failure is None:
        return None
    return f"{kind}-snapshot hook {command!r} {failure}; the restore point is crash-consistent"
