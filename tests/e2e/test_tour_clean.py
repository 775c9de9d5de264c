"""The README's tour, run in place as a new user would, leaves ``git status`` clean.

The repository's examples are copied into a fresh git repository (committed as they are
tracked), the tour's commands run there word for word with the real ``bcdr`` of this
environment, and ``examples/.gitignore`` must account for everything they make.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e import REPO

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _tour() -> list[str]:
    """The commands of the README's five-minute tour, without their comments."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A five-minute tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [re.sub(r"\s+#.*$", "", line) for line in block.group(1).splitlines() if line]


def test_the_tour_in_place_leaves_the_repository_clean(tmp_path):
    repo = tmp_path / "bcdr"
    repo.mkdir()
    tracked = _git(REPO, "ls-files", "--", "examples", ".gitignore").split()
    for name in tracked:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "examples")

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    where, ran = repo, []
    for command in _tour():
        if command.startswith("cd "):
            where = where / command[3:].strip()
            continue
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=where,
            env=env,
            input="yes\n",  # destroy asks
            capture_output=True,
            text=True,
            timeout=120,
        )
        without_dot = " dot " in f"{command} " and shutil.which("dot") is None
        assert done.returncode == 0 or without_dot, (command, done.stdout, done.stderr)
        ran.append(command)
    assert "bcdr apply tfplan" in ran and "bcdr destroy" in ran
    assert (where / ".bcdr" / "state.db").is_file() and (where / "tfplan").is_file()
    assert _git(repo, "status", "--porcelain") == ""
