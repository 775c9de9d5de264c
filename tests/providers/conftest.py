"""Shared fixtures for the compute provider's tests: a working directory and raw images.

``ws`` is a working directory in tmp_path (``ws.dir``) with ``ws.write(hcl)`` to put the
specs in ``main.hcl`` and ``ws.run(*args)`` to run the real ``bcdr`` CLI there (in-process,
through click's ``CliRunner``). ``ws.fabric()`` opens the platform the specs created, for
checks and for changes made "outside bcdr"; close it (it is a context manager).
``make_image(path, mib)`` writes a raw image of random, zero and text regions.
More fixtures live in ``tests/providers/fixtures_compute.py`` when that module exists.
"""

from __future__ import annotations

import hashlib
import os
import random
import textwrap
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from engine.cli.app import main

MiB = 1 << 20
BLOCK = 64 * 1024


def make_image(path: Path, mib: int = 2, seed: int = 7) -> bytes:
    """A raw image of ``mib`` MiB: random data, a zero gap (a hole), text; written sparse."""
    rng = random.Random(seed)
    size = mib * MiB
    data = bytearray(size)
    data[: size // 4] = rng.randbytes(size // 4)
    text = (b"guest file system text " * (size // 8))[: size // 8]
    data[size // 2 : size // 2 + len(text)] = text
    data[-100:] = rng.randbytes(100)
    with open(path, "wb") as f:
        f.truncate(size)
        for off in range(0, size, BLOCK):
            chunk = bytes(data[off : off + BLOCK])
            if chunk.count(0) != len(chunk):
                f.seek(off)
                f.write(chunk)
    return bytes(data)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


class Workspace:
    """A working directory with specs, run through the real CLI."""

    def __init__(self, root: Path) -> None:
        self.dir = root

    def write(self, text: str, name: str = "main.hcl") -> Path:
        path = self.dir / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def run(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, ["-chdir", str(self.dir), *args], input=input)

    def ok(self, *args: str) -> str:
        """Run and insist on exit code 0; the output."""
        result = self.run(*args)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        return result.output

    def apply(self) -> str:
        return self.ok("apply", "-auto-approve", "-no-color")

    def plan_is_clean(self) -> None:
        out = self.ok("plan", "-no-color")
        assert "No changes." in out, out

    def state(self, address: str) -> dict[str, Any] | None:
        """The attributes the state holds for ``address`` (None: not in state)."""
        from state import StateStore

        with StateStore.open(self.dir / ".bcdr" / "state.db") as store:
            for rec in store.instances():
                if rec.address == address:
                    return dict(rec.attributes)
        return None

    @contextmanager
    def fabric(self) -> Iterator[Any]:
        from core.fabric import Fabric

        fab = Fabric.open(self.dir / ".bcdr" / "fabric")
        try:
            yield fab
        finally:
            fab.close()


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


# Fixtures another module contributes, imported last so that it may use the helpers above.
try:
    from tests.providers.fixtures_compute import *  # noqa: E402, F403
except ModuleNotFoundError as exc:
    if exc.name != "tests.providers.fixtures_compute":
        raise


@pytest.fixture
def server(ws: Workspace) -> Iterator[str]:
    """``bcdr serve``'s server on 127.0.0.1, a free port, over the workspace's platform."""
    from core.access import make_server
    from core.fabric import Fabric

    (ws.dir / ".bcdr" / "fabric").mkdir(parents=True, exist_ok=True)
    fab = Fabric.open(ws.dir / ".bcdr" / "fabric")
    srv = make_server(fab, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()
        srv.access.restore_points.close()
        fab.close()


def http_get(url: str) -> tuple[int, bytes]:
    """(status, body) of a GET; an HTTP error is a status, not an exception."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read()
