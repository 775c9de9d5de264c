"""What every trial family shares: the ``bcdr`` executable, a working folder, an outcome.

``Folder`` runs ``bcdr`` as a user does (a child process in the folder, no terminal, the
environment given) and can start one in the background to kill it. ``Outcome`` is what a
family reports: its trial count, named counts that must be zero, and figures to print.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BCDR = Path(sys.executable).with_name("bcdr")
MiB = 1 << 20


@dataclass
class Outcome:
    """One family's result: ``failures`` must all be zero for the family to pass."""

    name: str
    trials: int
    failures: dict[str, int]
    figures: dict[str, float | int | str] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # a few failure details, for a rerun

    @property
    def ok(self) -> bool:
        return self.trials > 0 and not any(self.failures.values())

    def fail(self, what: str, detail: str = "") -> None:
        self.failures[what] = self.failures.get(what, 0) + 1
        if detail and len(self.examples) < 5:
            self.examples.append(f"{what}: {detail[-600:]}")

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "trials": self.trials,
            "failures": self.failures,
            "figures": self.figures,
            "examples": self.examples,
            "ok": self.ok,
        }


@dataclass
class Ran:
    code: int
    out: str
    err: str
    seconds: float

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.text or "internal error" in self.text


class Folder:
    """A working folder with its own ``.bcdr/`` and the environment its commands get."""

    def __init__(self, path: Path, env: dict[str, str] | None = None) -> None:
        self.path = path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BCDR_")}
        self.env.update(env or {})

    def run(self, *args: str, timeout: float = 120) -> Ran:
        start = time.perf_counter()
        proc = subprocess.run(
            [str(BCDR), *args],
            cwd=self.path,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Ran(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(BCDR), *args],
            cwd=self.path,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def json(self, *args: str) -> object:
        ran = self.run(*args)
        if ran.code != 0:
            raise RuntimeError(f"bcdr {' '.join(args)} failed: {ran.text[-800:]}")
        return json.loads(ran.out)


def write_image(path: Path, size: int, seed: int) -> None:
    """A raw image of random, text and zero blocks (the store trials' mix), for ``seed``."""
    from faults_store import image_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(size, random.Random(seed)))


def fresh_copy(template: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(template, dest, symlinks=True)
    return dest


def ids_in(value: object) -> set[str]:
    """Every Azure-style id anywhere inside a JSON value."""
    found: set[str] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str) and v.lower().startswith("/subscriptions/"):
            found.add(v.lower())
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return found
