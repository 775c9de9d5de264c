"""Which modules a fresh interpreter ends up importing: for the tests that keep start-up and
read paths light (they check what a real process loaded, never how long it took)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

_MARK = "\n--modules--"

_BCDR = """\
import sys
from engine.cli.app import main
code = 0
try:
    main(sys.argv[1:], prog_name="bcdr")
except SystemExit as exc:
    code = exc.code
print("exit", code)
"""


def fresh_modules(
    code: str, *argv: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[str, list[str]]:
    """Run ``code`` in a new interpreter (``argv`` as ``sys.argv[1:]``; ``env`` and ``cwd`` of
    the child when given): what it printed, and the names of every module loaded when it
    ended, sorted."""
    script = f"{code}\nimport sys\nprint({_MARK!r} + repr(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", script, *argv],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=cwd,
    ).stdout
    printed, _, modules = out.rpartition(_MARK)
    return printed, ast.literal_eval(modules.strip())


def bcdr_modules(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[str, int, list[str]]:
    """``bcdr ARGS`` run in a new interpreter: its output, its exit code and the modules it
    had loaded when it ended."""
    printed, modules = fresh_modules(_BCDR, *args, env=env, cwd=cwd)
    head, _, code = printed.rstrip("\n").rpartition("exit ")
    return head, int(code), modules
