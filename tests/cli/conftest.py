"""Fixtures for CLI tests: a working directory with specs, and a way to run ``bcdr`` in it.

Commands run in-process through click's ``CliRunner`` with ``-chdir`` pointing at a
``tmp_path`` working directory, against real ``.hcl`` files and a real ``.bcdr/state.db``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine.cli.app import main

Run = Callable[..., Result]


def run_in(workdir: Path, *args: str, input: str | None = None, env: dict | None = None) -> Result:
    """``bcdr -chdir=WORKDIR ARGS...``; exceptions are the CLI's to handle, so none escape."""
    runner = CliRunner()
    return runner.invoke(main, ["-chdir", str(workdir), *args], input=input, env=env)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def bcdr(workdir: Path) -> Run:
    def run(*args: str, input: str | None = None, env: dict | None = None) -> Result:
        return run_in(workdir, *args, input=input, env=env)

    return run


def write(workdir: Path, text: str, name: str = "main.hcl") -> Path:
    path = workdir / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


HOLDER = """
import sys
from pathlib import Path
from state import StateStore
store = StateStore.open(Path(sys.argv[1]))
with store.lock(sys.argv[2]) as held:
    print(held.lock_id, flush=True)
    sys.stdin.readline()
store.close()
"""


def hold_lock(state_path: Path, operation: str = "apply") -> tuple[subprocess.Popen, str]:
    """Another process that holds the state lock until its stdin is closed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state_path), operation],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lock_id = proc.stdout.readline().strip()
    if not lock_id:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"the lock holder did not start: {err}")
    return proc, lock_id


def release(proc: subprocess.Popen) -> None:
    proc.communicate(input="\n", timeout=30)


DEAD_HOLDER = """
import os, sys
from pathlib import Path
from state import StateStore
store = StateStore.open(Path(sys.argv[1]))
cm = store.lock("apply")
held = cm.__enter__()
print(held.lock_id, flush=True)
os._exit(0)
"""


def dead_lock(state_path: Path) -> str:
    """Leave a lock behind from a process that died without releasing it; its id."""
    out = subprocess.run(
        [sys.executable, "-c", DEAD_HOLDER, str(state_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip()


# ------------------------------------------------------------------------------
# The engine tests' TestProvider, registered the way real providers are: an entry point
# in the ``bcdr.providers`` group, declared by a dist-info folder put on the path.
REPO = Path(__file__).resolve().parents[2]
_SHARED: dict[str, object] = {}


def provider() -> object:
    """Entry-point factory: one TestProvider per process (``BCDR_TEST_SLEEP`` per apply)."""
    from tests.engine.testprovider import TestProvider

    if "p" not in _SHARED:
        p = TestProvider()
        p.sleep = float(os.environ.get("BCDR_TEST_SLEEP", "0"))
        # BCDR_TEST_REMOTE=FILE keeps the objects between processes with ids known at
        # plan time; BCDR_TEST_KILL=OP:ADDRESS:WHEN kills the process inside that step
        remote = os.environ.get("BCDR_TEST_REMOTE")
        if remote:
            p.ids_from_name = True
            p.remote_file = Path(remote)
            if p.remote_file.exists():
                p.remote = json.loads(p.remote_file.read_text())
        kill = os.environ.get("BCDR_TEST_KILL")
        if kill:
            op, address, when = kill.split(":")
            p.kill_at = (op, address, when)
        _SHARED["p"] = p
    return _SHARED["p"]


def register_test_provider(root: Path) -> Path:
    info = root / "bcdr_cli_testprovider-0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: bcdr-cli-testprovider\nVersion: 0\n"
    )
    (info / "entry_points.txt").write_text("[bcdr.providers]\ntest = tests.cli.conftest:provider\n")
    return root


@pytest.fixture
def test_provider(tmp_path_factory, monkeypatch):
    """The shared TestProvider, installed for this test (``test_thing`` resources)."""
    root = register_test_provider(tmp_path_factory.mktemp("entry_points"))
    monkeypatch.syspath_prepend(str(root))
    _SHARED.clear()
    yield provider()
    _SHARED.clear()


def subprocess_env(entry_points_root: Path, **extra: str) -> dict[str, str]:
    """Environment for a ``bcdr`` child process that also sees the test provider."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(entry_points_root), str(REPO)])
    env.update(extra)
    return env
