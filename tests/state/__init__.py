"""Tests of the state store: real SQLite files in tmp_path, real processes for locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from state import InstanceRecord

REPO = Path(__file__).resolve().parents[2]


def rec(i: int | str | None = None, name: str = "a", **kw: object) -> InstanceRecord:
    """A bcdr_data instance record; ``i`` is its count index or for_each key."""
    if i is None:
        address = f"bcdr_data.{name}"
    elif isinstance(i, int):
        address = f"bcdr_data.{name}[{i}]"
    else:
        address = f"bcdr_data.{name}[{json.dumps(i)}]"
    fields: dict = {
        "address": address,
        "type": "bcdr_data",
        "name": name,
        "index_key": i,
        "provider": "builtin",
        "id": f"id-{name}-{i}",
        "attributes": {"input": {"n": i, "tags": ["x", "y"]}, "output": f"out-{i}"},
    }
    fields.update(kw)
    return InstanceRecord(**fields)


def python(script: str, *args: str, **popen: object) -> subprocess.Popen:
    """Start ``script`` in a fresh interpreter of this environment, with the repo importable."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )
